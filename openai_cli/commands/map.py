"""``oai map``: one API call per line of a JSONL file, concurrently, results in order.

The fast alternative to the Batch API: the same input (batch request lines, or bare
request bodies), answers in seconds or minutes rather than hours, at the normal
price. The requests are paced by the rate limits the API reports and their results
kept in input order by :mod:`openai_cli.operations.map`.

Results are written as JSONL in input order, ``{"line": N, "response": ...}`` or
``{"line": N, "error": ...}`` (with ``custom_id`` when the input had one). Because
the output is always a complete prefix of the input, ``--resume`` continues after
the last line written. It also sends again the lines whose result is an error
(an outage leaves a file of them, which is never what was wanted): the good answers
are copied, the failed lines' new results put in their place, into a private
temporary file beside it (``openai_cli/writer.py``), which replaces the results
file when the run ends, however it ends. Until then the
old file stands, so a run killed outright loses nothing that was there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import typer

from openai_cli import writer
from openai_cli.errors import ExitCode, OutputError, UsageError
from openai_cli.http.paths import literal
from openai_cli.input.local import jsonl_input
from openai_cli.input.numbers import positive
from openai_cli.input.outputs import check_outputs
from openai_cli.input.reader import read_kept_json
from openai_cli.options import NO_VALIDATE, add_command, argument, option, reuse
from openai_cli.state import hold, state_dir, write_json
from openai_cli.textfmt import count, dollars

if TYPE_CHECKING:
    from openai_cli.context import Factory
    from openai_cli.input.estimate import Spent
    from openai_cli.input.jsonl import Line, Summary
    from openai_cli.io import IO
    from openai_cli.operations.map import Mapper

app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)

DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 256


def _api_path(endpoint: str) -> str:
    """``/v1/embeddings`` (the batch form) and ``/embeddings`` both as ``/embeddings``."""
    endpoint = literal(endpoint, "--endpoint")
    return endpoint[3:] if endpoint.startswith("/v1/") else endpoint


def _answered(path: str, spent: Spent) -> tuple[int, int, int]:
    """``(lines, failed, end)`` already in a results file: ``end`` is where the whole
    lines end, past which a torn last line is cut off before writing.

    The usage of its answers is added to ``spent``: a cap covers the whole file.
    """
    lines = failed = good_end = 0
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
            answer = rec.get("response")
            if isinstance(answer, dict) and isinstance(answer.get("model"), str):
                spent.add(answer["model"], answer.get("usage"))
    return lines, failed, good_end


def _identity_file(env: Mapping[str, str], output_file: str) -> Path:
    """Where the identity of the input of a results file is kept, in the state folder."""
    key = hashlib.sha256(os.path.realpath(output_file).encode()).hexdigest()[:32]
    return state_dir(env, "map") / f"{key}.json"


def _recorded(path: Path | None) -> dict[str, Any] | None:
    """The recorded identity, if there is a readable one (results from before it was kept
    have none, and are continued unchecked)."""
    if path is None:
        return None
    try:
        data = read_kept_json(path)
    except (OSError, ValueError):
        return None
    found = data.get("input") if isinstance(data, dict) else None
    return found if isinstance(found, dict) else None


def _results(path: str, whole: int) -> BinaryIO:
    """The results file, opened to append after its first ``whole`` bytes (a torn last
    line is cut off); a symlink or anything but a regular file is refused."""
    try:
        out = writer.append(path)
    except writer.NotAFile as exc:
        raise UsageError(f"--output-file: {path} {exc.strerror}") from None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        if os.fstat(out.fileno()).st_size > whole:
            os.ftruncate(out.fileno(), whole)
    except OSError as exc:
        out.close()
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return out


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
        "-O", "--output-file", metavar="PATH", help="Results file (default and -: stdout)."
    )
    concurrency: int | None = option(
        "--concurrency", "-c", metavar="N", help="Requests at once (default 8)."
    )
    resume: bool = option(
        "--resume",
        default=False,
        help="Continue a results file: send the lines it lacks, and again those whose "
        "result is an error; the good answers are kept.",
    )
    keep_failed: bool = option(
        "--keep-failed",
        default=False,
        help="With --resume: keep the errors already in the results, send only the lines it lacks.",
    )
    max_cost: str | None = option(
        "--max-cost",
        metavar="USD",
        help="Send nothing when the input alone is estimated above USD; stop starting "
        "requests once the answers have cost USD (exit 8; --resume with a higher cap goes on).",
    )
    no_validate: bool = reuse(NO_VALIDATE)


def _map(factory: Factory, opts: MapOptions) -> int:
    endpoint, concurrency, resume = opts.endpoint, opts.concurrency, opts.resume
    # `-O -` is stdout, as everywhere (None from the check).
    (output_file,) = check_outputs(("--output-file", opts.output_file))
    workers = positive(concurrency, "--concurrency", DEFAULT_CONCURRENCY)
    if workers > MAX_CONCURRENCY:
        raise UsageError(f"--concurrency: at most {MAX_CONCURRENCY}")
    url = None if endpoint is None else "/v1" + _api_path(endpoint)
    if resume and not output_file:
        raise UsageError("--resume: needs --output-file, the results to continue")
    if opts.keep_failed and not resume:
        raise UsageError("--keep-failed: only with --resume")
    if output_file is None:
        return _run(factory, opts, None, url, workers)
    if not resume and os.path.isfile(output_file) and os.path.getsize(output_file) > 0:
        raise UsageError(
            f"--output-file: {output_file} exists; --resume continues it",
            hint="remove it to start over",
        )
    # One run per results file: a second would write the same lines again.
    with hold(Path(output_file), what="--output-file"):
        return _run(factory, opts, output_file, url, workers)


def _run(
    factory: Factory, opts: MapOptions, output_file: str | None, url: str | None, workers: int
) -> int:
    from openai_cli.input.estimate import max_cost
    from openai_cli.operations import cost
    from openai_cli.operations.map import Mapper

    io = factory.io
    cap = max_cost(opts.max_cost)
    with jsonl_input(io, opts.input, what="INPUT") as (path, shown, copied):
        summary, api_path, source = _check_input(
            factory, opts, path, shown, url, cap, copied=copied
        )
        spent = cost.spent(factory)
        record = None if output_file is None else _identity_file(io.env, output_file)
        had = _Had()
        if opts.resume and output_file and os.path.exists(output_file):
            had = _resumed(output_file, _recorded(record), source, shown, spent, cap, summary.lines)
        # Failed lines are sent again unless asked not to; their new results go in
        # their places in a rewritten copy of the results file.
        again = 0 if opts.keep_failed else had.failed
        if factory.shared.dry_run:
            return _show_plan(factory, api_path, summary.lines, had.done, again, workers)
        _say_resuming(factory, summary.lines, had.done, again)
        client = factory.client()
        client.headers()  # the key is looked up once, before the threads start
        results = _Results.of(io, output_file, had, again)
        if record is not None:
            write_json(record, {"version": 1, "results": output_file, "input": source})
        mapper = Mapper(
            client,
            io,
            path=api_path,
            concurrency=workers,
            out=results.out,
            first_line=results.first_line,
            spent=spent,
            cap=cap,
        )
        started = time.monotonic()
        _send(factory, mapper, _items(path, results, summary.batch_lines), summary.lines, results)
    seconds = max(time.monotonic() - started, 1e-6)
    if spent.answers:
        io.message(f"oai: {spent.report()}")
    if mapper.capped and mapper.next_line <= summary.lines:
        return _capped(factory, mapper, summary.lines, cap or 0, output_file)
    failed = (had.failed if opts.keep_failed else 0) + mapper.failed
    return _report(factory, opts, mapper, summary.lines, failed, seconds, output_file)


def _check_input(
    factory: Factory,
    opts: MapOptions,
    path: str,
    shown: str,
    url: str | None,
    cap: float | None,
    *,
    copied: bool,
) -> tuple[Summary, str, dict[str, Any]]:
    """The input, checked (and its cost estimated under a cap), the API path its lines
    go to, and the input's identity."""
    from openai_cli.input.jsonl import validate_requests
    from openai_cli.operations import cost
    from openai_cli.operations.map import InputIdentity
    from openai_cli.operations.schemas import batch_check

    identity = InputIdentity()
    estimate = cost.estimate(factory, batch=False) if cap is not None else None

    def read(line: Line) -> None:
        identity(line)
        if estimate is not None:
            estimate(line)

    with open(path, "rb") as fh:
        summary = validate_requests(
            fh, shown, endpoint=url, on_line=read, bodies=batch_check(factory, opts.no_validate)
        )
    if summary.endpoint is None:
        raise UsageError("--endpoint: give the API path (the lines are bare request bodies)")
    if estimate is not None:
        for said in estimate.report():
            factory.io.message(f"oai: {said}")
        estimate.cap(cap, "--max-cost")
    api_path = _api_path(summary.endpoint)
    return summary, api_path, identity.record(path, spooled=copied)


