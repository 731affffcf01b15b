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
    """Money as people read it, with digits enough to tell small amounts apart."""
    if amount >= 100:
        return f"${amount:,.2f}"
    if amount >= 1:
        return f"${amount:.2f}"
    return f"${amount:.4f}"
