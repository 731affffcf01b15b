"""Deadlines the socket timeout cannot give: a whole answer, the next event of a stream.

httpx's read timeout bounds each read, so a server that trickles a byte a second, or
sends only keep-alive comments on a stream, would hold the CLI for ever. The
client wraps the body of every answer it hands over in a :class:`TimedBody`:

- a JSON or text answer (and every error answer) must be complete ``timeout``
  seconds after the request was sent;
- an event stream must bring its next event within ``timeout`` seconds; only data
  lines count, so comments do not keep it alive;
- a download (any other content type) is bounded per read only, so a large file
  may take as long as it keeps flowing.

When a deadline passes, a timer thread shuts the connection's socket down, which
ends the blocked read at once; the reader then gets :class:`AnswerTimeout` (an
``httpx.ReadTimeout``) instead of the cut body.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, Literal

import httpx

Mode = Literal["answer", "event"]


class AnswerTimeout(httpx.ReadTimeout):
    """A deadline passed while the answer was read."""

    def __init__(self, mode: Mode, seconds: float) -> None:
        self.mode = mode
        self.seconds = seconds
        if mode == "answer":
            super().__init__(f"the answer stalled: incomplete after {seconds:g} s")
        else:
            super().__init__(f"the stream stalled: no event for {seconds:g} s")


class Watchdog:
    """One deadline; when it passes, the attached socket is shut down."""

    def __init__(self, seconds: float, at: float) -> None:
        self.seconds = seconds
        self.deadline = at
        self.fired = False
        self.stopped = False
        self._sock: socket.socket | None = None

    def attach(self, sock: socket.socket | None) -> None:
        self._sock = sock
        _clock.schedule(self, self.deadline)

    def push(self) -> None:
        """Start the wait again from now (a stream's event arrived)."""
        # A plain store: the timer sees it when the old deadline comes round.
        self.deadline = time.monotonic() + self.seconds

    def stop(self) -> bool:
        """Disarm; True if the deadline had already passed."""
        self.stopped = True
        self._sock = None  # the timer may hold this watchdog until its old deadline
        return self.fired

    def _due(self, now: float) -> float | None:
        """Fire if due; else when to look again (None: never)."""
        if self.stopped:
            return None
        if self.deadline > now:
            return self.deadline
        self.fired = True
        if self._sock is not None:
            # The plain socket's shutdown even for TLS: it ends the blocked read without
            # touching the TLS object the reading thread uses. Closed already: nothing to cut.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)
        return None


class _Clock:
    """One thread for every deadline of the process."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Watchdog]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def schedule(self, dog: Watchdog, at: float) -> None:
        with self._cond:
            heapq.heappush(self._heap, (at, next(self._order), dog))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="oai-deadlines", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                at, _, dog = self._heap[0]
                now = time.monotonic()
                if at > now:
                    self._cond.wait(at - now)
                    continue
                heapq.heappop(self._heap)
            again = dog._due(now)
            if again is not None:
                self.schedule(dog, again)


_clock = _Clock()


class TimedBody(httpx.SyncByteStream):
    """A response body read under a :class:`Watchdog`."""

    def __init__(self, inner: httpx.SyncByteStream, dog: Watchdog, mode: Mode, *, raw: bool):
        self._inner = inner
        self._dog = dog
        self._mode = mode
        # Compressed bytes cannot be read for data lines: any bytes count then.
        self._any_bytes = mode == "event" and not raw
        self._tail = b"\n"

    def __iter__(self) -> Iterator[bytes]:
        dog = self._dog
        try:
            for chunk in self._inner:
                if dog.fired:
                    break
                if self._mode == "event" and (self._any_bytes or self._data_line(chunk)):
                    dog.push()
                yield chunk
        except httpx.TransportError as exc:
            if dog.stop():
                raise AnswerTimeout(self._mode, dog.seconds) from exc
            raise
        if dog.stop():
            raise AnswerTimeout(self._mode, dog.seconds)

    def _data_line(self, chunk: bytes) -> bool:
        # A line that starts with "data" carries an event's data; the last bytes of the
        # previous chunk catch one split across two chunks.
        edge = self._tail + chunk[:4]
        self._tail = (self._tail + chunk)[-4:] if len(chunk) < 4 else chunk[-4:]
        return any(m in part for part in (chunk, edge) for m in (b"\ndata", b"\rdata"))

    def close(self) -> None:
        self._dog.stop()
        self._inner.close()


def guard(response: httpx.Response, seconds: float, sent_at: float) -> None:
    """Put the answer's body under the deadline its kind calls for (see the module)."""
    ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
    mode: Mode
    if ctype == "text/event-stream" and response.status_code < 400:
        mode, start = "event", time.monotonic()
    elif response.status_code >= 400 or _is_text(ctype):
        mode, start = "answer", sent_at
    else:
        return
    dog = Watchdog(seconds, start + seconds)
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    response.stream = TimedBody(
        response.stream,  # type: ignore[arg-type]  # a sync client's body is sync
        dog,
        mode,
        raw=encoding in ("", "identity"),
    )
    dog.attach(_socket_of(response))


def _is_text(ctype: str) -> bool:
    return not ctype or ctype.startswith("text/") or ctype.endswith(("json", "+json", "+xml"))


def _socket_of(response: httpx.Response) -> socket.socket | None:
    stream: Any = response.extensions.get("network_stream")
    try:
        sock = stream.get_extra_info("socket") if stream is not None else None
    except Exception:  # a transport without sockets (tests, mocks)
        return None
    return sock if isinstance(sock, socket.socket) else None