@dataclass(frozen=True)
class _Had:
    """What a results file being resumed holds: its lines, how many of them are
    errors, and the bytes its whole lines take."""

    done: int = 0
    failed: int = 0
    whole: int = 0


def _resumed(
    output_file: str,
    recorded: dict[str, Any] | None,
    source: dict[str, Any],
    shown: str,
    spent: Spent,
    cap: float | None,
    lines: int,
) -> _Had:
    """The results ``--resume`` continues, checked against the input and the cap."""
    from openai_cli.operations.map import identity_differences

    differs = [] if recorded is None else identity_differences(recorded, source)
    if differs:
        raise UsageError(
            f"--resume: {output_file} holds the results of another input than {shown} "
            f"(changed: {', '.join(differs)})",
            hint="give the input it was made from, or remove it to start over",
        )
    had = _Had(*_answered(output_file, spent))
    if cap is not None and spent.dollars >= cap:
        raise UsageError(
            f"--max-cost: the answers in {output_file} already cost "
            f"{dollars(spent.dollars)}, the cap of {dollars(cap)}; nothing was sent",
            hint="give a higher --max-cost to go on",
        )
    if had.done > lines:
        raise UsageError(
            f"--resume: {output_file} has {count(had.done, 'result')} for "
            f"{count(lines, 'input line')}"
        )
    return had


