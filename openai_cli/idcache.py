"""The IDs a profile has recently seen, offered when an ID argument is completed.

Nothing is ever sent to fill it: the objects come from answers oai prints anyway
(a list, a create, a retrieve), and a TAB only reads. One JSON file in the state
folder holds a section per profile and base URL (the URL without its user name,
password or query credentials), and in it at most :data:`LIMIT` IDs of each kind,
the most recently seen first. A kind is the last word of an object's ``object`` field
(``fine_tuning.job`` is a ``job``, ``vector_store.file`` a ``file``: its ID is
the file's), which is also how an ID parameter names what it takes
(:func:`param_kind`).
"""

from __future__ import annotations

import json
import os
import time

from openai_cli import dirs
from openai_cli.input.reader import read_kept_json

# Not from typing, nor pathlib, nor the writer and the lock (which bring the
# settings table) at the top: a TAB reads this file and does without them.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, TypeGuard

LIMIT = 200
FILE_NAME = "ids.json"
# 2: sections without the base URL's user name; a file of version 1 may hold one,
# and is replaced whole at the next save.
_VERSION = 2

# Fields whose names do not say the kind they take (``file_id`` says ``file``).
_FIELD_KINDS = {
    "training_file": "file",
    "validation_file": "file",
    "previous_response_id": "response",
    "model": "model",
    "model_ids": "model",
}


