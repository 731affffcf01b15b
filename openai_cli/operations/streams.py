"""Reading a server-sent event stream, with one set of rules for how it ends.

Every streamed command reads its events through :func:`consume`: JSON lines from
the runner, live text, partial images, streamed speech. So an ``error`` event, a
failed or incomplete response, a stream that stops before it is complete and a
cut connection fail (exit 7, naming the request id, keeping what was printed) the
same way everywhere.

A stream is complete when

- ``[DONE]`` arrived (also as the body's last line without its blank line), or
  one of :data:`FINAL_EVENTS` (``response.completed``, ...): reading stops right
  there, so a server that keeps the connection open is not waited for;
- or the body ended cleanly after
  - every choice of a chat or completions stream (chunks carrying ``choices``)
    had its ``finish_reason``: servers differ on whether ``[DONE]`` follows, and
    a usage chunk (``choices: []`` or ``[{"delta": {}}]``) may come in between;
  - one of :data:`COMPLETING_EVENTS`;
  - anything at all, on a path the catalogue does not know (``oai api ...
    --stream``), where nothing says what the final event would be.

A body ended cleanly when the connection delivered all of it and it did not stop
in the middle of an event (a whole JSON event missing only its blank line is
taken, as ``[DONE]`` is).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openai_cli.errors import ProtocolError, StreamError

if TYPE_CHECKING:
    from openai_cli.http.sse import ServerSentEvent
    from openai_cli.operations.request import Request

# Event types that end a stream in failure although the connection ended cleanly.
FAILED_EVENTS = frozenset(
    {
        "error",
        "response.failed",
        "thread.run.failed",
        "thread.run.incomplete",
        "thread.run.expired",
    }
)
# Streams without a ``[DONE]`` sentinel end with one of these; nothing follows it.
FINAL_EVENTS = frozenset(
    {
        "response.completed",
        "response.incomplete",
        "response.done",
        "transcript.text.done",
        "speech.audio.done",
    }
)
# The stream may end after one of these, but another may follow (one per image).
COMPLETING_EVENTS = frozenset({"image_generation.completed", "image_edit.completed"})
PARTIAL = "the output above is partial"
# Why an answer stopped short, by the name the API gives the reason: the Responses
# API's incomplete_details.reason, the finish_reason of Chat Completions.
_CUT = {
    "length": "it reached the output token limit",
    "max_tokens": "it reached the output token limit",
    "max_output_tokens": "it reached the output token limit",
    "content_filter": "a content filter stopped it",
}
_CUT_FINISH = frozenset({"length", "content_filter"})
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

    fails_when_cut = False
    """Whether a chat or completions answer cut short (``finish_reason`` ``length`` or
    ``content_filter``) fails the stream, as ``ask`` and ``repl`` want; a generic
    command prints the chunks, which say so themselves. A Responses answer that is
    ``incomplete`` always fails."""


class _Reader:
    """Parses each event, hands it on, and follows what it says about the end."""

    def __init__(self, sink: Sink, request_id: str | None) -> None:
        self.on_event = sink.event
        self.chat_cut_fails = sink.fails_when_cut
        self.request_id = request_id
        self.finished = False  # a terminal event came: nothing more to read
        self.may_end = False  # a clean end of the body would complete the stream
        # Chat/completions choices by index: every one seen, and those that had a
        # finish_reason (the usage chunk's empty choice after it does not undo that).
        self.choices: set[Any] = set()
        self.finished_choices: set[Any] = set()
        self.cut: str | None = None  # why the answer stopped short, when it did

    def take(self, sse: ServerSentEvent) -> bool:
        """Handle one event; True once the stream is finished."""
        data = sse.data
        name = sse.event
        if name == "done" or data == "[DONE]" or data.strip() == "[DONE]":
            self.finished = True
            return True
        try:
            # The scanner is json.loads without its checks: the hot path.
            payload, end = _SCAN(data, 0)
            if end != len(data):
                raise ValueError(data)
            is_json = True
        except (StopIteration, ValueError, RecursionError):
            try:
                payload = json.loads(data) if data else None
                is_json = True
            except (ValueError, RecursionError):  # nested past the parser's limit
                payload = data
                is_json = False
        kind = payload.get("type") if type(payload) is dict else None
        if not isinstance(kind, str):
            kind = name if name != "message" else None
        self.on_event(StreamEvent(payload, data, kind, is_json))
        if kind in FINAL_EVENTS:
            if kind == "response.incomplete":
                self.cut = cut_short(payload)
            self.finished = True
            return True
        if kind in FAILED_EVENTS or name == "error" or _bare_error(payload, kind):
            raise StreamError(
                f"the stream reported an error: {event_error(payload, kind)}",
                request_id=self.request_id,
            )
        if kind in COMPLETING_EVENTS:
            self.may_end = True
        elif type(payload) is dict:
            choices = payload.get("choices")
            if type(choices) is list:
                for choice in choices:
                    if type(choice) is dict:
                        index = choice.get("index")
                        if type(index) is not int:
                            index = 0
                        self.choices.add(index)
                        finish = choice.get("finish_reason")
                        if finish:
                            self.finished_choices.add(index)
                            if finish in _CUT_FINISH and self.chat_cut_fails:
                                self.cut = self.cut or cut_short(payload)
        return False

    def complete_at_clean_end(self) -> bool:
        if self.may_end:
            return True
        return bool(self.choices) and self.choices <= self.finished_choices


def consume(
    chunks: Iterable[bytes],
    sink: Sink,
    *,
    request_id: str | None,
    request: Request | None = None,
) -> None:
    """Decode ``chunks`` and feed ``sink`` until the stream is complete.

    Raises :class:`StreamError` for an error event, a failed or incomplete
    response, a body that ends before the stream is complete (the module's rules;
    ``request`` tells whether the catalogue knows the path, and without it the
    path counts as known), a cut connection, or a complete stream the sink could
    make nothing of; the sink has seen every event that came before.
    """
    import httpx

    from openai_cli.http.sse import SSEDecoder

    decoder = SSEDecoder()
    reader = _Reader(sink, request_id)
    take = reader.take
    on_chunk = sink.flush
    ok = False
    sink.start(request_id)
    try:
        try:
            for chunk in chunks:
                for sse in decoder.feed(chunk):
                    if take(sse):
                        break
                on_chunk()
                if reader.finished:
                    # The answer is whole, whatever the server still sends and
                    # however long it keeps the connection open.
                    break
            else:
                decoder.close()
                last = decoder.unterminated
                if last is not None and _whole(last):
                    take(last)
                    on_chunk()
        except httpx.TransportError as exc:
            raise StreamError(
                f"stream interrupted ({type(exc).__name__}); {PARTIAL}", request_id=request_id
            ) from exc
        except httpx.DecodingError as exc:
            raise StreamError(
                f"stream interrupted: its content encoding does not decode ({exc}); {PARTIAL}",
                request_id=request_id,
            ) from exc
        except ProtocolError as exc:
            # Undecodable bytes end the stream like a cut connection: what was
            # printed stays, and the request id is what support needs.
            raise StreamError(
                f"stream interrupted: {exc.message}; {PARTIAL}", request_id=request_id
            ) from exc
        if not reader.finished:
            _check_clean_end(reader, decoder.unterminated, request, request_id)
        if reader.cut:
            raise answer_cut(reader.cut, request_id)
        problem = sink.unusable()
        if problem:
            raise StreamError(problem, request_id=request_id)
        ok = True
    finally:
        sink.close(ok)


def _check_clean_end(
    reader: _Reader, last: ServerSentEvent | None, request: Request | None, request_id: str | None
) -> None:
    # Bytes left over that held no data (half a comment) lose nothing.
    if last is not None and not _whole(last):
        raise StreamError(
            f"the stream ended in the middle of an event; {PARTIAL}", request_id=request_id
        )
    if reader.complete_at_clean_end() or (request is not None and not _known(request)):
        return
    raise StreamError(
        "the stream ended before its final event; the output is partial", request_id=request_id
    )


def _whole(sse: ServerSentEvent) -> bool:
    """True for an event left without its blank line that is nonetheless whole."""
    if sse.event == "done" or sse.data.strip() == "[DONE]":
        return True
    try:
        json.loads(sse.data)
    except (ValueError, RecursionError):
        return False
    return True


def _known(request: Request) -> bool:
    """True when the catalogue has the operation, so its stream's end is known."""
    from openai_cli.operations.lookup import find

    return find(request.method, request.path) is not None


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


