"""Local HTTP(S) servers that misbehave on purpose, and a forward proxy.

A test plans what each request gets (a queue of actions, optionally per path); the
server records every request with its headers and body, every connection it
accepted, and every client that went away while the server was still busy with
it. Raw sockets are used throughout so an action can do what a well-behaved server
never would: reset the connection in the middle of a body, stall, send garbage,
split a UTF-8 character across two chunks.

Every answer carries ``Connection: close``, so one connection is one request.
Every wait is bounded, and a server shuts itself down after :data:`LIFETIME`
seconds even if a test forgets to, so a broken test can never hang the suite.
"""

from __future__ import annotations

import contextlib
import json as _json
import select
import socket
import ssl
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

LIFETIME = 60.0
IO_TIMEOUT = 10.0
MAX_STALL = 10.0
MAX_HEAD = 64 * 1024
# Bodies above this are not read at all: the request is recorded with its headers.
MAX_BODY = 64 * 1024 * 1024
POLL = 0.02

Headers = Sequence[tuple[str, str]]
End = Literal["finish", "reset", "stall", "close"]


@dataclass
class Recorded:
    """One request as the server received it."""

    method: str
    target: str
    """The request target as sent: ``/v1/models?x=1``, or an absolute URI to a proxy."""
    raw_headers: list[tuple[str, str]]
    body: bytes
    at: float
    """``time.monotonic()`` when the request had been read."""
    body_complete: bool = True

    @property
    def headers(self) -> dict[str, str]:
        """Lower-cased names; a repeated header keeps its last value."""
        return {k.lower(): v for k, v in self.raw_headers}

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query, keep_blank_values=True)

    def json(self) -> Any:
        return _json.loads(self.body)

    def wire_text(self) -> str:
        """Everything that was sent, as text, for checks that something is absent."""
        head = f"{self.method} {self.target}\n"
        head += "".join(f"{k}: {v}\n" for k, v in self.raw_headers)
        return head + self.body.decode("utf-8", "replace")


class ClientGone(Exception):
    """The client closed or reset the connection while the server was sending."""


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        if not data:
            return False
        self.buf += data
        return True

    def until(self, marker: bytes, limit: int) -> bytes | None:
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                out = bytes(self.buf[: i + len(marker)])
                del self.buf[: i + len(marker)]
                return out
            if len(self.buf) > limit or not self._fill():
                return None

    def exact(self, n: int) -> bytes | None:
        while len(self.buf) < n:
            if not self._fill():
                return None
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out


class Exchange:
    """One request on one connection, as seen by the action that answers it."""

    def __init__(self, server: FaultServer, sock: socket.socket, request: Recorded) -> None:
        self.server = server
        self.sock = sock
        self.request = request
        self.closed = False

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as exc:
            self.server._note_gone(self.request)
            raise ClientGone() from exc

    def head(
        self,
        status: int,
        headers: Headers = (),
        *,
        length: int | None = None,
        chunked: bool = False,
        reason: str | None = None,
    ) -> None:
        if reason is None:
            try:
                reason = HTTPStatus(status).phrase
            except ValueError:
                reason = "Status"
        lines = [f"HTTP/1.1 {status} {reason}"]
        lines += [f"{k}: {v}" for k, v in headers]
        if chunked:
            lines.append("Transfer-Encoding: chunked")
        elif length is not None:
            lines.append(f"Content-Length: {length}")
        lines.append("Connection: close")
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))

    def chunk(self, data: bytes) -> None:
        if data:
            self.send(b"%x\r\n" % len(data) + data + b"\r\n")

    def end_chunks(self) -> None:
        self.send(b"0\r\n\r\n")

    def reset(self) -> None:
        """Abort the connection with a TCP RST instead of an orderly close."""
        if self.closed:
            return
        self.closed = True
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            self.sock.close()

    def wait_for_close(self, limit: float = MAX_STALL, *, drain: bool = True) -> bool:
        """Send nothing until the client goes away (True), or ``limit`` runs out (False).

        With ``drain`` false nothing more is read, so a client still uploading blocks
        on a full socket buffer, as it would against a stuck server.
        """
        deadline = time.monotonic() + limit
        poller = select.poll()
        mask = select.POLLIN | select.POLLRDHUP if drain else select.POLLRDHUP
        poller.register(self.sock, mask | select.POLLHUP | select.POLLERR)
        while not self.server.stopping and time.monotonic() < deadline:
            events = poller.poll(POLL * 1000)
            if not events:
                continue
            flags = events[0][1]
            if not drain or not flags & select.POLLIN:
                self.server._note_gone(self.request)
                return True
            try:
                data = self.sock.recv(65536)
            except ssl.SSLWantReadError:
                continue
            except OSError:
                data = b""
            if not data:
                self.server._note_gone(self.request)
                return True
        return False

    def sleep(self, seconds: float) -> None:
        """Pause (bounded by the server's life), for slow servers."""
        end = time.monotonic() + min(seconds, MAX_STALL)
        while not self.server.stopping and time.monotonic() < end:
            time.sleep(min(POLL, max(0.0, end - time.monotonic())))


