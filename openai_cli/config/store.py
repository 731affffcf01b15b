"""The profiles file, ``<config dir>/config.toml``.

The file is only ever rewritten whole, through a temporary file in the same
directory and ``os.replace``, so a crash or a full disk leaves either the old file
or the new one, never half of each. A file that fails to parse is never written
back: the user's text stays exactly as they left it. Keys this version does not
know are kept on rewrite, so an older ``oai`` does not erase a newer one's settings.
Comments are not kept: the file is data the CLI owns.
"""

from __future__ import annotations

import contextlib
import math
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openai_cli.errors import ConfigError, UsageError
from openai_cli.io import IO

# The settings a profile may hold, in display order. Keys are listed separately:
# they never come from the command line (argv shows in `ps`).
SETTING_KEYS = (
    "base_url",
    "organization",
    "project",
    "model",
    "output",
    "timeout",
    "connect_timeout",
    "max_retries",
    "api_key_header",
    "api_key_optional",
    "headers",
    "query",
    "ca_bundle",
    "mtls_client_cert_file",
    "mtls_client_key_file",
    "api",
    "log",
)
SECRET_KEYS = ("api_key", "admin_key")
PROFILE_KEYS = SETTING_KEYS + SECRET_KEYS
# Settings that are tables of names to strings; `oai profile set headers.NAME VALUE`
# sets one entry.
TABLE_KEYS = ("headers", "query")
PATH_KEYS = ("ca_bundle", "mtls_client_cert_file", "mtls_client_key_file")
BOOLEAN_KEYS = ("api_key_optional", "log")
# The API `ask` and `repl` speak (openai_cli/api/conversation.py).
CONVERSATION_APIS = ("responses", "chat")
# A key in one of these headers would sit in plain text in the profile; keys belong
# in the keyring, sent under `api_key_header`.
_SECRET_HEADER_NAMES = frozenset(
    {"authorization", "api-key", "x-api-key", "proxy-authorization", "cookie"}
)
_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

_warned_permissions: set[str] = set()


def _output_formats() -> tuple[str, ...]:
    # The list belongs to the command-line options; imported late because that
    # module imports Typer, which this one must not need.
    from openai_cli.options import OUTPUT_FORMATS

    return tuple(OUTPUT_FORMATS)


