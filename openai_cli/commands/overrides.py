"""Hand-written commands that replace generated ones of the same name.

An override receives the operation's :class:`CommandSpec`, so it keeps every flag the
API has and adds its own on top.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openai_cli.api.builder import CommandSpec

# command path -> "module:function"; the function takes a CommandSpec and returns a command.
OVERRIDES: dict[tuple[str, ...], str] = {}


def override_for(command: tuple[str, ...]) -> Callable[[CommandSpec], Any] | None:
    target = OVERRIDES.get(command)
    if target is None:
        return None
    module, _, attr = target.partition(":")
    fn: Callable[[CommandSpec], Any] = getattr(importlib.import_module(module), attr)
    return fn
