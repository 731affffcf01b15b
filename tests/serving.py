"""Small servers on 127.0.0.1 for tests, each in a thread that ends with the ``with`` block."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from websockets.sync.server import ServerConnection


class QuietHandler(BaseHTTPRequestHandler):
    """A handler for test servers: JSON answers, and no access log in the test output."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_json(self, value: Any) -> None:
        body = json.dumps(value).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def http_server(
    handler: type[BaseHTTPRequestHandler],
    *,
    server_class: type[ThreadingHTTPServer] = ThreadingHTTPServer,
    tls: ssl.SSLContext | None = None,
) -> Iterator[str]:
    """Serve ``handler`` on a free port; yield the origin, ``http(s)://127.0.0.1:PORT``."""
    httpd = server_class(("127.0.0.1", 0), handler)
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    # A short poll interval, so that shutdown() at the end of each test returns at once.
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@contextmanager
def ws_server(handler: Callable[[ServerConnection], None], **options: Any) -> Iterator[int]:
    """Serve WebSocket ``handler`` on a free port; yield the port.

    ``options`` go to ``websockets.sync.server.serve`` (``ssl``, ``process_request``...).
    """
    from websockets.sync.server import serve

    server = serve(handler, "127.0.0.1", 0, open_timeout=5, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.socket.getsockname()[1]
    finally:
        server.shutdown()
        thread.join(timeout=5)
