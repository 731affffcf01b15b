"""Overrides of embeddings and moderations: many inputs in, one JSON line per input out.

Inputs come from arguments, ``--input`` (text or a JSON array), ``--input-file``
(one text per line) or piped stdin (one per line). They are sent in batches that
respect the API's limits, in order, and each result is printed as one JSON line as
its batch comes back: the API's own item with its ``index`` counted over all the
inputs. ``-o json`` (or yaml, table, ``--query``) gathers everything into one answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from openai_cli.builder import Default, Fields, Prepared
from openai_cli.options import OptionSpec, reuse
from openai_cli.textfmt import count

if TYPE_CHECKING:
    from typer.core import TyperCommand

    from openai_cli.builder import CommandSpec
    from openai_cli.context import Factory
    from openai_cli.io import IO
    from openai_cli.operations.request import Call

EMBEDDING_MODEL = "text-embedding-3-small"
# The embeddings API takes at most 2048 inputs and 300,000 tokens per request (a
# batch file counts differently: input/jsonl.py). A token is at least one byte of
# UTF-8, so a request within 300,000 bytes is within the token limit whatever the
# tokenizer.
MAX_INPUTS_PER_REQUEST = 2048
ANSWER_PER_INPUT = 128 * 1024  # one embedding of 3072 floats as the API writes it: ~100 KB
MAX_BYTES_PER_REQUEST = 300_000
# Moderations publish no count limit; small batches keep each request quick.
MODERATION_BATCH = 32
_PANEL = "Input"


_TEXTS = OptionSpec(
    "texts",
    list[str] | None,
    metavar="[TEXT]...",
    help="Texts to send, one input each.",
    argument=True,
    show_default=False,
)
_INPUT_FILE = OptionSpec(
    "input_file",
    str | None,
    ("--input-file",),
    metavar="PATH",
    help="Read the inputs from PATH, one per line (- for stdin).",
    panel=_PANEL,
)
_BATCH_SIZE = OptionSpec("batch_size", int | None, ("--batch-size",), metavar="N", panel=_PANEL)


@dataclass(frozen=True, kw_only=True)
class InputOptions:
    """Where the inputs come from, besides --input."""

    texts: list[str] | None = reuse(_TEXTS)
    input_file: str | None = reuse(_INPUT_FILE)


@dataclass(frozen=True, kw_only=True)
class EmbeddingsOptions(InputOptions):
    batch_size: int | None = reuse(
        _BATCH_SIZE,
        help=f"Inputs per request (default {MAX_INPUTS_PER_REQUEST}) "
        f"(at most {MAX_INPUTS_PER_REQUEST}).",
    )


@dataclass(frozen=True, kw_only=True)
class ModerationsOptions(InputOptions):
    batch_size: int | None = reuse(
        _BATCH_SIZE, help=f"Inputs per request (default {MODERATION_BATCH})."
    )


def read_lines(text: str, what: str) -> list[str]:
    """One input per line; a blank line is an error, since output lines follow input lines."""
    from openai_cli.errors import UsageError

    lines = text.splitlines()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            raise UsageError(
                f"{what}: line {n} is blank; each line is one input and the API rejects empty ones",
                hint="drop blank lines first, e.g. with grep .",
            )
    return lines


def _prepare(factory: Factory, opts: InputOptions, fields: Fields) -> Prepared[Any]:
    """The inputs from arguments, --input-file or piped stdin, as the API's ``input``."""
    from openai_cli.errors import UsageError
    from openai_cli.input import reader

    texts = list(opts.texts or [])
    source = opts.input_file
    io = factory.io
    if source == "-":
        text = reader.read_text(io, "-", reader.LINES, what="--input-file -")
        texts += read_lines(text, "--input-file -")
    elif source:
        text = reader.file_text(source, reader.LINES, what="--input-file")
        texts += read_lines(text, source)
    if not texts and fields.get("input") is None and not fields.body_given:
        if io.stdin_tty:
            return Prepared()  # the usual "missing --input" error follows
        texts = read_lines(reader.read_text(io, "-", reader.LINES, what="stdin"), "stdin")
        if not texts:
            raise UsageError("no input: stdin was empty")
    if not texts:
        return Prepared()
    if fields.get("input") is not None:
        raise UsageError("--input: give the inputs one way (arguments, a file or --input)")
    return Prepared({"input": json.dumps(texts, ensure_ascii=False)})


def embeddings(spec: CommandSpec) -> TyperCommand:
    def handler(factory: Factory, call: Call, opts: EmbeddingsOptions) -> int:
        size = _batch_size(opts.batch_size, MAX_INPUTS_PER_REQUEST, MAX_INPUTS_PER_REQUEST)
        return _batched(factory, call, size, "data", renumber=True)

    return spec.command(
        handler,
        options=EmbeddingsOptions,
        prepare=_prepare,
        defaults={"model": Default.fixed(EMBEDDING_MODEL)},
        help_prefix="Embed texts: oai embeddings create 'first text' 'second text'; "
        "oai embeddings create --input-file lines.txt; cat lines.txt | oai embeddings create. "
        "Prints one JSON line per input, in order. The model defaults to " + EMBEDDING_MODEL + ".",
    )


