"""The one runner: sends a :class:`Call`'s request, follows pages, reads streams, saves bytes.

Every API command, generated or hand-written, ends here, so retries, pagination,
streams, downloads, ``--dry-run`` and error handling behave the same everywhere.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from openai_cli import writer
from openai_cli.config.settings_table import ENV_NAMES
from openai_cli.errors import NothingSaved, OutputError, ProtocolError, UsageError
from openai_cli.http.client import read_answer
from openai_cli.http.redact import redact_url
from openai_cli.input.outputs import STDOUT, check_outputs
from openai_cli.operations.curl import Curl
from openai_cli.operations.request import Answer, Call, Request, flatten
from openai_cli.operations.schemas import check_request
from openai_cli.operations.send import answer_json, build_offline, open_response, send
from openai_cli.operations.streams import Sink, StreamEvent, consume
from openai_cli.progress import download_progress
from openai_cli.terminal import json_escape
from openai_cli.textfmt import count

if TYPE_CHECKING:
    import httpx

    from openai_cli.config.secrets import KeyKind
    from openai_cli.io import IO
    from openai_cli.operations.deps import Deps, Printer

JSON_TYPES = ("application/json", "text/json")
DOWNLOAD_CHUNK = 1 << 16


def execute(factory: Deps, call: Call, *, nothing: str | None = None) -> int:
    """Send the call's request and print, page, stream or save its answer.

    ``nothing`` names what a helper asked to save ("audio", "video"): an answer
    without a byte of it fails (exit 7) rather than leaving an empty file.
    """
    # An unknown -o or a malformed --query is a usage error (2), and 2 promises that
    # nothing was sent: find it out before the request rather than after the answer.
    factory.renderer()
    req, how = call.request, call.answer
    if how.max_items is not None and how.max_items < 1:
        raise UsageError("--max-items: must be at least 1")
    (to_file,) = check_outputs(("--output-file", how.output_file))
    if how.binary and not to_file and factory.io.stdout_tty and not req.stream:
        raise UsageError(
            "this operation answers with raw bytes: give -O/--output-file PATH (or pipe stdout)"
        )
    if factory.shared.dry_run:
        return dry_run(factory, req, how)
    client = factory.client(admin=req.admin)
    if req.stream:
        return _stream(factory, req)
    if how.pagination and (how.all_pages or how.max_items is not None):
        factory.renderer().pages(_pages(factory, req, how))
        return 0
    with open_response(client, req) as resp:
        if req.method == "DELETE" and resp.is_success:
            # The object is gone even when the answer is empty: its ID leaves the cache.
            factory.seen.forget(unquote(req.path.rstrip("/").rsplit("/", 1)[-1]))
        ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
        if how.binary or (how.binary is None and not _is_text(ctype)) or how.output_file:
            return _save(factory, how, resp, nothing)
        read_answer(resp)
    return _print_answer(factory, resp)


def _is_text(ctype: str) -> bool:
    return ctype in JSON_TYPES or ctype.startswith("text/") or ctype.endswith("+json") or not ctype


def _print_answer(factory: Deps, resp: httpx.Response) -> int:
    ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
    if not resp.content:
        return 0
    if ctype in JSON_TYPES or ctype.endswith("+json") or not ctype:
        factory.renderer().answer(answer_json(resp), raw=resp.text)
    else:
        # Plain text answers (transcripts as text, srt, vtt) go out as they are.
        out = factory.io.out
        out.write(resp.text if resp.text.endswith("\n") else resp.text + "\n")
        out.flush()
    return 0


def download(
    io: IO,
    resp: httpx.Response,
    path: str | os.PathLike[str],
    label: str,
    *,
    nothing: str | None = None,
) -> int:
    """Stream ``resp``'s body into ``path`` with progress; returns the byte count.

    The bytes go to a temporary file renamed over ``path`` only when complete
    (:mod:`openai_cli.writer`): a partial download must never pass for the whole
    file. With ``nothing`` (what the bytes are, "audio"), an empty body is an error
    and leaves any old file as it was.
    """
    total = 0
    try:
        with writer.replace(path) as out, download_progress(io, resp, label) as bar:
            for chunk in resp.iter_bytes(DOWNLOAD_CHUNK):
                out.write(chunk)
                total += len(chunk)
                bar.advance(len(chunk))
            if nothing and not total:
                raise NothingSaved(f"the answer holds no {nothing}; nothing was written to {label}")
    except OSError as exc:
        # The answer was paid for: a file that cannot take it is an output error.
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return total


def _save(factory: Deps, how: Answer, resp: httpx.Response, nothing: str | None) -> int:
    io = factory.io
    if how.output_file and how.output_file != STDOUT:
        total = download(io, resp, how.output_file, how.output_file, nothing=nothing)
        io.message(f"saved {count(total, 'byte')} to {how.output_file}")
        return 0
    if io.stdout_tty:
        raise UsageError("the answer is raw bytes: give -O/--output-file PATH (or pipe stdout)")
    sink = io.stdout_bytes
    total = 0
    with download_progress(io, resp, "stdout") as bar:
        for chunk in resp.iter_bytes(DOWNLOAD_CHUNK):
            sink.write(chunk)
            total += len(chunk)
            bar.advance(len(chunk))
    sink.flush()
    if nothing and not total:
        raise NothingSaved(f"the answer holds no {nothing}; nothing was written to stdout")
    return 0


# -- pagination ---------------------------------------------------------------------


def _pages(factory: Deps, req: Request, how: Answer) -> Iterator[Any]:
    client = factory.client(admin=req.admin)
    query = dict(req.query)
    remaining = how.max_items
    seen_cursors: set[str] = set()
    while True:
        if remaining is not None and "limit" not in req.query and how.pagination == "cursor":
            query["limit"] = min(remaining, 100)
        page = answer_json(send(client, replace(req, query=dict(query))))
        if not isinstance(page, dict):
            yield page
            return
        items = page.get("data")
        if not isinstance(items, list):
            yield page
            return
        cursor = _next_cursor(how.pagination, page)
        # A page that ends where an earlier one did is that page again: stop before
        # printing its items a second time.
        if cursor is not None and cursor in seen_cursors:
            raise ProtocolError(
                f"pagination did not advance (cursor {cursor!r} came back twice); stopping"
            )
        if remaining is not None:
            if len(items) >= remaining:
                yield {**page, "data": items[:remaining]}
                return
            remaining -= len(items)
        yield page
        if cursor is None:
            return
        seen_cursors.add(cursor)
        if how.pagination == "page":
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


class EventLines(Sink):
    """Each event as one JSON line, exactly as sent when it is one line of JSON."""

    def __init__(self, renderer: Printer) -> None:
        self.renderer = renderer

    def event(self, ev: StreamEvent) -> None:
        if not ev.is_json:
            self.renderer.event(ev.data)
            return
        self.renderer.event(ev.payload, raw=ev.data if "\n" not in ev.data else None)


def _stream(factory: Deps, req: Request) -> int:
    return stream_events(factory, req, EventLines(factory.renderer()))


def stream_events(
    factory: Deps,
    req: Request,
    sink: Sink,
    answer: Callable[[httpx.Response], int] | None = None,
) -> int:
    """Send ``req`` asking for events and hand them to ``sink``.

    A server may answer a stream request with one JSON body instead (or cannot
    stream that operation): ``answer`` gets that response, read, and by default
    it is printed like any other answer.
    """
    client = factory.client(admin=req.admin)
    with open_response(client, req) as resp:
        rid = resp.headers.get("x-request-id")
        ctype = resp.headers.get("content-type", "")
        if "text/event-stream" not in ctype:
            read_answer(resp)
            return answer(resp) if answer is not None else _print_answer(factory, resp)
        consume(resp.iter_bytes(), sink, request_id=rid, request=req)
    return 0


# -- dry run ------------------------------------------------------------------------


def dry_run(factory: Deps, req: Request, how: Answer) -> int:
    """Show the request with the key masked; nothing is sent and no key is needed.

    What is shown is the request the HTTP client builds for a send (URL, the
    profile's query and headers, the Idempotency-Key), with a placeholder for the
    key: one description of a request, not a second one that could drift.
    On a terminal: a curl command to copy, the JSON body pretty-printed in it; with
    any other output (piped, ``-o``, ``--query``) the request as one JSON object,
    which scripts read.
    """
    check_request(factory, req, validate=how.validate)
    settings = factory.settings()
    kind: KeyKind = "admin_key" if req.admin else "api_key"
    var = ENV_NAMES[kind]
    built, common = build_offline(settings, factory.io, req, f"${var}")
    url = redact_url(str(built.url))
    auth = settings.auth_header_template(f"${var}")
    headers = _shown_headers(built, common, multipart=req.multipart)
    renderer = factory.renderer()
    terminal = renderer.effective == "pretty" and renderer.query is None
    curl = Curl(req.method, url)
    if terminal and req.stream:
        curl.option("-N")  # each event as it arrives
    for k, v in headers.items():
        if k in auth:
            curl.secret_header(k, v.removesuffix(f"${var}"), var)
        else:
            curl.header(k, v)
    shown: dict[str, Any] = {"method": req.method, "url": url, "headers": headers}
    body_text = _show_body(req, shown, curl, terminal=terminal)
    if terminal and how.output_file and how.output_file != STDOUT:
        curl.option("-o", how.output_file)
    _note_key(factory, settings.key_place(kind), var, admin=req.admin)
    if not terminal:
        shown["curl"] = curl.line()
        renderer.answer(shown)
        return 0
    text = curl.text()
    if body_text is not None:
        # The body as a here-document: pretty-printed, and still one command to copy.
        # No line of indented JSON can be the bare word that ends it.
        text += f" <<'JSON'\n{body_text}\nJSON"
    out = factory.io.out
    out.write(text + "\n")
    out.flush()
    return 0


def _show_body(req: Request, shown: dict[str, Any], curl: Curl, *, terminal: bool) -> str | None:
    """Add the body to what the dry run shows and to its curl command. On a terminal a
    JSON body is returned pretty-printed, to follow the command as its stdin."""
    if req.multipart:
        form = flatten(req.body or {})
        shown["multipart"] = {
            "fields": [list(f) for f in form],
            # Pairs, like the fields: several files may share one name (``image[]``).
            "files": [[f.field, f.filename] for f in req.files],
        }
        for k, v in form:
            curl.field(k, v)
        for f in req.files:
            if f.filename:
                curl.file(f.field, f.path if f.replayable else None, f.filename)
            else:
                # A typed part (a JSON field): its value is built in memory.
                with f.opener() as fh:
                    value = fh.read().decode("utf-8", "replace")
                curl.typed_part(f.field, value, f.content_type)
    elif req.body is not None:
        shown["body"] = req.body
        if terminal:
            curl.option("--data-binary", "@-")
            return json_escape(json.dumps(req.body, indent=2, ensure_ascii=False))
        curl.option("-d", json.dumps(req.body))
    return None


# Headers about how the bytes travel, which curl (or the HTTP library) decides for
# itself; a form's Content-Type names a boundary drawn anew for every send.
_TRANSPORT_HEADERS = frozenset({"host", "content-length"})


def _shown_headers(
    built: httpx.Request, common: httpx.Headers, *, multipart: bool
) -> dict[str, str]:
    """The headers this request adds to those every request carries, as they are spelt."""
    out: dict[str, str] = {}
    for raw_name, raw_value in built.headers.raw:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        low = name.lower()
        if low in _TRANSPORT_HEADERS or common.get(low) == value:
            continue
        if multipart and low == "content-type":
            continue
        out[name] = value
    return out


def _note_key(factory: Deps, place: str, var: str, *, admin: bool) -> None:
    """Say how to put the key in ``$var`` when it does not come from there."""
    if place == "env":
        return
    settings = factory.settings()
    label = "admin key" if admin else "API key"
    if place == "none":
        if settings.api_key_optional.value:
            return
        factory.io.message(
            f"oai: no {label} is set; the curl command reads it from ${var}"
            f" (`oai auth login{' --admin' if admin else ''}` stores one)"
        )
        return
    token = f"oai --profile {shlex.quote(str(settings.profile.value))} auth token"
    token += " --admin" if admin else ""
    kind = "admin_key" if admin else "api_key"
    if settings.api_key_optional.value and not settings.config.profile(
        str(settings.profile.value)
    ).get(kind):
        # The usual gateway profile: no key at all. The keyring is not read here, so
        # one kept there is mentioned, not assumed.
        factory.io.message(
            f"oai: profile '{settings.profile.value}' has no {label} in its file and needs"
            f" none (api_key_optional); one kept in the OS keyring would be sent: `{token}`"
            " prints it"
        )
        return
    factory.io.message(
        f"oai: the {label} is in profile '{settings.profile.value}' (its file or the OS"
        f" keyring), not in ${var}; to run the curl command: export {var}=$({token})"
    )
