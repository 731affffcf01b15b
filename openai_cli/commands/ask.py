"""``oai ask PROMPT``: one prompt to the Responses API, its answer printed as text.

Piped stdin becomes context before the prompt (``git diff | oai ask "review this"``),
``--file`` attaches images, PDFs and text files, ``--continue`` follows on from the
last answer (kept server-side, found through the response id remembered per
profile). The answer streams on a terminal and is printed whole when piped, unless
``--stream``/``--no-stream`` says otherwise.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from openai_cli.commands.streaming import MARKDOWN
from openai_cli.options import OptionSpec, add_command, argument, option, shared

if TYPE_CHECKING:
    from openai_cli.api.request import Request
    from openai_cli.context import Factory

REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
STATE_FILE = "last-response.json"

app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)


# Shared with `oai repl`.
MODEL = OptionSpec(
    "model",
    str | None,
    ("-m", "--model"),
    metavar="MODEL",
    help="Model; default: the profile's (--default-model).",
)
INSTRUCTIONS = OptionSpec(
    "instructions",
    str | None,
    ("-s", "--system", "--instructions"),
    metavar="TEXT",
    help="System (developer) instructions.",
)
# Where a turn's history lives on the server.
CONTINUE = OptionSpec(
    "cont",
    bool,
    ("-c", "--continue"),
    default=False,
    help="Continue from the last answer of this profile.",
)
PREVIOUS_RESPONSE_ID = OptionSpec(
    "previous_response_id",
    str | None,
    ("--previous-response-id",),
    metavar="ID",
    help="Continue from this response.",
)
CONVERSATION = OptionSpec(
    "conversation",
    str | None,
    ("--conversation",),
    metavar="ID",
    help="Keep the history in this conversation.",
)


@dataclass(frozen=True, kw_only=True)
class AskOptions:
    prompt: list[str] | None = argument(
        default=None,
        metavar="PROMPT...",
        help="The prompt (words are joined); piped stdin comes before it as context.",
        show_default=False,
    )
    model: str | None = shared(MODEL)
    instructions: str | None = shared(INSTRUCTIONS)
    files: list[str] | None = option(
        "-a",
        "--file",
        "--attach",
        metavar="PATH|URL|FILE_ID",
        help="Attach an image, PDF or text file (a path, an https URL or a file id); "
        "repeat for several.",
    )
    cont: bool = shared(CONTINUE)
    previous_response_id: str | None = shared(PREVIOUS_RESPONSE_ID)
    conversation: str | None = shared(CONVERSATION)
    schema: str | None = option(
        "--schema",
        metavar="JSON|@FILE",
        help="Answer as JSON following this JSON schema (or a {name, schema, strict} object).",
    )
    max_output_tokens: int | None = option("--max-output-tokens", metavar="N")
    reasoning_effort: str | None = option(
        "-r",
        "--reasoning-effort",
        metavar="EFFORT",
        help="Reasoning effort: " + ", ".join(REASONING_EFFORTS) + ".",
        completion=lambda incomplete: [e for e in REASONING_EFFORTS if e.startswith(incomplete)],
    )
    fields: list[str] | None = option(
        "-F",
        "--field",
        metavar="KEY=VALUE",
        help="Any other request field (typed, like -F elsewhere), e.g. -F temperature=0.",
    )
    stream: bool | None = option(
        "--stream/--no-stream", help="Stream the answer (default: on a terminal)."
    )
    markdown: bool | None = shared(MARKDOWN, panel=None)


def ask(factory: Factory, opts: AskOptions) -> None:
    from openai_cli.errors import UsageError

    io = factory.io
    prompt = " ".join(opts.prompt or [])
    context = None if io.stdin_tty else io.stdin.read()
    if not prompt.strip() and not (context and context.strip()):
        raise UsageError(
            "nothing to ask: give a PROMPT (and/or pipe text in)",
            hint='e.g. oai ask "Say this is a test"',
        )
    previous = opts.previous_response_id
    model = opts.model
    if opts.cont:
        if previous:
            raise UsageError("--continue and --previous-response-id: give one, not both")
        last = recall(factory)
        if last is None:
            raise UsageError("--continue: no earlier answer to continue from for this profile")
        previous = last.get("id")
        model = model or last.get("model")
    if previous and opts.conversation:
        raise UsageError("--conversation cannot be combined with continuing a response")
    parts: list[dict[str, Any]] = []
    if context and context.strip():
        parts.append({"type": "input_text", "text": context})
    for i, f in enumerate(opts.files or []):
        parts.append(attachment(f, what=f"--file #{i + 1}"))
    if prompt.strip():
        parts.append({"type": "input_text", "text": prompt})
    stream = opts.stream if opts.stream is not None else io.stdout_tty
    body = response_body(
        resolve_model(factory, model),
        parts,
        instructions=opts.instructions,
        previous_response_id=previous,
        conversation=opts.conversation,
        stream=stream,
    )
    if opts.schema:
        body["text"] = {"format": schema_format(factory, opts.schema)}
    if opts.max_output_tokens is not None:
        body["max_output_tokens"] = opts.max_output_tokens
    if opts.reasoning_effort:
        body["reasoning"] = {"effort": opts.reasoning_effort}
    if opts.fields:
        from openai_cli.input.assemble import collect
        from openai_cli.input.fields import merge

        extra, _ = collect(io, typed=opts.fields)
        body = merge(body, extra)
    answer = respond(factory, body, markdown=bool(opts.markdown))
    if answer.response_id and not factory.common.dry_run:
        remember(factory, answer.response_id, str(body.get("model") or ""))


add_command(
    app,
    "ask",
    AskOptions,
    ask,
    help="Ask a model one thing (Responses API); print the answer's text.\n\n"
    'Examples: oai ask "Say this is a test"; git diff | oai ask "review this"; '
    'oai ask -a chart.png "what does this show?"; oai ask -c "and in French?".\n\n'
    "The answer streams on a terminal; -o json prints the whole response object and "
    "-o jsonl (with --stream) the raw events.",
)


# -- shared with `oai repl` -----------------------------------------------------------


def resolve_model(factory: Factory, model: str | None) -> str:
    from openai_cli.errors import UsageError

    chosen = model or factory.settings().model.value
    if not chosen:
        raise UsageError(
            "no model: give --model MODEL",
            hint="or set a default with --default-model, or a profile's model "
            "(oai profile set model gpt-4o-mini)",
        )
    return str(chosen)


def response_body(
    model: str,
    parts: list[dict[str, Any]],
    *,
    instructions: str | None = None,
    previous_response_id: str | None = None,
    conversation: str | None = None,
    stream: bool = False,
) -> dict[str, Any]:
    """A Responses API request body for one user turn."""
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
    body: dict[str, Any] = {"model": model, "input": user_input}
    if instructions:
        body["instructions"] = instructions
    if previous_response_id:
        body["previous_response_id"] = previous_response_id
    if conversation:
        body["conversation"] = conversation
    if stream:
        body["stream"] = True
    return body


def attachment(value: str, *, what: str) -> dict[str, Any]:
    """One ``--file``: an image, a file to read, or text, as a Responses input part."""
    from urllib.parse import urlsplit

    from openai_cli.input.body import check_readable_file, guess_type

    if value.startswith(("https://", "http://")):
        ext = os.path.splitext(urlsplit(value).path)[1].lower()
        if ext in IMAGE_TYPES:
            return {"type": "input_image", "image_url": value, "detail": "auto"}
        return {"type": "input_file", "file_url": value}
    if value.startswith("file-") and not os.path.exists(value):
        return {"type": "input_file", "file_id": value}
    check_readable_file(value, what=what)
    name = os.path.basename(value)
    ext = os.path.splitext(name)[1].lower()
    with open(value, "rb") as fh:
        data = fh.read()
    if ext in IMAGE_TYPES:
        url = f"data:{IMAGE_TYPES[ext]};base64,{base64.b64encode(data).decode()}"
        return {"type": "input_image", "image_url": url, "detail": "auto"}
    if ext != ".pdf" and b"\x00" not in data:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            # Text goes in as text: every model reads it, and it costs no file parsing.
            return {"type": "input_text", "text": f"File {name}:\n\n{text}"}
    mime = guess_type(name)
    return {
        "type": "input_file",
        "filename": name,
        "file_data": f"data:{mime};base64,{base64.b64encode(data).decode()}",
    }


def schema_format(factory: Factory, value: str) -> dict[str, Any]:
    """``--schema``: a JSON schema, or the ``{name, schema, strict}`` object itself."""
    from openai_cli.errors import UsageError
    from openai_cli.input.body import parse_json_text, read_text_file

    if value == "@-":
        data = parse_json_text(factory.io.stdin.read(), what="--schema (stdin)")
    elif value.startswith("@"):
        path = value[1:]
        data = parse_json_text(
            read_text_file(path, what="--schema"),
            what=f"--schema {path}",
            yaml_ok=path.endswith((".yaml", ".yml")),
        )
    else:
        data = parse_json_text(value, what="--schema")
    if not isinstance(data, dict):
        raise UsageError("--schema: expected a JSON object (a JSON schema)")
    if isinstance(data.get("schema"), dict):
        fmt = {k: v for k, v in data.items() if k in ("name", "schema", "strict", "description")}
        fmt.setdefault("name", "output")
        return {"type": "json_schema", **fmt}
    return {"type": "json_schema", "name": "output", "schema": data}


@dataclass
class Answer:
    response_id: str | None = None
    text_printed: bool = False


def respond(factory: Factory, body: dict[str, Any], *, markdown: bool = False) -> Answer:
    """Send one Responses request and print its answer as the output format asks."""
    from openai_cli.api.request import Request
    from openai_cli.api.runner import dry_run
    from openai_cli.render.live import live_wanted

    stream = bool(body.get("stream"))
    req = Request(method="POST", path="/responses", body=body, stream=stream)
    if factory.common.dry_run:
        dry_run(factory, req)
        return Answer()
    live = live_wanted(factory)
    if stream:
        return _respond_streamed(factory, req, live=live, markdown=markdown)
    return _respond_whole(factory, req, live=live, markdown=markdown)


def _respond_streamed(factory: Factory, req: Request, *, live: bool, markdown: bool) -> Answer:
    from openai_cli.api.runner import EventLines, stream_events
    from openai_cli.commands.streaming import stream_text

    if live:
        sink = stream_text(factory, req, markdown=markdown)
        return Answer(sink.response_id, sink.wrote)

    class _Events(EventLines):
        response_id: str | None = None

        def event(self, ev: Any) -> None:
            super().event(ev)
            if ev.kind == "response.created" and isinstance(ev.payload.get("response"), dict):
                self.response_id = ev.payload["response"].get("id")

    events = _Events(factory.renderer())
    stream_events(factory, req, events)
    return Answer(events.response_id)


def _respond_whole(factory: Factory, req: Request, *, live: bool, markdown: bool) -> Answer:
    from openai_cli.api.send import answer_json, send
    from openai_cli.errors import JobFailed
    from openai_cli.render.live import LiveText, answer_text

    resp = send(factory.client(), req)
    rid = resp.headers.get("x-request-id")
    payload = answer_json(resp)
    response_id = payload.get("id") if isinstance(payload, dict) else None
    text = answer_text(payload)
    if live and text is not None:
        sink = LiveText(factory.io, markdown=markdown, verbose=bool(factory.common.verbose))
        sink.start(rid)
        sink.response_id = response_id
        sink.usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else None
        if text:
            sink.text(text)
            sink.flush()
        status = payload.get("status")
        sink.close(status not in ("failed", "incomplete"))
    else:
        factory.renderer().answer(payload, raw=resp.text)
    status = payload.get("status") if isinstance(payload, dict) else None
    if status in ("failed", "incomplete"):
        from openai_cli.api.streams import event_error

        reason = event_error({"type": f"response.{status}", "response": payload})
        raise JobFailed(
            f"the response is {status}: {reason}" + (f" (request id {rid})" if rid else "")
        )
    return Answer(response_id if isinstance(response_id, str) else None, bool(text))


# -- the last answer, for --continue --------------------------------------------------


def _state_path(factory: Factory) -> Path:
    from openai_cli.state import state_dir

    return state_dir(factory.io.env) / STATE_FILE


def _state_key(factory: Factory) -> str:
    s = factory.settings()
    return f"{s.profile.value or ''}@{s.base_url.value}"


def recall(factory: Factory) -> dict[str, Any] | None:
    """The last response id (and its model) for this profile and base URL."""
    try:
        data = json.loads(_state_path(factory).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entry = data.get(_state_key(factory)) if isinstance(data, dict) else None
    return entry if isinstance(entry, dict) and entry.get("id") else None


def remember(factory: Factory, response_id: str, model: str) -> None:
    """Keep the last response id per profile and base URL; best effort."""
    from openai_cli.state import write_json

    try:
        path = _state_path(factory)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        data[_state_key(factory)] = {"id": response_id, "model": model}
        write_json(path, data)
    except OSError as exc:
        factory.io.message(f"oai: warning: could not remember the response id: {exc}")
