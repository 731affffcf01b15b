"""``oai explore``: the viewer of ``-o explore`` for JSON or JSONL saved or piped."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

from openai_cli.errors import UsageError
from openai_cli.input import reader
from openai_cli.options import PRINTING, add_command, argument

if TYPE_CHECKING:
    from openai_cli.context import Factory

app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)


@dataclass(frozen=True, kw_only=True)
class ExploreOptions:
    file: str = argument(
        default="-",
        metavar="FILE",
        help="A JSON document, or JSONL (one per line); - or nothing for stdin.",
        show_default=False,
    )


def explore(factory: Factory, opts: ExploreOptions) -> None:
    """Browse JSON or JSONL in a viewer that folds, searches and copies paths.

    `oai logs list -o jsonl | oai explore`, or `oai explore answer.json`. JSONL
    is shown as one list. Keys: j/k move, h/l fold, / search, y copy the path, Y
    the value (printed on exit), q quit. With stdout not a terminal, or with -o,
    the data is printed as that format instead.
    """
    io = factory.io
    if opts.file == "-" and io.stdin_tty:
        raise UsageError("FILE: give a file, or pipe JSON or JSONL into oai explore")
    text = reader.read_text(io, opts.file, reader.EXPLORE, what="FILE")
    shown = "<stdin>" if opts.file == "-" else opts.file
    factory.renderer(default="explore").answer(json_or_jsonl(text, shown))


def json_or_jsonl(text: str, shown: str) -> Any:
    """One JSON document, or the list of the documents of a JSONL text."""
    if not text.strip():
        raise UsageError(f"FILE: {shown} is empty; it needs JSON or JSONL")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            raise UsageError(
                f"FILE: {shown} line {exc.lineno}, column {exc.colno}: not JSON ({exc.msg})"
            ) from None
    lines = [line for line in text.splitlines() if line.strip()]
    try:
        # One parse in C for the whole file; line by line only to say which is bad.
        return json.loads("[" + ",".join(lines) + "]")
    except json.JSONDecodeError:
        pass
    for n, line in enumerate(text.splitlines(), 1):
        try:
            json.loads(line) if line.strip() else None
        except json.JSONDecodeError as exc:
            raise UsageError(f"FILE: {shown} line {n}: not JSON ({exc.msg})") from None
    raise UsageError(f"FILE: {shown} is neither JSON nor JSONL")


add_command(app, "explore", ExploreOptions, explore, shared=PRINTING)
