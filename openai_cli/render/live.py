"""Live tokens: the text of a streamed answer, printed as it arrives.

One sink serves every family that streams text: Responses
(``response.output_text.delta``), chat completions (``choices[].delta.content``),
legacy completions (``choices[].text``), assistants runs (``thread.message.delta``)
and transcriptions (``transcript.text.delta``). How a stream ends, and what counts
as a failure, is decided in :mod:`openai_cli.operations.streams`, not here.

Text is written as it comes and flushed once per chunk read off the connection.
On a terminal it may be shown as Markdown, redrawn as it grows; piped, it is
plain text.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from openai_cli.errors import ProtocolError
from openai_cli.operations.send import answer_json
from openai_cli.operations.streams import Sink, StreamEvent
from openai_cli.terminal import neutralise
from openai_cli.textfmt import count

if TYPE_CHECKING:
    import httpx

    from openai_cli.io import IO
    from openai_cli.operations.deps import Deps

# Event types whose "delta" is answer text.
_TEXT_DELTAS = frozenset(
    {"response.output_text.delta", "response.refusal.delta", "transcript.text.delta"}
)
# Events that carry the whole response object (its id, and at the end its usage).
_RESPONSE_EVENTS = frozenset(
    {"response.created", "response.in_progress", "response.completed", "response.incomplete"}
)
# Event types of the families whose streams are answers (with text or without).
_ANSWER_PREFIXES = ("response.", "thread.", "transcript.")
# Answers that call a tool rather than say something.
_TOOL_EVENTS = frozenset({"thread.run.requires_action", "response.function_call_arguments.delta"})
_ITEM_EVENTS = frozenset({"response.output_item.added", "response.output_item.done"})
_MARKDOWN_INTERVAL = 0.1  # seconds between redraws; each one re-parses the whole text


def live_wanted(factory: Deps) -> bool:
    """True when a stream should print its text rather than its events.

    That is the default format; an explicit ``-o`` (``jsonl`` above all) or a
    ``--query`` asks for the events themselves.
    """
    if factory.shared.query:
        return False
    fmt = factory.shared.output or factory.settings().output.value
    factory.renderer()  # an unknown format is a usage error before anything is sent
    return fmt == "auto"


class LiveText(Sink):
    """Prints the text of each event; remembers the ids and usage it saw."""

    def __init__(self, io: IO, *, markdown: bool = False, verbose: bool = False) -> None:
        self.io = io
        self.verbose = verbose
        self.request_id: str | None = None
        self.response_id: str | None = None
        self.usage: dict[str, Any] | None = None
        self.wrote = False
        self.events = 0
        self.answered = False  # an event shaped like part of an answer, text or not
        self.tool_call = False
        self.finish_reason: str | None = None
        self._unflushed = False
        self._ends_with_newline = True
        self._held = ""  # half of a surrogate pair whose other half is in the next event
        self._segments = False
        self._write = io.out.write
        self._markdown = _MarkdownView(io) if markdown and io.stdout_tty else None

    def start(self, request_id: str | None) -> None:
        self.request_id = request_id

    def event(self, ev: StreamEvent) -> None:
        self.events += 1
        p = ev.payload
        if type(p) is not dict:
            return
        kind = ev.kind
        if kind in _TEXT_DELTAS:
            self.answered = True
            text = p.get("delta")
        elif "choices" in p:
            choices = p["choices"]
            text = self._choices(p, choices if type(choices) is list else [])
        else:
            text = self._other(p, kind)
        if text and isinstance(text, str):
            self.text(text)

    def _choices(self, p: dict[str, Any], choices: list[Any]) -> str | None:
        # Chat and legacy completions chunks, known by their shape: servers label
        # them differently ("chat.completions.chunk", or no "object" at all).
        self.answered = True
        usage = p.get("usage")
        if isinstance(usage, dict):
            self.usage = usage
        for choice in choices:
            if type(choice) is not dict or choice.get("index") not in (0, None):
                continue
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
            delta = choice.get("delta")
            if isinstance(delta, dict):
                if delta.get("tool_calls") or delta.get("function_call"):
                    self.tool_call = True
                text = _content_text(delta.get("content")) or _content_text(delta.get("refusal"))
                if text:
                    return text
            return _content_text(choice.get("text"))
        return None

    def _other(self, p: dict[str, Any], kind: str | None) -> Any:
        obj = p.get("object")
        if isinstance(kind, str) and kind.startswith(_ANSWER_PREFIXES):
            self.answered = True
            if kind in _TOOL_EVENTS or (
                kind in _ITEM_EVENTS
                and isinstance(p.get("item"), dict)
                and p["item"].get("type") not in ("message", "reasoning")
            ):
                self.tool_call = True
        if kind == "thread.message.delta" or obj == "thread.message.delta":
            parts = (p.get("delta") or {}).get("content") or ()
            return "".join(
                str(part["text"].get("value") or "")
                for part in parts
                if isinstance(part, dict)
                and part.get("type") == "text"
                and isinstance(part.get("text"), dict)
            )
        if kind == "transcript.text.segment":
            # Diarized transcripts come as segments; shown one per line, by speaker,
            # unless the text already came as deltas.
            if self.wrote and not self._segments:
                return None
            self._segments = True
            speaker = p.get("speaker")
            return f"{speaker}: {p.get('text') or ''}\n" if speaker else f"{p.get('text') or ''}\n"
        if kind in _RESPONSE_EVENTS:
            response = p.get("response")
            if isinstance(response, dict):
                self.response_id = response.get("id") or self.response_id
                if isinstance(response.get("usage"), dict):
                    self.usage = response["usage"]
        elif kind in ("thread.run.completed", "transcript.text.done") and isinstance(
            p.get("usage"), dict
        ):
            self.usage = p["usage"]
        return None

    def text(self, text: str) -> None:
        """Print a piece of answer text."""
        if self._held:
            text = _join_surrogates(self._held + text)
            self._held = ""
        if "\ud800" <= text[-1] <= "\udbff":
            self._held = text[-1]
            text = text[:-1]
            if not text:
                return
        self.wrote = True
        self._unflushed = True
        self._ends_with_newline = text[-1] == "\n"
        if self._markdown is not None:
            self._markdown.add(text)
            return
        try:
            self._write(text)
        except UnicodeEncodeError:
            # A lone surrogate the API should never send: show U+FFFD, not a crash.
            self._write(_join_surrogates(text))

    def flush(self) -> None:
        if not self._unflushed:
            return
        self._unflushed = False
        if self._markdown is not None:
            self._markdown.show()
        else:
            self.io.out.flush()

    def close(self, ok: bool) -> None:
        if self._held:
            self._held = ""
            self.text("\ufffd")
        if self._markdown is not None:
            self._markdown.stop()
        elif self.wrote and not self._ends_with_newline:
            # The prompt, or the error message on stderr, starts on a line of its own.
            self._write("\n")
        self.io.out.flush()
        if ok and self.answered and not self.wrote and not self.tool_call:
            why = f" (finish_reason: {self.finish_reason})" if self.finish_reason else ""
            self.io.message(f"oai: the answer has no text{why}")
        if self.verbose and ok:
            self.report()

    def unusable(self) -> str | None:
        if self.wrote or self.answered or self.tool_call:
            return None
        if not self.events:
            return "the stream ended without a single event: no answer came"
        return (
            f"the stream carried {count(self.events, 'event')}"
            " but no answer text this command can read; -o jsonl prints them as they are"
        )

    def report(self) -> None:
        """The request id, response id and token usage, on stderr."""
        io = self.io
        if self.request_id:
            io.message(f"request id: {self.request_id}")
        if self.response_id:
            io.message(f"response id: {self.response_id}")
        if self.usage:
            io.message("usage: " + usage_text(self.usage))


def usage_text(usage: dict[str, Any]) -> str:
    """``input_tokens 12, output_tokens 30, total_tokens 42``: the counts, not the details."""
    counts = [f"{k} {v}" for k, v in usage.items() if isinstance(v, int)]
    return ", ".join(counts) if counts else json.dumps(usage)


def answer_text(payload: Any) -> str | None:
    """The text of a whole (not streamed) answer, or None when it has none."""
    if not isinstance(payload, dict):
        return None
    output = payload.get("output")
    if payload.get("object") == "response" or isinstance(output, list):
        pieces = []
        for item in output or ():
            if not isinstance(item, dict) or item.get("type") != "message":
                continue
            for part in item.get("content") or ():
                if isinstance(part, dict) and part.get("type") == "output_text":
                    pieces.append(str(part.get("text") or ""))
                elif isinstance(part, dict) and part.get("type") == "refusal":
                    pieces.append(str(part.get("refusal") or ""))
        return "".join(pieces) if pieces else None
    choices = payload.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        first = choices[0]
        if isinstance(first.get("message"), dict):
            message = first["message"]
            text = message.get("content") or message.get("refusal")
            return text if isinstance(text, str) else None
        return first.get("text") if isinstance(first.get("text"), str) else None
    text = payload.get("text")
    return text if isinstance(text, str) else None


def print_answer_text(factory: Deps, resp: httpx.Response, sink: LiveText) -> int:
    """A server that did not stream: print the text of its whole answer instead."""
    ctype = resp.headers.get("content-type", "")
    sink.start(resp.headers.get("x-request-id"))
    if "json" not in ctype:
        if resp.text:
            sink.text(resp.text)
        sink.close(True)
        return 0
    try:
        payload = answer_json(resp)
    except ProtocolError:
        payload = None  # not JSON after all: printed as the server sent it
    text = answer_text(payload)
    if text is None:
        factory.renderer().answer(payload, raw=resp.text)
        return 0
    if isinstance(payload, dict):
        sink.response_id = payload.get("id") if payload.get("object") == "response" else None
        if isinstance(payload.get("usage"), dict):
            sink.usage = payload["usage"]
    if text:
        sink.text(text)
    sink.close(True)
    return 0


def _content_text(content: Any) -> str | None:
    """Text from a string, or from a list of content parts as a few servers send."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part if isinstance(part, str) else str(part.get("text") or "")
            for part in content
            if isinstance(part, str)
            or (isinstance(part, dict) and isinstance(part.get("text"), str))
        )
    return None


def _join_surrogates(text: str) -> str:
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


class _MarkdownView:
    """The answer so far as rendered Markdown, redrawn in place a few times a second."""

    def __init__(self, io: IO) -> None:
        from rich.console import Console
        from rich.live import Live

        # The bare stream: rich's own escapes draw the view; the text it is given is
        # neutralised, and links are shown as "text (url)", never as hidden targets.
        self.console = Console(file=io.term_out, force_terminal=True, no_color=not io.color)
        self.live = Live(
            console=self.console,
            auto_refresh=False,
            vertical_overflow="visible",
            transient=False,
        )
        self.parts: list[str] = []
        self.last = 0.0
        self.started = False

    def add(self, text: str) -> None:
        self.parts.append(text)

    def show(self, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < _MARKDOWN_INTERVAL:
            return
        from rich.markdown import Markdown

        self.last = now
        if not self.started:
            self.live.start()
            self.started = True
        self.live.update(Markdown(neutralise("".join(self.parts)), hyperlinks=False), refresh=True)

    def stop(self) -> None:
        if self.parts:
            self.show(final=True)
        if self.started:
            self.live.stop()
