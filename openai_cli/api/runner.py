"""The one runner: sends a :class:`Request`, follows pages, reads streams, saves bytes.

Every API command, generated or hand-written, ends here, so retries, pagination,
streams, downloads, ``--dry-run`` and error handling behave the same everywhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from openai_cli.api.request import Request, flatten
from openai_cli.errors import ProtocolError, StreamError, UsageError
from openai_cli.http.client import Multipart

if TYPE_CHECKING:
    import httpx

    from openai_cli.context import Factory
    from openai_cli.http.sse import ServerSentEvent

JSON_TYPES = ("application/json", "text/json")
# Event types that end a stream in failure although the connection ended cleanly.
FAILED_EVENTS = frozenset({"error", "response.failed", "response.incomplete", "thread.run.failed"})
DOWNLOAD_CHUNK = 1 << 16


def execute(factory: Factory, req: Request) -> int:
    if req.max_items is not None and req.max_items < 1:
        raise UsageError("--max-items: must be at least 1")
    if req.binary and not req.output_file and factory.io.stdout_tty and not req.stream:
        raise UsageError(
            "this operation answers with raw bytes: give --output-file PATH (or pipe stdout)"
        )
    if factory.common.dry_run:
        return dry_run(factory, req)
    client = factory.client(admin=req.admin)
    if req.stream:
        return _stream(factory, req)
    if req.pagination and (req.all_pages or req.max_items is not None):
        factory.renderer().pages(_pages(factory, req))
        return 0
    kwargs = _send_kwargs(req)
    with client.stream(req.method, req.path, **kwargs) as resp:
        ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
        if req.binary or (req.binary is None and not _is_text(ctype)) or req.output_file:
            return _save(factory, req, resp)
        resp.read()
    return _print_answer(factory, resp)


def _send_kwargs(req: Request, query: dict[str, Any] | None = None) -> dict[str, Any]:
    kw: dict[str, Any] = {
        "query": flatten(query if query is not None else req.query),
        "headers": req.headers,
    }
    if req.multipart:
        kw["multipart"] = Multipart(fields=flatten(req.body or {}), files=req.files)
    elif req.body is not None:
        kw["json_body"] = req.body
    if req.stream:
        kw["accept"] = "text/event-stream"
    return kw


def _is_text(ctype: str) -> bool:
    return ctype in JSON_TYPES or ctype.startswith("text/") or ctype.endswith("+json") or not ctype


def _parse_json(resp: httpx.Response) -> Any:
    text = resp.text
    try:
        return json.loads(text)
    except ValueError as exc:
        excerpt = " ".join(text.split())[:120]
        rid = resp.headers.get("x-request-id")
        raise ProtocolError(
            f"HTTP {resp.status_code} with a body that is not valid JSON: {excerpt!r}"
            + (f" (request id {rid})" if rid else "")
        ) from exc


def _print_answer(factory: Factory, resp: httpx.Response) -> int:
    ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
    if not resp.content:
        return 0
    if ctype in JSON_TYPES or ctype.endswith("+json") or not ctype:
        factory.renderer().answer(_parse_json(resp), raw=resp.text)
    else:
        # Plain text answers (transcripts as text, srt, vtt) go out as they are.
        out = factory.io.out
        out.write(resp.text if resp.text.endswith("\n") else resp.text + "\n")
        out.flush()
    return 0


def _save(factory: Factory, req: Request, resp: httpx.Response) -> int:
    io = factory.io
    if req.output_file and req.output_file != "-":
        path = req.output_file
        tmp = f"{path}.part"
        total = 0
        try:
            with open(tmp, "wb") as fh:
                for chunk in resp.iter_bytes(DOWNLOAD_CHUNK):
                    fh.write(chunk)
                    total += len(chunk)
            os.replace(tmp, path)
        except BaseException:
            # A partial download must never pass for the whole file.
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        io.message(f"saved {total} bytes to {path}")
        return 0
    if io.stdout_tty:
        raise UsageError("the answer is raw bytes: give --output-file PATH (or pipe stdout)")
    sink = io.stdout_bytes
    for chunk in resp.iter_bytes(DOWNLOAD_CHUNK):
        sink.write(chunk)
    sink.flush()
    return 0


# -- pagination ---------------------------------------------------------------------


def _pages(factory: Factory, req: Request) -> Iterator[Any]:
    client = factory.client(admin=req.admin)
    query = dict(req.query)
    remaining = req.max_items
    seen_cursors: set[str] = set()
    while True:
        if remaining is not None and "limit" not in req.query and req.pagination == "cursor":
            query["limit"] = min(remaining, 100)
        resp = client.request(req.method, req.path, **_send_kwargs(req, query))
        page = _parse_json(resp)
        if not isinstance(page, dict):
            yield page
            return
        items = page.get("data")
        if not isinstance(items, list):
            yield page
            return
        if remaining is not None:
            if len(items) >= remaining:
                yield {**page, "data": items[:remaining]}
                return
            remaining -= len(items)
        yield page
        cursor = _next_cursor(req.pagination, page)
        if cursor is None:
            return
        if cursor in seen_cursors:
            raise ProtocolError(
                f"pagination did not advance (cursor {cursor!r} came back twice); stopping"
            )
        seen_cursors.add(cursor)
        if req.pagination == "page":
            query["page"] = cursor
        else:
            query["after"] = cursor


def _next_cursor(kind: str | None, page: dict[str, Any]) -> str | None:
    if kind == "page":
        nxt = page.get("next_page")
        return str(nxt) if nxt and page.get("has_more", True) else None
    if not page.get("has_more"):
        return None
    last = page.get("last_id")
    if not last:
        items = page.get("data") or []
        last = items[-1].get("id") if items and isinstance(items[-1], dict) else None
    return str(last) if last else None


# -- streams ------------------------------------------------------------------------


def _stream(factory: Factory, req: Request) -> int:
    import httpx

    from openai_cli.http.sse import SSEDecoder

    client = factory.client(admin=req.admin)
    renderer = factory.renderer()
    with client.stream(req.method, req.path, **_send_kwargs(req)) as resp:
        rid = resp.headers.get("x-request-id")
        ctype = resp.headers.get("content-type", "")
        if "text/event-stream" not in ctype:
            # The server chose not to stream (or cannot): print what it sent.
            resp.read()
            return _print_answer(factory, resp)
        decoder = SSEDecoder()
        finished = False
        try:
            for chunk in resp.iter_raw():
                for ev in decoder.feed(chunk):
                    finished = _emit(renderer, ev, rid) or finished
            for ev in decoder.close():
                finished = _emit(renderer, ev, rid) or finished
        except httpx.TransportError as exc:
            raise StreamError(
                f"stream interrupted ({type(exc).__name__}); the output above is partial",
                request_id=rid,
            ) from exc
        if not finished:
            raise StreamError(
                "the stream ended before its final event; the output is partial", request_id=rid
            )
    return 0


def _emit(renderer: Any, ev: ServerSentEvent, rid: str | None) -> bool:
    """Print one event; True when it is the stream's normal end."""
    data = ev.data
    if data.strip() == "[DONE]":
        return True
    if ev.event == "done":
        return True
    try:
        payload = json.loads(data) if data else None
    except ValueError:
        renderer.event(data)
        return False
    renderer.event(payload, raw=data if "\n" not in data else None)
    etype = payload.get("type") if isinstance(payload, dict) else None
    if (
        ev.event == "error"
        or etype in FAILED_EVENTS
        or (isinstance(payload, dict) and payload.get("error") and etype is None)
    ):
        message = _event_error(payload)
        raise StreamError(f"the stream reported an error: {message}", request_id=rid)
    return bool(
        isinstance(etype, str)
        and (etype.endswith(".completed") or etype.endswith(".done"))
        and (etype.startswith("response.") and etype.count(".") == 1)
    )


