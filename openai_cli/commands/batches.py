"""``oai batches run`` and ``oai batches prepare``: from a JSONL file to merged results.

``run`` checks the whole input first, splits it into batches within the Batch API's
limits (50,000 requests, 200 MB, 50,000 embedding inputs), uploads and creates
each, and with ``--wait`` polls them all, downloads their output and error files
and writes one result per input line, in input order. Every step is recorded in a
state file before and after it happens, so ``--resume STATE`` after any
interruption neither uploads nor creates anything twice: a step that was sent but
whose answer was lost is found again by the file name or batch metadata it was
given. Results and error files are streamed, never held whole in memory.

``prepare`` turns plain prompts (one per line) into batch request lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from openai_cli.errors import UsageError
from openai_cli.input.jsonl import MAX_BATCH_LINES
from openai_cli.input.outputs import STDOUT, check_outputs
from openai_cli.operations.batch_run import BatchRun, Sink
from openai_cli.options import NO_VALIDATE, argument, command, option, reuse
from openai_cli.state import hold
from openai_cli.textfmt import count

if TYPE_CHECKING:
    from typer.core import TyperCommand

    from openai_cli.context import Factory


# -- batches run ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    input: str | None = argument(
        default=None, metavar="INPUT", help="JSONL file of batch requests, or - for stdin."
    )
    endpoint: str | None = option(
        "--endpoint",
        metavar="PATH",
        help="Endpoint of every request, e.g. /v1/chat/completions (default: the lines').",
    )
    wait: bool = option("--wait", default=False, help="Wait for the batches and write the results.")
    wait_timeout: str | None = option(
        "--timeout",
        "--wait-timeout",
        metavar="DURATION",
        help="With --wait: stop waiting after this long (exit 124; --resume goes on).",
    )
    output_file: str | None = option(
        "-O",
        "--output-file",
        metavar="PATH",
        help="Write the results here (JSONL, one per input line); default and -: stdout.",
    )
    errors_file: str | None = option(
        "--errors",
        metavar="PATH",
        help="Write the input lines whose request failed here, ready to run again.",
    )
    state: str | None = option(
        "--state", metavar="PATH", help="Where to keep the state file (default: state dir)."
    )
    resume: str | None = option(
        "--resume", metavar="STATE", help="Continue the run recorded in this state file."
    )
    max_requests: int | None = option(
        "--max-requests",
        metavar="N",
        help="At most N requests per batch (default and most 50,000).",
    )
    completion_window: str = option(
        "--completion-window", default="24h", help="Batch completion window."
    )
    metadata: str | None = option(
        "--metadata", metavar="JSON", help="Metadata for every batch created."
    )
    max_cost: str | None = option(
        "--max-cost",
        metavar="USD",
        help="Refuse to upload anything when the input alone is estimated above USD.",
    )
    no_validate: bool = reuse(NO_VALIDATE)


def run_command() -> TyperCommand:
    return command(
        "run",
        RunOptions,
        _run,
        help="Run a JSONL file of requests through the Batch API and collect the results.\n\n"
        "INPUT (or - for stdin) holds one request a line: "
        '{"custom_id", "method": "POST", "url", "body"}. It is checked in full first; '
        "more than the Batch API takes in one batch is split over several. With --wait the "
        "results are written one per input line, in input order (joined by custom_id), and "
        "the exit code is 0 only if every request succeeded, else 7.\n\n"
        "Progress is kept in a state file: after an interruption, `oai batches run --resume "
        "STATE` continues without uploading or creating anything twice.",
        example="oai batches run batch.jsonl --wait -O results.jsonl --errors failed.jsonl",
    )


def _run(factory: Factory, opts: RunOptions) -> None:
    input, endpoint, wait, wait_timeout = opts.input, opts.endpoint, opts.wait, opts.wait_timeout
    output_file, errors_file, state, resume = (
        opts.output_file,
        opts.errors_file,
        opts.state,
        opts.resume,
    )
    max_requests, completion_window, metadata = (
        opts.max_requests,
        opts.completion_window,
        opts.metadata,
    )
    from openai_cli.operations.wait import parse_duration

    timeout = None if wait_timeout is None else parse_duration(wait_timeout, flag="--timeout")
    if timeout is not None and not wait:
        raise UsageError("--timeout: only applies with --wait")
    from openai_cli.input.estimate import max_cost

    cap = max_cost(opts.max_cost)
    if resume is not None:
        if cap is not None:
            raise UsageError(
                "--max-cost: only for a new run; a resumed one was priced at its start"
            )
        if input is not None or state is not None or endpoint is not None or metadata:
            raise UsageError(
                "--resume: INPUT, --endpoint, --metadata and --state come from the state file"
            )
        _check_outputs(output_file, errors_file, reads=None)
        path = Path(resume)
        # One process per run: a second would create what the first is creating.
        with hold(path, what="--resume"):
            run = BatchRun.load(factory, path)
            _check_outputs(*run.outputs, output_file, errors_file, reads=run.input_path)
            run.retarget(output_file, errors_file)
            code = run.go(wait=wait, timeout=timeout)
        raise typer.Exit(code)
    if input is None:
        raise UsageError("INPUT: give a JSONL file of requests, - for stdin, or --resume STATE")
    # Before anything is read or sent: a typo here must not cost a whole run.
    _check_outputs(output_file, errors_file, reads=input)
    path, run_id = BatchRun.new_state(factory, state)
    with hold(path, what="--state"):
        started = BatchRun.start(
            factory,
            input,
            endpoint=endpoint,
            state_path=path,
            run_id=run_id,
            max_requests=max_requests,
            completion_window=completion_window,
            metadata=metadata,
            output_file=output_file,
            errors_file=errors_file,
            no_validate=opts.no_validate,
            max_cost=cap,
        )
        if started is None:  # --dry-run
            raise typer.Exit(0)
        code = started.go(wait=wait, timeout=timeout)
    raise typer.Exit(code)


def _check_outputs(
    output_file: str | None,
    errors_file: str | None,
    new_output: str | None = None,
    new_errors: str | None = None,
    *,
    reads: str | None,
) -> None:
    """Refuse output paths that cannot be written, one file for both outputs, or the
    input ``reads`` as an output.

    ``new_*`` are the flags of a resumed run, which replace what the state says.
    """
    out = new_output if new_output is not None else output_file
    errors = new_errors if new_errors is not None else errors_file
    # Results go to stdout without -O, so --errors - would mix with them.
    check_outputs(("--output-file", out or STDOUT), ("--errors", errors), reads=reads)


# -- batches prepare ------------------------------------------------------------------

# Where a plain prompt goes in each endpoint's body.
PROMPT_FIELDS = {
    "/v1/responses": "input",
    "/v1/chat/completions": "messages",
    "/v1/completions": "prompt",
    "/v1/embeddings": "input",
    "/v1/moderations": "input",
    "/v1/images/generations": "prompt",
    "/v1/videos": "prompt",
}


@dataclass(frozen=True, kw_only=True)
class PrepareOptions:
    prompts: str = argument(metavar="PROMPTS", help="Text file, one prompt a line; - for stdin.")
    endpoint: str = option(
        "--endpoint",
        metavar="PATH",
        help="One of: " + ", ".join(PROMPT_FIELDS) + ".",
        required=True,
    )
    model: str | None = option(
        "--model", help="Model for every request (default: --default-model)."
    )
    body: str | None = option(
        "--body",
        metavar="JSON|@FILE",
        help='Fields for every body, e.g. {"max_output_tokens": 200}.',
    )
    system: str | None = option(
        "--system",
        metavar="TEXT",
        help="Instructions for every request (responses and chat completions).",
    )
    id_prefix: str = option(
        "--id-prefix", default="prompt-", metavar="TEXT", help="custom_id prefix."
    )
    output_file: str | None = option(
        "-O", "--output-file", metavar="PATH", help="Write here instead of stdout."
    )


def prepare_command() -> TyperCommand:
    return command(
        "prepare",
        PrepareOptions,
        _prepare,
        help="Turn plain prompts, one per line, into batch request lines for `batches run`.\n\n"
        "Each non-empty line of PROMPTS (or - for stdin) becomes "
        '{"custom_id": "<prefix><line number>", "method": "POST", "url": ENDPOINT, '
        '"body": {...}} with the prompt where ENDPOINT takes it (input, messages, prompt) '
        "and --body merged under it; pipe it into `oai batches run - --wait`.",
        example="printf 'Name three rivers in Europe.\\nWrite a haiku about rain.\\n' | "
        "oai batches prepare - --endpoint /v1/responses --model gpt-4o-mini -O requests.jsonl",
        # Local: it sends nothing, and its lines are a file format, not data to reshape.
        shared=(),
    )


def _prepare(factory: Factory, opts: PrepareOptions) -> None:
    opts = replace(opts, output_file=check_outputs(("--output-file", opts.output_file))[0])
    prompts, endpoint, model, body = opts.prompts, opts.endpoint, opts.model, opts.body
    system, id_prefix, output_file = opts.system, opts.id_prefix, opts.output_file
    from openai_cli.input.body import load_body

    io = factory.io
    field = PROMPT_FIELDS.get(endpoint)
    if field is None:
        raise UsageError(
            f"--endpoint: {endpoint!r} does not take a plain prompt; one of: "
            + ", ".join(PROMPT_FIELDS)
        )
    base = load_body(body, io) if body is not None else {}
    if model is None and "model" not in base:
        model = factory.settings().model.value
    if model is not None:
        base["model"] = model
    if "model" not in base and endpoint != "/v1/moderations":
        raise UsageError("--model: every request needs a model (or set --default-model)")
    if system is not None and endpoint not in ("/v1/responses", "/v1/chat/completions"):
        raise UsageError("--system: only /v1/responses and /v1/chat/completions take one")
    from openai_cli.input import reader

    if prompts == "-":
        reader.check_stdin(io, what="PROMPTS")
    else:
        reader.check_streamable(prompts, what="PROMPTS", allow_empty=True)
    src = io.stdin_bytes if prompts == "-" else None
    try:
        fh = src if src is not None else open(prompts, "rb")  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"PROMPTS: cannot read {prompts}: {exc.strerror or exc}") from None
    written = skipped = 0
    with Sink(io, output_file) as out:
        try:
            for number, raw in enumerate(fh, start=1):
                try:
                    text = raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError as exc:
                    raise UsageError(
                        f"{prompts}:{number}: not valid UTF-8 (byte {exc.start + 1})"
                    ) from None
                if not text.strip():
                    skipped += 1
                    continue
                req_body = dict(base)
                if field == "messages":
                    messages = [{"role": "system", "content": system}] if system else []
                    req_body["messages"] = [*messages, {"role": "user", "content": text}]
                else:
                    req_body[field] = text
                    if system is not None:
                        req_body["instructions"] = system
                line = {
                    "custom_id": f"{id_prefix}{number}",
                    "method": "POST",
                    "url": endpoint,
                    "body": req_body,
                }
                out.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
                written += 1
        finally:
            if src is None:
                fh.close()
    if written == 0:
        raise UsageError(f"PROMPTS: no prompts in {prompts}")
    if skipped:
        io.message(f"oai: {count(written, 'request')}; {count(skipped, 'empty line')} skipped")


# -- batches validate ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ValidateOptions:
    input: str = argument(metavar="INPUT", help="JSONL file of batch requests, or - for stdin.")
    endpoint: str | None = option(
        "--endpoint",
        metavar="PATH",
        help="Endpoint every line must call, e.g. /v1/chat/completions (default: the lines').",
    )


def validate_command() -> TyperCommand:
    return command(
        "validate",
        ValidateOptions,
        _validate,
        help="Check a JSONL file of batch requests without sending anything.\n\n"
        "Each line's shape (custom_id, method, url, body), and its body against the API's "
        "schema for its url, offline. Every problem is listed with its line and the path of "
        "the field (exit 2); a valid file exits 0 with a one-line summary on stderr. "
        "`batches run` and `map` run the same check first.",
        shared=(),
    )


def _validate(factory: Factory, opts: ValidateOptions) -> None:
    from openai_cli.input.jsonl import check_file, validate_batch
    from openai_cli.operations.batch_run import batch_endpoints
    from openai_cli.operations.cost import estimate
    from openai_cli.operations.schemas import line_check

    cost = estimate(factory, batch=True)
    summary, shown = check_file(
        factory.io,
        opts.input,
        what="INPUT",
        check=lambda fh, shown: validate_batch(
            fh,
            shown,
            endpoint=opts.endpoint,
            endpoints=batch_endpoints(),
            enforce_limits=False,
            on_line=cost,
            bodies=line_check(),
            consequence="fix {them} before sending the file",
        ),
    )
    n = summary.lines
    split = -(-n // MAX_BATCH_LINES)
    more = f"; `batches run` sends it as {count(split, 'batch', 'batches')}" if split > 1 else ""
    factory.io.message(
        f"oai: {shown}: {count(n, 'request')} to {summary.endpoint}, all valid{more}"
    )
    for line in cost.report():
        factory.io.message(f"oai: {line}")
