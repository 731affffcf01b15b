"""A request described as data: what every command hands to the runner."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from openai_cli.http.client import FilePart


@dataclass(frozen=True)
class Request:
    """What goes on the wire, and nothing else: the client builds it as it is.

    Frozen, so a request derived from another (a page, a poll, a batch of inputs)
    is made with :func:`dataclasses.replace` and never changes the one it came from.
    """

    method: str
    path: str  # path parameters already substituted
    query: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    files: list[FilePart] = field(default_factory=list)
    multipart: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    admin: bool = False  # sent with the admin key
    stream: bool = False  # ask for server-sent events
    accept: str | None = None  # an Accept header other than the default (or the stream's)

    def poll(self, path: str) -> Request:
        """A ``GET`` of ``path`` that identifies itself as this request does.

        Only what says who asks and what to include (query, headers, the key) is
        carried over; what shapes the answer stays with the command that asked.
        """
        return Request(
            "GET", path, query=dict(self.query), headers=dict(self.headers), admin=self.admin
        )


@dataclass(frozen=True)
class Answer:
    """What to do with the answer: print it, follow its pages or save its bytes.

    None of it is sent, so none of it can leak into a request derived from another.
    """

    binary: bool | None = False  # None: decide from the answer's content type
    pagination: str | None = None  # "cursor" | "page"
    max_items: int | None = None
    all_pages: bool = False
    output_file: str | None = None
    # Check the body against its operation's schema under --dry-run: generated commands
    # do unless --no-validate; `oai api` sends what it is given.
    validate: bool = False


# The answer printed as it comes, as most requests a command makes want it.
PRINT = Answer()


@dataclass(frozen=True)
class Call:
    """A request and what to do with its answer: what a command hands to the runner."""

    request: Request
    answer: Answer = PRINT


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
