"""Unix times given as a date: ``--start-time 2026-11-01`` is ``--start-time 1793491200``
(at midnight local time)."""

from __future__ import annotations

import re
from typing import Any

from openai_cli.errors import UsageError

# Integer fields the API reads as Unix seconds (usage and costs reports), and objects of
# such bounds (``effective_at`` of the audit log: ``{"gte": ..., "lt": ...}``).
UNIX_TIME_FIELDS = frozenset({"start_time", "end_time"})
UNIX_TIME_OBJECTS = frozenset({"effective_at"})
_INTEGER = re.compile(r"-?[0-9]+")
_MAX_DIGITS = 18


def is_unix_time(name: str, type_: str) -> bool:
    """A field in Unix seconds that also takes a date, so its option is read as text."""
    return type_ == "integer" and name in UNIX_TIME_FIELDS


def unix_seconds(text: str, *, what: str) -> int:
    """Unix seconds, or an ISO-8601 date or date-time converted to them.

    A time without a zone is local time, as a clock on the wall reads it and as tables
    show times; ``Z`` or ``+02:00`` says otherwise.
    """
    text = text.strip()
    if _INTEGER.fullmatch(text):
        # Past 2**63 no server stores it; far past, int() itself refuses the digits.
        if len(text.lstrip("-")) > _MAX_DIGITS:
            raise UsageError(f"{what}: {text[:24]}... is out of range for Unix seconds")
        return int(text)
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{what}: {text!r} is neither Unix seconds nor an ISO-8601 date or date-time",
            hint="e.g. 1793491200, 2026-11-01 or 2026-11-01T12:00:00Z (no zone: local time)",
        ) from None
    try:
        # A naive datetime's timestamp() is taken in local time, which can move a
        # date at the ends of the calendar (0001-01-01 in Tokyo) out of it.
        return int(moment.timestamp())
    except (ValueError, OverflowError, OSError):
        raise UsageError(f"{what}: {text!r} is out of range for this time zone") from None


def unix_bounds(value: Any, *, what: str) -> Any:
    """An object of time bounds with each date or date-time turned into Unix seconds."""
    if not isinstance(value, dict):
        return value
    return {
        key: unix_seconds(bound, what=f"{what} {key}") if isinstance(bound, str) else bound
        for key, bound in value.items()
    }
