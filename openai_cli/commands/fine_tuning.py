"""``oai fine-tuning validate``: fine-tuning data checked before it is uploaded.

The checks people ran the old ``prepare_data`` for, offline: each line against its
method's schema, examples without an answer, duplicates, too few examples; and the
spread of messages per example as a note. ``files create --purpose fine-tune`` runs
the same check (the method taken from each line's shape).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from openai_cli.api.schemas import FINE_TUNE_METHODS
from openai_cli.errors import UsageError
from openai_cli.options import argument, command, option

if TYPE_CHECKING:
    from typer.core import TyperCommand

    from openai_cli.context import Factory


@dataclass(frozen=True, kw_only=True)
class ValidateOptions:
    input: str = argument(metavar="FILE", help="JSONL training or validation data; - for stdin.")
    method: str | None = option(
        "--method",
        metavar="METHOD",
        help="supervised, dpo or reinforcement (default: each line's shape decides).",
        completion=lambda incomplete: [m for m in FINE_TUNE_METHODS if m.startswith(incomplete)],
    )


def command_() -> TyperCommand:
    return command(
        "validate",
        ValidateOptions,
        _validate,
        help="Check fine-tuning data without uploading it.\n\n"
        "Each line against the API's schema for the method; examples without an assistant "
        "message (supervised), duplicate examples and fewer than 10 examples are errors "
        "(exit 2, every one listed with its line). The spread of messages per example is a "
        "note on stderr.",
        common=(),
    )


def _validate(factory: Factory, opts: ValidateOptions) -> None:
    from openai_cli.api.schemas import fine_tune_problems
    from openai_cli.input.jsonl import validate_fine_tune
    from openai_cli.input.local import local_input

    if opts.method is not None and opts.method not in FINE_TUNE_METHODS:
        raise UsageError(f"--method: one of {', '.join(FINE_TUNE_METHODS)}, got {opts.method!r}")
    with local_input(factory.io, opts.input, what="FILE") as (path, shown), open(path, "rb") as fh:
        summary = validate_fine_tune(
            fh,
            shown,
            method=opts.method,
            examples=fine_tune_problems,
            consequence="fix them before uploading the file",
        )
    for note in summary.notes:
        factory.io.message(f"oai: {note}")
    n = summary.lines
    factory.io.message(f"oai: {shown}: {n:,} example{'s' if n != 1 else ''}, all valid")
