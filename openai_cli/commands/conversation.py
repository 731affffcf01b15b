"""How ``ask`` and ``repl`` talk to a model: the Responses API or Chat Completions.

An :class:`Engine` turns a :class:`Turn` (the new user message, its options and the
history before it) into a request body for its endpoint. :func:`converse` sends
it, prints the answer as the output format asks (live text, events, or the whole
object), keeps the exchange in the local log as it streams, and reads the answer
into a :class:`Reply`: text, usage and ids.

Which engine: ``--api``, else the profile's ``api`` setting, else what was found
out earlier for the profile's base URL, else the Responses API. A server that
answers ``POST /responses`` with a 404 or 405 whose body is an API's JSON (not a
proxy's page) is said to lack it, once, and Chat Completions is used from then on
for that base URL (remembered in the state directory, under its lock, keyed by
the base URL and query without credentials) until the Responses API answers there.
Turns are written to the conversation log (:mod:`openai_cli.logs`) unless
``--no-log`` or the profile's ``log = false`` says otherwise.
"""

from __future__ import annotations

import contextlib
import io as _io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from openai_cli.config.settings_table import CONVERSATION_APIS
from openai_cli.errors import ApiError, OaiError, UsageError
from openai_cli.operations.streams import Sink
from openai_cli.render.live import LiveText
from openai_cli.textfmt import dollars

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

    from openai_cli.context import Factory
    from openai_cli.logs import Entry, Log, Past
    from openai_cli.operations.request import Request
    from openai_cli.operations.streams import StreamEvent

ENGINE_STATE = "engines.json"


@dataclass
class Turn:
    """One user turn and everything its request needs."""

    model: str
    parts: list[dict[str, Any]]
    """Input parts in the Responses shape (``input_text``, ``input_image``, ``input_file``)."""
    instructions: str | None = None
    history: list[Past] = field(default_factory=list)
    previous_response_id: str | None = None
    conversation: str | None = None
    schema: dict[str, Any] | None = None
    """The Responses ``text.format`` object: ``{type: json_schema, name, schema, ...}``."""
    max_output_tokens: int | None = None
    reasoning_effort: str | None = None
    extra: dict[str, Any] | None = None
    """Fields from ``-F``, merged over the body last."""
    stream: bool = False

    @property
    def prompt(self) -> str:
        """The turn's text, as the log keeps it and history sends it again."""
        return "\n\n".join(p["text"] for p in self.parts if p.get("type") == "input_text")

    @property
    def stored(self) -> bool:
        """False when the request asks the server not to keep the response."""
        return not (self.extra and self.extra.get("store") is False)


@dataclass
class Reply:
    text: str = ""
    usage: dict[str, Any] | None = None
    request_id: str | None = None
    response_id: str | None = None
    api: str = "responses"


# -- engines ---------------------------------------------------------------------------


class Engine:
    name: str = ""
    path: str = ""

    def body(self, turn: Turn, *, usage: bool = True) -> dict[str, Any]:
        raise NotImplementedError

    def usable(self, turn: Turn) -> str | None:
        """Why this engine cannot carry ``turn``, or None."""
        return None


class ResponsesEngine(Engine):
    name = "responses"
    path = "/responses"

    def body(self, turn: Turn, *, usage: bool = True) -> dict[str, Any]:
        parts = turn.parts
        user_input: Any
        if len(parts) == 1 and parts[0]["type"] == "input_text":
            user_input = parts[0]["text"]
        elif all(p["type"] == "input_text" for p in parts):
            # Text-only turns go as messages with string content: a user message with a
            # list of parts matches two of the spec's item schemas at once, which
            # validating servers report as ambiguous. Images and files need the list.
            user_input = [{"role": "user", "content": p["text"]} for p in parts]
        else:
            user_input = [{"role": "user", "content": parts}]
        if turn.history and not (turn.previous_response_id or turn.conversation):
            # Nothing kept server-side (store=false, another engine before): the
            # history goes in again as messages.
            if isinstance(user_input, str):
                user_input = [{"role": "user", "content": user_input}]
            user_input = [*_history_messages(turn.history), *user_input]
        body: dict[str, Any] = {"model": turn.model, "input": user_input}
        if turn.instructions:
            body["instructions"] = turn.instructions
        if turn.previous_response_id:
            body["previous_response_id"] = turn.previous_response_id
        if turn.conversation:
            body["conversation"] = turn.conversation
        if turn.stream:
            body["stream"] = True
        if turn.schema:
            body["text"] = {"format": turn.schema}
        if turn.max_output_tokens is not None:
            body["max_output_tokens"] = turn.max_output_tokens
        if turn.reasoning_effort:
            body["reasoning"] = {"effort": turn.reasoning_effort}
        return _merge_extra(body, turn.extra)


