"""What a TAB needs of the settings, remembered: the profile names, and where in the
ID cache this profile's IDs are.

Resolving the settings reads config.toml through the TOML parser and the settings
table, which costs about twice what a whole TAB costs without them. So a TAB keeps
the answer in the state folder (``tab.json``, 0600), under a key made of everything
the answer came from:

- oai's version and the user it runs as;
- the config file: its path, and its bytes with its mode and owner (which decide
  whether it is trusted), or its absence;
- the connection flags typed on the line (``--profile``, ``--base-url``);
- oai's own code: the status of each of its files loaded when the answer was made;
- each environment variable the settings code read while it resolved them, by name
  and value: a watching mapping (in :func:`_resolve`) records the names as the code
  reads them, so the key follows the code rather than a list of what it might read.

A TAB whose inputs make the same key reads the answer; any other resolves the
settings as before (with ``load_settings``, the one description of precedence) and
keeps what it found. The file is keyed by what it holds, not by its times and
inode: those can stay as they were across an edit (``cp -p`` or ``touch -r`` within
one clock tick, a file system whose change time does not follow writes), and the
bytes keyed are the bytes parsed. The key is a BLAKE2 digest, so no value read (a
base URL's password) can be worked back from it. Nothing here sends a request.
"""

from __future__ import annotations

import errno
import json
import os
import sys

from openai_cli import __version__, dirs, idcache
from openai_cli.input.reader import read_kept, read_kept_json

# Not typing, nor collections.abc: a TAB that reads this file does without them.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from typing import Any

    from openai_cli.config.store import Reader

FILE_NAME = "tab.json"
_VERSION = 2
LIMIT = 8  # answers kept: a few profiles, each with and without flags

Answer = dict[str, "Any"]
# The config file as a TAB read it: its bytes and status, or None when there is none.
Snapshot = tuple[bytes, os.stat_result] | None


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
    try:
        config = os.path.join(dirs.folder(dirs.CONFIG, env), dirs.CONFIG_FILE)
        memo = os.path.join(dirs.folder(dirs.STATE, env), FILE_NAME)
    except Exception as exc:
        from openai_cli.errors import OaiError

        if not isinstance(exc, OaiError):
            raise
        # No folder to be found (no home): no settings to answer from, as when the
        # config cannot be read.
        return {"profiles": [], "section": None}
    try:
        snapshot = _read(config)
    except OSError:
        # Unreadable (a folder, a pipe, no permission): resolved each time, as the
        # settings code reads it, and not kept.
        return _resolve(env, flags, config, read_kept)[0]
    base = _base(config, snapshot, flags)
    kept = _load(memo)
    code = _Code()
    for entry in kept:
        names, files = entry.get("env"), entry.get("code")
        if not (isinstance(names, list) and isinstance(files, list)):
            continue
        if entry.get("key") == _key(base, names, env, code.status(files)):
            return entry
    fresh, read = _resolve(env, flags, config, _as_read(config, snapshot))
    if read is None:
        return fresh
    fresh["env"] = read
    fresh["code"] = files = _Code.loaded()
    fresh["key"] = _key(base, read, env, code.status(files))
    _save(env, memo, [fresh, *(e for e in kept if e.get("key") != fresh["key"])][:LIMIT])
    return fresh


def forget(env: Mapping[str, str]) -> None:
    """Remove the kept answers (``oai cache clear``)."""
    import contextlib

    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(dirs.folder(dirs.STATE, env), FILE_NAME))


def _read(path: str) -> Snapshot:
    """The config file's bytes and status; None when there is none."""
    seen: list[os.stat_result] = []
    try:
        raw = read_kept(path, seen.append)
    except FileNotFoundError:
        return None
    return raw, seen[0]


def _as_read(path: str, snapshot: Snapshot) -> Reader:
    """A reader of the config file that gives ``snapshot`` again, as read by the key."""

    def read(_: object, check: Callable[[os.stat_result], None]) -> bytes:
        if snapshot is None:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
        raw, status = snapshot
        check(status)
        return raw

    return read


def _base(config: str, snapshot: Snapshot, flags: Mapping[str, str]) -> list[Any]:
    """The parts of the key that do not depend on the variables read."""
    held = None
    if snapshot is not None:
        raw, status = snapshot
        held = [status.st_mode, status.st_uid, _digest(raw)]
    euid = os.geteuid() if hasattr(os, "geteuid") else None
    return [_VERSION, __version__, euid, config, held, sorted(flags.items())]


def _key(base: list[Any], names: list[Any], env: Mapping[str, str], code: list[Any]) -> str:
    # JSON keeps the parts apart (no two inputs join into the same text), and a value
    # that is not set differs from one that is empty.
    parts = [*base, [[str(n), env.get(str(n))] for n in names], code]
    return _digest(json.dumps(parts, ensure_ascii=False).encode("utf-8", "surrogatepass"))


class _Code:
    """oai's own files, as an input of the answer: a checkout, an edit or a reinstall
    that keeps the version number changes what resolving the settings says.

    An answer names the files of the modules loaded when it was made (the code that
    made it), and its key holds their status, each file looked at once per TAB.
    """

    def __init__(self) -> None:
        self._seen: dict[str, list[int] | None] = {}

    @staticmethod
    def loaded() -> list[str]:
        return sorted(
            path
            for name, module in list(sys.modules.items())
            if name.partition(".")[0] == "openai_cli"
            and isinstance(path := getattr(module, "__file__", None), str)
        )

    def status(self, files: list[Any]) -> list[Any]:
        return [[str(f), self._status(str(f))] for f in files]

    def _status(self, path: str) -> list[int] | None:
        if path not in self._seen:
            try:
                st = os.stat(path)
            except OSError:
                self._seen[path] = None
            else:
                self._seen[path] = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]
        return self._seen[path]


def _digest(data: bytes) -> str:
    # _blake2 rather than hashlib, whose import (OpenSSL's) costs a TAB more than this
    # whole module; hashlib where an interpreter has no such module.
    try:
        from _blake2 import blake2b
    except ImportError:
        from hashlib import blake2b

    return blake2b(data, digest_size=16).hexdigest()


def _load(path: str) -> list[Answer]:
    try:
        data = read_kept_json(path)
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


def _resolve(
    env: Mapping[str, str],
    flags: Mapping[str, str],
    config: str,
    read: Reader,
) -> tuple[Answer, list[str] | None]:
    """What the settings say, with the config file as ``read`` gives it, and the names
    of the variables read to say it (None when the whole environment was walked:
    such an answer depends on all of it)."""
    import collections.abc
    from pathlib import Path

    from openai_cli.config import Overrides, load_settings
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
    try:
        cfg = ConfigFile.load(Path(config), env=env, read=read)
    except OaiError:
        return found, None if env.whole else env.read
    found["profiles"] = cfg.profile_names()
    try:
        settings = load_settings(Overrides.from_flags(flags), env, config=cfg)
        if settings.id_cache.value:
            found["section"] = idcache.section(settings.profile.value, settings.base_url.value)
    except OaiError:
        pass
    return found, None if env.whole else env.read