Action = Callable[[Exchange], None]


@dataclass
class TLSFiles:
    cert: Path
    key: Path


def make_tls(directory: Path) -> TLSFiles:
    """A fresh self-signed certificate for 127.0.0.1 and localhost."""
    from tests import certs

    key = certs.new_key()
    files = TLSFiles(directory / "fault-cert.pem", directory / "fault-key.pem")
    certs.write_cert(
        certs.self_signed_ca(certs.name("oai fault server"), key, local_server=True), files.cert
    )
    certs.write_key(key, files.key)
    return files


@dataclass
class _Gone:
    path: str
    at: float


@dataclass
class FaultServer:
    """A scriptable server on 127.0.0.1; use as a context manager."""

    tls: TLSFiles | None = None
    requests: list[Recorded] = field(default_factory=list)
    gone: list[_Gone] = field(default_factory=list)
    connections: int = 0
    tls_failures: int = 0
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._queues: dict[str | None, deque[Action]] = {}
        self._sticky: dict[str | None, Action] = {}
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(POLL)
        self.port: int = self._listener.getsockname()[1]
        self._ctx: ssl.SSLContext | None = None
        if self.tls is not None:
            self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._ctx.load_cert_chain(self.tls.cert, self.tls.key)
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)

    # -- the test's side -----------------------------------------------------------

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def plan(self, *actions: Action, path: str | None = None) -> FaultServer:
        """Answer the next requests (for ``path`` only, if given) with ``actions``, in order."""
        with self._lock:
            self._queues.setdefault(path, deque()).extend(actions)
        return self

    def always(self, action: Action, *, path: str | None = None) -> FaultServer:
        """Answer every request (for ``path``) not otherwise planned with ``action``."""
        with self._lock:
            self._sticky[path] = action
        return self

    def to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    def wait_gone(self, timeout: float = 3.0) -> bool:
        """True once some client has gone away while the server was busy with it."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.gone:
                return True
            time.sleep(POLL)
        return bool(self.gone)

    def start(self) -> FaultServer:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._acceptor.join(5)
        for t in list(self._threads):
            t.join(2)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- the server's side ---------------------------------------------------------

    def _note_gone(self, request: Recorded) -> None:
        with self._lock:
            self.gone.append(_Gone(request.path, time.monotonic()))

    def _accept_loop(self) -> None:
        deadline = time.monotonic() + LIFETIME
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                try:
                    sock, _ = self._listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    break
                with self._lock:
                    self.connections += 1
                t = threading.Thread(target=self._serve, args=(sock,), daemon=True)
                self._threads.append(t)
                t.start()
        finally:
            self._stop.set()
            self._listener.close()

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(IO_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        exchange: Exchange | None = None
        try:
            if self._ctx is not None:
                try:
                    sock = self._ctx.wrap_socket(sock, server_side=True)
                except (ssl.SSLError, OSError):
                    with self._lock:
                        self.tls_failures += 1
                    return
            reader = _Reader(sock)
            try:
                head = reader.until(b"\r\n\r\n", MAX_HEAD)
            except OSError:  # gone before asking anything
                return
            if head is None:
                return
            request = self._parse_head(head)
            action = self._next(request)
            if getattr(action, "read_body", True):
                try:
                    self._read_body(reader, request)
                except OSError:  # gone mid-body: recorded with body_complete False
                    self._note_gone(request)
            request.at = time.monotonic()
            with self._lock:
                self.requests.append(request)
            exchange = Exchange(self, sock, request)
            with contextlib.suppress(ClientGone):
                action(exchange)
        except Exception as exc:
            # A fault in the server itself, not one it was asked to stage: the
            # fixtures fail the test on it.
            self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            if exchange is None or not exchange.closed:
                sock.close()

    def _parse_head(self, head: bytes) -> Recorded:
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        return Recorded(method, target, headers, b"", time.monotonic(), body_complete=False)

    def _read_body(self, reader: _Reader, request: Recorded) -> None:
        h = request.headers
        if h.get("transfer-encoding", "").lower() == "chunked":
            body = bytearray()
            while len(body) <= MAX_BODY:
                size_line = reader.until(b"\r\n", 1024)
                if size_line is None:
                    return
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    reader.until(b"\r\n", MAX_HEAD)
                    request.body, request.body_complete = bytes(body), True
                    return
                data = reader.exact(size + 2)
                if data is None:
                    return
                body += data[:-2]
            request.body = bytes(body)
            return
        length = int(h.get("content-length", "0") or "0")
        if length > MAX_BODY:
            return
        data = reader.exact(length)
        if data is not None:
            request.body, request.body_complete = data, True

    def _next(self, request: Recorded) -> Action:
        with self._lock:
            for key in (request.path, None):
                queue = self._queues.get(key)
                if queue:
                    return queue.popleft()
                if key in self._sticky:
                    return self._sticky[key]
        return respond(
            500,
            f"fault server: nothing planned for {request.method} {request.path}\n",
            headers=[("content-type", "text/plain")],
        )


# -- actions ------------------------------------------------------------------------


def _json_headers(
    headers: Headers, content_type: str, request_id: str | None
) -> list[tuple[str, str]]:
    out = list(headers)
    if content_type and not any(k.lower() == "content-type" for k, _ in out):
        out.append(("Content-Type", content_type))
    if request_id:
        out.append(("x-request-id", request_id))
    return out


def respond(
    status: int = 200,
    body: bytes | str | None = None,
    *,
    json: Any = None,
    headers: Headers = (),
    request_id: str | None = None,
) -> Action:
    """An ordinary answer with a Content-Length."""
    if json is not None:
        data = _json.dumps(json, ensure_ascii=False).encode()  # as the API sends it
        ctype = "application/json"
    else:
        data = body.encode() if isinstance(body, str) else (body or b"")
        ctype = ""
    all_headers = _json_headers(headers, ctype, request_id)

    def act(ex: Exchange) -> None:
        ex.head(status, all_headers, length=len(data))
        ex.send(data)

    return act


def sse(
    chunks: Iterable[bytes],
    *,
    status: int = 200,
    headers: Headers = (),
    request_id: str | None = None,
    gap: float = 0.0,
    end: End = "finish",
) -> Action:
    """A chunked event stream: each item of ``chunks`` is one HTTP chunk, sent as is.

    ``end`` says what happens after the last one: ``finish`` ends the body properly,
    ``reset`` aborts the connection, ``stall`` waits for the client to give up,
    ``close`` closes without the final zero-length chunk.
    """
    items = list(chunks)
    all_headers = _json_headers(headers, "text/event-stream", request_id)

    def act(ex: Exchange) -> None:
        ex.head(status, all_headers, chunked=True)
        for i, c in enumerate(items):
            if i and gap:
                ex.sleep(gap)
            ex.chunk(c)
        if end == "finish":
            ex.end_chunks()
        elif end == "reset":
            ex.sleep(0.05)  # lets the events so far reach the client before the RST
            ex.reset()
        elif end == "stall":
            ex.wait_for_close()

    return act


def stall(limit: float = MAX_STALL, *, read_body: bool = True) -> Action:
    """Never answer; wait (bounded) for the client to give up.

    Without ``read_body`` the request body is left unread, so an upload blocks.
    """

    def act(ex: Exchange) -> None:
        ex.wait_for_close(limit, drain=read_body)

    act.read_body = read_body  # type: ignore[attr-defined]
    return act


def partial(
    body: bytes,
    *,
    declared: int,
    status: int = 200,
    headers: Headers = (),
    request_id: str | None = None,
    then: End = "stall",
) -> Action:
    """Promise ``declared`` bytes, send ``body`` (fewer), then stall, reset or close."""
    all_headers = _json_headers(headers, "application/json", request_id)

    def act(ex: Exchange) -> None:
        ex.head(status, all_headers, length=declared)
        ex.send(body)
        if then == "stall":
            ex.wait_for_close()
        elif then == "reset":
            ex.sleep(0.05)
            ex.reset()

    return act


def trickle(
    body: bytes,
    *,
    every: float,
    step: int = 2,
    status: int = 200,
    content_type: str = "application/json",
    chunked: bool = False,
) -> Action:
    """Send ``body`` ``step`` bytes at a time, ``every`` seconds apart (a slow drip)."""

    def act(ex: Exchange) -> None:
        headers = [("Content-Type", content_type)]
        ex.head(status, headers, length=None if chunked else len(body), chunked=chunked)
        for i in range(0, len(body), step):
            if i:
                ex.sleep(every)
            part = body[i : i + step]
            ex.chunk(part) if chunked else ex.send(part)
        if chunked:
            ex.end_chunks()

    return act


def raw(data: bytes) -> Action:
    """Send bytes that need not be HTTP at all, then close."""

    def act(ex: Exchange) -> None:
        ex.send(data)

    return act


def forward(upstream: FaultServer) -> Action:
    """Behave as a forward proxy for absolute-URI requests, relaying to ``upstream``.

    Whatever host the URI names, the request goes to ``upstream``: the tests need
    no DNS, and the proxy's own record shows what the client asked for.
    """

    def act(ex: Exchange) -> None:
        req = ex.request
        parts = urlsplit(req.target)
        origin_form = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        skip = ("connection", "transfer-encoding", "content-length", "keep-alive")
        lines = [f"{req.method} {origin_form} HTTP/1.1"]
        lines += [
            f"{k}: {v}"
            for k, v in req.raw_headers
            if not k.lower().startswith("proxy-") and k.lower() not in skip
        ]
        lines += [f"Content-Length: {len(req.body)}", "Connection: close"]
        with socket.create_connection(("127.0.0.1", upstream.port), timeout=IO_TIMEOUT) as up:
            up.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + req.body)
            while data := up.recv(65536):
                ex.send(data)

    return act