class ChatEngine(Engine):
    name = "chat"
    path = "/chat/completions"

    def usable(self, turn: Turn) -> str | None:
        if turn.conversation:
            return (
                "--conversation: the history is kept on the server, which Chat Completions "
                "cannot use; give --api responses"
            )
        if turn.previous_response_id and not turn.history:
            return (
                "Chat Completions cannot continue from a response kept on the server "
                "(--previous-response-id, or --continue after an unlogged answer); "
                "give --api responses"
            )
        return None

    def body(self, turn: Turn, *, usage: bool = True) -> dict[str, Any]:
        messages: list[dict[str, Any]] = []
        if turn.instructions:
            messages.append({"role": "system", "content": turn.instructions})
        messages += _history_messages(turn.history)
        parts = turn.parts
        if all(p["type"] == "input_text" for p in parts):
            messages += [{"role": "user", "content": p["text"]} for p in parts]
        else:
            messages.append({"role": "user", "content": [_chat_part(p) for p in parts]})
        body: dict[str, Any] = {"model": turn.model, "messages": messages}
        if turn.stream:
            body["stream"] = True
            if usage and not (turn.extra and "stream_options" in turn.extra):
                # Chat streams carry no usage unless asked for; the log keeps it.
                body["stream_options"] = {"include_usage": True}
        if turn.schema:
            fmt = {k: v for k, v in turn.schema.items() if k != "type"}
            body["response_format"] = {"type": "json_schema", "json_schema": fmt}
        if turn.max_output_tokens is not None:
            body["max_completion_tokens"] = turn.max_output_tokens
        if turn.reasoning_effort:
            body["reasoning_effort"] = turn.reasoning_effort
        return _merge_extra(body, turn.extra)


ENGINES: dict[str, Engine] = {"responses": ResponsesEngine(), "chat": ChatEngine()}


def _history_messages(history: list[Past]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for past in history:
        out.append({"role": "user", "content": past.prompt})
        out.append({"role": "assistant", "content": past.answer})
    return out


def _chat_part(part: dict[str, Any]) -> dict[str, Any]:
    """A Responses input part as the Chat Completions content part that means the same."""
    kind = part["type"]
    if kind == "input_text":
        return {"type": "text", "text": part["text"]}
    if kind == "input_image":
        return {
            "type": "image_url",
            "image_url": {"url": part["image_url"], "detail": part.get("detail", "auto")},
        }
    if "file_url" in part:
        raise UsageError(
            f"--file {part['file_url']}: Chat Completions cannot fetch a file from a URL",
            hint="download it and attach the local file, or use --api responses",
        )
    return {
        "type": "file",
        "file": {k: part[k] for k in ("file_id", "filename", "file_data") if k in part},
    }


def _merge_extra(body: dict[str, Any], extra: dict[str, Any] | None) -> dict[str, Any]:
    if not extra:
        return body
    from openai_cli.input.fields import merge

    merged: dict[str, Any] = merge(body, extra)
    return merged


# -- which engine ----------------------------------------------------------------------


@dataclass
class Choice:
    engine: Engine
    explicit: bool
    """Chosen by ``--api`` or the profile: a server without it is an error, not a switch."""


def choose(factory: Factory, flag: str | None) -> Choice:
    if flag is not None:
        if flag not in CONVERSATION_APIS:
            raise UsageError(
                f"--api: expected {' or '.join(CONVERSATION_APIS)}, got {flag!r}",
            )
        return Choice(ENGINES[flag], explicit=True)
    setting = factory.settings().api
    if setting.source != "default":
        return Choice(ENGINES[setting.value], explicit=True)
    found = _engine_state(factory).get(_server_key(factory))
    if found in ENGINES:
        return Choice(ENGINES[found], explicit=False)
    return Choice(ENGINES["responses"], explicit=False)


def _server_key(factory: Factory) -> str:
    """The base URL as engine memory knows it: the query too (an ``api-version`` makes
    another API), without a password or any parameter that may be a credential."""
    from urllib.parse import urlencode

    from openai_cli.http.redact import stored_url

    s = factory.settings()
    url = s.base_url.value
    extra = urlencode(s.query_params())  # the profile's query goes on every request too
    if extra:
        url += ("&" if "?" in url else "?") + extra
    return stored_url(url, query=True)


def _engines_path(factory: Factory) -> Path:
    from openai_cli.state import state_dir

    return state_dir(factory.io.env) / ENGINE_STATE


def _engine_state(factory: Factory) -> dict[str, Any]:
    from openai_cli.input.reader import read_kept_json

    try:
        data = read_kept_json(_engines_path(factory))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    # Each entry names an API or a refusal; anything else (edited by hand, another
    # version) is forgotten rather than looked up as a name.
    return {k: v for k, v in data.items() if isinstance(v, str)}


# What engine memory keeps of a server besides its API: a Chat Completions server
# that refuses ``stream_options`` (its key is the server's, after this prefix).
STREAM_OPTIONS = "stream_options "


def _refuses_stream_options(factory: Factory) -> bool:
    return _engine_state(factory).get(STREAM_OPTIONS + _server_key(factory)) == "refused"


def _stream_options_refused(factory: Factory, engine: Engine, turn: Turn, exc: ApiError) -> bool:
    """A 400 that names the stream_options oai added (not ones given with -F)."""
    return (
        engine.name == "chat"
        and turn.stream
        and not (turn.extra and "stream_options" in turn.extra)
        and exc.status in (400, 422)
        and "stream_options" in exc.message
        and not _refuses_stream_options(factory)
    )


def _remember_engine(factory: Factory, name: str | None) -> None:
    """Record which API this base URL has (None: forget it), under the file's lock."""
    _remember(factory, "", name)


def _remember(factory: Factory, prefix: str, name: str | None) -> None:
    """Record a fact about this base URL under ``prefix`` (None: forget it)."""
    from openai_cli.config.lock import exclusive
    from openai_cli.errors import ConfigError
    from openai_cli.state import write_json

    key = prefix + _server_key(factory)
    if name is None and key not in _engine_state(factory):
        return  # the usual case, without taking the lock
    try:
        path = _engines_path(factory)
        with exclusive(path):
            data = _engine_state(factory)
            if data.get(key) == name:
                return
            if name is None:
                data.pop(key, None)
            else:
                data[key] = name
            write_json(path, data)
    except (OSError, ConfigError) as exc:
        factory.io.message(f"oai: warning: could not remember which API the server has: {exc}")


# -- one exchange ----------------------------------------------------------------------


@dataclass
class Logging:
    """Where a turn is logged: the open log and the conversation it belongs to."""

    log: Log | None
    conversation_id: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)