def _event_error(payload: Any) -> str:
    if isinstance(payload, dict):
        err = payload.get("error") or (payload.get("response") or {}).get("error")
        if isinstance(err, dict):
            return str(err.get("message") or err.get("code") or err)
        if err:
            return str(err)
        if payload.get("type"):
            return str(payload["type"])
    return str(payload)[:200]


# -- dry run ------------------------------------------------------------------------


def dry_run(factory: Factory, req: Request) -> int:
    """Show the request with the key masked; nothing is sent and no key is needed."""
    settings = factory.settings()
    base = settings.base_url.value.rstrip("/")
    import httpx

    url = str(httpx.URL(base + req.path, params=flatten(req.query)))
    var = "OPENAI_ADMIN_KEY" if req.admin else "OPENAI_API_KEY"
    headers = {"Authorization": f"Bearer ${var}"}
    if settings.organization.value:
        headers["OpenAI-Organization"] = settings.organization.value
    if settings.project.value and not req.admin:
        headers["OpenAI-Project"] = settings.project.value
    headers.update(req.headers)
    if req.stream:
        headers["Accept"] = "text/event-stream"
    curl = ["curl", "-X", req.method, url]
    for k, v in headers.items():
        curl += ["-H", f"{k}: {v}"]
    shown: dict[str, Any] = {"method": req.method, "url": url, "headers": headers}
    if req.multipart:
        form = flatten(req.body or {})
        shown["multipart"] = {
            "fields": [list(f) for f in form],
            "files": {f.field: f.filename for f in req.files},
        }
        for k, v in form:
            curl += ["-F", f"{k}={v}"]
        for f in req.files:
            curl += ["-F", f"{f.field}=@{f.filename}"]
    elif req.body is not None:
        shown["body"] = req.body
        headers["Content-Type"] = "application/json"
        curl += ["-H", "Content-Type: application/json", "-d", json.dumps(req.body)]
    shown["curl"] = " ".join(
        shlex.quote(p).replace(f"'Authorization: Bearer ${var}'", f'"Authorization: Bearer ${var}"')
        for p in curl
    )
    factory.renderer().answer(shown)
    return 0
