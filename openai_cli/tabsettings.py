"""What a TAB needs of the settings, remembered: the profile names, and where in the
ID cache this profile's IDs are.

Resolving the settings reads config.toml through the TOML parser and the settings
table, which costs about twice what a whole TAB costs without them. So a TAB keeps
the answer in the state folder (``tab.json``, 0600), under a key made of everything
the answer came from:

- oai's version and the user it runs as;
- the config file: its path, and its status (device, inode, size, times, mode,
  owner), or its absence;
- the connection flags typed on the line (``--profile``, ``--base-url``);
- each environment variable the settings code read while it resolved them, by name
  and value: :class:`_Watched` records the names as the code reads them, so the key
  follows the code rather than a list of what it might read.

A TAB whose inputs make the same key reads the answer; any other resolves the
settings as before (with ``load_settings``, the one description of precedence) and
keeps what it found. A config file changed in the last :data:`RECENT` seconds is not
remembered: a second change within the file system's clock tick could leave its
status as it was (git's "racily clean" index entries). The key is a 64-bit hash, so
no value read (a base URL's password) is written. Nothing here sends a request.
"""

from __future__ import annotations

import json
import os
import time

from openai_cli import __version__, dirs, idcache
from openai_cli.input.reader import read_kept

# Not typing, nor collections.abc: a TAB that reads this file does without them.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from typing import Any

FILE_NAME = "tab.json"
CONFIG_FILE = "config.toml"
_VERSION = 1
LIMIT = 8  # answers kept: a few profiles, each with and without flags
RECENT = 2.0  # seconds
# A prime just under 2**64: the key is the inputs' bytes, as one number, modulo it.
_PRIME = 18446744073709551557

Answer = dict[str, "Any"]


def profile_names(env: Mapping[str, str], flags: Mapping[str, str]) -> list[str]:
    """The profiles in the config file (empty when it cannot be read)."""
    names = answer(env, flags).get("profiles")
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def id_section(env: Mapping[str, str], flags: Mapping[str, str]) -> str | None:
    """The ID cache's section of the profile the line acts on; None when the
    settings cannot be resolved or the profile keeps no IDs."""
    section = answer(env, flags).get("section")
    return section if isinstance(section, str) else None


def answer(env: Mapping[str, str], flags: Mapping[str, str]) -> Answer:
    """The remembered answer for these inputs, or a fresh one (then remembered)."""
    config = os.path.join(dirs.folder(dirs.CONFIG, env), CONFIG_FILE)
    memo = os.path.join(dirs.folder(dirs.STATE, env), FILE_NAME)
    status = _status(config)
    kept = _load(memo)
    for entry in kept:
        names = entry.get("env")
        if isinstance(names, list) and entry.get("key") == _key(config, status, flags, names, env):
            return entry
    fresh, read = _resolve(env, flags)
    if read is None or (status is not None and time.time() - status[3] / 1e9 < RECENT):
        return fresh
    fresh["env"] = read
    fresh["key"] = _key(config, status, flags, read, env)
    _save(env, memo, [fresh, *(e for e in kept if e.get("key") != fresh["key"])][:LIMIT])
    return fresh


def forget(env: Mapping[str, str]) -> None:
    """Remove the kept answers (``oai cache clear``)."""
    import contextlib

    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(dirs.folder(dirs.STATE, env), FILE_NAME))


def _status(path: str) -> tuple[int, ...] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode, st.st_uid)


def _key(
    config: str,
    status: tuple[int, ...] | None,
    flags: Mapping[str, str],
    names: list[Any],
    env: Mapping[str, str],
) -> str:
    # JSON keeps the parts apart (no two inputs join into the same text), and a value
    # that is not set differs from one that is empty.
    parts = [
        _VERSION,
        __version__,
        os.geteuid() if hasattr(os, "geteuid") else None,
        config,
        status,
        sorted(flags.items()),
        [[str(n), env.get(str(n))] for n in names],
    ]
    data = json.dumps(parts, ensure_ascii=False).encode("utf-8", "surrogatepass")
    # Not hashlib, whose import costs a TAB more than this whole module; the key only
    # tells inputs apart, and no more can be learned of a value from it than from a
    # SHA-256 of the same unsalted text.
    return f"{int.from_bytes(data, 'big') % _PRIME:016x}"


def _load(path: str) -> list[Answer]:
    try:
        data = json.loads(read_kept(path))
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict) or data.get("version") != _VERSION:
        return []
    entries = data.get("answers")
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, dict)]


def _save(env: Mapping[str, str], path: str, entries: list[Answer]) -> None:
    from openai_cli import interrupts, writer
    from openai_cli.errors import OaiError
    from openai_cli.state import state_dir

    text = json.dumps({"version": _VERSION, "answers": entries}) + "\n"
    # No temporary file outlives a TAB stopped while it writes.
    interrupts.before_writing()
    try:
        state_dir(env)
        writer.write_file(path, text.encode("utf-8"), mode=0o600)
    except (OSError, OaiError):
        pass  # a TAB that cannot remember (a read-only or full disk) still answers


def _resolve(env: Mapping[str, str], flags: Mapping[str, str]) -> tuple[Answer, list[str] | None]:
    """What the settings say, and the names of the variables read to say it (None
    when the whole environment was walked: such an answer depends on all of it)."""
    import collections.abc

    from openai_cli.config import Overrides, config_path, load_settings
    from openai_cli.config.store import ConfigFile
    from openai_cli.errors import OaiError

    # Here, not at the top: collections.abc, for the base class, only when resolving.
    class Watched(collections.abc.Mapping[str, str]):
        """The environment, noting the name of every variable looked up in it."""

        def __init__(self, env: Mapping[str, str]) -> None:
            self._env = env
            self.read: list[str] = []
            self.whole = False

        def __getitem__(self, name: str) -> str:
            if name not in self.read:
                self.read.append(name)
            return self._env[name]

        def __iter__(self) -> Iterator[str]:
            self.whole = True
            return iter(self._env)

        def __len__(self) -> int:
            self.whole = True
            return len(self._env)

    env = Watched(env)
    found: Answer = {"profiles": [], "section": None}
    # Unreadable settings answer nothing, as an empty config does.
    try:  # noqa: SIM105 (contextlib costs a TAB, which reads this module, 0.5 ms)
        found["profiles"] = ConfigFile.load(config_path(env), env=env).profile_names()
    except OaiError:
        pass
    try:
        settings = load_settings(Overrides.from_flags(flags), env)
        if settings.id_cache.value:
            found["section"] = idcache.section(settings.profile.value, settings.base_url.value)
    except OaiError:
        pass
    return found, None if env.whole else env.read
