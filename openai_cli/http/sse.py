"""Incremental decoder for ``text/event-stream`` bodies.

Implements the WHATWG "interpreting an event stream" rules on raw byte chunks as
they come off the socket, so each event is handed over as soon as its blank line
has arrived. The one deliberate departure from the standard is strictness:
invalid UTF-8 raises :class:`ProtocolError` instead of being replaced with
U+FFFD, since a mangled JSON payload is worse than a clear failure.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from openai_cli.errors import ProtocolError

DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    event: str | None
    """The ``event:`` field; ``None`` stands for the default type, ``message``."""
    data: str
    """All ``data:`` lines of the event joined with ``\\n``."""
    id: str | None
    """The last event id seen on the stream, which carries over between events."""
    retry: int | None
    """A valid ``retry:`` field sent within this event, if any."""


class SSEDecoder:
    """Turns byte chunks into :class:`ServerSentEvent` objects.

    Call :meth:`feed` for every chunk and :meth:`close` once at the end of the
    body; afterwards :attr:`incomplete` tells whether the stream was cut off in
    the middle of an event.
    """

    def __init__(self, *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        if max_event_bytes <= 0:
            raise ValueError("max_event_bytes must be positive")
        self.max_event_bytes = max_event_bytes
        self.retry: int | None = None
        """The reconnection time in milliseconds most recently sent by the server."""
        self.last_event_id: str | None = None
        self.incomplete = False
        """Set by :meth:`close`: the stream ended with an event or a line unfinished."""
        self.unterminated: ServerSentEvent | None = None
        """Set by :meth:`close`: the event left without its blank line, as if it had come."""

        # Bytes after the last line ending seen; never contains CR or LF.
        self._tail = bytearray()
        # The previous chunk ended in CR, so an LF opening the next one belongs to it.
        self._pending_cr = False
        self._bom_checked = False
        self._closed = False

        self._data: list[str] = []
        self._data_bytes = 0
        self._event: str | None = None
        self._event_retry: int | None = None
        self._in_event = False

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Consume one chunk; return the events it completed, in order."""
        if self._closed:
            raise RuntimeError("SSEDecoder.feed() called after close()")
        if not chunk:
            return []
        if self._pending_cr:
            self._pending_cr = False
            if chunk[0] == 0x0A:
                chunk = chunk[1:]
                if not chunk:
                    return []
        if not self._bom_checked:
            # The BOM may itself arrive split, so hold bytes until it can be ruled in or out.
            self._tail += chunk
            if len(self._tail) < len(_BOM) and _BOM.startswith(self._tail):
                return []
            self._bom_checked = True
            head = bytes(self._tail)
            self._tail = bytearray()
            chunk = head[len(_BOM) :] if head.startswith(_BOM) else head
            if not chunk:
                return []

        # Only the new chunk needs searching: the tail holds no line endings.
        end = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
        if end < 0:
            self._tail += chunk
            self._check_tail()
            return []
        if self._tail:
            self._tail += chunk[: end + 1]
            block = bytes(self._tail)
        else:
            block = chunk[: end + 1]
        self._tail = bytearray(chunk[end + 1 :])
        # The last ending in the chunk cannot be a CR followed by LF, so a final CR
        # only needs remembering when it is the chunk's very last byte.
        self._pending_cr = end == len(chunk) - 1 and chunk[end] == 0x0D

        if b"\r" in block:
            block = block.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = block.split(b"\n")
        lines.pop()  # the block ends with a line ending, so this is always b""
        try:
            events = self._process(lines)
        except UnicodeDecodeError as exc:
            raise _utf8_error(exc) from None
        self._check_tail()
        return events

    def close(self) -> list[ServerSentEvent]:
        """Signal the end of the body.

        Per the standard, an event without its closing blank line is discarded, so
        nothing is ever dispatched here; :attr:`incomplete` records whether
        anything was thrown away, and :attr:`unterminated` what that event would
        have been. The list return keeps call sites symmetrical with :meth:`feed`.
        """
        if not self._closed:
            self._closed = True
            self.incomplete = bool(self._tail) or self._in_event
            if self.incomplete:
                self.unterminated = self._finish_unterminated()
            self._tail = bytearray()
            self._reset_event()
        return []

    def _finish_unterminated(self) -> ServerSentEvent | None:
        # Servers that end the body right after ``data: [DONE]`` (no blank line, or
        # no line ending at all) are common: the caller decides whether to trust it.
        try:
            tail = [bytes(self._tail)] if self._tail else []
            events = self._process([*tail, b""])
        except (UnicodeDecodeError, ProtocolError):
            return None
        return events[0] if events else None

    def _process(self, lines: list[bytes]) -> list[ServerSentEvent]:
        # The hot loop of every streamed response: event state lives in locals and
        # is written back once, which roughly halves the per-event cost.
        out: list[ServerSentEvent] = []
        limit = self.max_event_bytes
        data = self._data
        data_bytes = self._data_bytes
        event = self._event
        event_retry = self._event_retry
        in_event = self._in_event
        try:
            for line in lines:
                if not line:
                    if data:
                        out.append(
                            ServerSentEvent(event, "\n".join(data), self.last_event_id, event_retry)
                        )
                        data = []
                        data_bytes = 0
                    event = None
                    event_retry = None
                    in_event = False
                    continue
                if len(line) > limit:
                    raise _too_big(limit)
                if line.startswith(b"data:"):
                    value = line[6:] if line[5:6] == b" " else line[5:]
                    data_bytes += len(value) + 1
                    if data_bytes > limit:
                        raise _too_big(limit)
                    data.append(value.decode())
                    in_event = True
                    continue
                if line[0] == 0x3A:  # ':' starts a comment, typically a keepalive
                    line.decode()  # still validated, to be consistent about bad UTF-8
                    continue
                in_event = True
                colon = line.find(b":")
                if colon < 0:
                    name = line
                    value = b""
                else:
                    name = line[:colon]
                    value = line[colon + 1 :]
                    if value[:1] == b" ":
                        value = value[1:]
                if name == b"data":  # only reached without a colon: an empty data line
                    data_bytes += 1
                    if data_bytes > limit:
                        raise _too_big(limit)
                    data.append("")
                elif name == b"event":
                    event = value.decode() or None
                elif name == b"id":
                    text = value.decode()
                    if "\x00" not in text:
                        self.last_event_id = text
                elif name == b"retry":
                    text = value.decode()
                    if text.isascii() and text.isdigit():
                        # Past int()'s digit limit no delay makes sense: ignore it like
                        # any other unusable value.
                        with contextlib.suppress(ValueError):
                            event_retry = self.retry = int(text)
                else:
                    line.decode()
        finally:
            self._data = data
            self._data_bytes = data_bytes
            self._event = event
            self._event_retry = event_retry
            self._in_event = in_event
        return out

    def _reset_event(self) -> None:
        self._data = []
        self._data_bytes = 0
        self._event = None
        self._event_retry = None
        self._in_event = False

    def _check_tail(self) -> None:
        # Only the line itself is bounded here; it is charged to the event once it
        # is complete, so how the body happens to be chunked never changes the outcome.
        if len(self._tail) > self.max_event_bytes:
            raise _too_big(self.max_event_bytes)


def iter_events(
    chunks: Iterable[bytes], *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
) -> Iterator[ServerSentEvent]:
    """Decode a whole body given as an iterable of chunks."""
    decoder = SSEDecoder(max_event_bytes=max_event_bytes)
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.close()


def _too_big(limit: int) -> ProtocolError:
    return ProtocolError(
        f"event in event stream exceeds the {limit}-byte limit (max_event_bytes={limit})"
    )


def _utf8_error(exc: UnicodeDecodeError) -> ProtocolError:
    bad = exc.object[exc.start : exc.end]
    return ProtocolError(f"invalid UTF-8 in event stream: {exc.reason} (bytes {bad.hex(' ')})")
