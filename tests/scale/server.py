"""A small stateful stand-in for the OpenAI API: files, uploads, batches, rate limits.

Steady checks that requests match the spec but keeps no state, so it cannot show
that a resumed upload sends no part twice or that a batch run joins results by
``custom_id``. This server does, in memory (or counting bytes only, with
``discard=True``, for the multi-gigabyte benchmarks), on 127.0.0.1:

- ``/files`` (multipart upload, list, retrieve, content, delete);
- ``/uploads`` create, parts (multipart ``data``), complete (order and MD5 checked),
  cancel; parts are parsed as a stream, so a 64 MB part is never held whole when
  discarding;
- ``/batches`` create, list (with metadata), retrieve, cancel: a batch moves on
  one status per poll and, after ``polls_to_finish`` polls, writes an output file
  (in reverse input order, as nothing promises order) and an error file for the
  lines whose body has ``"fail": true``;
- any other ``POST`` answers ``{"echo": body}`` behind a token-bucket rate limit
  that reports ``x-ratelimit-*`` headers as the API does and answers 429 when empty.

Tests steer it through its attributes (``polls_to_finish``, ``batch_outcome``,
``hold``...) and read what it saw (``log``, ``parts``, ``files``, ``batches``).
Run ``python -m tests.scale.server`` to serve it for the benchmarks.
"""

from __future__ import annotations

import argparse
import builtins
import hashlib
import itertools
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

MiB = 1024 * 1024
FILES_LIMIT = 512 * 1000 * 1000
UPLOAD_LIMIT = 8 * 1024 * MiB
PART_LIMIT = 64 * MiB


# -- multipart, streamed -----------------------------------------------------------


def parse_multipart(
    read: Callable[[int], bytes],
    boundary: bytes,
    on_part: Callable[[dict[str, str]], Callable[[bytes], None]],
) -> None:
    """Feed each part of a multipart body to the writer ``on_part(headers)`` returns."""
    dash = b"--" + boundary
    delim = b"\r\n" + dash
    buf = bytearray()
    eof = False

    def fill() -> None:
        nonlocal eof
        chunk = read(1 << 20)
        if not chunk:
            eof = True
        buf.extend(chunk)

    while (i := buf.find(dash)) < 0:
        if eof:
            raise ValueError("no multipart boundary")
        fill()
    del buf[: i + len(dash)]
    while True:
        while len(buf) < 2 and not eof:
            fill()
        if buf[:2] == b"--":
            return
        del buf[:2]
        while (j := buf.find(b"\r\n\r\n")) < 0:
            if eof:
                raise ValueError("truncated part headers")
            fill()
        headers: dict[str, str] = {}
        for line in bytes(buf[:j]).decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        del buf[: j + 4]
        write = on_part(headers)
        keep = len(delim) - 1
        while True:
            k = buf.find(delim)
            if k >= 0:
                write(bytes(buf[:k]))
                del buf[: k + len(delim)]
                break
            if len(buf) > keep:
                write(bytes(buf[:-keep]))
                del buf[:-keep]
            if eof:
                raise ValueError("truncated part")
            fill()


def _disposition(headers: dict[str, str]) -> dict[str, str]:
    out = {}
    for item in headers.get("content-disposition", "").split(";")[1:]:
        key, _, value = item.strip().partition("=")
        out[key] = value.strip('"')
    return out


