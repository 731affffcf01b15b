"""The profiles file, ``<config dir>/config.toml``.

The file is only ever rewritten whole, through :mod:`openai_cli.writer` (a
temporary file in the same directory renamed over it), so a crash or a full disk
leaves either the old file or the new one, never half of each. A file that fails
to parse is never written back: the user's text stays exactly as they left it.
Keys this version does not know are kept on rewrite, so an older ``oai`` does not
erase a newer one's settings. Comments are not kept: the file is data the CLI owns.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openai_cli.config.lock import exclusive, private_dir
from openai_cli.config.settings_table import BY_KEY, TABLE_KEYS, Environment
from openai_cli.config.settings_table import SECRET_KEYS as SECRET_KEYS
from openai_cli.config.settings_table import SETTING_KEYS as SETTING_KEYS
from openai_cli.errors import ConfigError, UsageError, cannot_write
from openai_cli.input.reader import read_kept
from openai_cli.io import IO
from openai_cli.writer import PRIVATE, write_file

PROFILE_KEYS = SETTING_KEYS + SECRET_KEYS
# Set to 1 to use a config file that another user owns or may change.
ALLOW_UNSAFE_ENV = Environment.allow_unsafe_config.env[0]

_warned_permissions: set[str] = set()

# How the file's bytes are read: its path, and a check of the opened file's status.
Reader = Callable[[Path, Callable[[os.stat_result], None]], bytes]


def _check(key: str, value: object) -> object:
    return BY_KEY[key].from_file(value)


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


def parse_setting(key: str, text: str) -> object:
    """A value typed on the command line (`oai profile set KEY VALUE`), checked.

    ``headers.NAME`` and ``query.NAME`` give one entry of a table (the value is the
    entry's); ``headers`` and ``query`` alone take a JSON object for the whole table.
    Paths are stored absolute, so the profile works from any directory.
    """
    setting, entry = check_setting_key(key)
    row = BY_KEY[setting]
    if entry is not None:
        try:
            checked = row.from_file({entry: text})
        except ValueError as exc:
            raise UsageError(f"{setting} {exc}, got {key} = {text!r}") from None
        assert isinstance(checked, dict)
        return next(iter(checked.values()))
    if row.kind == "table":
        try:
            value = row.parse(text)
        except ValueError as exc:
            raise UsageError(
                f"{key} {exc}, got {text!r}",
                hint=f"or set one entry: `oai profile set {key}.NAME VALUE`",
            ) from None
        try:
            return row.from_file(value)
        except ValueError as exc:
            raise UsageError(f"{key} {exc}, got {text!r}") from None
    if row.kind == "path":
        path = Path(text).expanduser()
        if not path.is_file():
            raise UsageError(f"{key}: no such file: {text}")
        text = str(path.resolve())
    return row.from_text(text, key)


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
    def load(
        cls,
        path: Path,
        io: IO | None = None,
        *,
        env: Mapping[str, str] | None = None,
        read: Reader = read_kept,
    ) -> ConfigFile:
        """The file at ``path`` (empty when missing); refused when others can change it.

        ``read`` gives the file's bytes, having shown its status to the check: a TAB
        passes the bytes it has already read, so that what it keys its kept answer by
        is what was parsed.
        """
        try:
            # Checked on the open file, so what is read is what was checked.
            raw = read(path, lambda st: _check_safe(path, st, io, env))
        except FileNotFoundError:
            return cls(path)
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
        import tomllib

        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{path}: not valid UTF-8 (byte {exc.start})", hint=_PARSE_HINT
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}", hint=_PARSE_HINT) from None
        except RecursionError:
            raise ConfigError(
                f"{path}: invalid TOML: nested too deeply", hint=_PARSE_HINT
            ) from None
        self = cls(path, data, exists=True)
        self._check_shape()
        return self

    @classmethod
    @contextmanager
    def edit(
        cls, path: Path, io: IO | None = None, *, env: Mapping[str, str] | None = None
    ) -> Iterator[ConfigFile]:
        """The file, locked against other writers from before it is read until the block ends.

        Every read-modify-write of the file goes through here (call ``save`` inside
        the block): two ``oai profile set`` at once then both keep their change.
        """
        with exclusive(path):
            yield cls.load(path, io, env=env)

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
                out[key] = _check(key, table[key])
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
            raise cannot_write(self.path, exc) from None
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
    private_dir(target.parent)
    write_file(target, text.encode("utf-8"), mode=PRIVATE)


def _check_safe(
    path: Path, info: os.stat_result, io: IO | None, env: Mapping[str, str] | None
) -> None:
    """Refuse a file another user could have written, as ssh does with its config.

    Such a file could point ``base_url`` at their server, which would then receive
    the key. Root may change any file anyway, so a file owned by root is trusted.
    """
    if os.name != "posix":
        return
    mode = stat.S_IMODE(info.st_mode)
    problems = []
    if info.st_uid not in (os.geteuid(), 0):
        problems.append(f"it belongs to another user (uid {info.st_uid})")
    if mode & 0o022:
        problems.append(f"other users can change it (mode {mode:o})")
    if not problems:
        _warn_if_exposed(path, mode, io)
        return
    if env is None:
        env = io.env if io is not None else os.environ
    if Environment.allow_unsafe_config.read(env):
        if io is not None and str(path) not in _warned_permissions:
            _warned_permissions.add(str(path))
            reasons = "; ".join(problems)
            io.message(f"warning: using {path} although {reasons} ({ALLOW_UNSAFE_ENV}=1)")
        return
    raise ConfigError(
        f"refusing to use {path}: {'; '.join(problems)}",
        hint=f"make it yours and private (`chmod 600 {path}`), "
        f"or set {ALLOW_UNSAFE_ENV}=1 to use it anyway",
    )


def _warn_if_exposed(path: Path, mode: int, io: IO | None) -> None:
    if io is None:
        return
    key = str(path)
    if key in _warned_permissions:
        return
    if mode & 0o077:
        _warned_permissions.add(key)
        io.message(
            f"warning: {path} can be read by other users (mode {mode:o}); "
            f"it may hold API keys: run `chmod 600 {path}`"
        )
