"""The one send path: every request the CLI makes to the API goes through here.

A command describes what it wants as a :class:`~openai_cli.operations.request.Request`
and hands it, with the client, to :func:`open_response` (the caller reads the
body) or :func:`send` (the body is read). Nothing else calls the HTTP client's
request methods, so retries, pacing, headers and the encoding of query, JSON and
multipart bodies cannot differ between a command and its ``--wait`` polls, a
download or a helper. ``tests/unit/test_send_path.py`` holds that.

The answer's JSON is read here too (:func:`answer_json`, :func:`answer_object`),
once for every caller.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from io import BytesIO
from typing import TYPE_CHECKING, Any

from openai_cli.errors import ProtocolError
from openai_cli.http.client import Client, Multipart, read_answer
from openai_cli.operations.request import Request, flatten

if TYPE_CHECKING:
    import httpx

    from openai_cli.config import Settings
    from openai_cli.io import IO

EVENT_STREAM = "text/event-stream"


def keywords(req: Request) -> dict[str, Any]:
    """``req`` as the HTTP client's arguments: what it builds, sends and shows under --dry-run."""
    kw: dict[str, Any] = {"query": flatten(req.query), "headers": req.headers}
    if req.multipart:
        kw["multipart"] = Multipart(fields=flatten(req.body or {}), files=req.files)
    elif req.body is not None:
        kw["json_body"] = req.body
    accept = req.accept or (EVENT_STREAM if req.stream else None)
    if accept:
        kw["accept"] = accept
    return kw


@contextmanager
def open_response(
    client: Client,
    req: Request,
    *,
    raise_for_status: bool = True,
    retry_rate_limits: bool = True,
) -> Iterator[httpx.Response]:
    """Send ``req``; the response's body is left for the caller to read or stream.

    Retries happen before the response is handed over, never once its body is read.
    ``raise_for_status=False`` hands an error answer back as a response;
    ``retry_rate_limits=False`` hands a 429 straight back, for a caller that paces
    many requests itself.
    """
    with client.stream(
        req.method,
        req.path,
        raise_for_status=raise_for_status,
        retry_rate_limits=retry_rate_limits,
        **keywords(req),
    ) as resp:
        yield resp


def send(client: Client, req: Request, *, answer_limit: int | None = None) -> httpx.Response:
    """Send ``req`` and read its whole answer (at most ``answer_limit`` bytes, or the default)."""
    with open_response(client, req) as resp:
        read_answer(resp, answer_limit)
        return resp


def build_offline(
    settings: Settings, io: IO, req: Request, placeholder: str
) -> tuple[httpx.Request, httpx.Headers]:
    """The request a send of ``req`` would build, with ``placeholder`` for the key (which
    is never read), and the headers every request carries: what ``--dry-run`` shows.

    The files are not opened: their parts are empty (their names and types stay), so
    a dry run reads neither a large file nor stdin.
    """
    kw = keywords(req)
    multipart = kw.get("multipart")
    if multipart is not None:
        kw["multipart"] = replace(
            multipart, files=[replace(f, opener=BytesIO) for f in multipart.files]
        )
    client = Client(settings, io, admin=req.admin, placeholder=placeholder)
    kw["headers"] = client.with_idempotency_key(req.method, kw["headers"])
    return client.build(req.method, req.path, **kw), client.http.headers


def answer_json(resp: httpx.Response, what: str | None = None) -> Any:
    """The answer's JSON; a body that is not JSON is a protocol error naming the request."""
    text = resp.text
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested past the limit
        excerpt = " ".join(text.split())[:120]
        rid = resp.headers.get("x-request-id")
        ctype = resp.headers.get("content-type", "").split(";")[0].strip()
        raise ProtocolError(
            (f"{what}: " if what else "")
            + f"HTTP {resp.status_code}"
            + (f" ({ctype})" if ctype else "")
            + f" with a body that is not valid JSON: {excerpt!r}"
            + (f" (request id {rid})" if rid else "")
        ) from exc


def answer_object(resp: httpx.Response, what: str) -> dict[str, Any]:
    """The answer as a JSON object, for a caller that reads its fields."""
    data = answer_json(resp, what)
    if not isinstance(data, dict):
        raise ProtocolError(f"{what}: the answer is not a JSON object: {resp.text[:120]!r}")
    return data


def answer_id(answer: dict[str, Any], what: str) -> str:
    """The ``id`` of an answer the command goes on with (a file to attach, a batch to
    poll); an answer without one is not what the API speaks (exit 6)."""
    ident = answer.get("id")
    if not isinstance(ident, str) or not ident:
        raise ProtocolError(f"{what}: the answer has no id: {str(answer)[:120]!r}")
    return ident


@contextmanager
def open_foreign(settings: Settings, url: str) -> Iterator[httpx.Response]:
    """``GET url`` on a host that is not the API (a signed download link).

    A plain request with the profile's timeout, proxy and TLS settings, but no API
    key, no extra headers and no retries: the key must never go to another host.
    """
    import httpx

    with (
        httpx.Client(
            timeout=settings.timeout.value,
            follow_redirects=True,
            **settings.transport_options(),
        ) as http,
        http.stream("GET", url) as resp,
    ):
        resp.raise_for_status()
        yield resp
