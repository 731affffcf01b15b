"""Waiting for asynchronous work (batches, fine-tuning jobs, uploads, ...) to finish.

:func:`wait_for` polls with a backoff of 1 s doubled up to 30 s, which keeps a
day-long batch to a few thousand requests while a job done in seconds is seen
within a second or two. ``OAI_POLL_INTERVAL=SECONDS`` fixes the interval instead
(tests use a few milliseconds). On a terminal a status line is redrawn in place;
elsewhere one line is written per change of status, so a CI log shows the job's
course without a line per poll.

A job that fails, is cancelled or expires raises :class:`WaitFailed` (exit 7).
Giving up after ``--timeout`` raises :class:`WaitTimedOut` (exit 124, as
``timeout(1)``): the job has not failed and goes on, so it must not look like a
failure to a script that retries on 7.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from openai_cli.config.settings_table import Environment
from openai_cli.errors import ExitCode, JobFailed, OaiError, UsageError
from openai_cli.io import IO
from openai_cli.progress import Progress

FIRST_INTERVAL = 1.0
MAX_INTERVAL = 30.0

Obj = dict[str, Any]


class WaitFailed(JobFailed):
    """The job reached a failed, cancelled or expired status; ``final`` is its last state."""

    def __init__(self, message: str, *, final: Obj, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.final = final


class WaitTimedOut(OaiError):
    """``--timeout`` passed with the job still running; ``last`` is its last state."""

    default_exit_code = ExitCode.TIMED_OUT

    def __init__(self, message: str, *, last: Obj, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.last = last


def intervals(env: Mapping[str, str]) -> Iterator[float]:
    """Seconds to sleep between polls, forever."""
    fixed = Environment.poll_interval.read(env)
    if fixed is not None:
        while True:
            yield fixed
    delay = FIRST_INTERVAL
    while True:
        yield delay
        delay = min(delay * 2, MAX_INTERVAL)


_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?")


def parse_duration(text: str, *, flag: str) -> float:
    """``90``, ``90s``, ``10m``, ``1h30m`` as seconds."""
    t = text.strip().lower()
    try:
        value = float(t)
    except ValueError:
        m = _DURATION.fullmatch(t)
        if not t or m is None or not any(m.groups()):
            raise UsageError(
                f"{flag}: {text!r} is not a duration (seconds, or like 90s, 10m, 1h30m)"
            ) from None
        h, mi, s = (float(g) if g else 0.0 for g in m.groups())
        value = h * 3600 + mi * 60 + s
    if value <= 0:
        raise UsageError(f"{flag}: must be more than 0 seconds")
    return value


def _counts(obj: Obj) -> str:
    for key, done_keys in (
        ("request_counts", ("completed", "failed")),
        ("file_counts", ("completed", "failed")),
        ("result_counts", ("passed", "failed", "errored")),
    ):
        counts = obj.get(key)
        if isinstance(counts, dict) and counts.get("total"):
            parts = [f"{counts.get(k, 0)} {k}" for k in done_keys]
            return f" ({', '.join(parts)} of {counts['total']})"
    return ""


def describe(obj: Obj) -> str:
    """``in_progress (120 completed, 3 failed of 500)``."""
    return f"{obj.get('status', '?')}{_counts(obj)}"


def error_text(obj: Obj) -> str | None:
    """The reason a job gives for failing, wherever its kind keeps it."""
    for key in ("error", "last_error"):
        err = obj.get(key)
        if isinstance(err, dict) and (err.get("message") or err.get("code")):
            return str(err.get("message") or err.get("code"))
    errors = obj.get("errors")
    if isinstance(errors, dict) and isinstance(errors.get("data"), list) and errors["data"]:
        first = errors["data"][0]
        if isinstance(first, dict):
            where = f" (line {first['line']})" if first.get("line") else ""
            more = len(errors["data"]) - 1
            return f"{first.get('message') or first.get('code')}{where}" + (
                f"; and {more} more" if more else ""
            )
    return None


def _elapsed(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def wait_for(
    fetch: Callable[[], Obj],
    *,
    done: Collection[str],
    failed: Collection[str],
    io: IO,
    timeout: float | None = None,
    what: str = "job",
    first: Obj | None = None,
    rewait: str | None = None,
    status: Callable[[Obj], Any] = lambda o: o.get("status"),
    show: Callable[[Obj], str] = describe,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Obj:
    """Poll ``fetch`` until the status is in ``done`` (returned) or ``failed`` (raised).

    ``first`` is the state already known (the answer to the create call), which
    saves one request. ``rewait`` is the command that waits again, named when
    waiting stops before the end.
    """
    start = clock()
    obj = first if first is not None else fetch()
    ident = obj.get("id", "?")
    again = f"; wait again with `{rewait}`" if rewait else ""
    ticks = intervals(io.env)
    last_status: Any = object()
    with Progress(io, f"{what} {ident}", unit="status") as bar:
        try:
            while True:
                st = status(obj)
                line = f"{what} {ident}: {show(obj)}"
                if bar.shown:
                    bar.update(description=line)
                elif st != last_status:
                    io.message(f"oai: {line}")
                last_status = st
                if st in done:
                    return obj
                if st in failed:
                    reason = error_text(obj)
                    raise WaitFailed(
                        f"{what} {ident} ended {st}" + (f": {reason}" if reason else ""),
                        final=obj,
                    )
                elapsed = clock() - start
                if timeout is not None and elapsed >= timeout:
                    raise WaitTimedOut(
                        f"{what} {ident} is still {st} after {_elapsed(elapsed)}",
                        last=obj,
                        hint=f"it goes on without us{again}",
                    )
                delay = next(ticks)
                if timeout is not None:
                    delay = max(0.0, min(delay, timeout - elapsed))
                sleep(delay)
                obj = fetch()
        except KeyboardInterrupt:
            bar.close()
            io.message(f"oai: stopped waiting; {what} {ident} goes on{again}")
            raise