def open_log(factory: Factory, *, no_log: bool) -> Log | None:
    """The conversation log, unless logging is off; a log that fails is only a warning."""
    if no_log or not factory.settings().log.value:
        return None
    from openai_cli.logs import Log, LogError, warn

    try:
        return Log.open(factory.io.env)
    except LogError as exc:
        warn(factory.io, exc)
        return None


def converse(
    factory: Factory,
    choice: Choice,
    turn: Turn,
    logging: Logging,
    *,
    markdown: bool = False,
) -> tuple[Reply, Choice]:
    """Send ``turn``, print its answer, log it; returns the reply and the engine used."""
    engine = choice.engine
    why = engine.usable(turn)
    if why is not None:
        raise UsageError(why)
    try:
        reply = _usage_asked(factory, engine, turn, logging, markdown=markdown)
    except ApiError as exc:
        from openai_cli.operations.missing import endpoint_missing, full_path, missing_note

        if engine.name != "responses":
            raise
        chat = ENGINES["chat"]
        chat_path = full_path(factory, chat.path)
        if endpoint_missing(exc) and not exc.from_api:
            # A page, not an API's answer: a proxy or a wrong base URL says nothing
            # about the server behind it, so nothing is switched or remembered.
            exc.hint = f"if this server has only {chat_path}, --api chat uses it"
            raise
        if endpoint_missing(exc):
            why, status = missing_note(factory, "POST", engine.path), f"HTTP {exc.status}"
            instead = f"uses {chat_path}"
        elif _refuses_previous_response(turn, exc):
            why, status = UNKEPT, f"HTTP {exc.status}: {exc.message}"
            instead = "sends the logged history"
        else:
            raise
        if choice.explicit or chat.usable(turn) is not None:
            exc.hint = f"{why}; --api chat {instead} instead"
            raise
        factory.io.message(
            f"oai: {why} ({status}); using {chat_path} "
            "from now on with this server (--api responses to try again)"
        )
        _remember_engine(factory, "chat")
        switched = Choice(chat, explicit=False)
        return _usage_asked(factory, chat, turn, logging, markdown=markdown), switched
    if engine.name == "responses" and not factory.shared.dry_run:
        # The server has the Responses API after all: a switch remembered for it
        # earlier no longer holds.
        _remember_engine(factory, None)
    return reply, choice


UNKEPT = "this server keeps no responses to continue from"