def _show_plan(
    factory: Factory, api_path: str, lines: int, done: int, again: int, workers: int
) -> int:
    """``--dry-run``: what the run would send, and nothing sent."""
    factory.renderer().answer(
        {
            "method": "POST",
            "url": factory.settings().base_url.value.rstrip("/") + api_path,
            "requests": lines - done + again,
            "already_answered": done,
            "failed_sent_again": again,
            "concurrency": workers,
        }
    )
    return 0


def _say_resuming(factory: Factory, lines: int, done: int, again: int) -> None:
    if again:
        left = lines - done
        factory.io.message(
            f"oai: {done} of {count(lines, 'line')} already answered, {again} of them "
            "failed; sending those again" + (f" and the {left} left" if left else "")
        )
    elif done:
        factory.io.message(f"oai: {done} of {count(lines, 'line')} already answered; going on")


@dataclass(frozen=True)
class _Results:
    """Where the results go: stdout, the end of the results file, or (when failed
    lines are sent again) a rewritten copy of it that replaces it at the end."""

    path: str | None
    out: BinaryIO
    rewrite: writer.Replacement | None
    done: int  # lines the results file already had

    @classmethod
    def of(cls, io: IO, path: str | None, had: _Had, again: int) -> _Results:
        if path is None:
            return cls(None, io.stdout_bytes, None, had.done)
        if again:
            rewrite = _rewrite(path)
            return cls(path, rewrite.file, rewrite, had.done)
        return cls(path, _results(path, had.whole), None, had.done)

    @property
    def first_line(self) -> int:
        """The first line the run writes: a rewritten copy starts from the top."""
        return 1 if self.rewrite is not None else self.done + 1

    def finish(self, mapper: Mapper, *, failing: bool) -> None:
        """Close or settle the results file, under the lock: no worker is halfway
        through writing a line."""
        if self.path is None:
            return
        with mapper.lock:
            if self.rewrite is not None:
                _settle(self.rewrite, self.path, mapper.next_line - 1, self.done, failing=failing)
            elif failing:
                # What is still buffered may fail again; the first failure is the one
                # to report.
                with contextlib.suppress(OSError):
                    self.out.close()
            else:
                self.out.close()


def _items(path: str, results: _Results, batch_lines: bool) -> Iterator[Any]:
    """What the mapper sends or keeps, line by line, the input and old results open
    only while it reads them."""
    from openai_cli.operations.map import schedule

    with contextlib.ExitStack() as stack:
        src = stack.enter_context(open(path, "rb"))
        old = None
        if results.rewrite is not None and results.path:
            old = stack.enter_context(open(results.path, "rb"))
        yield from schedule(src, old, results.done, batch_lines=batch_lines)


