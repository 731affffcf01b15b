"""Small text formats shared by commands and the transport."""

from __future__ import annotations


def human_seconds(seconds: float) -> str:
    """A duration as people say it: ``45 s``, ``10 min``, ``1.5 h``."""
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"
