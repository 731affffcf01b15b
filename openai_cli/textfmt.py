"""Small text formats shared by commands and the transport."""

from __future__ import annotations


def human_seconds(seconds: float) -> str:
    """A duration as people say it: ``45 s``, ``10 min``, ``1.5 h``."""
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def dollars(amount: float) -> str:
    """Money as people read it: cents from a dollar up, two significant digits below
    (``$0.0000068``), so that a small request does not read as free."""
    if amount >= 100:
        return f"${amount:,.2f}"
    if amount >= 1 or amount <= 0:
        return f"${amount:.2f}"
    # Here: a TAB reads files through the reader, which counts bytes with this module.
    import math

    places = min(12, 1 - math.floor(math.log10(amount)))
    return f"${amount:.{places}f}"


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``noun`` in the number ``n`` asks for: ``field`` for one, ``fields`` otherwise,
    or ``many`` for a noun whose plural is not made with an ``s`` (``batches``).

    Every word that follows a number of things is put in its number here (and by
    :func:`count`), so that no message reads ``1 results`` or ``0 result``.
    """
    if n == 1:
        return noun
    return noun + "s" if many is None else many


def count(n: int, noun: str, many: str | None = None, *, sep: bool = False) -> str:
    """``1 result``, ``2 results``: a number and its noun; with ``sep`` the number has
    thousands separators (``1,234 tokens``), for numbers that run large."""
    return f"{n:,} {plural(n, noun, many)}" if sep else f"{n} {plural(n, noun, many)}"
