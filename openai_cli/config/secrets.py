"""API keys in the OS keyring, behind a timeout.

A keyring backend can block forever (a locked GNOME keyring waiting for a prompt
nobody sees, a dead D-Bus session over SSH). Every call therefore runs in a daemon
thread that the CLI abandons after a few seconds, so the worst case is a clear
error instead of a hung terminal. The ``keyring`` package itself is imported in
that thread too: backend discovery is one of the things that can hang.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Literal, TypeVar, cast

from openai_cli.config.settings_table import ENV_NAMES, Environment
from openai_cli.errors import AuthError, ConfigError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "oai-cli"
DEFAULT_TIMEOUT = Environment.keyring_timeout.default
TIMEOUT_ENV = Environment.keyring_timeout.env[0]

KeyKind = Literal["api_key", "admin_key"]
KEY_KINDS: tuple[KeyKind, ...] = ("api_key", "admin_key")

# The variable that may hold each kind of key instead of the keyring: the table's rows.
ENV_VAR: dict[KeyKind, str] = {kind: ENV_NAMES[kind] for kind in KEY_KINDS}

LABEL: dict[KeyKind, str] = {"api_key": "API key", "admin_key": "admin key"}

T = TypeVar("T")


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot be sent in a header (``"whitespace at position 3"``), or None.

    A key is printable ASCII without spaces; a pasted one often brings a
    typographic dash, a quote or a line break.
    """
    for i, c in enumerate(key):
        if not "!" <= c <= "~":
            what = "whitespace" if c.isspace() else f"the character U+{ord(c):04X}"
            return f"{what} at position {i + 1}"
    return None


def username(profile: str, kind: KeyKind) -> str:
    return f"{profile}:{kind}"


def keyring_timeout(env: Mapping[str, str]) -> float:
    return Environment.keyring_timeout.read(env)


def _instead(kind: KeyKind) -> str:
    return f"set {ENV_VAR[kind]} or use `oai auth login --insecure-storage`"


def _kept_elsewhere(kind: KeyKind) -> str:
    return (
        f"instead: set {ENV_VAR[kind]}; or run `oai auth login --insecure-storage` (plain "
        "text in the config file); or use a keyring kept in a file: `pipx inject oai-cli "
        "keyrings.alt` (or `pip install keyrings.alt`), `export PYTHON_KEYRING_BACKEND="
        "keyrings.alt.file.PlaintextKeyring` (plain text too, in its own file) and log in again"
    )


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if len(text) > 200:
        text = text[:197] + "..."
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


class Keyring:
    """The OS keyring as seen by one process, with every call bounded in time.

    ``env`` is the environment the CLI runs with; ``PYTHON_KEYRING_BACKEND`` is read
    from it rather than from ``os.environ`` so that a test (or an embedding program)
    can choose the backend without touching process-wide state.
    """

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self._timeout: float | None = None
        self._backend: KeyringBackend | None = None
        # After one timeout the backend thread is still stuck; asking again would
        # only add another wait, so later calls fail at once with the same news.
        self._hung: str | None = None

    @property
    def timeout(self) -> float:
        if self._timeout is None:
            self._timeout = keyring_timeout(self._env)
        return self._timeout

    def get(self, profile: str, kind: KeyKind) -> str | None:
        """The stored key, or None when the keyring has none for this profile."""

        def op() -> str | None:
            value = self._load_backend().get_password(SERVICE, username(profile, kind))
            return value or None

        return self._call(op, f"reading the {LABEL[kind]} of profile '{profile}'", _instead(kind))

    def set(self, profile: str, kind: KeyKind, secret: str) -> None:
        """Store the key and read it back: some backends (keyring's null backend, a
        headless session without a secret service) accept it and keep nothing."""

        def op() -> str | None:
            backend = self._load_backend()
            backend.set_password(SERVICE, username(profile, kind), secret)
            if backend.get_password(SERVICE, username(profile, kind)) == secret:
                return None
            return f"{type(backend).__module__}.{type(backend).__qualname__}"

        lost = self._call(
            op,
            f"storing the {LABEL[kind]} of profile '{profile}'",
            "use `oai auth login --insecure-storage` to keep it in the config file instead",
        )
        if lost is not None:
            raise AuthError(
                f"the OS keyring ({lost}) did not keep the {LABEL[kind]} of profile "
                f"'{profile}': nothing was stored",
                hint=_kept_elsewhere(kind),
            )

    def delete(self, profile: str, kind: KeyKind) -> bool:
        """Remove the key; False when there was nothing to remove."""

        def op() -> bool:
            from keyring.errors import NoKeyringError, PasswordDeleteError

            try:
                backend = self._load_backend()
                # A backend that keeps nothing also "deletes" without complaint.
                if backend.get_password(SERVICE, username(profile, kind)) is None:
                    return False
                backend.delete_password(SERVICE, username(profile, kind))
            except PasswordDeleteError:
                return False
            except NoKeyringError:
                # Without any keyring there cannot be a key stored in one.
                return False
            return True

        return self._call(
            op,
            f"removing the {LABEL[kind]} of profile '{profile}'",
            "the key may still be in the keyring",
        )

    # -- internals ---------------------------------------------------------------

    def _load_backend(self) -> KeyringBackend:
        if self._backend is None:
            import keyring.core

            name = self._env.get("PYTHON_KEYRING_BACKEND", "").strip()
            if name:
                try:
                    self._backend = keyring.core.load_keyring(name)
                except Exception as exc:
                    raise _BackendLoadError(name, exc) from exc
            else:
                self._backend = keyring.core.get_keyring()
        return self._backend

    def _call(self, op: Callable[[], T], action: str, instead: str) -> T:
        if self._hung is not None:
            raise ConfigError(f"{self._hung} ({action}); {instead}")
        timeout = self.timeout
        box: list[tuple[bool, object]] = []

        def run() -> None:
            try:
                box.append((True, op()))
            except BaseException as exc:  # anything at all must reach the caller
                box.append((False, exc))

        thread = threading.Thread(target=run, name="oai-keyring", daemon=True)
        thread.start()
        thread.join(timeout)
        if not box:
            self._hung = f"the OS keyring did not answer within {timeout:g} s"
            raise ConfigError(f"{self._hung} ({action}); {instead}")
        ok, value = box[0]
        if ok:
            return cast(T, value)
        assert isinstance(value, BaseException)
        if isinstance(value, _BackendLoadError):
            raise ConfigError(
                f"cannot load the keyring backend PYTHON_KEYRING_BACKEND={value.name}: "
                f"{_one_line(value.cause)}; {instead}"
            ) from value.cause
        if isinstance(value, Exception):
            if _is_no_keyring(value):
                raise ConfigError(f"no OS keyring is available ({action}); {instead}") from value
            raise ConfigError(
                f"the OS keyring failed ({action}): {_one_line(value)}; {instead}"
            ) from value
        raise value


def _is_no_keyring(exc: Exception) -> bool:
    try:
        from keyring.errors import NoKeyringError
    except ImportError:  # the failure may have been keyring failing to import at all
        return False
    return isinstance(exc, NoKeyringError)


class _BackendLoadError(Exception):
    def __init__(self, name: str, cause: BaseException) -> None:
        super().__init__(name)
        self.name = name
        self.cause = cause
