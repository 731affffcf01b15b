"""``oai map``: one API call per line of a JSONL file, concurrently, results in order.

The fast alternative to the Batch API: the same input (batch request lines, or bare
request bodies), answers in seconds or minutes rather than hours, at the normal
price. Requests go out on ``--concurrency`` threads, paced by the rate limits the
API reports in ``x-ratelimit-limit-*``/``remaining-*``/``reset-*`` (a client-side
bucket for requests and one for tokens, refilled at the rate those headers imply),
and everyone pauses after a 429 instead of hammering on.

Results are written as JSONL in input order, ``{"line": N, "response": ...}`` or
``{"line": N, "error": ...}`` (with ``custom_id`` when the input had one), through
a reorder buffer bounded to a few times the concurrency: memory stays flat however
long the file. Because the output is always a complete prefix of the input,
``--resume`` continues after the last line written.
"""

from __future__ import annotations

import json
import os
import queue
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

from openai_cli.commands._tooling import local_input, positive
from openai_cli.errors import ApiError, ExitCode, NetworkError, UsageError
from openai_cli.options import add_command, argument, option

if TYPE_CHECKING:
    import httpx

    from openai_cli.context import Factory
    from openai_cli.http.client import Client
    from openai_cli.io import IO
    from openai_cli.progress import Progress

app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)

DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 256
# A line that meets 429 this many times in a row (after the client's own retries)
# is recorded as failed, so a limit that never lifts cannot stall a run forever.
MAX_RATE_LIMITED = 8
# Lines read ahead of the first one not yet written, per worker.
WINDOW_PER_WORKER = 4


# -- rate limits ----------------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def parse_reset(value: str | None) -> float | None:
    """``x-ratelimit-reset-*`` values (``1s``, ``6m0s``, ``20ms``, ``1h2m3.5s``) in seconds."""
    if not value:
        return None
    v = value.strip()
    try:
        return max(0.0, float(v))
    except ValueError:
        pass
    parts = _DURATION_PART.findall(v)
    if not parts or "".join(n + u for n, u in parts) != v:
        return None
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(n) * scale[u] for n, u in parts)


def _number(headers: Mapping[str, str], name: str) -> float | None:
    v = headers.get(name)
    if v is None:
        return None
    try:
        return float(v)
    except ValueError:
        return None


class _Bucket:
    """What is left of one limit, as the client believes it between answers."""

    def __init__(self) -> None:
        self.limit: float | None = None  # unknown until an answer says
        self.tokens = 0.0
        self.rate = 0.0  # per second
        self.stamp = 0.0

    def refill(self, now: float) -> None:
        if self.limit is not None:
            self.tokens = min(self.limit, self.tokens + self.rate * (now - self.stamp))
        self.stamp = now

    def delay(self, amount: float) -> float:
        """Seconds until ``amount`` is available (0: now)."""
        if self.limit is None:
            return 0.0
        amount = min(amount, self.limit)  # a request bigger than the limit still goes once
        if self.tokens >= amount:
            return 0.0
        return (amount - self.tokens) / self.rate if self.rate > 0 else 1.0

    def observe(self, limit: float, remaining: float, reset: float | None, others: int) -> None:
        self.limit = limit
        if reset is not None and reset > 0 and limit > remaining:
            # "reset" is the time until the limit is whole again.
            self.rate = (limit - remaining) / reset
        elif self.rate <= 0:
            self.rate = limit / 60.0
        # The server's count, less the requests still on their way to it.
        self.tokens = remaining - others


