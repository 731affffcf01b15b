"""Find the catalogue operation behind a raw method and path (for ``oai api``)."""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openai_cli.operations.model import Operation


@cache
def _index() -> list[tuple[str, re.Pattern[str], Operation]]:
    from openai_cli.operations.catalogue import GROUPS, load

    out = []
    for group in GROUPS:
        for op in load(group):
            pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(op.path))
            out.append((op.method, re.compile(pattern + "/?"), op))
    return out


def _literal_segments(path: str) -> int:
    return sum(1 for s in path.split("/") if s and not s.startswith("{"))


def find(method: str, path: str) -> Operation | None:
    path = "/" + path.split("?")[0].lstrip("/")
    if path.startswith("/v1/"):
        path = path[3:]
    method = method.upper()
    matches = [op for m, rx, op in _index() if m == method and rx.fullmatch(path)]
    # Literal segments beat parameters: /files/{id} must not swallow /files/x/content.
    return max(matches, key=lambda op: _literal_segments(op.path), default=None)
