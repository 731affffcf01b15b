"""Helpers shared by the hand-written file, batch and map commands."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from openai_cli.options import common_parameters, pop_common

if TYPE_CHECKING:
    from typer.core import TyperCommand

    from openai_cli.context import Factory


def with_common(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn(ctx, ..., **common)`` with the shared options added to its signature.

    ``fn`` gets the shared options in ``common`` and hands them to :func:`factory_of`.
    """
    if getattr(fn, "_with_common", False):
        return fn  # the command is built again for each run in one process (tests)
    # Typer needs the annotations themselves, not the strings postponed evaluation leaves.
    sig = inspect.signature(fn, eval_str=True)
    own = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    fn.__signature__ = sig.replace(parameters=[*own, *common_parameters()])  # type: ignore[attr-defined]
    fn._with_common = True  # type: ignore[attr-defined]
    return fn


def tool_command(fn: Callable[..., Any], *, name: str, help: str) -> TyperCommand:
    """A Typer command from ``fn(ctx, ..., **common)`` (see :func:`with_common`)."""
    from openai_cli.lazy import command_from

    return command_from(with_common(fn), name, help=help)


def factory_of(ctx: typer.Context, common: dict[str, Any]) -> Factory:
    from openai_cli.context import Factory

    factory = ctx.find_object(Factory)
    assert factory is not None
    factory.use(pop_common(common))
    return factory
