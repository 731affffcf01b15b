"""The options every command shares, defined once.

The root callback takes them before the command (``oai -o json files list``) and
every API command takes them after it (``oai files list -o json``). A command whose
API has a field of the same name (``--query`` on vector store search, ``--include``
on responses) keeps the API's meaning; the root copy stays available.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, fields, replace
from typing import Annotated, Any

import typer

OUTPUT_FORMATS = ("auto", "json", "jsonl", "yaml", "table", "raw")

_PANEL = "Output and debugging"


@dataclass(frozen=True)
class CommonOptions:
    output: str | None = None
    query: str | None = None
    debug: bool | None = None
    include: bool | None = None
    dry_run: bool | None = None
    verbose: bool | None = None

    def merged(self, other: CommonOptions) -> CommonOptions:
        """``other`` wins where it was given (the option nearer to the command)."""
        given = {f.name: getattr(other, f.name) for f in fields(other)}
        return replace(self, **{k: v for k, v in given.items() if v is not None})


def complete_profile(ctx: typer.Context, incomplete: str) -> list[str]:
    """Profile names for every ``--profile`` and profile argument (read on TAB only)."""
    from openai_cli.commands.completion import complete_profile as from_config

    return from_config(ctx, incomplete)


def _complete_output(incomplete: str) -> list[str]:
    return [f for f in OUTPUT_FORMATS if f.startswith(incomplete)]


@dataclass(frozen=True)
class _Common:
    name: str
    type: Any
    flags: tuple[str, ...]
    help: str
    metavar: str | None = None


_COMMON = (
    _Common(
        "output",
        str | None,
        ("-o", "--output"),
        "Output format: " + ", ".join(OUTPUT_FORMATS) + ".",
        "FORMAT",
    ),
    _Common(
        "query",
        str | None,
        ("--query",),
        "JMESPath expression applied to the answer before printing.",
        "JMESPATH",
    ),
    _Common(
        "include",
        bool | None,
        ("-i", "--include"),
        "Print the HTTP status and useful response headers on stderr.",
    ),
    _Common(
        "debug",
        bool | None,
        ("--debug",),
        "Log each request and response on stderr (keys masked); show tracebacks.",
    ),
    _Common(
        "dry_run",
        bool | None,
        ("--dry-run",),
        "Print the request (and a curl command) instead of sending it.",
    ),
    _Common(
        "verbose", bool | None, ("-v", "--verbose"), "Say more on stderr (usage, request ids)."
    ),
)


def common_parameters(taken: frozenset[str] = frozenset()) -> list[inspect.Parameter]:
    """Keyword parameters for the shared options, without the flag names in ``taken``.

    ``taken`` holds the flags an API field already uses; the API keeps its name and
    the shared option keeps whatever spelling is still free (``-i`` without
    ``--include``), or is left to the root copy.
    """
    out = []
    for c in _COMMON:
        free = [f for f in c.flags if f not in taken]
        if not free:
            continue
        if c.type is bool | None and not any(f.startswith("--") for f in free):
            # A bool option needs a long name for Typer to build it as a flag.
            free = [*free, f"--{c.name.replace('_', '-')}-opt"]
        option = typer.Option(
            *free,
            help=c.help,
            metavar=c.metavar,
            autocompletion=_complete_output if c.name == "output" else None,
            rich_help_panel=_PANEL,
        )
        out.append(
            inspect.Parameter(
                f"common_{c.name}",
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[c.type, option],
            )
        )
    return out


def pop_common(kwargs: dict[str, Any]) -> CommonOptions:
    """Take the shared options out of a command's keyword arguments."""
    return CommonOptions(**{c.name: kwargs.pop(f"common_{c.name}", None) for c in _COMMON})
