"""The engine behind ``oai map``: concurrent requests, paced, results in input order.

Requests go out on ``concurrency`` threads, paced by the rate limits the API
reports in ``x-ratelimit-limit-*``/``remaining-*``/``reset-*`` (a client-side
bucket for requests and one for tokens, refilled at the rate those headers imply),
and everyone pauses after a 429 instead of hammering on. Results go through a
reorder buffer bounded to a few times the concurrency, so memory stays flat
however long the input; the command is in :mod:`openai_cli.commands.map`.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from openai_cli.errors import ApiError, NetworkError, ProtocolError
from openai_cli.http.client import AnswerTooLarge, read_answer
from openai_cli.http.retry import MAX_RETRY_AFTER, retry_after
from openai_cli.input.jsonl import raw_lines
from openai_cli.operations.request import Request
from openai_cli.operations.send import answer_json, open_response

if TYPE_CHECKING:
    from openai_cli.http.client import Client
    from openai_cli.input.estimate import Spent
    from openai_cli.input.jsonl import Line
    from openai_cli.io import IO
    from openai_cli.progress import Progress

# A line that meets 429 this many times in a row (after the client's own retries)
# is recorded as failed, so a limit that never lifts cannot stall a run forever.
MAX_RATE_LIMITED = 8
# Lines read ahead of the first one not yet written, per worker.
WINDOW_PER_WORKER = 4
# Failed lines named in the summary; the rest are in the results.
FIRST_FAILURES = 3


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


@dataclass(frozen=True)
class Kept:
    """A line whose result a resumed run keeps: written, not sent."""

    number: int
    record: bytes


def schedule(
    src: BinaryIO, old: BinaryIO | None, done: int, *, batch_lines: bool
) -> Iterator[Kept | tuple[int, str | None, dict[str, Any], bytes]]:
    """The items of :meth:`Mapper.run` from a checked input: the lines after the
    first ``done``, and, when the old results ``old`` are rewritten, their good
    answers kept and their failed lines sent again."""
    for number, _, raw in raw_lines(src):
        if number <= done:
            if old is None:
                continue
            had = old.readline()
            if b'"error"' not in had or "error" not in json.loads(had):
                yield Kept(number, had)
                continue
        obj = json.loads(raw)
        if batch_lines:
            yield number, obj["custom_id"], obj["body"], raw
        else:
            yield number, None, obj, raw


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
    after = retry_after(headers)
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


# -- what a results file was made from ------------------------------------------------


class InputIdentity:
    """Collects, while the input is checked, what tells it from another input.

    ``--resume`` continues a results file after its last line; with another input
    the old results would stand for new lines. The size, modification time, first
    and last lines and the ``custom_id``s in order are recorded with the results
    and compared on resume.
    """

    def __init__(self) -> None:
        self._ids = hashlib.sha256()
        self._first: tuple[int, int] | None = None
        self._last = (0, 0)

    def __call__(self, line: Line) -> None:
        if self._first is None:
            self._first = (line.start, line.end)
        self._last = (line.start, line.end)
        if line.custom_id is not None:
            self._ids.update(line.custom_id.encode() + b"\n")

    def record(self, path: str, *, spooled: bool) -> dict[str, Any]:
        """The identity of ``path``; stdin, spooled afresh each time, has no mtime."""
        st = os.stat(path)
        with open(path, "rb") as fh:

            def digest(span: tuple[int, int]) -> str:
                fh.seek(span[0])
                return hashlib.sha256(fh.read(span[1] - span[0])).hexdigest()

            return {
                "size": st.st_size,
                "mtime_ns": None if spooled else st.st_mtime_ns,
                "first_line": digest(self._first or (0, 0)),
                "last_line": digest(self._last),
                "custom_ids": self._ids.hexdigest(),
            }


IDENTITY_PARTS = {
    "size": "size",
    "mtime_ns": "modification time",
    "first_line": "first line",
    "last_line": "last line",
    "custom_ids": "custom_ids",
}


def identity_differences(recorded: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """What differs between two identities, in words; a part either lacks is not compared."""
    return [
        words
        for key, words in IDENTITY_PARTS.items()
        if recorded.get(key) is not None and now.get(key) is not None and recorded[key] != now[key]
    ]


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
        spent: Spent | None = None,
        cap: float | None = None,
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
        self.pending: dict[int, tuple[bytes, bool]] = {}
        self.lock = threading.Lock()
        self.window = threading.Semaphore(concurrency * WINDOW_PER_WORKER)
        self.tasks: queue.Queue[tuple[int, str | None, dict[str, Any], bytes] | None] = queue.Queue(
            maxsize=concurrency * 2
        )
        self.written = 0
        self.failed = 0
        self.sent = 0
        # "line N: why" for the first few lines that failed, for the summary.
        self.first_failures: list[str] = []
        self.bar: Progress | None = None
        # What the answers cost, from their usage; at ``cap`` no new request starts.
        self.spent = spent
        self.cap = cap
        self.capped = False
        self.last_sent = first_line - 1
        self.unsent: int | None = None  # the first line not sent because of the cap

    # -- workers ---------------------------------------------------------------------

    def worker(self) -> None:
        while True:
            item = self.tasks.get()
            if item is None:
                return
            if self.abort.is_set():
                continue
            number, cid, body, text = item
            if self.capped:
                # Read ahead but not started: left for a resumed run.
                with self.lock:
                    self.unsent = min(self.unsent or number, number)
                continue
            try:
                record, ok = self.call(number, cid, body, text)
                # Writing can fail too (a reader gone, a full disk): the main thread
                # must hear of it, or it waits for a line that never comes.
                self.deliver(number, record, ok)
            except _Abandoned:
                continue
            except BaseException as exc:
                self.stop(exc)

    def stop(self, exc: BaseException) -> None:
        """End the run with ``exc``, raised in the main thread; the first one wins."""
        with self.lock:
            if self.fatal is None:
                self.fatal = exc
            self.abort.set()

    def call(
        self, number: int, cid: str | None, body: dict[str, Any], text: bytes
    ) -> tuple[bytes, bool]:
        cost = estimate_tokens(body, text)
        limited = 0
        while True:
            self.gate.acquire(cost, self.abort)
            headers: Mapping[str, str] | None = None
            try:
                # Error answers come back as answers, and a 429 at once: each line
                # keeps its own error, and the gate paces everyone after a 429.
                req = Request("POST", self.path, body=body)
                with open_response(
                    self.client, req, raise_for_status=False, retry_rate_limits=False
                ) as resp:
                    read_answer(resp)
                    headers = resp.headers
            except NetworkError as exc:
                return _record(number, cid, error={"type": "network_error", "message": exc.message})
            except AnswerTooLarge as exc:
                return _record(
                    number, cid, error={"type": "answer_too_large", "message": exc.message}
                )
            finally:
                self.gate.release(headers)
            status = resp.status_code
            if status < 400:
                try:
                    answer = answer_json(resp)
                except ProtocolError as exc:
                    bad = {"type": "invalid_response", "status": status, "message": exc.message}
                    return _record(number, cid, error=bad)
                self.count(answer)
                return _record(number, cid, response=answer)
            error = self.client.api_error(resp)
            if status == 429 and error.code != "insufficient_quota":
                limited += 1
                if limited <= MAX_RATE_LIMITED:
                    if not _reports_limits(resp.headers) or limited > 1:
                        # Without the limit's numbers (or when they were not
                        # enough), everyone waits as the answer says.
                        self.gate.pause(_wait_after_429(resp.headers, limited))
                    continue
            if error.key_rejected or error.code == "insufficient_quota":
                # Every other line would fail the same way: stop, keep what is done.
                raise error
            return _record(number, cid, error=_fields(error))

    def count(self, answer: Any) -> None:
        """Add an answer's usage to what the run has spent; at the cap, stop starting."""
        if self.spent is None or not isinstance(answer, dict):
            return
        model = answer.get("model")
        with self.lock:
            self.spent.add(model if isinstance(model, str) else None, answer.get("usage"))
            if self.cap is not None and self.spent.dollars >= self.cap:
                self.capped = True

    def deliver(self, number: int, record: bytes, ok: bool) -> None:
        with self.lock:
            if self.abort.is_set():
                return
            self.pending[number] = (record, ok)
            moved = 0
            while self.next_line in self.pending:
                record, ok = self.pending.pop(self.next_line)
                self.out.write(record)
                if not ok:
                    self.failed += 1
                    if len(self.first_failures) < FIRST_FAILURES:
                        self.first_failures.append(f"line {self.next_line}: {_reason(record)}")
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
        """Send every ``(number, custom_id, body, text)`` of ``lines``; return when written.

        An item ``Kept(number, record)`` is a result already had (a resumed run's good
        answer), written in its place without sending anything.
        """
        threads = [
            threading.Thread(target=self.worker, daemon=True) for _ in range(self.concurrency)
        ]
        for t in threads:
            t.start()
        try:
            for item in lines:
                while not self.window.acquire(timeout=0.2):
                    self._check()
                if self.capped:
                    # The requests in flight finish and are written; none starts.
                    self.window.release()
                    break
                if isinstance(item, Kept):
                    self.deliver(item.number, item.record, True)
                else:
                    self._put(item)
                    self.sent += 1
                self.last_sent = item.number if isinstance(item, Kept) else item[0]
                self._check()
            else:
                self.last_sent = total
            for _ in threads:
                self._put(None)
            while self.next_line <= self.last_sent and self.next_line != self.unsent:
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


def _reason(record: bytes) -> str:
    """The error of a result line, in words."""
    error = json.loads(record).get("error") or {}
    status = error.get("status")
    return (f"HTTP {status}: " if status else "") + str(error.get("message") or "failed")


def _fields(error: ApiError) -> dict[str, Any]:
    """A line's error as the results file keeps it: what any command would report."""
    out: dict[str, Any] = {"status": error.status, "message": error.message}
    for key in ("type", "code", "param", "request_id"):
        value = getattr(error, key)
        if value is not None:
            out[key] = value
    return out