class RateGate:
    """Paces request starts to the limits the answers report; shared by all workers."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self.requests = _Bucket()
        self.tokens = _Bucket()
        self.paused_until = 0.0
        self.inflight = 0

    def acquire(self, cost: float, abort: threading.Event) -> None:
        with self._cond:
            while True:
                if abort.is_set():
                    raise _Abandoned()
                now = self._clock()
                self.requests.refill(now)
                self.tokens.refill(now)
                wait = max(self.paused_until - now, self.requests.delay(1), self.tokens.delay(cost))
                if wait <= 0:
                    self.requests.tokens -= 1
                    self.tokens.tokens -= cost
                    self.inflight += 1
                    return
                self._cond.wait(min(wait, 0.5))

    def release(self, headers: Mapping[str, str] | None) -> None:
        """One request is answered; ``headers`` are its answer's, if it had one."""
        with self._cond:
            self.inflight -= 1
            if headers is not None:
                now = self._clock()
                for bucket, kind in ((self.requests, "requests"), (self.tokens, "tokens")):
                    limit = _number(headers, f"x-ratelimit-limit-{kind}")
                    remaining = _number(headers, f"x-ratelimit-remaining-{kind}")
                    if limit is None or remaining is None:
                        continue
                    bucket.refill(now)
                    reset = parse_reset(headers.get(f"x-ratelimit-reset-{kind}"))
                    bucket.observe(limit, remaining, reset, self.inflight)
            self._cond.notify_all()

    def pause(self, seconds: float) -> None:
        with self._cond:
            self.paused_until = max(self.paused_until, self._clock() + seconds)
            self._cond.notify_all()


class _Abandoned(Exception):
    """The run is stopping; the line is left for a resumed run."""


def estimate_tokens(body: dict[str, Any], text: bytes) -> float:
    """A rough count of what a request takes from a tokens-per-minute limit.

    The API counts the prompt and the most the answer may hold; four bytes a token
    is the usual rule of thumb for the prompt.
    """
    most = 0
    for key in ("max_output_tokens", "max_completion_tokens", "max_tokens"):
        v = body.get(key)
        if isinstance(v, int):
            most = max(most, v)
    n = body.get("n")
    return len(text) / 4 + most * (n if isinstance(n, int) and n > 0 else 1)


def _reports_limits(headers: Mapping[str, str]) -> bool:
    """Whether an answer carries the numbers the gate paces by."""
    return any(
        f"x-ratelimit-remaining-{k}" in headers and f"x-ratelimit-limit-{k}" in headers
        for k in ("requests", "tokens")
    )


def _wait_after_429(headers: Mapping[str, str], attempt: int) -> float:
    from openai_cli.http.client import MAX_RETRY_AFTER

    ms = _number(headers, "retry-after-ms")
    if ms is not None:
        return min(ms / 1000.0, MAX_RETRY_AFTER)
    after = _number(headers, "retry-after")
    if after is not None:
        return min(after, MAX_RETRY_AFTER)
    waits = [
        parse_reset(headers.get(f"x-ratelimit-reset-{k}"))
        for k in ("requests", "tokens")
        if _number(headers, f"x-ratelimit-remaining-{k}") in (0.0, None)
    ]
    known = [w for w in waits if w is not None]
    if known:
        return min(max(known), MAX_RETRY_AFTER)
    return float(min(2**attempt, 60))


# -- the run --------------------------------------------------------------------------


