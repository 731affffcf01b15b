"""``oai tokens count``: the tokens of a text or a request, counted offline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

from openai_cli.errors import UsageError
from openai_cli.options import PRINTING, add_command, argument, option

if TYPE_CHECKING:
    from openai_cli.context import Factory

app = typer.Typer(
    help="Count tokens offline with a model's encoding.",
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


@app.callback()
def _group() -> None:
    """Count tokens offline with a model's encoding."""


@dataclass(frozen=True, kw_only=True)
class CountOptions:
    text: str | None = argument(
        default=None, metavar="TEXT", help="The text to count; - for stdin."
    )
    file: str | None = option("--file", metavar="PATH", help="Count the text of this file.")
    body: str | None = option(
        "--body",
        metavar="JSON|@FILE",
        help="Count a request body's input as the API bills it (chat, responses, "
        "embeddings, completions); its model is the default of --model.",
    )
    model: str | None = option(
        "--model", help="Count with this model's encoding (default: --default-model)."
    )
    encoding: str | None = option(
        "--encoding", metavar="NAME", help="o200k_base or cl100k_base, whatever the model."
    )


def count(factory: Factory, opts: CountOptions) -> None:
    """Count the tokens of TEXT, a file or a request body, offline.

    Exact for text, with the encoding of --model (o200k_base for gpt-4o, gpt-4.1, o1,
    o3, o4 and gpt-5; cl100k_base for gpt-4, gpt-3.5-turbo and the embedding models).
    A body counts each chat message's 3 tokens of overhead and the reply's 3; with
    tools, images or audio it is an estimate, and says so on stderr. Prints the count,
    the encoding and whether it is exact; --query tokens prints the number alone.
    """
    from openai_cli.input import tokens

    if sum(v is not None for v in (opts.text, opts.file, opts.body)) != 1:
        raise UsageError("TEXT: give one of TEXT, --file or --body")
    io = factory.io
    renderer = factory.renderer()  # an unknown -o is a usage error before anything is read
    body: dict[str, Any] | None = None
    model = opts.model
    if opts.body is not None:
        from openai_cli.input.body import load_body

        body = load_body(opts.body, io)
        if model is None and isinstance(body.get("model"), str):
            model = body["model"]
    if model is None and opts.encoding is None:
        model = factory.settings().model.value
    encoding = tokens.encoding_for(model, opts.encoding)
    if body is not None:
        counted = tokens.count_body(body, encoding)
    else:
        counted = tokens.Count(tokens.count_text(_text(factory, opts), encoding))
    if not counted.exact:
        io.message(
            "oai: an estimate: "
            + ", ".join(counted.estimated)
            + " are billed by rules not counted here"
        )
    renderer.answer(
        {"tokens": counted.tokens, "encoding": encoding, "model": model, "exact": counted.exact}
    )


def _text(factory: Factory, opts: CountOptions) -> str:
    from openai_cli.input import reader

    if opts.file is not None:
        return reader.file_text(opts.file, reader.PROMPT, what="--file")
    assert opts.text is not None
    if opts.text == "-":
        return reader.read_text(factory.io, "-", reader.PROMPT, what="TEXT")
    return opts.text


add_command(
    app,
    "count",
    CountOptions,
    count,
    shared=PRINTING,
    example=[
        "oai tokens count 'hello world' --model gpt-4o",
        'oai tokens count --body \'{"model": "gpt-4o-mini", "messages": '
        '[{"role": "user", "content": "Hi"}]}\'',
    ],
)