def _send(
    factory: Factory, mapper: Mapper, items: Iterator[Any], total: int, results: _Results
) -> None:
    """Run the mapper over ``items``; whatever stops it, the results file is left a
    complete prefix of the input."""
    from openai_cli.progress import Progress

    io = factory.io
    try:
        try:
            with Progress(io, "map", total=total, unit="items") as bar:
                bar.advance(results.first_line - 1)
                mapper.bar = bar
                mapper.run(items, total)
        except BaseException:
            mapper.abort.set()
            results.finish(mapper, failing=True)
            raise
        results.finish(mapper, failing=False)
    except KeyboardInterrupt:
        where = f" in {results.path}" if results.path else ""
        io.message(
            f"oai: stopped after line {mapper.next_line - 1}; the results so far are{where}"
            + ("; the same command with --resume goes on" if results.path else "")
        )
        raise
    except OSError as exc:
        if results.path is None or isinstance(exc, BrokenPipeError):
            raise
        # The file keeps whole lines up to the failure (a torn last one is cut on
        # resume), so the run can go on once there is room.
        kept = results.done
        if results.rewrite is None:
            kept = max(mapper.next_line - 1, kept)
        raise OutputError(
            f"cannot write {results.path}: {exc.strerror or exc}",
            hint=f"the results up to line {kept} are kept; once it can be "
            "written, the same command with --resume goes on",
        ) from None


def _capped(
    factory: Factory, mapper: Mapper, lines: int, cap: float, output_file: str | None
) -> int:
    factory.io.message(
        f"oai: stopped at the cap of {dollars(cap)}: the results end at line "
        f"{mapper.next_line - 1} of {lines}"
        + (
            "; the same command with --resume and a higher --max-cost goes on"
            if output_file
            else "; with -O FILE, --resume and a higher --max-cost would go on"
        )
    )
    return int(ExitCode.COST_CAP)


def _report(
    factory: Factory,
    opts: MapOptions,
    mapper: Mapper,
    lines: int,
    failed: int,
    seconds: float,
    output_file: str | None,
) -> int:
    """The summary of a run that went to its end: 0 when every line succeeded."""
    io = factory.io
    if mapper.sent:
        pace = f"{mapper.sent} sent, {mapper.sent / seconds:.1f} requests/s"
    else:
        pace = "nothing was left to send"
    if not failed:
        io.message(f"oai: all {count(lines, 'line')} answered ({pace})")
        return 0
    where = f" in {output_file}" if output_file else ""
    io.message(
        f"oai: {failed} of {count(lines, 'line')} failed, {lines - failed} succeeded; "
        f"each keeps its error{where} ({pace})"
    )
    for line in mapper.first_failures:
        io.message(f"  {line}")
    if not output_file:
        retry = "with -O FILE, --resume would send the failed lines again"
    elif opts.keep_failed:
        retry = "the same command with --resume, without --keep-failed, sends them again"
    else:
        retry = "the same command with --resume sends them again"
    io.message(f"  {retry}")
    return int(ExitCode.FAILED)


def _settle(
    rewrite: writer.Replacement, results: str, written: int, had: int, *, failing: bool
) -> None:
    """Put the rewritten results in place of the old ones.

    ``rewrite`` holds lines 1 to ``written``; the old file's lines after that (up to
    ``had``) are added, so the file stays a complete prefix of the input whatever
    stopped the run. If that cannot be done, the old file stays as it was; when the
    run is failing anyway, its own failure is the one reported.
    """
    try:
        if written < had:
            with open(results, "rb") as old:
                for number, raw in enumerate(old, 1):
                    if number > written:
                        rewrite.write(raw)
        rewrite.commit()
    except OSError:
        rewrite.discard()
        if not failing:
            raise


def _rewrite(path: str) -> writer.Replacement:
    """A new copy of the results file, to take its place when the run ends."""
    try:
        return writer.replace(path)
    except writer.NotAFile as exc:
        raise UsageError(f"--output-file: {path} {exc.strerror}") from None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


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
    "--output-file, --resume continues after the last line written and sends the failed "
    "lines again, keeping the good answers (--keep-failed keeps the errors instead).",
    example='printf \'%s\\n\' \'{"model": "text-embedding-3-small", "input": "red apples"}\' '
    '\'{"model": "text-embedding-3-small", "input": "green pears"}\' | '
    "oai map - --endpoint /v1/embeddings -O results.jsonl --concurrency 16",
)
