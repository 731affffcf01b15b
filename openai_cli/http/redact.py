"""Keys never reach a terminal or a log: the one place that masks them."""

from __future__ import annotations

import re
from collections.abc import Iterable

# OpenAI keys (sk-..., sk-proj-..., sk-admin-...), bearer tokens and proxy passwords.
_KEY = re.compile(r"sk-[A-Za-z0-9_\-]{6,}")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"']+")
_USERINFO = re.compile(r"(?<=://)([^/@\s:]+):([^/@\s]+)@")
SECRET_HEADERS = frozenset({"authorization", "api-key", "proxy-authorization", "x-api-key"})


def redact(text: str) -> str:
    text = _KEY.sub(lambda m: m.group(0)[:3] + "***", text)
    text = _BEARER.sub(lambda m: m.group(1) + "***", text)
    return _USERINFO.sub(r"\1:***@", text)


def redact_headers(items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    out = []
    for k, v in items:
        if k.lower() in SECRET_HEADERS:
            scheme = v.split(" ", 1)[0] + " " if " " in v else ""
            out.append((k, scheme + "***"))
        else:
            out.append((k, redact(v)))
    return out