def moderations(spec: CommandSpec) -> TyperCommand:
    def handler(factory: Factory, call: Call, opts: ModerationsOptions) -> int:
        size = _batch_size(opts.batch_size, MODERATION_BATCH, None)
        return _batched(factory, call, size, "results", renumber=False)

    return spec.command(
        handler,
        options=ModerationsOptions,
        prepare=_prepare,
        help_prefix="Classify texts: oai moderations create 'some text'; "
        "cat lines.txt | oai moderations create. Prints one JSON line per input, in order, "
        "with its index.",
    )


def _batch_size(size: int | None, default: int, limit: int | None) -> int:
    from openai_cli.errors import UsageError

    if size is None:
        return default
    if size < 1 or (limit is not None and size > limit):
        raise UsageError(
            "--batch-size: must be at least 1" + (f" and at most {limit}" if limit else "")
        )
    return int(size)


def batches(
    inputs: list[str], size: int, max_bytes: int = MAX_BYTES_PER_REQUEST
) -> Iterator[list[str]]:
    """Consecutive slices of at most ``size`` inputs and (beyond one input) ``max_bytes``."""
    batch: list[str] = []
    used = 0
    for text in inputs:
        n = len(text.encode("utf-8"))
        if batch and (len(batch) >= size or used + n > max_bytes):
            yield batch
            batch, used = [], 0
        batch.append(text)
        used += n
    if batch:
        yield batch


def _batched(factory: Factory, call: Call, size: int, key: str, *, renumber: bool) -> int:
    from openai_cli.http.client import MAX_ANSWER
    from openai_cli.operations.runner import execute
    from openai_cli.operations.send import answer_json, send

    request = call.request
    body = request.body or {}
    inputs = _texts(body.get("input"))
    if factory.shared.dry_run or not inputs:
        # Token arrays and multimodal inputs go as given, in one request.
        return execute(factory, call)
    assert isinstance(inputs, list)
    io = factory.io
    fmt = factory.output_format()
    lines = fmt in ("auto", "jsonl") and not factory.shared.query
    renderer = factory.renderer()
    gathered: list[Any] = []
    last: dict[str, Any] = {}
    usage: dict[str, int] = {}
    offset = 0
    count = 0
    # A whole batch of vectors (2048 of 3072 floats, as the API lays them out) is
    # larger than most answers may be; allow for it, per input.
    limit = max(MAX_ANSWER, size * ANSWER_PER_INPUT)
    client = factory.client(admin=request.admin)
    for batch in batches(inputs, size):
        part = replace(request, body={**body, "input": batch})
        answer = answer_json(send(client, part, answer_limit=limit))
        count += 1
        out = _results(answer, key, len(batch), offset, renumber=renumber)
        offset += len(batch)
        _add_usage(usage, answer)
        last = answer
        if lines:
            write = io.out.write
            for item in out:
                write(json.dumps(item, ensure_ascii=False) + "\n")
            io.out.flush()
        else:
            gathered.extend(out)
    if not lines:
        # One answer, shaped as the last one was, holding every result.
        merged = {k: v for k, v in last.items() if k not in (key, "usage")}
        renderer.answer({**merged, key: gathered, **({"usage": usage} if usage else {})})
    if factory.shared.verbose:
        _say_counts(io, len(inputs), count, usage)
    return 0


def _say_counts(io: IO, inputs: int, requests: int, usage: dict[str, int]) -> None:
    from openai_cli.render.live import usage_text

    io.message(
        f"{count(inputs, 'input')} in {count(requests, 'request')}"
        + (f"; usage: {usage_text(usage)}" if usage else "")
    )


def _texts(inputs: Any) -> list[str] | None:
    """The inputs as a list of texts; None for token arrays, images or nothing."""
    if isinstance(inputs, str):
        inputs = [inputs]
    if isinstance(inputs, list) and inputs and all(isinstance(t, str) for t in inputs):
        return inputs
    return None


def _results(
    answer: Any, key: str, sent: int, offset: int, *, renumber: bool
) -> list[dict[str, Any]]:
    """One batch's results, numbered by their input's place in the whole input."""
    items = answer.get(key) if isinstance(answer, dict) else None
    if not isinstance(items, list) or len(items) != sent:
        from openai_cli.errors import ProtocolError

        # Results are matched to inputs by position: a count that differs would
        # pair every later line with the wrong input.
        got = count(len(items), "result") if isinstance(items, list) else f"no {key!r} list"
        raise ProtocolError(f"the answer holds {got} for {count(sent, 'input')}")
    if renumber:
        items = sorted(items, key=lambda item: item.get("index", 0))
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        if renumber:
            out.append({**item, "index": offset + int(item.get("index", i))})
        else:
            out.append({"index": offset + i, **item})
    return out


def _add_usage(usage: dict[str, int], answer: dict[str, Any]) -> None:
    for k, v in (answer.get("usage") or {}).items():
        if isinstance(v, int):
            usage[k] = usage.get(k, 0) + v
