"""Opening a WebSocket that keeps the key at the base URL's origin.

The WebSocket library follows a redirect of the opening handshake and strips only
``Authorization`` (and cookies) when it leaves the origin; the key may travel in the
profile's own header, and the organisation, project and profile headers say who is
calling. A redirect within the origin is followed; one that leaves it is refused
before anything is sent there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openai_cli.errors import ProtocolError
from openai_cli.http.redact import redact_url

if TYPE_CHECKING:
    from websockets.sync.client import ClientConnection


def connect(url: str, **kwargs: Any) -> ClientConnection:
    """``websockets.sync.client.connect`` that never hands a header to another origin."""
    from websockets.sync.client import ClientConnection
    from websockets.sync.client import connect as ws_connect
    from websockets.uri import parse_uri

    def origin(uri: Any) -> tuple[bool, str, int]:
        return bool(uri.secure), str(uri.host).lower(), int(uri.port)

    home = origin(parse_uri(url))

    class HomeOnly(ClientConnection):
        def handshake(self, *args: Any, **kw: Any) -> None:
            # Called for every hop, before the request (and its headers) is sent.
            uri = getattr(self.protocol, "uri", None) or self.protocol.wsuri  # type: ignore[attr-defined]
            if origin(uri) != home:
                scheme = "wss" if uri.secure else "ws"
                raise ProtocolError(
                    f"the server redirected the WebSocket to another origin "
                    f"({redact_url(f'{scheme}://{uri.host}:{uri.port}{uri.resource_name}')}); "
                    "not followed: the API key is only sent to the base URL",
                    hint="set the base URL to the server that answers the Realtime API",
                )
            super().handshake(*args, **kw)

    conn: ClientConnection = ws_connect(url, create_connection=HomeOnly, **kwargs)
    return conn
