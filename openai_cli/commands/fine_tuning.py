"""``oai fine-tuning validate``: fine-tuning data checked before it is uploaded.

The checks people ran the old ``prepare_data`` for, offline: each line against its
method's schema, examples without an answer, duplicates, too few examples; and the
spread of messages per example as a note. ``files create --purpose fine-tune`` runs
the same check (the method taken from each line's shape).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from openai_cli.errors import UsageError
from openai_cli.operations.schemas import FINE_TUNE_METHODS
from openai_cli.options import argument, command, option
from openai_cli.textfmt import count, plural

if TYPE_CHECKING:
    from typer.core import TyperCommand

    from openai_cli.context import Factory


DEFAULT_EPOCHS = 3


@dataclass(frozen=True, kw_only=True)
class ValidateOptions:
    input: str = argument(metavar="FILE", help="JSONL training or validation data; - for stdin.")
    method: str | None = option(
        "--method",
        metavar="METHOD",
        help="supervised, dpo or reinforcement (default: each line's shape decides).",
        completion=lambda incomplete: [m for m in FINE_TUNE_METHODS if m.startswith(incomplete)],
    )
    model: str | None = option(
        "--model",
        help="The model to fine-tune: counts each example's tokens with its encoding, "
        "checks its limit per example and estimates the training cost.",
    )
    epochs: int = option(
        "--epochs",
        default=DEFAULT_EPOCHS,
        metavar="N",
        help=f"Epochs of the estimate (default {DEFAULT_EPOCHS}; the API's auto "
        "chooses by the file's size).",
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
        "note on stderr. With --model also each example's tokens (over the model's limit "
        "is an error), and the training tokens and cost estimated for --epochs.",
        shared=(),
    )


def _validate(factory: Factory, opts: ValidateOptions) -> None:
    from openai_cli.input import tokens
    from openai_cli.input.jsonl import check_file, validate_fine_tune
    from openai_cli.input.numbers import positive
    from openai_cli.operations.schemas import fine_tune_problems

    if opts.method is not None and opts.method not in FINE_TUNE_METHODS:
        raise UsageError(f"--method: one of {', '.join(FINE_TUNE_METHODS)}, got {opts.method!r}")
    epochs = positive(opts.epochs, "--epochs", DEFAULT_EPOCHS)
    counter = limit = None
    if opts.model is not None:
        encoding = tokens.encoding_for(opts.model)
        most = tokens.fine_tune_limit(opts.model)
        limit = None if most is None else (most, opts.model)

        def counter(example: object) -> int:
            return tokens.count_example(example, encoding)

    summary, shown = check_file(
        factory.io,
        opts.input,
        what="FILE",
        check=lambda fh, shown: validate_fine_tune(
            fh,
            shown,
            method=opts.method,
            examples=fine_tune_problems,
            consequence="fix {them} before uploading the file",
            tokens=counter,
            token_limit=limit,
        ),
    )
    for note in summary.notes:
        factory.io.message(f"oai: {note}")
    if opts.model is not None:
        factory.io.message(f"oai: {_training(factory, opts.model, summary.weight, epochs)}")
    n = summary.lines
    factory.io.message(f"oai: {shown}: {n:,} {plural(n, 'example')}, all valid")


def _training(factory: Factory, model: str, per_epoch: int, epochs: int) -> str:
    """The training tokens for ``epochs`` and what they cost at the model's price."""
    from openai_cli.operations.cost import prices
    from openai_cli.textfmt import dollars

    trained = per_epoch * epochs
    said = (
        f"about {count(trained, 'training token', sep=True)} "
        f"({per_epoch:,} a pass, {count(epochs, 'epoch')})"
    )
    price = prices(factory).find(model)
    if price is None or price.training is None:
        return f"{said}; no training price for {model}"
    return f"{said}; estimated cost {dollars(trained * price.training / 1_000_000)}"