def _usage_asked(
    factory: Factory, engine: Engine, turn: Turn, logging: Logging, *, markdown: bool
) -> Reply:
    """One exchange; once more without ``stream_options`` if the server refuses it,
    which is remembered for the server as the switch to Chat Completions is."""
    try:
        return _exchange(factory, engine, turn, logging, markdown=markdown)
    except ApiError as exc:
        if not _stream_options_refused(factory, engine, turn, exc):
            raise
        factory.io.message(
            f"oai: the server refuses stream_options (HTTP {exc.status}); asking without "
            "it from now on with this server, so its streamed answers carry no usage"
        )
        _remember(factory, STREAM_OPTIONS, "refused")
        return _exchange(factory, engine, turn, logging, markdown=markdown)


def _refuses_previous_response(turn: Turn, exc: ApiError) -> bool:
    """A server with /responses that cannot continue from a kept one (llama.cpp's says so).

    Only a refusal that names the field counts: the OpenAI API's answer for a response
    that expired ("Previous response with id ... not found") does not, and must not
    move the server to Chat Completions for good.
    """
    return (
        turn.previous_response_id is not None
        and exc.status in (400, 422, 501)
        and "previous_response_id" in exc.message
    )


def _exchange(
    factory: Factory, engine: Engine, turn: Turn, logging: Logging, *, markdown: bool
) -> Reply:
    from openai_cli.operations.request import PRINT, Request
    from openai_cli.operations.runner import dry_run
    from openai_cli.render.live import live_wanted

    body = engine.body(turn, usage=not _refuses_stream_options(factory))
    stream = bool(body.get("stream"))
    req = Request(method="POST", path=engine.path, body=body, stream=stream)
    if factory.shared.dry_run:
        dry_run(factory, req, PRINT)
        return Reply(api=engine.name)
    live = live_wanted(factory)
    entry = _begin(factory, engine, turn, logging)
    recorder = _Recorder(factory, live=live, markdown=markdown, entry=entry)
    ok = False
    error: str | None = None
    try:
        if stream:
            _streamed(factory, req, recorder)
        else:
            _whole(factory, req, recorder)
        ok = True
    except OaiError as exc:
        error = exc.message  # why the answer is partial, kept with it
        raise
    finally:
        cost = _cost(factory, turn.model, recorder.usage)
        _end(factory, engine, recorder, entry, ok, logging, error, cost)
    if factory.shared.verbose and recorder.usage:
        factory.io.message(
            f"cost: {dollars(cost)}" if cost is not None else f"cost: no price for {turn.model}"
        )
    return Reply(
        text=recorder.kept_text,
        usage=recorder.usage,
        request_id=recorder.request_id,
        response_id=recorder.response_id,
        api=engine.name,
    )


def _cost(factory: Factory, model: str | None, usage: dict[str, Any] | None) -> float | None:
    """What an answer's usage cost; None without usage or a price for the model."""
    if not usage or model is None:
        return None
    from openai_cli.operations.cost import spent

    try:
        return spent(factory).add(model, usage)
    except OaiError as exc:  # a broken prices file costs the log its cost, not the answer
        factory.io.message(f"oai: warning: no cost for this answer: {exc.message}")
        return None


def _begin(factory: Factory, engine: Engine, turn: Turn, logging: Logging) -> Entry | None:
    if logging.log is None:
        return None
    from openai_cli.logs import LogError, warn

    s = factory.settings()
    try:
        entry = logging.log.begin(
            logging.conversation_id,
            api=engine.name,
            model=turn.model,
            system=turn.instructions,
            prompt=turn.prompt,
            attachments=logging.attachments,
            stored=turn.stored,
            profile=s.profile.value,
            base_url=s.base_url.value,
        )
    except LogError as exc:
        warn(factory.io, exc)
        logging.log = None
        return None
    logging.conversation_id = entry.conversation_id
    return entry


def _end(
    factory: Factory,
    engine: Engine,
    recorder: _Recorder,
    entry: Entry | None,
    ok: bool,
    logging: Logging,
    error: str | None,
    cost: float | None,
) -> None:
    if entry is None:
        return
    from openai_cli.logs import LogError, warn

    text = recorder.kept_text
    try:
        if not ok and not text:
            entry.discard()
            return
        entry.finish(
            status="complete" if ok and recorder.complete else "partial",
            text=text,
            api=engine.name,
            usage=recorder.usage,
            cost=cost,
            request_id=recorder.request_id,
            response_id=recorder.response_id,
            error=error,
        )
    except LogError as exc:
        warn(factory.io, exc)
        logging.log = None


