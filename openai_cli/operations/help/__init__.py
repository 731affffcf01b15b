"""The hand-written help of the API commands: one-line summaries and flag descriptions.

The text lives in TOML beside this module, in our own words (never the spec's):
``<module>.toml`` holds the summaries of one catalogue module's commands and groups
below the family (a family's own line is ``GROUP_TITLES``, which ``oai --help``
lists without reading any of these files),
``flags.toml`` one description per flag name and path argument, with per-command
overrides where a name means something else. Only the file of the family asked
for is read, so ``--help`` of one command stays cheap.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

# The index only (names of the families and their modules), not their operations.
from openai_cli.operations.catalogue import GROUP_TITLES, GROUPS

Command = tuple[str, ...]


@cache
def _read(name: str) -> dict[str, Any]:
    # Beside this module on disk (importlib.resources would cost more than the read).
    try:
        with open(os.path.join(os.path.dirname(__file__), f"{name}.toml"), encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return {}
    return parse(text)


def parse(text: str) -> dict[str, Any]:
    """The TOML of a help file.

    The files use one small part of TOML (tables, ``"key" = "value"`` lines without
    escapes, comments), which is read here in a fraction of the time importing
    ``tomllib`` and parsing takes: that is most of what ``--help`` would add. Any
    other line is left to ``tomllib``, so the result is always what TOML says.
    """
    data: dict[str, Any] = {}
    table = data
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]") and not line.startswith("[["):
            names = _table(line[1:-1])
            if names is None:
                return _toml(text)
            table = data
            for name in names:
                table = table.setdefault(name, {})
            continue
        key, sep, value = line.partition('" = "')
        if (
            not sep
            or not key.startswith('"')
            or not value.endswith('"')
            or any(c in key[1:] + value[:-1] for c in '"\\')
        ):
            return _toml(text)
        table[key[1:]] = value[:-1]
    return data


def _table(header: str) -> list[str] | None:
    """``overrides."chat completions create"`` as its names, or None if not that simple."""
    head, dot, quoted = header.partition(".")
    if not head.isidentifier():
        return None
    if not dot:
        return [head]
    if len(quoted) < 2 or quoted[0] != '"' or quoted[-1] != '"' or '"' in quoted[1:-1]:
        return None
    if "\\" in quoted:
        return None
    return [head, quoted[1:-1]]


def _toml(text: str) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(text)


def _module(command: Command) -> str | None:
    return GROUPS.get(command[0]) if command else None


def summary(command: Command) -> str | None:
    """The one-line summary of a command or a group (``("vector-stores", "files")``)."""
    module = _module(command)
    if module is None:
        return None
    if len(command) == 1:
        return GROUP_TITLES.get(command[0])
    data = _read(module)
    key = " ".join(command)
    found = data.get("commands", {}).get(key) or data.get("groups", {}).get(key)
    return str(found) if found else None


def flag_help(command: Command, flag: str) -> str | None:
    """What a flag means for ``command`` (``flag`` without its dashes)."""
    data = _read("flags")
    own = data.get("overrides", {}).get(" ".join(command), {})
    found = own.get(flag) or data.get("flags", {}).get(flag)
    return str(found) if found else None


def argument_help(command: Command, name: str) -> str | None:
    """What a path argument (``file_id``) means for ``command``."""
    data = _read("flags")
    own = data.get("overrides", {}).get(" ".join(command), {})
    found = own.get(name) or data.get("arguments", {}).get(name)
    return str(found) if found else None


def all_summaries() -> dict[str, str]:
    """Every command's and group's summary, keyed by its path (for searching)."""
    out: dict[str, str] = dict(GROUP_TITLES)
    for module in sorted(set(GROUPS.values())):
        data = _read(module)
        out.update(data.get("groups", {}))
        out.update(data.get("commands", {}))
    return out
