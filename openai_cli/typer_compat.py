"""Every use of Typer (and of the Click copy it carries) beyond its documented API.

Typer is pinned to one minor version in pyproject.toml; a test fails when another
one is installed. Moving to a new Typer means checking this module, and nothing
else, against the new version: the class names it relies on, the private
``typer._click`` modules and the attributes of registered commands and options.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from typer.core import TyperCommand, TyperGroup

from openai_cli.errors import OaiError

__all__ = [
    "TyperCommand",
    "TyperGroup",
    "complete",
    "completion_source",
    "context_for",
    "is_no_args_help",
    "keep_close_suggestions",
    "option_flags",
    "param_facts",
    "set_command_class",
    "set_group_class",
    "shared_copy",
    "subcommands",
]

# The Typer minor version this module was checked against (pyproject.toml pins it).
CHECKED_WITH = (0, 28)


def is_no_args_help(exc: BaseException) -> bool:
    """True for the error a group raises when run without a command (it wants help)."""
    from typer._click.exceptions import NoArgsIsHelpError

    return isinstance(exc, NoArgsIsHelpError)


def keep_close_suggestions(exc: BaseException, cutoff: float = 0.75) -> None:
    """Keep only close matches among the options an unknown option's error suggests.

    Click's cutoff (0.6) offers ``--org, --verbose`` for ``--bogus``; a typo such as
    ``--modle`` or ``--purpos`` is well above this one. With none left, the error
    names the option alone and the caller points to ``--help``.
    """
    from difflib import get_close_matches

    from typer._click.exceptions import NoSuchOption

    if isinstance(exc, NoSuchOption) and exc.possibilities:
        exc.possibilities = get_close_matches(exc.option_name, exc.possibilities, cutoff=cutoff)


def complete(group: Any, obj: Any, args: list[str], incomplete: str) -> list[tuple[str, str, str]]:
    """Click's completions for ``args`` and the word being typed: (value, type, help).

    ``type`` is ``plain``, or ``file``/``dir`` for a path the shell should complete.
    """
    from typer._click.shell_completion import ShellComplete

    class Request(ShellComplete):
        name = "oai"
        source_template = ""

        def source_vars(self) -> dict[str, Any]:
            return {}

        def get_completion_args(self) -> tuple[list[str], str]:
            return args, incomplete

        def format_completion(self, item: Any) -> str:
            return str(item.value)

    request = Request(group, {"obj": obj}, "oai", "_OAI_COMPLETE")
    return [
        (str(item.value), str(item.type), str(item.help or ""))
        for item in request.get_completions(args, incomplete)
    ]


def set_command_class(app: Any, cls: type, replaces: tuple[type | None, ...]) -> None:
    """Build the commands of a Typer app (and its sub-apps) with ``cls``.

    Only where the command did not ask for a class of its own: Typer records
    ``None`` or its own class in the registered command info.
    """
    for info in app.registered_commands:
        if info.cls in replaces:
            info.cls = cls
    for group in app.registered_groups:
        if group.typer_instance is not None:
            set_command_class(group.typer_instance, cls, replaces)


def set_group_class(app: Any, cls: type) -> None:
    """Build a Typer app's group (and its sub-apps' groups) with ``cls``.

    Only where the app did not name a class: Typer keeps a placeholder then.
    """
    from typer.models import DefaultPlaceholder

    if isinstance(app.info.cls, DefaultPlaceholder):
        app.info.cls = cls
    for group in app.registered_groups:
        if group.typer_instance is not None:
            set_group_class(group.typer_instance, cls)


def subcommands(cmd: Any) -> Iterator[Any]:
    """The commands already built under a Click group (none for a plain command)."""
    commands: dict[str, Any] = getattr(cmd, "commands", None) or {}
    yield from commands.values()


def option_flags(cmd: Any) -> set[str]:
    """Every flag spelling a command's own options take (``--no-x`` included)."""
    flags: set[str] = set()
    for param in getattr(cmd, "params", ()):
        flags.update(getattr(param, "opts", ()))
        flags.update(getattr(param, "secondary_opts", ()))
    return flags


def shared_copy(
    option: Any, taken: Iterable[str], apply: Callable[[Any, str, Any], None]
) -> Any | None:
    """A hidden copy of a root option for a command, or None if it has no free spelling.

    The copy takes the spellings ``taken`` leaves free; when given, its value goes
    to ``apply(ctx, name, value)`` at parse time instead of the command's
    function, which never sees it.
    """
    taken = set(taken)
    opts = [o for o in option.opts if o not in taken]
    secondary = [o for o in option.secondary_opts if o not in taken]
    if not opts:
        return None
    name = option.name

    def callback(ctx: Any, param: Any, value: Any) -> None:
        if value is None:
            return
        if not ctx.resilient_parsing:
            apply(ctx, name, value)
            return
        # Completing: a --profile after the command still picks the IDs offered, and a
        # bad value (checked when the command runs) is no reason to offer nothing.
        with contextlib.suppress(OaiError):
            apply(ctx, name, value)

    clone = copy.copy(option)
    clone.opts = opts
    clone.secondary_opts = secondary
    clone.name = f"_root_{name}"
    clone.expose_value = False
    clone.hidden = True
    clone.is_eager = False
    clone.callback = callback
    return clone


def context_for(group: Any, obj: Any, args: list[str]) -> Any:
    """The context completion reaches for ``args``: their groups and command built."""
    from typer._click.shell_completion import _resolve_context

    return _resolve_context(group, {"obj": obj}, "oai", args)


def completion_source(param: Any) -> Any:
    """The ``tab_source`` mark of the function a parameter completes with, if any.

    Typer wraps the function twice; the mark is found through the wrappers' closures.
    """
    todo = [getattr(param, "_custom_shell_complete", None)]
    seen: set[int] = set()
    while todo:
        fn = todo.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        mark = getattr(fn, "tab_source", None)
        if mark is not None:
            return mark
        for cell in getattr(fn, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if callable(value):
                todo.append(value)
    return None


def param_facts(param: Any) -> dict[str, Any]:
    """How completion reads a parameter: its spellings, whether it takes a value."""
    from typer.core import TyperArgument, TyperOption

    argument = isinstance(param, TyperArgument)
    takes_value = not argument and not (param.is_flag or param.count)
    return {
        "name": param.name,
        "arg": argument,
        "opts": [*param.opts, *param.secondary_opts] if not argument else [],
        "value": takes_value,
        "multiple": bool(param.multiple),
        "listed": isinstance(param, TyperOption) and not param.hidden,
        # Several words for one value: left to Click.
        "complex": param.nargs != 1 and (argument or takes_value),
        "help": str(param.help or "") if not argument else "",
    }
