"""``oai map``: one API call per line of a JSONL file, concurrently, results in order.

The fast alternative to the Batch API: the same input (batch request lines, or bare
request bodies), answers in seconds or minutes rather than hours, at the normal
price. The requests are paced by the rate limits the API reports and their results
kept in input order by :mod:`openai_cli.api.map`.

Results are written as JSONL in input order, ``{"line": N, "response": ...}`` or
``{"line": N, "error": ...}`` (with ``custom_id`` when the input had one). Because
the output is always a complete prefix of the input, ``--resume`` continues after
the last line written.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import typer

from openai_cli.errors import ExitCode, UsageError
from openai_cli.input.local import local_input
from openai_cli.input.numbers import positive
from openai_cli.input.outputs import check_outputs
from openai_cli.options import add_command, argument, option

if TYPE_CHECKING:
    from openai_cli.context import Factory

app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)

DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 256


def _api_path(endpoint: str) -> str:
    """``/v1/embeddings`` (the batch form) and ``/embeddings`` both as ``/embeddings``."""
    if not endpoint.startswith("/"):
        endpoint = "/" + endpoint
    return endpoint[3:] if endpoint.startswith("/v1/") else endpoint


def _answered(path: str) -> tuple[int, int]:
    """``(lines, failed)`` already in a results file; a torn last line is cut off."""
    lines = failed = good_end = 0
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                break
            try:
                rec = json.loads(raw)
            except ValueError:
                break
            if not isinstance(rec, dict) or rec.get("line") != lines + 1:
                raise UsageError(
                    f"--resume: {path} line {lines + 1} is not the result of input line "
                    f"{lines + 1}; is it the output of this input?"
                )
            lines += 1
            failed += "error" in rec
            good_end += len(raw)
    if good_end < size:
        with open(path, "r+b") as fh:
            fh.truncate(good_end)
    return lines, failed


@dataclass(frozen=True, kw_only=True)
class MapOptions:
    input: str = argument(
        metavar="INPUT", help="JSONL: request bodies or batch request lines; - for stdin."
    )
    endpoint: str | None = option(
        "--endpoint",
        metavar="PATH",
        help="API path to POST each body to, e.g. /v1/embeddings (default: the lines').",
    )
    output_file: str | None = option(
        "-O", "--output-file", metavar="PATH", help="Results file (default stdout)."
    )
    concurrency: int | None = option(
        "--concurrency", "-c", metavar="N", help="Requests at once (default 8)."
    )
    resume: bool = option(
        "--resume", default=False, help="Continue a results file: skip the lines it answers."
    )


def _map(factory: Factory, opts: MapOptions) -> None:
    opts = replace(opts, output_file=check_outputs(("--output-file", opts.output_file))[0])
    input, endpoint, output_file = opts.input, opts.endpoint, opts.output_file
    concurrency, resume = opts.concurrency, opts.resume
    from openai_cli.api.map import Mapper
    from openai_cli.input.jsonl import raw_lines, validate_requests
    from openai_cli.progress import Progress

    io = factory.io
    workers = positive(concurrency, "--concurrency", DEFAULT_CONCURRENCY)
    if workers > MAX_CONCURRENCY:
        raise UsageError(f"--concurrency: at most {MAX_CONCURRENCY}")
    url = None if endpoint is None else "/v1" + _api_path(endpoint)
    if resume and not output_file:
        raise UsageError("--resume: needs --output-file, the results to continue")
    if (
        output_file
        and not resume
        and os.path.isfile(output_file)
        and os.path.getsize(output_file) > 0
    ):
        raise UsageError(
            f"--output-file: {output_file} exists; --resume continues it",
            hint="remove it to start over",
        )
    with local_input(io, input, what="INPUT") as (path, shown):
        with open(path, "rb") as fh:
            summary = validate_requests(fh, shown, endpoint=url)
        if summary.endpoint is None:
            raise UsageError("--endpoint: give the API path (the lines are bare request bodies)")
        api_path = _api_path(summary.endpoint)
        done, failed_before = (0, 0)
        if resume and output_file and os.path.exists(output_file):
            done, failed_before = _answered(output_file)
            if done > summary.lines:
                raise UsageError(
                    f"--resume: {output_file} has {done} results for {summary.lines} input lines"
                )
        if factory.common.dry_run:
            factory.renderer().answer(
                {
                    "method": "POST",
                    "url": factory.settings().base_url.value.rstrip("/") + api_path,
                    "requests": summary.lines - done,
                    "already_answered": done,
                    "concurrency": workers,
                }
            )
            raise typer.Exit(0)
        if done:
            io.message(f"oai: {done} of {summary.lines} lines already answered; going on")
        client = factory.client()
        client.headers()  # the key is looked up once, before the threads start
        out = open(output_file, "ab") if output_file else io.stdout_bytes  # noqa: SIM115
        mapper = Mapper(
            client, io, path=api_path, concurrency=workers, out=out, first_line=done + 1
        )

        def lines() -> Any:
            with open(path, "rb") as src:
                for number, _, raw in raw_lines(src):
                    if number <= done:
                        continue
                    obj = json.loads(raw)
                    if summary.batch_lines:
                        yield number, obj["custom_id"], obj["body"], raw
                    else:
                        yield number, None, obj, raw

        started = time.monotonic()
        try:
            with Progress(io, "map", total=summary.lines, unit="items") as bar:
                bar.advance(done)
                mapper.bar = bar
                mapper.run(lines(), summary.lines)
        except KeyboardInterrupt:
            where = f" in {output_file}" if output_file else ""
            io.message(
                f"oai: stopped after line {mapper.next_line - 1}; the results so far are{where}"
                + ("; the same command with --resume goes on" if output_file else "")
            )
            raise
        finally:
            mapper.abort.set()
            if output_file:
                # Under the lock: no worker is halfway through writing a line.
                with mapper.lock:
                    out.close()
    seconds = max(time.monotonic() - started, 1e-6)
    sent = summary.lines - done
    failed = failed_before + mapper.failed
    rate = f"{sent / seconds:.1f} requests/s"
    if failed:
        io.message(
            f"oai: {failed} of {summary.lines} lines failed; each keeps its error in the results "
            f"({rate})"
        )
        raise typer.Exit(int(ExitCode.FAILED))
    io.message(f"oai: all {summary.lines} lines answered ({rate})")


add_command(
    app,
    "map",
    MapOptions,
    _map,
    help="Call one API endpoint for every line of a JSONL file, concurrently, within the "
    "rate limits; results in input order.\n\n"
    "INPUT holds request bodies, one a line, or batch request lines (the file for `batches "
    'run`, whose custom_id is kept). Each result is {"line": N, "response": ...} or '
    '{"line": N, "error": ...}. Exit 0 when every line succeeded, else 7. With '
    "--output-file, --resume continues after the last line written.\n\n"
    "oai map requests.jsonl --endpoint /v1/embeddings -O results.jsonl --concurrency 16",
)
