"""The hand-written help of the API commands: one-line summaries and flag descriptions.

The text lives in TOML beside this module, in our own words (never the spec's):
``<module>.toml`` holds the summaries of one catalogue module's commands and groups,
``flags.toml`` one description per flag name and path argument, with per-command
overrides where a name means something else. Only the file of the family asked
for is read, so ``--help`` of one command stays cheap.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from openai_cli.api.catalogue import GROUPS

Command = tuple[str, ...]


@cache
def _read(name: str) -> dict[str, Any]:
    try:
        text = resources.files(__name__).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    return tomllib.loads(text)


def _module(command: Command) -> str | None:
    return GROUPS.get(command[0]) if command else None


def summary(command: Command) -> str | None:
    """The one-line summary of a command or a group (``("vector-stores", "files")``)."""
    module = _module(command)
    if module is None:
        return None
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
    out: dict[str, str] = {}
    for module in sorted(set(GROUPS.values())):
        data = _read(module)
        out.update(data.get("groups", {}))
        out.update(data.get("commands", {}))
    return out