class Mapper:
    def __init__(
        self,
        client: Client,
        io: IO,
        *,
        path: str,
        concurrency: int,
        out: Any,
        first_line: int,
        gate: RateGate | None = None,
    ) -> None:
        self.client = client
        self.io = io
        self.path = path
        self.concurrency = concurrency
        self.out = out
        self.gate = gate or RateGate()
        self.abort = threading.Event()
        self.fatal: BaseException | None = None
        self.next_line = first_line
        self.pending: dict[int, bytes] = {}
        self.lock = threading.Lock()
        self.window = threading.Semaphore(concurrency * WINDOW_PER_WORKER)
        self.tasks: queue.Queue[tuple[int, str | None, dict[str, Any], bytes] | None] = queue.Queue(
            maxsize=concurrency * 2
        )
        self.written = 0
        self.failed = 0
        self.bar: Progress | None = None

    # -- workers ---------------------------------------------------------------------

    def worker(self) -> None:
        while True:
            item = self.tasks.get()
            if item is None:
                return
            if self.abort.is_set():
                continue
            number, cid, body, text = item
            try:
                record, ok = self.call(number, cid, body, text)
            except _Abandoned:
                continue
            except BaseException as exc:
                self.fatal = exc
                self.abort.set()
                continue
            self.deliver(number, record, ok)

    def call(
        self, number: int, cid: str | None, body: dict[str, Any], text: bytes
    ) -> tuple[bytes, bool]:
        cost = estimate_tokens(body, text)
        limited = 0
        while True:
            self.gate.acquire(cost, self.abort)
            headers: Mapping[str, str] | None = None
            try:
                with self.client.stream(
                    "POST",
                    self.path,
                    json_body=body,
                    raise_for_status=False,
                    retry_rate_limits=False,
                ) as resp:
                    resp.read()
                    headers = resp.headers
            except NetworkError as exc:
                return _record(number, cid, error={"type": "network_error", "message": exc.message})
            finally:
                self.gate.release(headers)
            status = resp.status_code
            if status < 400:
                try:
                    data = json.loads(resp.content)
                except ValueError:
                    return _record(
                        number,
                        cid,
                        error={
                            "type": "invalid_response",
                            "status": status,
                            "message": f"not JSON: {resp.text[:200]!r}",
                        },
                    )
                return _record(number, cid, response=data)
            error = _error_of(resp)
            if status == 429 and error.get("code") != "insufficient_quota":
                limited += 1
                if limited <= MAX_RATE_LIMITED:
                    if not _reports_limits(resp.headers) or limited > 1:
                        # Without the limit's numbers (or when they were not
                        # enough), everyone waits as the answer says.
                        self.gate.pause(_wait_after_429(resp.headers, limited))
                    continue
            if status in (401, 403) or error.get("code") == "insufficient_quota":
                # Every other line would fail the same way: stop, keep what is done.
                raise ApiError(
                    status,
                    str(error.get("message") or "error"),
                    type=error.get("type"),
                    code=error.get("code"),
                    request_id=error.get("request_id"),
                )
            return _record(number, cid, error=error)

    def deliver(self, number: int, record: bytes, ok: bool) -> None:
        with self.lock:
            if self.abort.is_set():
                return
            self.pending[number] = record
            if not ok:
                self.failed += 1
            moved = 0
            while self.next_line in self.pending:
                self.out.write(self.pending.pop(self.next_line))
                self.next_line += 1
                moved += 1
            if moved:
                self.out.flush()
                self.written += moved
                if self.bar is not None:
                    self.bar.advance(moved)
        for _ in range(moved):
            self.window.release()

    # -- driving ---------------------------------------------------------------------

    def run(self, lines: Any, total: int) -> None:
        """Send every ``(number, custom_id, body, text)`` of ``lines``; return when written."""
        threads = [
            threading.Thread(target=self.worker, daemon=True) for _ in range(self.concurrency)
        ]
        for t in threads:
            t.start()
        try:
            for item in lines:
                while not self.window.acquire(timeout=0.2):
                    self._check()
                self._put(item)
                self._check()
            for _ in threads:
                self._put(None)
            while self.next_line <= total:
                self._check()
                time.sleep(0.02)
        except BaseException:
            self.abort.set()
            raise
        self._check()

    def _put(self, item: Any) -> None:
        while True:
            self._check()
            try:
                self.tasks.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def _check(self) -> None:
        if self.fatal is not None:
            raise self.fatal


def _record(
    number: int,
    cid: str | None,
    *,
    response: Any = None,
    error: dict[str, Any] | None = None,
) -> tuple[bytes, bool]:
    rec: dict[str, Any] = {"line": number}
    if cid is not None:
        rec["custom_id"] = cid
    if error is not None:
        rec["error"] = error
    else:
        rec["response"] = response
    return json.dumps(rec, ensure_ascii=False).encode() + b"\n", error is None


def _error_of(resp: httpx.Response) -> dict[str, Any]:
    out: dict[str, Any] = {"status": resp.status_code}
    try:
        data = json.loads(resp.content)
    except ValueError:
        data = None
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict):
        for key in ("message", "type", "code", "param"):
            if err.get(key) is not None:
                out[key] = err[key]
    elif isinstance(err, str):
        out["message"] = err
    else:
        out["message"] = resp.reason_phrase or f"HTTP {resp.status_code}"
    rid = resp.headers.get("x-request-id")
    if rid:
        out["request_id"] = rid
    return out


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
    input, endpoint, output_file = opts.input, opts.endpoint, opts.output_file
    concurrency, resume = opts.concurrency, opts.resume
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