def _singular(word: str) -> str:
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def param_kind(name: str, path: str | None = None) -> str | None:
    """The kind of ID a parameter takes, or None for a parameter that takes none.

    A path parameter takes the kind its collection holds (``/files/{file_id}``: a
    ``file``; ``/vector_stores/{id}/file_batches/{batch_id}``: a ``file_batch``); a
    body or query field says it in its name (``vector_store_ids``) or in
    :data:`_FIELD_KINDS`.
    """
    if path is not None:
        head = path.split("{" + name + "}")[0].rstrip("/")
        if head != path.rstrip("/"):
            return _singular(head.rsplit("/", 1)[-1])
    if name in _FIELD_KINDS:
        return _FIELD_KINDS[name]
    for suffix in ("_id", "_ids"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


# What a shell takes for more than a word's text. The words of a TAB's answer are put
# on the command line as they are (bash inserts a lone candidate at once).
_SHELL = frozenset(" '\"`$\\;&|<>()[]{}*?!#~")


def offered(oid: object) -> TypeGuard[str]:
    """Whether ``oid`` can be offered on a TAB: an ID is the server's text, and a
    space, a quote, ``$(...)`` or a newline in it would be shell syntax on the
    command line, and a leading ``-`` an option (``--output-file=...``)."""
    return (
        isinstance(oid, str)
        and oid[:1] not in ("", "-")
        and oid.isprintable()
        and _SHELL.isdisjoint(oid)
    )


def object_kind(obj: Mapping[str, Any]) -> str | None:
    name = obj.get("object")
    if not isinstance(name, str) or not name:
        return None
    return name.removesuffix(".deleted").rsplit(".", 1)[-1]


def describe(obj: Mapping[str, Any]) -> str:
    """One short line for a candidate: its name, its status, when it was created."""
    parts: list[str] = []
    for key in ("filename", "name", "title"):
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            parts.append(value.strip())
            break
    status = obj.get("status")
    if isinstance(status, str) and status:
        parts.append(status)
    created = obj.get("created_at", obj.get("created"))
    if isinstance(created, int | float) and not isinstance(created, bool) and created > 0:
        try:  # noqa: SIM105 (contextlib costs a TAB, which reads this module, 0.5 ms)
            parts.append(time.strftime("%Y-%m-%d %H:%M", time.localtime(created)))
        except (OverflowError, OSError, ValueError):
            pass
    return " ".join(" · ".join(parts).split())


class Seen:
    """What one run of oai saw and deleted; written once, when the run ends."""

    def __init__(self) -> None:
        self.objects: list[tuple[str, str, str]] = []  # (kind, id, description)
        self.gone: set[str] = set()

    def answer(self, data: Any) -> None:
        """Note the objects of an answer or of one page of a list."""
        rows = data.get("data") if isinstance(data, dict) else None
        # A list's first row is the one it puts first: it is taken as seen last.
        for obj in reversed(rows) if isinstance(rows, list) else [data]:
            if not isinstance(obj, dict):
                continue
            oid, kind = obj.get("id"), object_kind(obj)
            if not offered(oid) or kind is None:
                continue
            if obj.get("deleted") is True:
                self.forget(oid)
            else:
                self.gone.discard(oid)
                self.objects.append((kind, oid, describe(obj)))

    def forget(self, oid: str) -> None:
        """A delete of ``oid`` succeeded."""
        self.gone.add(oid)
        self.objects = [o for o in self.objects if o[1] != oid]

    def __bool__(self) -> bool:
        return bool(self.objects or self.gone)


def cache_path(env: Mapping[str, str]) -> str:
    """Where the cache is; its folder is made only when the cache is written."""
    return os.path.join(dirs.folder(dirs.STATE, env), FILE_NAME)


def section(profile: str | None, base_url: str) -> str:
    """The key of a profile's IDs: the base URL as oai writes one to disk, with no
    user name, password or credential of its query (a token given as the user name
    is as secret as a password)."""
    from openai_cli.http.redact import stored_url

    return f"{profile or ''} {stored_url(base_url.rstrip('/'), query=True)}"


def _load(path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        data = read_kept_json(path)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != _VERSION:
        return {}
    sections = data.get("sections")
    return sections if isinstance(sections, dict) else {}


def read(env: Mapping[str, str], key: str, kind: str) -> list[tuple[str, str]]:
    """The IDs of ``kind`` under ``key`` with their descriptions, the newest first."""
    entries = _load(cache_path(env)).get(key, {}).get(kind, [])
    # Checked again as read: the file may be older than the check, or edited.
    return [
        (e[0], e[1])
        for e in entries
        if isinstance(e, list) and len(e) == 2 and offered(e[0]) and isinstance(e[1], str)
    ]


def save(env: Mapping[str, str], key: str, seen: Seen) -> None:
    """Merge what a run saw into the cache (under its lock: runs may end together)."""
    from pathlib import Path

    from openai_cli import writer
    from openai_cli.config.lock import exclusive
    from openai_cli.state import state_dir

    state_dir(env)  # made, where it is missing
    path = Path(cache_path(env))
    # Briefly: a command is not kept waiting at its end for a cache of TAB candidates.
    with exclusive(path, wait=2.0, what="the ID cache"):
        sections = _load(path)
        kinds: dict[str, list[list[str]]] = sections.setdefault(key, {})
        fresh: dict[str, dict[str, str]] = {}
        for kind, oid, text in seen.objects:
            fresh.setdefault(kind, {}).pop(oid, None)
            fresh[kind][oid] = text
        for kind in set(kinds) | set(fresh):
            new = list(reversed(fresh.get(kind, {}).items()))
            old = [e for e in kinds.get(kind, []) if isinstance(e, list) and len(e) == 2]
            taken = {oid for oid, _ in new} | seen.gone
            merged = [[oid, text] for oid, text in new]
            merged += [e for e in old if e[0] not in taken]
            if merged:
                kinds[kind] = merged[:LIMIT]
            else:
                kinds.pop(kind, None)
        text = json.dumps({"version": _VERSION, "sections": sections}) + "\n"
        writer.write_file(path, text.encode("utf-8"), mode=0o600)


def clear(env: Mapping[str, str]) -> bool:
    """Empty the cache; False when there was nothing to remove."""
    from pathlib import Path

    from openai_cli.config.lock import exclusive

    path = Path(cache_path(env))
    with exclusive(path, what="the ID cache"):
        try:
            path.unlink()
        except FileNotFoundError:
            return False
    return True
