"""When to send a request again, and after how long: a pure function of the answer.

The policy follows the official SDKs: two retries by default on 408, 409, 429, 5xx
(but 501) and connection errors, waiting 0.5 s doubled up to 8 s with jitter,
obeying ``retry-after-ms`` / ``retry-after`` up to 120 s, and letting
``x-should-retry`` overrule the status. A header the server got wrong (``soon``, a
bad date, ``inf``, a negative number) is ignored in favour of the backoff; a wait
longer than any run would bear is clamped, and only named to the user.
"""

from __future__ import annotations

import email.utils
import math
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from openai_cli.textfmt import human_seconds

# 501 says the server has no such operation: asking again changes nothing.
RETRY_STATUSES = frozenset({408, 409, 429}) | (frozenset(range(500, 600)) - {501})
NEVER_RETRIED = frozenset({501})
MAX_RETRY_AFTER = 120.0
# Beyond a day a number is no plan the user could follow; it is shown as "more than".
MAX_SHOWN_WAIT = 86400.0
INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0
_SECONDS = re.compile(r"\s*[0-9]+(\.[0-9]+)?\s*")


@dataclass(frozen=True)
class Verdict:
    """What to do after an error answer."""

    wait: float | None
    """Seconds to wait before the next attempt; None: do not retry."""
    hint: str | None = None
    """Why not, when it is something the user can act on."""


def backoff(attempt: int, rand: Callable[[], float] = random.random) -> float:
    """The wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
    base: float = min(INITIAL_BACKOFF * 2.0 ** (attempt - 1), MAX_BACKOFF)
    return base * (1 - 0.25 * rand())


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The wait the server asks for, in seconds; None when it asks for none it can mean.

    Never raises: a value that is not a number of seconds or an HTTP date is
    ignored, a date in the past is 0, and an absurd value is clamped.
    """
    ms = _seconds(headers.get("retry-after-ms"))
    if ms is not None:
        return min(ms / 1000.0, MAX_SHOWN_WAIT)
    text = headers.get("retry-after")
    if text is None:
        return None
    after = _seconds(text)
    if after is None:
        after = _date(text, time.time() if now is None else now)
    return None if after is None else min(after, MAX_SHOWN_WAIT)


def decide(
    attempt: int,
    status: int,
    headers: Mapping[str, str],
    max_retries: int,
    *,
    error_code: str | None = None,
    replayable: bool = True,
    rand: Callable[[], float] = random.random,
) -> Verdict:
    """After error answer ``status`` to attempt ``attempt + 1`` (``attempt`` counts from 0)."""
    should = headers.get("x-should-retry")
    if status == 429 and error_code == "insufficient_quota":
        return Verdict(None)  # more credit, not more time
    retry = status not in NEVER_RETRIED and (
        should == "true" or (should != "false" and status in RETRY_STATUSES)
    )
    after = retry_after(headers)
    hint = None
    if after is not None and after > MAX_RETRY_AFTER and (retry or status == 429):
        hint = wait_hint(after)
    if not retry or attempt >= max_retries or not replayable or hint is not None:
        return Verdict(None, hint)
    if after is not None:
        return Verdict(after)
    return Verdict(backoff(attempt + 1, rand))


def wait_hint(seconds: float) -> str:
    if seconds >= MAX_SHOWN_WAIT:
        return "the server asks to wait more than a day before retrying"
    return f"the server asks to wait {human_seconds(seconds)} before retrying"


def _seconds(text: str | None) -> float | None:
    if text is None or not _SECONDS.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else MAX_SHOWN_WAIT


def _date(text: str, now: float) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(text)
        return max(0.0, when.timestamp() - now)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
