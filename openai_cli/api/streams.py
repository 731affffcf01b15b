"""Reading a server-sent event stream, with one set of rules for how it ends.

Every streamed command reads its events through :func:`consume`: JSON lines from
the runner, live text, partial images, streamed speech. So an ``error`` event, a
failed or incomplete response, a stream that stops before its final event and a
cut connection fail (exit 7, naming the request id, keeping what was printed) the
same way everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from openai_cli.errors import ProtocolError, StreamError

# Event types that end a stream in failure although the connection ended cleanly.
FAILED_EVENTS = frozenset(
    {
        "error",
        "response.failed",
        "response.incomplete",
        "thread.run.failed",
        "thread.run.incomplete",
        "thread.run.expired",
    }
)
# Streams without a ``[DONE]`` sentinel end with one of these.
FINAL_EVENTS = frozenset(
    {
        "response.completed",
        "response.done",
        "transcript.text.done",
        "image_generation.completed",
        "image_edit.completed",
        "speech.audio.done",
    }
)
# The C scanner behind json.loads, called without its checks (typeshed omits it).
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


@dataclass(slots=True)
class StreamEvent:
    """One event of a stream, parsed once for every consumer."""

    payload: Any
    """The parsed JSON data; the data text itself when it is not JSON."""
    data: str
    """The data exactly as sent."""
    kind: str | None
    """The payload's ``type``, else the SSE event name (assistants streams)."""
    is_json: bool


class Sink:
    """What a stream's events are handed to; every method may be left as it is."""

    def start(self, request_id: str | None) -> None:
        """Called once the server has answered with an event stream."""

    def event(self, ev: StreamEvent) -> None:
        """Called for every event but the end marker, failures included."""

    def flush(self) -> None:
        """Called after each chunk read off the connection."""

    def unusable(self) -> str | None:
        """Called once the stream is complete: why what came is no answer, else None.

        A sink that found nothing it could use in a whole stream says so here,
        and the stream fails (exit 7) rather than pass for an empty answer.
        """
        return None

    def close(self, ok: bool) -> None:
        """Called last, also when the stream failed or was interrupted."""


def consume(chunks: Iterable[bytes], sink: Sink, *, request_id: str | None) -> None:
    """Decode ``chunks`` and feed ``sink`` until the stream's normal end.

    Raises :class:`StreamError` for an error event, a failed or incomplete
    response, a body that ends before the stream's final event, a cut
    connection, or a complete stream the sink could make nothing of; the sink has
    seen every event that came before.
    """
    import httpx

    from openai_cli.http.sse import SSEDecoder

    decoder = SSEDecoder()
    loads = json.loads
    scan = _SCAN
    on_event = sink.event
    on_chunk = sink.flush
    finished = False
    ok = False
    sink.start(request_id)
    try:
        try:
            for chunk in chunks:
                for sse in decoder.feed(chunk):
                    data = sse.data
                    name = sse.event
                    if name == "done" or data == "[DONE]" or data.strip() == "[DONE]":
                        finished = True
                        continue
                    try:
                        # The scanner is json.loads without its checks: the hot path.
                        payload, end = scan(data, 0)
                        if end != len(data):
                            raise ValueError(data)
                        is_json = True
                    except (StopIteration, ValueError, RecursionError):
                        try:
                            payload = loads(data) if data else None
                            is_json = True
                        except (ValueError, RecursionError):  # nested past the parser's limit
                            payload = data
                            is_json = False
                    kind = payload.get("type") if type(payload) is dict else None
                    if not isinstance(kind, str):
                        kind = name if name != "message" else None
                    on_event(StreamEvent(payload, data, kind, is_json))
                    if kind in FINAL_EVENTS:
                        finished = True
                    elif kind in FAILED_EVENTS or name == "error" or _bare_error(payload, kind):
                        raise StreamError(
                            f"the stream reported an error: {event_error(payload, kind)}",
                            request_id=request_id,
                        )
                on_chunk()
            decoder.close()
        except httpx.TransportError as exc:
            raise StreamError(
                f"stream interrupted ({type(exc).__name__}); the output above is partial",
                request_id=request_id,
            ) from exc
        except ProtocolError as exc:
            # Undecodable bytes end the stream like a cut connection: what was
            # printed stays, and the request id is what support needs.
            raise StreamError(
                f"stream interrupted: {exc.message}; the output above is partial",
                request_id=request_id,
            ) from exc
        if not finished:
            raise StreamError(
                "the stream ended before its final event; the output is partial",
                request_id=request_id,
            )
        problem = sink.unusable()
        if problem:
            raise StreamError(problem, request_id=request_id)
        ok = True
    finally:
        sink.close(ok)


def _bare_error(payload: Any, kind: str | None) -> bool:
    # Chat completions report a failure mid-stream as a chunk holding only "error".
    return kind is None and type(payload) is dict and bool(payload.get("error"))


def event_error(payload: Any, kind: str | None = None) -> str:
    """What went wrong, in a few words, from a failure event."""
    if isinstance(payload, dict):
        response = payload.get("response")
        response = response if isinstance(response, dict) else {}
        err = payload.get("error") or response.get("error") or payload.get("last_error")
        if isinstance(err, dict):
            return str(err.get("message") or err.get("code") or err)
        if err:
            return str(err)
        details = response.get("incomplete_details") or payload.get("incomplete_details")
        name = payload.get("type") or kind
        if isinstance(details, dict) and details.get("reason"):
            return f"{name or 'incomplete'}: {details['reason']}"
        # The Responses API's error event carries its message at the top level.
        if payload.get("message"):
            return str(payload["message"])
        if name:
            return str(name)
    return str(payload)[:200]
