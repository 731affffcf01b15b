"""Keyring backends for tests, so no test ever reaches the real OS keyring.

Select one with ``PYTHON_KEYRING_BACKEND``:

- ``tests.keyring_backend.FileKeyring`` keeps secrets in a JSON file named by
  ``OAI_TEST_KEYRING_FILE`` (a missing variable is an error, never a default path);
- ``tests.keyring_backend.HangingKeyring`` never answers, like a locked keyring
  waiting for a password prompt nobody can see;
- ``tests.keyring_backend.BrokenKeyring`` raises a plain exception on every call.

The repository root must be importable (``PYTHONPATH``) for the name to resolve.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

FILE_ENV = "OAI_TEST_KEYRING_FILE"


def _path() -> Path:
    name = os.environ.get(FILE_ENV)
    if not name:
        raise RuntimeError(f"{FILE_ENV} is not set; the test keyring needs a file")
    return Path(name)


def read_all(path: Path | None = None) -> dict[str, dict[str, str]]:
    """Every stored secret, by service then username (for assertions)."""
    p = path or _path()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    assert isinstance(data, dict)
    return data


def store(service: str, username: str, password: str) -> None:
    """Put a secret in place the way a previous login would have."""
    data = read_all()
    data.setdefault(service, {})[username] = password
    _write_all(data)


def _write_all(data: dict[str, dict[str, str]]) -> None:
    p = _path()
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, p)


# keyring registers every subclass for auto-detection; a priority below the null
# backend's (-1) keeps these from ever being picked unless named explicitly.
_NEVER_AUTO = -10


class FileKeyring(KeyringBackend):
    priority = _NEVER_AUTO

    def get_password(self, service: str, username: str) -> str | None:
        return read_all().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        store(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        data = read_all()
        if username not in data.get(service, {}):
            raise PasswordDeleteError("no such password")
        del data[service][username]
        _write_all(data)


class HangingKeyring(KeyringBackend):
    priority = _NEVER_AUTO

    def _hang(self) -> None:
        while True:
            time.sleep(3600)

    def get_password(self, service: str, username: str) -> str | None:
        self._hang()
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._hang()

    def delete_password(self, service: str, username: str) -> None:
        self._hang()


class BrokenKeyring(KeyringBackend):
    """A backend whose every call fails with an ordinary, multi-line exception."""

    priority = _NEVER_AUTO

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("the backend broke\nin two lines")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("the backend broke\nin two lines")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("the backend broke\nin two lines")
