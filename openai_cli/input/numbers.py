"""Numbers given as option values: counts and sizes."""

from __future__ import annotations

import math

from openai_cli.errors import UsageError

# Every count given as an option is at most this: far above any real list, batch or
# worker pool, and small enough for SQLite's LIMIT, range() and the progress bars.
MAX_COUNT = 10**9


def positive(value: int | None, flag: str, default: int) -> int:
    """``value``, or ``default`` when it was not given; outside 1..MAX_COUNT is a usage error."""
    if value is None:
        return default
    if value < 1:
        raise UsageError(f"{flag}: must be at least 1")
    if value > MAX_COUNT:
        raise UsageError(f"{flag}: must be at most {MAX_COUNT:,}")
    return value


_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1024**3,
}


def parse_size(text: str, *, flag: str) -> int:
    """``1048576``, ``8MiB``, ``64MB``, ``5m`` as a number of bytes."""
    t = text.strip().lower().replace(" ", "")
    number = t.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = t[len(number) :]
    try:
        value = float(number) * _SIZE_UNITS[unit]
    except (ValueError, KeyError):
        value = math.nan
    # float() also reads "nan", "inf" and "1e400", which are no size.
    if not math.isfinite(value):
        raise UsageError(f"{flag}: {text!r} is not a size (bytes, or like 8MiB, 64MB)")
    if value < 1:
        raise UsageError(f"{flag}: must be at least 1 byte")
    return int(value)
