"""Small text formats shared by commands and the transport."""

from __future__ import annotations


def human_seconds(seconds: float) -> str:
    """A duration as people say it: ``45 s``, ``10 min``, ``1.5 h``."""
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def count(n: int, noun: str) -> str:
    """``1 result``, ``2 results``: a number and its noun, in the right number."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