def _nonempty_string(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value.strip()


def _base_url(value: object) -> str:
    text = _nonempty_string(value)
    if not text.startswith(("http://", "https://")):
        raise ValueError("must start with https:// (or http://)")
    return text


def _output(value: object) -> str:
    text = _nonempty_string(value)
    formats = _output_formats()
    if text not in formats:
        raise ValueError("must be one of " + ", ".join(formats))
    return text


def _seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number of seconds")
    if not math.isfinite(value) or value <= 0:
        raise ValueError("must be a positive number of seconds")
    return float(value)


def _retries(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number")
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _conversation_api(value: object) -> str:
    text = _nonempty_string(value)
    if text not in CONVERSATION_APIS:
        raise ValueError("must be one of " + ", ".join(CONVERSATION_APIS))
    return text


def _header_name(value: object) -> str:
    text = _nonempty_string(value)
    if not all(c in _TOKEN_CHARS for c in text):
        raise ValueError(f"{text!r} is not a valid header name")
    return text


def _plain_value(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("values must be strings")
    if any(c in value for c in "\r\n\0"):
        raise ValueError("values must be one line")
    return value


def _headers(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError("must be a table of header names to values")
    out: dict[str, str] = {}
    for name, item in value.items():
        header = _header_name(name)
        if header.lower() in _SECRET_HEADER_NAMES:
            raise ValueError(
                f"must not hold {header}: keys are kept out of the profile's plain text; "
                "set api_key_header and use `oai auth login`"
            )
        out[header] = _plain_value(item)
    return out


def _query(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError("must be a table of query parameter names to values")
    out: dict[str, str] = {}
    for name, item in value.items():
        out[_nonempty_string(name)] = _plain_value(item)
    return out


_VALIDATORS: dict[str, Callable[[object], object]] = {
    "base_url": _base_url,
    "organization": _nonempty_string,
    "project": _nonempty_string,
    "model": _nonempty_string,
    "output": _output,
    "timeout": _seconds,
    "connect_timeout": _seconds,
    "max_retries": _retries,
    "api_key_header": _header_name,
    "api_key_optional": _boolean,
    "headers": _headers,
    "query": _query,
    "ca_bundle": _nonempty_string,
    "mtls_client_cert_file": _nonempty_string,
    "mtls_client_key_file": _nonempty_string,
    "api": _conversation_api,
    "log": _boolean,
    "api_key": _nonempty_string,
    "admin_key": _nonempty_string,
}


def split_key(key: str) -> tuple[str, str | None]:
    """``headers.X-Env`` -> ("headers", "X-Env"); other keys -> (key, None)."""
    head, dot, entry = key.partition(".")
    if dot and head in TABLE_KEYS:
        if not entry:
            raise UsageError(f"{key!r}: name the entry, e.g. {head}.NAME")
        return head, entry
    return key, None


def check_setting_key(key: str) -> tuple[str, str | None]:
    """The setting (and table entry) a key on the command line names; usage error if none."""
    setting, entry = split_key(key)
    if setting in SECRET_KEYS:
        raise UsageError(
            f"{key} cannot be set here: a key on the command line shows in `ps` and shell history",
            hint="use `oai auth login`" + (" --admin" if key == "admin_key" else ""),
        )
    if setting not in SETTING_KEYS:
        known = [*SETTING_KEYS, *(f"{t}.NAME" for t in TABLE_KEYS)]
        raise UsageError(f"unknown setting {key!r}; known: {', '.join(known)}")
    return setting, entry


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def parse_setting(key: str, text: str) -> object:
    """A value typed on the command line (`oai profile set KEY VALUE`), checked.

    ``headers.NAME`` and ``query.NAME`` give one entry of a table (the value is the
    entry's); ``headers`` and ``query`` alone take a JSON object for the whole table.
    Paths are stored absolute, so the profile works from any directory.
    """
    setting, entry = check_setting_key(key)
    value: object = text
    if entry is not None:
        try:
            checked = _VALIDATORS[setting]({entry: text})
        except ValueError as exc:
            raise UsageError(f"{setting} {exc}, got {key} = {text!r}") from None
        assert isinstance(checked, dict)
        return next(iter(checked.values()))
    if setting in ("timeout", "connect_timeout"):
        try:
            value = float(text)
        except ValueError:
            raise UsageError(f"{key} must be a number of seconds, got {text!r}") from None
    elif setting == "max_retries":
        try:
            value = int(text)
        except ValueError:
            raise UsageError(f"{key} must be a whole number, got {text!r}") from None
    elif setting in BOOLEAN_KEYS:
        lowered = text.strip().lower()
        if lowered not in _TRUE + _FALSE:
            raise UsageError(f"{key} must be true or false, got {text!r}")
        value = lowered in _TRUE
    elif setting in TABLE_KEYS:
        import json

        try:
            value = json.loads(text)
        except ValueError:
            raise UsageError(
                f"{key} takes a JSON object, got {text!r}",
                hint=f"or set one entry: `oai profile set {key}.NAME VALUE`",
            ) from None
    elif setting in PATH_KEYS:
        path = Path(text).expanduser()
        if not path.is_file():
            raise UsageError(f"{key}: no such file: {text}")
        value = str(path.resolve())
    try:
        return _VALIDATORS[setting](value)
    except ValueError as exc:
        raise UsageError(f"{key} {exc}, got {text!r}") from None


def check_profile_name(name: str) -> str:
    """Names go into keyring usernames and TOML tables; keep them plain."""
    ok = (
        0 < len(name) <= 64
        and (name[0].isalnum())
        and all(c.isalnum() or c in "-_." for c in name)
        and name.isascii()
    )
    if not ok:
        raise UsageError(
            f"invalid profile name {name!r}: use letters, digits, '-', '_' or '.', "
            "starting with a letter or digit"
        )
    return name


@dataclass
class ConfigFile:
    path: Path
    data: dict[str, Any] = field(default_factory=dict)
    exists: bool = False

    # -- reading -------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path, io: IO | None = None) -> ConfigFile:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return cls(path)
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
        _warn_if_exposed(path, io)
        import tomllib

        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{path}: not valid UTF-8 (byte {exc.start})", hint=_PARSE_HINT
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}", hint=_PARSE_HINT) from None
        self = cls(path, data, exists=True)
        self._check_shape()
        return self

    def _check_shape(self) -> None:
        current = self.data.get("current_profile")
        if current is not None and not isinstance(current, str):
            raise ConfigError(f"{self.path}: current_profile must be a string (a profile name)")
        profiles = self.data.get("profiles")
        if profiles is None:
            return
        if not isinstance(profiles, dict):
            raise ConfigError(f"{self.path}: profiles must be a table ([profiles.NAME])")
        for name, table in profiles.items():
            if not isinstance(table, dict):
                raise ConfigError(f"{self.path}: profiles.{name} must be a table")

    @property
    def current_profile(self) -> str | None:
        current = self.data.get("current_profile")
        return current if isinstance(current, str) and current else None

    def profile_names(self) -> list[str]:
        return list(self._profiles())

    def has_profile(self, name: str) -> bool:
        return name in self._profiles()

    def profile(self, name: str) -> dict[str, Any]:
        """The profile's known settings, checked; unknown keys are left out."""
        table = self._profiles().get(name, {})
        out: dict[str, Any] = {}
        for key in PROFILE_KEYS:
            if key not in table:
                continue
            try:
                out[key] = _VALIDATORS[key](table[key])
            except ValueError as exc:
                raise ConfigError(
                    f"{self.path}: profile '{name}': {key} {exc}, got {table[key]!r}"
                ) from None
        return out

    def _profiles(self) -> dict[str, dict[str, Any]]:
        profiles = self.data.get("profiles")
        return profiles if isinstance(profiles, dict) else {}

    # -- changing (in memory; `save` writes) ------------------------------------

    def ensure_profile(self, name: str) -> bool:
        """Create the profile when missing; True if it was created."""
        profiles = self.data.setdefault("profiles", {})
        if name in profiles:
            return False
        check_profile_name(name)
        profiles[name] = {}
        return True

    def set_value(self, name: str, key: str, value: object) -> None:
        """Set ``key`` (or one entry, ``headers.NAME``) in a profile."""
        self.ensure_profile(name)
        profile = self.data["profiles"][name]
        setting, entry = split_key(key)
        if entry is None:
            profile[key] = value
            return
        table = profile.get(setting)
        if not isinstance(table, dict):
            table = profile[setting] = {}
        for existing in _same_entry(setting, table, entry):
            del table[existing]
        table[entry] = value

    def unset_value(self, name: str, key: str) -> bool:
        profile = self._profiles().get(name)
        if profile is None:
            return False
        setting, entry = split_key(key)
        if entry is not None:
            table = profile.get(setting)
            found = _same_entry(setting, table, entry) if isinstance(table, dict) else []
            if not found:
                return False
            assert isinstance(table, dict)
            for existing in found:
                del table[existing]
            if not table:
                del profile[setting]
            return True
        if key not in profile:
            return False
        del profile[key]
        return True

    def set_current(self, name: str | None) -> None:
        if name is None:
            self.data.pop("current_profile", None)
        else:
            self.data["current_profile"] = name

    def delete_profile(self, name: str) -> bool:
        profiles = self._profiles()
        if name not in profiles:
            return False
        del profiles[name]
        if self.current_profile == name:
            self.set_current(None)
        return True

    # -- writing -------------------------------------------------------------------

    def save(self) -> None:
        import tomli_w

        # current_profile first: a TOML top-level key cannot follow a table.
        ordered = {k: v for k, v in self.data.items() if not isinstance(v, dict)}
        ordered.update({k: v for k, v in self.data.items() if isinstance(v, dict)})
        text = tomli_w.dumps(ordered)
        try:
            write_private(self.path, text)
        except OSError as exc:
            raise ConfigError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        self.exists = True


def _same_entry(setting: str, table: dict[str, Any], entry: str) -> list[str]:
    # Header names are case-insensitive: X-Env and x-env are one header.
    if setting == "headers":
        return [k for k in table if k.lower() == entry.lower()]
    return [entry] if entry in table else []


_PARSE_HINT = "fix the file by hand; oai does not rewrite a file it cannot read"


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``, readable by the owner only."""
    # Through a symlink (dotfiles managers) the link is kept and its target replaced.
    target = Path(os.path.realpath(path))
    directory = target.parent
    if not directory.is_dir():
        directory.mkdir(parents=True, mode=0o700, exist_ok=True)
        # mkdir's mode is filtered by the umask, which may be looser than 0700 on
        # some systems; chmod sets it exactly.
        os.chmod(directory, 0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            os.chmod(tmp, 0o600)
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) everywhere.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _warn_if_exposed(path: Path, io: IO | None) -> None:
    if io is None or os.name != "posix":
        return
    key = str(path)
    if key in _warned_permissions:
        return
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if stat.S_IMODE(mode) & 0o077:
        _warned_permissions.add(key)
        io.message(
            f"warning: {path} can be read or changed by other users (mode {stat.S_IMODE(mode):o}); "
            f"it may hold API keys: run `chmod 600 {path}`"
        )