class _Collect:
    """One part's bytes: kept, or only counted and hashed."""

    def __init__(self, keep: bool, hash: bool = True) -> None:
        self.keep = keep
        self.data = bytearray()
        self.size = 0
        self.md5 = hashlib.md5() if hash else None

    def __call__(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.md5 is not None:
            self.md5.update(chunk)
        if self.keep:
            self.data.extend(chunk)


# -- state -------------------------------------------------------------------------


@dataclass
class FileRec:
    id: str
    filename: str
    purpose: str
    bytes: int
    created_at: int
    content: builtins.bytes | None  # None when discarded

    def obj(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": self.bytes,
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "expires_at": None,
        }


@dataclass
class PartRec:
    id: str
    upload_id: str
    size: int
    md5: str
    data: bytes | None


@dataclass
class UploadRec:
    id: str
    filename: str
    purpose: str
    bytes: int
    mime_type: str
    created_at: int
    expires_at: int
    status: str = "pending"
    file: FileRec | None = None

    def obj(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "upload",
            "bytes": self.bytes,
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": self.status,
            "expires_at": self.expires_at,
            "file": self.file.obj() if self.file else None,
        }


@dataclass
class BatchRec:
    id: str
    input_file_id: str
    endpoint: str
    completion_window: str
    metadata: dict[str, Any] | None
    created_at: int
    status: str = "validating"
    polls: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None
    counts: dict[str, int] = field(
        default_factory=lambda: {"total": 0, "completed": 0, "failed": 0}
    )
    errors: dict[str, Any] | None = None

    def obj(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "errors": self.errors,
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": self.created_at,
            "request_counts": dict(self.counts),
            "metadata": self.metadata,
        }


class RateLimit:
    """A token bucket of ``limit`` requests refilled in ``window`` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.rate = limit / window
        self.tokens = float(limit)
        self.stamp = time.monotonic()
        self.lock = threading.Lock()
        self.accepted = 0
        self.rejected = 0

    def take(self) -> tuple[bool, dict[str, str]]:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.limit, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            ok = self.tokens >= 1
            if ok:
                self.tokens -= 1
                self.accepted += 1
            else:
                self.rejected += 1
            reset = (self.limit - self.tokens) / self.rate
            headers = {
                "x-ratelimit-limit-requests": str(self.limit),
                "x-ratelimit-remaining-requests": str(math.floor(self.tokens)),
                "x-ratelimit-reset-requests": f"{reset:.3f}s",
            }
            return ok, headers


class ApiState:
    def __init__(self, *, discard: bool = False, no_limits: bool = False) -> None:
        self.discard = discard
        self.no_limits = no_limits  # benchmarks: take any size through /files
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.request_ids = itertools.count(1)
        self.files: dict[str, FileRec] = {}
        self.uploads: dict[str, UploadRec] = {}
        self.parts: dict[str, PartRec] = {}
        self.batches: dict[str, BatchRec] = {}
        self.vector_store_files: dict[tuple[str, str], dict[str, Any]] = {}
        self.log: list[tuple[str, str]] = []
        # Knobs.
        self.polls_to_finish = 2
        self.batch_outcome = "completed"  # or failed, expired, cancelled
        self.expire_after_lines = 0  # with "expired": lines processed before it
        self.rate: RateLimit | None = None
        self.echo_delay = 0.0
        self.part_delay = 0.0
        self.active_parts = 0
        self.most_active_parts = 0  # parts received at once, at most
        # Faults, keyed by "METHOD /path" prefix (the path without /v1):
        # statuses to answer, in turn, instead of handling the request (None: handle
        # it); ``faults`` answer with x-should-retry: false, ``flaky`` let the client
        # retry as it would;
        self.faults: dict[str, list[int | None]] = {}
        self.flaky: dict[str, list[int | None]] = {}
        # requests handled whose answer is then lost (the connection closes);
        self.lose: dict[str, int] = {}
        # requests to let through before the rest are held: a held request never
        # gets an answer and is never handled (``held`` counts them).
        self.hold: dict[str, int] = {}
        self.held: dict[str, int] = {}
        self.release = threading.Event()
        # Idempotency-Key -> (status, body) of a POST already handled.
        self.replies: dict[str, tuple[int, Any]] = {}

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids):06d}"

    def count(self, method: str, prefix: str) -> int:
        return sum(1 for m, p in self.log if m == method and p.startswith(prefix))


# -- the handler -------------------------------------------------------------------


class _Reply(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _page(items: list[dict[str, Any]], query: dict[str, str], *, default_limit: int) -> Any:
    """One page of a list, after the ``after`` cursor, as the API pages."""
    after = query.get("after")
    if after is not None:
        ids = [x["id"] for x in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    limit = int(query.get("limit", str(default_limit)))
    data = items[:limit]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": len(items) > limit,
    }


def _error(status: int, message: str, code: str | None = None) -> _Reply:
    return _Reply(
        status,
        {"error": {"message": message, "type": "invalid_request_error", "code": code}},
    )


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm the second
    # waits for the client's delayed ACK, 40 ms a request.
    disable_nagle_algorithm = True
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def st(self) -> ApiState:
        return self.server.state

    # -- plumbing ----------------------------------------------------------------

    def _reader(self) -> Callable[[int], bytes]:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            pending = bytearray()
            done = False

            def read_chunked(n: int) -> bytes:
                nonlocal done
                while not done and len(pending) < n:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        done = True
                        break
                    pending.extend(self.rfile.read(size))
                    self.rfile.readline()
                out = bytes(pending[:n])
                del pending[:n]
                return out

            return read_chunked
        left = int(self.headers.get("content-length") or 0)

        def read(n: int) -> bytes:
            nonlocal left
            if left <= 0:
                return b""
            data = self.rfile.read(min(n, left))
            left -= len(data)
            return data

        return read

    def _drain(self, read: Callable[[int], bytes]) -> None:
        while read(1 << 20):
            pass

    def _json_body(self) -> Any:
        read = self._reader()
        data = bytearray()
        while chunk := read(1 << 20):
            data.extend(chunk)
        try:
            return json.loads(data) if data else None
        except ValueError:
            raise _error(400, "invalid JSON body") from None

    def _multipart(self, keep_files: bool) -> tuple[dict[str, str], dict[str, _Collect]]:
        ctype = self.headers.get("content-type", "")
        if "boundary=" not in ctype:
            raise _error(400, "expected multipart/form-data")
        boundary = ctype.split("boundary=", 1)[1].split(";")[0].strip('"').encode()
        fields: dict[str, str] = {}
        files: dict[str, _Collect] = {}

        def on_part(headers: dict[str, str]) -> Callable[[bytes], None]:
            disp = _disposition(headers)
            name = disp.get("name", "")
            if "filename" in disp:
                c = _Collect(keep_files, hash=keep_files or not self.st.discard)
                files[name] = c
                fields[f"{name}.filename"] = disp["filename"]
                return c
            box = _Collect(True, hash=False)

            def write(chunk: bytes) -> None:
                box(chunk)
                fields[name] = box.data.decode()

            fields[name] = ""
            return write

        try:
            parse_multipart(self._reader(), boundary, on_part)
        except ValueError as exc:
            raise _error(400, f"bad multipart body: {exc}") from None
        return fields, files

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        ctype = "application/octet-stream" if isinstance(body, bytes) else "application/json"
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(data)))
        self.send_header("x-request-id", f"req_{next(self.st.request_ids)}")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path
        if not path.startswith("/v1/"):
            self._send(404, {"error": {"message": f"no route {path}"}})
            return
        path = path[3:]
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        st = self.st
        key = f"{method} {path}"
        idem = self.headers.get("idempotency-key") if method == "POST" else None
        with st.lock:
            st.log.append((method, path))
            status, retry = None, False
            for table, retryable in ((st.faults, False), (st.flaky, True)):
                queue = next((v for k, v in table.items() if key.startswith(k) and v), None)
                if queue:
                    status, retry = queue.pop(0), retryable
                    break
            held = None
            for prefix in st.hold:
                if key.startswith(prefix):
                    if st.hold[prefix] > 0:
                        st.hold[prefix] -= 1
                    else:
                        held = prefix
                        st.held[prefix] = st.held.get(prefix, 0) + 1
            cached = st.replies.get(idem) if idem else None
        if held is not None:
            st.release.wait()
            self.close_connection = True
            return
        if status is not None:
            self._drain(self._reader())
            self._send(
                status,
                {"error": {"message": f"injected {status}", "type": "server"}},
                ({} if retry else {"x-should-retry": "false"})
                | ({"retry-after-ms": "20"} if status == 429 else {}),
            )
            return
        if cached is not None:
            self._drain(self._reader())
            self._send(*cached)
            return
        try:
            body, headers = self._route(method, path, query)
        except _Reply as r:
            self._send(r.status, r.body, r.headers)
            return
        with st.lock:
            if idem:
                st.replies[idem] = (200, body)
            lose = next((k for k, n in st.lose.items() if key.startswith(k) and n > 0), None)
            if lose is not None:
                st.lose[lose] -= 1
        if lose is not None:
            self.close_connection = True
            return
        self._send(200, body, headers)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # -- routes --------------------------------------------------------------------

    def _route(
        self, method: str, path: str, query: dict[str, str]
    ) -> tuple[Any, dict[str, str] | None]:
        st = self.st
        parts = path.strip("/").split("/")
        if parts[0] == "files":
            return self._files(method, parts, query), None
        if parts[0] == "uploads":
            return self._uploads(method, parts), None
        if parts[0] == "batches":
            return self._batches(method, parts, query), None
        if parts[0] == "vector_stores" and len(parts) >= 3 and parts[2] == "files":
            return self._vector_store_files(method, parts), None
        if parts[0] == "_stats" and method == "GET":
            rate = st.rate
            return {
                "accepted": rate.accepted if rate else None,
                "rejected": rate.rejected if rate else None,
            }, None
        if method == "POST":
            body = self._json_body()
            headers: dict[str, str] = {}
            if st.rate is not None:
                ok, headers = st.rate.take()
                if not ok:
                    raise _Reply(
                        429,
                        {
                            "error": {
                                "message": "Rate limit reached for requests",
                                "type": "requests",
                                "code": "rate_limit_exceeded",
                            }
                        },
                        headers,
                    )
            delay = body.get("sleep") if isinstance(body, dict) else None
            if isinstance(delay, (int, float)) or st.echo_delay:
                time.sleep(delay if isinstance(delay, (int, float)) else st.echo_delay)
            if isinstance(body, dict) and body.get("fail"):
                raise _error(400, "this request was asked to fail", "asked_to_fail")
            return {"object": "echo", "path": path, "echo": body}, headers
        raise _error(404, f"no route {method} {path}")

    def _files(self, method: str, parts: list[str], query: dict[str, str]) -> Any:
        st = self.st
        if method == "POST" and len(parts) == 1:
            fields, files = self._multipart(keep_files=not st.discard)
            f = files.get("file")
            if f is None or not fields.get("purpose"):
                raise _error(400, "file and purpose are required")
            if f.size > FILES_LIMIT and not st.no_limits:
                raise _error(400, "files are at most 512 MB; use the Uploads API")
            rec = FileRec(
                st.new_id("file-"),
                fields.get("file.filename", "upload"),
                fields["purpose"],
                f.size,
                int(time.time()),
                bytes(f.data) if f.keep else None,
            )
            with st.lock:
                st.files[rec.id] = rec
            return rec.obj()
        if method == "GET" and len(parts) == 1:
            with st.lock:
                items = [f for f in st.files.values() if query.get("purpose") in (None, f.purpose)]
            items.sort(key=lambda f: f.id, reverse=query.get("order", "desc") == "desc")
            return _page([f.obj() for f in items], query, default_limit=10000)
        found = st.files.get(parts[1]) if len(parts) > 1 else None
        if found is None:
            raise _error(404, "no such file")
        rec = found
        if len(parts) == 2 and method == "GET":
            return rec.obj()
        if len(parts) == 2 and method == "DELETE":
            with st.lock:
                del st.files[rec.id]
            return {"id": rec.id, "object": "file", "deleted": True}
        if len(parts) == 3 and parts[2] == "content" and method == "GET":
            if rec.content is None:
                raise _error(400, "content not kept")
            return rec.content
        raise _error(404, "no such route")

    def _uploads(self, method: str, parts: list[str]) -> Any:
        st = self.st
        if method == "POST" and len(parts) == 1:
            body = self._json_body()
            if not isinstance(body, dict):
                raise _error(400, "expected a JSON object")
            missing = [k for k in ("filename", "purpose", "bytes", "mime_type") if k not in body]
            if missing:
                raise _error(400, f"missing {', '.join(missing)}")
            if body["bytes"] > UPLOAD_LIMIT:
                raise _error(400, "uploads are at most 8 GB")
            now = int(time.time())
            rec = UploadRec(
                st.new_id("upload_"),
                body["filename"],
                body["purpose"],
                int(body["bytes"]),
                body["mime_type"],
                now,
                now + 3600,
            )
            with st.lock:
                st.uploads[rec.id] = rec
            return rec.obj()
        up = st.uploads.get(parts[1]) if len(parts) > 1 else None
        if up is None:
            self._drain(self._reader())
            raise _error(404, "no such upload")
        action = parts[2] if len(parts) > 2 else ""
        if action == "parts" and method == "POST":
            with st.lock:
                st.active_parts += 1
                st.most_active_parts = max(st.most_active_parts, st.active_parts)
            try:
                _, files = self._multipart(keep_files=not st.discard)
                if st.part_delay:
                    time.sleep(st.part_delay)
            finally:
                with st.lock:
                    st.active_parts -= 1
            data = files.get("data")
            if data is None:
                raise _error(400, "data is required")
            if up.status != "pending":
                raise _error(400, f"upload is {up.status}")
            if data.size > PART_LIMIT:
                raise _error(400, "parts are at most 64 MB")
            part = PartRec(
                st.new_id("part_"),
                up.id,
                data.size,
                data.md5.hexdigest() if data.md5 else "",
                bytes(data.data) if data.keep else None,
            )
            with st.lock:
                st.parts[part.id] = part
            return {
                "id": part.id,
                "object": "upload.part",
                "created_at": int(time.time()),
                "upload_id": up.id,
            }
        if action == "complete" and method == "POST":
            body = self._json_body() or {}
            ids = body.get("part_ids") or []
            parts_ = [st.parts.get(i) for i in ids]
            if any(p is None or p.upload_id != up.id for p in parts_):
                raise _error(400, "unknown part id")
            total = sum(p.size for p in parts_ if p)
            if total != up.bytes:
                raise _error(400, f"parts hold {total} bytes, the upload declared {up.bytes}")
            content = None
            if not st.discard:
                content = b"".join(p.data or b"" for p in parts_ if p)
                if body.get("md5") and hashlib.md5(content).hexdigest() != body["md5"]:
                    raise _error(400, "md5 does not match the parts")
            up.status = "completed"
            up.file = FileRec(
                st.new_id("file-"), up.filename, up.purpose, up.bytes, int(time.time()), content
            )
            with st.lock:
                st.files[up.file.id] = up.file
            return up.obj()
        if action == "cancel" and method == "POST":
            self._drain(self._reader())
            up.status = "cancelled"
            return up.obj()
        raise _error(404, "no such route")

    def _batches(self, method: str, parts: list[str], query: dict[str, str]) -> Any:
        st = self.st
        if method == "POST" and len(parts) == 1:
            body = self._json_body()
            if not isinstance(body, dict):
                raise _error(400, "expected a JSON object")
            f = st.files.get(body.get("input_file_id", ""))
            if f is None:
                raise _error(400, "input file not found")
            rec = BatchRec(
                st.new_id("batch_"),
                f.id,
                body.get("endpoint", ""),
                body.get("completion_window", ""),
                body.get("metadata"),
                int(time.time()),
            )
            with st.lock:
                st.batches[rec.id] = rec
            return rec.obj()
        if method == "GET" and len(parts) == 1:
            with st.lock:
                items = sorted(st.batches.values(), key=lambda b: b.id, reverse=True)
            return _page([b.obj() for b in items], query, default_limit=20)
        b = st.batches.get(parts[1]) if len(parts) > 1 else None
        if b is None:
            raise _error(404, "no such batch")
        if len(parts) == 2 and method == "GET":
            with st.lock:
                self._advance(b)
            return b.obj()
        if len(parts) == 3 and parts[2] == "cancel" and method == "POST":
            self._drain(self._reader())
            b.status = "cancelled"
            return b.obj()
        raise _error(404, "no such route")

    def _vector_store_files(self, method: str, parts: list[str]) -> Any:
        st = self.st
        vs = parts[1]
        if method == "POST" and len(parts) == 3:
            body = self._json_body() or {}
            file_id = body.get("file_id")
            if file_id not in st.files:
                raise _error(400, "no such file")
            obj = {
                "id": file_id,
                "object": "vector_store.file",
                "status": "in_progress",
                "vector_store_id": vs,
                "attributes": body.get("attributes"),
                "polls": 0,
            }
            with st.lock:
                st.vector_store_files[(vs, file_id)] = obj
            return {k: v for k, v in obj.items() if k != "polls"}
        known = st.vector_store_files.get((vs, parts[3])) if len(parts) == 4 else None
        if known is None or method != "GET":
            raise _error(404, "no such vector store file")
        obj = known
        with st.lock:
            obj["polls"] += 1
            if obj["polls"] >= st.polls_to_finish:
                obj["status"] = "completed"
        return {k: v for k, v in obj.items() if k != "polls"}

    def _advance(self, b: BatchRec) -> None:
        st = self.st
        if b.status in ("completed", "failed", "expired", "cancelled"):
            return
        b.polls += 1
        if b.polls < st.polls_to_finish:
            b.status = "in_progress"
            return
        f = st.files[b.input_file_id]
        lines = [json.loads(x) for x in (f.content or b"").splitlines() if x.strip()]
        b.counts["total"] = len(lines)
        outcome = st.batch_outcome
        if outcome == "failed":
            b.status = "failed"
            b.errors = {
                "object": "list",
                "data": [{"code": "invalid_request", "message": "asked to fail", "line": 1}],
            }
            return
        if outcome == "expired":
            lines = lines[: st.expire_after_lines]
        out, err = [], []
        for line in lines:
            body = line.get("body") or {}
            rid = st.new_id("req_")
            record: dict[str, Any] = {
                "id": st.new_id("batch_req_"),
                "custom_id": line["custom_id"],
                "error": None,
            }
            if body.get("fail"):
                record["response"] = {
                    "status_code": 400,
                    "request_id": rid,
                    "body": {"error": {"message": "asked to fail", "type": "invalid_request"}},
                }
                err.append(record)
            else:
                record["response"] = {
                    "status_code": 200,
                    "request_id": rid,
                    "body": {
                        "object": "echo",
                        "model": body.get("model"),
                        "echo": body,
                        "usage": {"prompt_tokens": 1000, "completion_tokens": 10},
                    },
                }
                out.append(record)
        out.reverse()
        for kind, records in (("output", out), ("error", err)):
            if not records:
                continue
            content = b"".join(json.dumps(r).encode() + b"\n" for r in records)
            rec = FileRec(
                st.new_id("file-"),
                f"batch_{b.id}_{kind}.jsonl",
                f"batch_{kind}",
                len(content),
                int(time.time()),
                content,
            )
            st.files[rec.id] = rec
            setattr(b, f"{kind}_file_id", rec.id)
        b.counts["completed"] = len(out)
        b.counts["failed"] = len(err)
        b.status = outcome


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: ApiState, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.state = state

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


def start(state: ApiState | None = None, port: int = 0) -> Server:
    server = Server(state or ApiState(), port)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--discard", action="store_true", help="count uploaded bytes only")
    parser.add_argument("--no-limits", action="store_true", help="any size through /files")
    parser.add_argument("--rate", help="LIMIT/SECONDS, e.g. 50/1 for 50 requests a second")
    args = parser.parse_args()
    state = ApiState(discard=args.discard, no_limits=args.no_limits)
    if args.rate:
        limit, _, window = args.rate.partition("/")
        state.rate = RateLimit(int(limit), float(window or 60))
    server = Server(state, args.port)
    print(server.base_url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if state.rate is not None:
            print(
                json.dumps({"accepted": state.rate.accepted, "rejected": state.rate.rejected}),
                flush=True,
            )


if __name__ == "__main__":
    main()