def _streamed(factory: Factory, req: Request, recorder: _Recorder) -> None:
    from openai_cli.operations.runner import stream_events

    def whole(resp: httpx.Response) -> int:
        # The server answered with one JSON body instead of a stream.
        recorder.whole(resp)
        return 0

    stream_events(factory, req, recorder, whole)


def _whole(factory: Factory, req: Request, recorder: _Recorder) -> None:
    from openai_cli.operations.send import send

    resp = send(factory.client(), req)
    recorder.whole(resp)


class _Recorder(Sink):
    """The sink of one answer: prints it (text or events), keeps its text, logs it."""

    fails_when_cut = True  # a cut answer is logged partial and never sent as history

    def __init__(
        self, factory: Factory, *, live: bool, markdown: bool, entry: Entry | None
    ) -> None:
        from openai_cli.operations.runner import EventLines

        io = factory.io
        self.factory = factory
        self.live = live
        self.entry = entry
        self.complete = True
        if live:
            self.text = _KeepingText(io, markdown=markdown, verbose=bool(factory.shared.verbose))
            self.echo: Sink | None = None
        else:
            # The events (or the whole object) are what is printed; the text is read
            # from them by a LiveText that prints nowhere.
            from openai_cli.io import IO

            muted = IO(stdin=io.stdin, stdout=_io.StringIO(), stderr=io.stderr, env=io.env)
            self.text = _KeepingText(muted)
            self.echo = EventLines(factory.renderer())

    # The Sink protocol, for streamed answers.

    def start(self, request_id: str | None) -> None:
        self.text.start(request_id)
        if self.echo is not None:
            self.echo.start(request_id)

    def event(self, ev: StreamEvent) -> None:
        if self.echo is not None:
            self.echo.event(ev)
        self.text.event(ev)

    def flush(self) -> None:
        self.text.flush()
        if self.echo is not None:
            self.echo.flush()
        if self.entry is not None:
            self._progress()

    def close(self, ok: bool) -> None:
        self.text.close(ok)
        if self.echo is not None:
            self.echo.close(ok)
        self.complete = ok

    def _progress(self) -> None:
        from openai_cli.logs import LogError

        assert self.entry is not None
        # A failure is reported when the exchange ends, if it still fails then.
        with contextlib.suppress(LogError):
            self.entry.progress(self.text.kept)

    # A whole (not streamed) answer.

    def whole(self, resp: httpx.Response) -> None:
        from openai_cli.errors import JobFailed
        from openai_cli.operations.send import answer_json
        from openai_cli.operations.streams import answer_cut, cut_short, event_error
        from openai_cli.render.live import answer_text

        rid = resp.headers.get("x-request-id")
        self.text.start(rid)
        # A body that is not JSON (a captive portal's page) is no answer: exit 6.
        payload = answer_json(resp)
        text = answer_text(payload)
        sink = self.text
        if isinstance(payload, dict):
            if isinstance(payload.get("id"), str):
                sink.response_id = payload["id"]
            if isinstance(payload.get("usage"), dict):
                sink.usage = payload["usage"]
        failed = isinstance(payload, dict) and payload.get("status") == "failed"
        cut = cut_short(payload)
        if self.live and text is not None:
            if text:
                sink.text(text)
                sink.flush()
            sink.close(not failed and cut is None)
        else:
            if text:
                sink.kept.append(text)
            self.factory.renderer().answer(payload, raw=resp.text)
        if failed:
            self.complete = False
            reason = event_error({"type": "response.failed", "response": payload})
            raise JobFailed(
                f"the response is failed: {reason}" + (f" (request id {rid})" if rid else "")
            )
        if cut is not None:
            self.complete = False
            raise answer_cut(cut, rid)

    @property
    def kept_text(self) -> str:
        return "".join(self.text.kept)

    @property
    def usage(self) -> dict[str, Any] | None:
        return self.text.usage

    @property
    def request_id(self) -> str | None:
        return self.text.request_id

    @property
    def response_id(self) -> str | None:
        return self.text.first_id or self.text.response_id


class _KeepingText(LiveText):
    """Live text that also keeps what it printed, and the id of a chat completion."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kept: list[str] = []
        self.first_id: str | None = None

    def event(self, ev: StreamEvent) -> None:
        p = ev.payload
        if (
            self.response_id is None
            and type(p) is dict
            and "choices" in p
            and isinstance(p.get("id"), str)
        ):
            self.response_id = p["id"]
        super().event(ev)
        # The id the stream opened with is the response's, whatever later events say.
        self.first_id = self.first_id or self.response_id

    def text(self, text: str) -> None:
        self.kept.append(text)
        super().text(text)
