"""A request described as data: what every command hands to the runner."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from openai_cli.http.client import FilePart


@dataclass
class Request:
    method: str
    path: str  # path parameters already substituted
    query: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    files: list[FilePart] = field(default_factory=list)
    multipart: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    admin: bool = False
    stream: bool = False  # ask for server-sent events
    accept: str | None = None  # an Accept header other than the default (or the stream's)
    # False hands a 429 straight back, for a caller that paces many requests itself.
    retry_rate_limits: bool = True
    # False hands an error answer back as a response instead of raising it.
    raise_for_status: bool = True
    binary: bool | None = False  # None: decide from the answer's content type
    pagination: str | None = None  # "cursor" | "page"
    max_items: int | None = None
    all_pages: bool = False
    output_file: str | None = None
    # The most of a successful answer read into memory; None: http.client.MAX_ANSWER.
    answer_limit: int | None = None
    # Check the body against its operation's schema under --dry-run: generated commands
    # do unless --no-validate; `oai api` sends what it is given.
    validate: bool = False


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def flatten(values: dict[str, Any]) -> list[tuple[str, str]]:
    """Encode nested values as the official SDKs do: ``a[]=x``, ``a[b]=y``."""
    out: list[tuple[str, str]] = []

    def walk(key: str, v: Any) -> None:
        if isinstance(v, dict):
            for k, sub in v.items():
                walk(f"{key}[{k}]", sub)
        elif isinstance(v, list):
            for item in v:
                walk(f"{key}[]", item)
        elif v is not None:
            out.append((key, _scalar(v)))

    for k, v in values.items():
        walk(k, v)
    return out


def is_admin_path(path: str) -> bool:
    p = "/" + path.lstrip("/")
    return p.startswith(("/organization", "/projects"))
