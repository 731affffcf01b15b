"""``oai realtime connect``: a text conversation over the Realtime WebSocket.

Each line read from stdin becomes a user message (``conversation.item.create``)
followed by ``response.create``; the answer's text is printed as it streams, and the
next line is read once the response is done. With ``-o jsonl`` every server event is
printed instead, one JSON object per line. End of input closes the session.

The connection uses the same settings as every HTTP request: base URL (``https`` →
``wss``), key and the header it goes in, organization, project, profile headers and
query, CA bundle and mTLS client certificate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from openai_cli.errors import (
    ApiError,
    NetworkError,
    ProtocolError,
    StreamError,
    UsageError,
)
from openai_cli.options import command as build_command
from openai_cli.options import option

if TYPE_CHECKING:
    from typer.core import TyperCommand
    from websockets.sync.client import ClientConnection

    from openai_cli.config import Settings
    from openai_cli.context import Factory
    from openai_cli.io import IO
    from openai_cli.render import Renderer

DEFAULT_MODEL = "gpt-realtime"
# Frames can carry a whole response (response.done); the library's 1 MiB is too small.
MAX_FRAME = 64 * 1024 * 1024
TEXT_DELTAS = frozenset(
    {
        "response.output_text.delta",
        "response.text.delta",  # the beta interface's name
        "response.output_audio_transcript.delta",
        "response.audio_transcript.delta",
    }
)
TEXT_DONE = frozenset(
    {
        "response.output_text.done",
        "response.text.done",
        "response.output_audio_transcript.done",
        "response.audio_transcript.done",
    }
)
EVENT_FORMATS = ("json", "jsonl")
TEXT_FORMATS = ("auto", "raw")

HELP = (
    "Talk to a Realtime model in text over the WebSocket API.\n\n"
    "Each line of stdin is sent as a user message and answered with a response; the "
    "text streams to stdout. With -o jsonl every server event is printed as one JSON "
    "line instead. End of input (Ctrl-D) closes the session. Exits 7 when the server "
    "rejects a message or a response fails."
)


@dataclass(frozen=True, kw_only=True)
class ConnectOptions:
    model: str | None = option(
        "--model",
        "-m",
        metavar="MODEL",
        help=f"Realtime model (default: --default-model, else {DEFAULT_MODEL}).",
    )
    instructions: str | None = option(
        "--instructions", metavar="TEXT", help="System instructions for the session."
    )
    session: str | None = option(
        "--session",
        metavar="JSON",
        help="More session settings, merged into the session.update sent first.",
    )


def command() -> TyperCommand:
    """The ``connect`` command, added to the generated ``realtime`` group."""
    return build_command(
        "connect",
        ConnectOptions,
        connect,
        help=HELP,
        short_help="Text session over the Realtime WebSocket (stdin in, text out).",
        example="echo 'What is the capital of Australia?' | oai realtime connect",
        formats=TEXT_FORMATS + EVENT_FORMATS,
    )


# -- connecting ---------------------------------------------------------------------------


def realtime_url(base_url: str, model: str, query: list[tuple[str, str]]) -> str:
    from urllib.parse import urlencode, urlsplit, urlunsplit

    parts = urlsplit(base_url.rstrip("/"))
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme)
    if scheme is None:
        raise UsageError(f"invalid base URL {base_url!r}: expected http(s)://host[/path]")
    params = [("model", model), *((k, v) for k, v in query if k != "model")]
    return urlunsplit((scheme, parts.netloc, parts.path + "/realtime", urlencode(params), ""))


def session_update(instructions: str | None, session: str | None) -> dict[str, Any]:
    config: dict[str, Any] = {"type": "realtime", "output_modalities": ["text"]}
    if instructions is not None:
        config["instructions"] = instructions
    if session is not None:
        try:
            extra = json.loads(session)
        except ValueError as exc:
            raise UsageError(f"--session: not valid JSON: {exc}") from None
        if not isinstance(extra, dict):
            raise UsageError("--session: expected a JSON object of session settings")
        config.update(extra)
    return {"type": "session.update", "session": config}


def connect(factory: Factory, opts: ConnectOptions) -> int:
    fmt = factory.output_format()
    update = session_update(opts.instructions, opts.session)
    settings = factory.settings()
    chosen = opts.model or settings.model.value or DEFAULT_MODEL
    client = factory.client()  # checks the base URL the way every request does
    url = realtime_url(client.base_url, chosen, settings.query_params())
    headers = client.headers()
    if factory.shared.dry_run:
        from openai_cli.http.redact import redact_headers

        shown = {"url": url, "headers": dict(redact_headers(headers.items())), "first": update}
        factory.renderer().answer(shown)
        return 0
    renderer = factory.renderer() if fmt in EVENT_FORMATS else None
    with _open(factory, settings, url, headers) as ws:
        talk = _Session(ws, factory.io, renderer, settings, debug=factory.debug)
        talk.start(update)
        talk.converse()
    return 0


def _open(factory: Factory, settings: Settings, url: str, headers: dict[str, str]) -> Any:
    import ssl

    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

    from openai_cli import __version__
    from openai_cli.http.redact import redact, redact_headers
    from openai_cli.http.tls import tls_dropped_hint, tls_hint
    from openai_cli.http.websocket import connect as ws_connect

    io = factory.io
    if factory.debug:
        io.err.write(f"> GET {redact(url)} (WebSocket)\n")
        for k, v in redact_headers(headers.items()):
            io.err.write(f"> {k}: {v}\n")
        io.err.flush()
    timeout = float(settings.timeout.value)
    open_timeout = min(timeout, max(float(settings.connect_timeout.value), 10.0))
    where = redact(url.split("?", 1)[0])

    def network(exc: BaseException) -> NetworkError:
        text = " ".join(str(exc).split()) or type(exc).__name__
        hint = tls_hint(text, settings)
        return NetworkError(redact(f"could not connect to {where} ({text})"), hint=hint)

    try:
        return ws_connect(
            url,
            additional_headers=headers,
            user_agent_header=f"oai/{__version__}",
            ssl=settings.ssl_context() if url.startswith("wss:") else None,
            open_timeout=open_timeout,
            close_timeout=5,
            max_size=MAX_FRAME,
        )
    except InvalidStatus as exc:
        raise _status_error(exc, settings) from None
    except InvalidURI as exc:
        raise UsageError(f"invalid WebSocket URL {where}: {exc}") from None
    except (InvalidHandshake, ConnectionClosed) as exc:
        # The library reports a TLS or socket failure mid-handshake as one of these.
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, OSError | EOFError):
            error = network(cause)
            if url.startswith("wss:") and error.hint is None:
                # Closed before any HTTP answer: over TLS, the handshake was refused.
                error.hint = tls_dropped_hint(settings)
            raise error from None
        raise ProtocolError(
            redact(f"the WebSocket handshake with {where} failed: {exc}"),
            hint="is the base URL an OpenAI-compatible server with the Realtime API?",
        ) from None
    except TimeoutError:
        raise NetworkError(
            f"connection timed out opening {where} (after {open_timeout:g} s)"
        ) from None
    except (ssl.SSLError, OSError, EOFError) as exc:
        raise network(exc) from None


def _status_error(exc: Any, settings: Settings) -> ApiError:
    from openai_cli.http.errorbody import api_error

    response = exc.response
    return api_error(
        int(response.status_code),
        response.reason_phrase or "the server refused the WebSocket",
        response.headers,
        bytes(response.body or b""),
        key=settings.api_key,
    )


# -- the conversation ---------------------------------------------------------------------


class _Session:
    def __init__(
        self,
        ws: ClientConnection,
        io: IO,
        renderer: Renderer | None,
        settings: Settings,
        *,
        debug: bool,
    ) -> None:
        self.ws = ws
        self.io = io
        self.renderer = renderer  # None: print the text, not the events
        self.timeout = float(settings.timeout.value)
        self.open_timeout = float(settings.connect_timeout.value)
        self.debug = debug
        self.sent = 0
        self.mine: set[str] = set()  # ids of the client events a failure can refer to
        self.line_open = False  # text printed since the last newline

    # -- sending and receiving ---------------------------------------------------------

    def send(self, event: dict[str, Any]) -> str:
        from websockets.exceptions import ConnectionClosed

        self.sent += 1
        event_id = f"oai_evt_{self.sent}"
        text = json.dumps({"event_id": event_id, **event}, ensure_ascii=False)
        if self.debug:
            self._log(">", text)
        try:
            self.ws.send(text)
        except ConnectionClosed as exc:
            raise self._closed(exc) from None
        self.mine.add(event_id)
        return event_id

    def receive(self, timeout: float) -> dict[str, Any] | None:
        """The next event, or None when none arrives in ``timeout`` seconds."""
        from websockets.exceptions import ConnectionClosed

        try:
            raw = self.ws.recv(timeout=timeout)
        except TimeoutError:
            return None
        except ConnectionClosed as exc:
            raise self._closed(exc) from None
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if self.debug:
            self._log("<", text)
        try:
            event = json.loads(text)
        except ValueError:
            raise ProtocolError(
                f"the server sent a message that is not JSON: {text[:80]!r}"
            ) from None
        if not isinstance(event, dict):
            raise ProtocolError(f"the server sent a message that is not an event: {text[:80]!r}")
        self.show(event, text)
        return event

    def _closed(self, exc: Any) -> StreamError:
        from openai_cli.http.redact import redact

        self._end_line()
        mine = exc.sent
        if mine is not None and mine.code == 1009 and not (exc.rcvd and exc.rcvd_then_sent):
            # The library closed it: an event over the limit, which no server closing
            # the connection should be blamed for.
            from openai_cli.input.reader import size_text

            return StreamError(
                f"the server sent an event larger than {size_text(MAX_FRAME)}, "
                "the most oai takes; the session ended early"
            )
        frame = exc.rcvd
        why = f"code {frame.code}" + (f": {frame.reason}" if frame.reason else "") if frame else ""
        return StreamError(
            redact("the server closed the connection" + (f" ({why})" if why else ""))
            + "; the session ended early"
        )

    def _log(self, arrow: str, text: str) -> None:
        from openai_cli.http.redact import redact

        self.io.err.write(f"{arrow} {redact(text[:4000])}\n")
        self.io.err.flush()

    # -- printing ------------------------------------------------------------------------

    def show(self, event: dict[str, Any], raw: str) -> None:
        kind = event.get("type")
        if self.renderer is not None:
            self.renderer.event(event, raw=raw)
            return
        out = self.io.out
        if kind in TEXT_DELTAS and isinstance(event.get("delta"), str):
            out.write(event["delta"])
            out.flush()
            self.line_open = bool(event["delta"]) or self.line_open
        elif kind in TEXT_DONE or kind == "response.done":
            self._end_line()

    def _end_line(self) -> None:
        if self.line_open and self.renderer is None:
            self.io.out.write("\n")
            self.io.out.flush()
        self.line_open = False

    # -- the steps of a session ----------------------------------------------------------

    def start(self, update: dict[str, Any]) -> None:
        # The server greets with session.created; shown first so -o jsonl reads in order.
        first = self.receive(self.open_timeout)
        if first is not None and first.get("type") == "error":
            self._fail(first)
        self.send(update)

    def converse(self) -> None:
        from openai_cli.input import reader

        while True:
            self.drain()
            if self.io.stdin_tty:
                self.io.err.write("> ")
                self.io.err.flush()
            text = reader.read_line(self.io, reader.PROMPT, what="stdin")
            if text is None:
                return
            if not text.strip():
                continue
            self.turn(text)

    def drain(self) -> None:
        """Show what arrived while waiting for input, without waiting for more."""
        while True:
            event = self.receive(0)
            if event is None:
                return
            self._check(event)

    def turn(self, text: str) -> None:
        self.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": text}],
                },
            }
        )
        self.send({"type": "response.create"})
        while True:
            event = self.receive(self.timeout)
            if event is None:
                self._end_line()
                raise StreamError(
                    f"no event from the server in {self.timeout:g} s; the session ended early",
                    hint="--timeout SECONDS waits longer",
                )
            if self._check(event):
                return

    def _check(self, event: dict[str, Any]) -> bool:
        """Raise when the event means failure; True when it ends a response."""
        kind = event.get("type")
        if kind == "error":
            err = event.get("error")
            about = err.get("event_id") if isinstance(err, dict) else None
            # Most errors leave the session usable; one about a message this session
            # sent means its answer will never come.
            if about in self.mine:
                self._fail(event)
            self._end_line()
            self.io.message(f"oai: warning: the server reported an error: {_error_text(event)}")
            return False
        if kind != "response.done":
            return False
        response = event.get("response")
        status = response.get("status") if isinstance(response, dict) else None
        if status in (None, "completed"):
            return True
        details = response.get("status_details") if isinstance(response, dict) else None
        reason = ""
        if isinstance(details, dict):
            inner = details.get("error")
            if isinstance(inner, dict) and inner.get("message"):
                reason = f": {inner['message']}"
            elif details.get("reason"):
                reason = f" ({details['reason']})"
        raise StreamError(f"the response ended {status}{reason}")

    def _fail(self, event: dict[str, Any]) -> NoReturn:
        self._end_line()
        raise StreamError(f"the server rejected the session's request: {_error_text(event)}")


def _error_text(event: dict[str, Any]) -> str:
    from openai_cli.http.redact import redact

    err = event.get("error")
    if not isinstance(err, dict):
        return redact(str(err or event)[:300])
    message = str(err.get("message") or "no message")
    details = [str(d) for d in (err.get("type"), err.get("code")) if d]
    if err.get("param"):
        details.append(f"param {err['param']}")
    return redact(message + (f" ({', '.join(details)})" if details else ""))