def cut_short(payload: Any) -> str | None:
    """Why an answer stopped short of its end, or None when it did not.

    The one rule for every answer, whole or streamed: a Responses object (or the
    ``response.incomplete`` event) whose status is ``incomplete``, and a chat or
    completions answer with a choice whose ``finish_reason`` is ``length`` or
    ``content_filter``.
    """
    if type(payload) is not dict:
        return None
    response = payload.get("response") if payload.get("type") == "response.incomplete" else payload
    if payload.get("type") == "response.incomplete" or (
        isinstance(response, dict) and response.get("status") == "incomplete"
    ):
        details = response.get("incomplete_details") if isinstance(response, dict) else None
        reason = details.get("reason") if isinstance(details, dict) else None
        return _cut_text(str(reason) if reason else None)
    choices = payload.get("choices")
    for choice in choices if type(choices) is list else ():
        if type(choice) is dict and choice.get("finish_reason") in _CUT_FINISH:
            return _cut_text(choice["finish_reason"])
    return None


def _cut_text(reason: str | None) -> str:
    if reason is None:
        return "the answer is incomplete"
    return f"the answer is incomplete: {_CUT.get(reason, reason)} ({reason})"


def answer_cut(why: str, request_id: str | None) -> StreamError:
    """The error for an answer cut short (exit 7); the text that came is kept."""
    hint = None
    if "token limit" in why:
        hint = "raise the limit (--max-output-tokens, max_tokens) to get the rest"
    return StreamError(why, request_id=request_id, hint=hint)
