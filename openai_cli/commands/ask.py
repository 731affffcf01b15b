"""``oai ask PROMPT``: one prompt to a model, its answer printed as text.

Piped stdin becomes context before the prompt (``git diff | oai ask "review this"``),
``--file`` attaches images, PDFs and text files, ``--continue`` follows on from the
last answer of the profile and ``--cid`` from any logged conversation: through
``previous_response_id`` where the server keeps responses, else by sending the
logged history again. The Responses API or Chat Completions carries the turn
(:mod:`openai_cli.commands.conversation`). The answer streams on a terminal and is
printed whole when piped, unless ``--stream``/``--no-stream`` says otherwise.
"""

from __future__ import annotations

import base64
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from openai_cli.commands.completion import spec_models
from openai_cli.commands.streaming import MARKDOWN
from openai_cli.config.settings_table import CONVERSATION_APIS
from openai_cli.options import (
    OptionSpec,
    add_command,
    argument,
    complete_ids,
    option,
    reuse,
)

if TYPE_CHECKING:
    from openai_cli.commands.conversation import Reply, Turn
    from openai_cli.context import Factory
    from openai_cli.logs import Log, Past

REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
STATE_FILE = "last-response.json"
# The model when neither --model, --default-model nor the profile names one.
DEFAULT_MODEL = "gpt-4o-mini"

app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)


# Shared with `oai repl`.
MODEL = OptionSpec(
    "model",
    str | None,
    ("-m", "--model"),
    metavar="MODEL",
    help=f"Model; default: --default-model or the profile's, else {DEFAULT_MODEL}.",
    completion=complete_ids("model", lambda: spec_models(("responses", "create"))),
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
# Which API carries the turns, and the local log of them.
API = OptionSpec(
    "api",
    str | None,
    ("--api",),
    metavar="|".join(CONVERSATION_APIS),
    help="The API to talk through (default: the profile's api, else responses; "
    "chat where the server has no /responses).",
    completion=lambda incomplete: [a for a in CONVERSATION_APIS if a.startswith(incomplete)],
)
CID = OptionSpec(
    "cid",
    str | None,
    ("--cid",),
    metavar="ID",
    help="Continue this logged conversation (`oai logs` lists them).",
)
NO_LOG = OptionSpec(
    "no_log",
    bool,
    ("--no-log",),
    default=False,
    help="Keep no local record of this exchange (oai logs); a profile's log = false does the same.",
)


@dataclass(frozen=True, kw_only=True)
class AskOptions:
    prompt: list[str] | None = argument(
        default=None,
        metavar="PROMPT...",
        help="The prompt (words are joined); piped stdin comes before it as context.",
        show_default=False,
    )
    model: str | None = reuse(MODEL)
    instructions: str | None = reuse(INSTRUCTIONS)
    files: list[str] | None = option(
        "-a",
        "--file",
        "--attach",
        metavar="PATH|URL|FILE_ID",
        help="Attach an image, PDF or text file (a path, an https URL or a file id); "
        "repeat for several.",
    )
    cont: bool = reuse(CONTINUE)
    previous_response_id: str | None = reuse(PREVIOUS_RESPONSE_ID)
    conversation: str | None = reuse(CONVERSATION)
    api: str | None = reuse(API)
    cid: str | None = reuse(CID)
    no_log: bool = reuse(NO_LOG)
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
    markdown: bool | None = reuse(MARKDOWN, panel=None)


def ask(factory: Factory, opts: AskOptions) -> None:
    from openai_cli.commands.conversation import Logging, Turn, choose, converse, open_log
    from openai_cli.errors import UsageError
    from openai_cli.input import reader

    io = factory.io
    prompt = " ".join(opts.prompt or [])
    # stdin is read once: when --schema takes it, there is no piped context.
    piped = not io.stdin_tty and opts.schema != "@-"
    context = reader.read_text(io, "-", reader.PROMPT, what="stdin") if piped else None
    if not prompt.strip() and not (context and context.strip()):
        raise UsageError(
            "nothing to ask: give a PROMPT (and/or pipe text in)",
            hint='e.g. oai ask "Say this is a test"',
        )
    choice = choose(factory, opts.api)
    dry = bool(factory.shared.dry_run)
    log = None if dry else open_log(factory, no_log=opts.no_log)
    thread = continue_from(factory, log, asdict(opts))
    parts: list[dict[str, Any]] = []
    attachments: list[dict[str, Any]] = []
    if context and context.strip():
        parts.append({"type": "input_text", "text": context})
    for i, f in enumerate(opts.files or []):
        parts.append(attachment(f, what=f"--file #{i + 1}"))
        attachments.append(attachment_info(f))
    if prompt.strip():
        parts.append({"type": "input_text", "text": prompt})
    extra = None
    if opts.fields:
        from openai_cli.input.assemble import collect

        extra, _ = collect(io, typed=opts.fields)
    turn = Turn(
        model=resolve_model(factory, thread.model),
        parts=parts,
        instructions=opts.instructions,
        history=thread.history,
        previous_response_id=thread.previous_response_id,
        conversation=opts.conversation,
        schema=schema_format(factory, opts.schema) if opts.schema else None,
        max_output_tokens=opts.max_output_tokens,
        reasoning_effort=opts.reasoning_effort,
        extra=extra,
        stream=opts.stream if opts.stream is not None else io.stdout_tty,
    )
    logging = Logging(log, thread.conversation_id, attachments)
    reply, _ = converse(factory, choice, turn, logging, markdown=bool(opts.markdown))
    if not dry:
        remember(factory, reply, turn, logging.conversation_id)


add_command(
    app,
    "ask",
    AskOptions,
    ask,
    help="Ask a model one thing; print the answer's text.\n\n"
    "The answer streams on a terminal; -o json prints the whole response object and "
    "-o jsonl (with --stream) the raw events. Each exchange is kept in a local log "
    "(oai logs) unless --no-log.",
    example=(
        'oai ask "What is the capital of Australia?"',
        'git diff | oai ask "Review this change for bugs"',
        'oai ask -a photo.png "What does this picture show?"',
        'oai ask -c "And in French?"',
    ),
)


# -- shared with `oai repl` -----------------------------------------------------------


def resolve_model(factory: Factory, model: str | None) -> str:
    return str(model or factory.settings().model.value or DEFAULT_MODEL)


def attachment(value: str, *, what: str) -> dict[str, Any]:
    """One ``--file``: an image, a file to read, or text, as a Responses input part."""
    from urllib.parse import urlsplit

    from openai_cli.errors import UsageError
    from openai_cli.input import reader
    from openai_cli.input.body import guess_type

    if value.startswith(("https://", "http://")):
        ext = os.path.splitext(urlsplit(value).path)[1].lower()
        if ext in IMAGE_TYPES:
            return {"type": "input_image", "image_url": value, "detail": "auto"}
        return {"type": "input_file", "file_url": value}
    if value.startswith("file-") and not os.path.exists(value):
        return {"type": "input_file", "file_id": value}
    name = os.path.basename(value)
    ext = os.path.splitext(name)[1].lower()
    use = reader.IMAGE if ext in IMAGE_TYPES else reader.ATTACHMENT
    data = reader.read_file(value, use, what=what)
    if not data:
        raise UsageError(f"{what}: {value} is empty (0 bytes)")
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
    from openai_cli.input.body import json_value

    data = json_value(value, flag="--schema", io=lambda: factory.io)
    if not isinstance(data, dict):
        raise UsageError("--schema: expected a JSON object (a JSON schema)")
    if isinstance(data.get("schema"), dict):
        fmt = {k: v for k, v in data.items() if k in ("name", "schema", "strict", "description")}
        fmt.setdefault("name", "output")
        return {"type": "json_schema", **fmt}
    return {"type": "json_schema", "name": "output", "schema": data}


# -- the last answer, for --continue --------------------------------------------------


def _state_path(factory: Factory) -> Path:
    from openai_cli.state import state_dir

    return state_dir(factory.io.env) / STATE_FILE


def _state_key(factory: Factory) -> str:
    """The profile and the base URL, with no password or credential in the URL."""
    from openai_cli.http.redact import stored_url

    s = factory.settings()
    return f"{s.profile.value or ''}@{stored_url(s.base_url.value, query=True)}"


def recall(factory: Factory) -> dict[str, Any] | None:
    """The last answer (response id, logged conversation, model) for this profile and base URL."""
    from openai_cli.input.reader import read_kept_json

    try:
        data = read_kept_json(_state_path(factory))
    except (OSError, ValueError):
        return None
    from openai_cli.state import Maybe, fits

    entry = data.get(_state_key(factory)) if isinstance(data, dict) else None
    # One that is not what remember() writes (edited, another version) is forgotten:
    # its id would be sent as is, its conversation looked up in the log.
    text = Maybe(str, missing=True)
    if not isinstance(entry, dict) or not fits(entry, {"id": text, "cid": text, "model": text}):
        return None
    return entry if entry.get("id") or entry.get("cid") else None


def remember(factory: Factory, reply: Reply, turn: Turn, conversation_id: str | None) -> None:
    """Keep where the last answer of this profile and base URL is, for --continue.

    That is the response id, where the server keeps responses, and the logged
    conversation; best effort.
    """
    from openai_cli.config.lock import exclusive
    from openai_cli.errors import ConfigError
    from openai_cli.input.reader import read_kept_json
    from openai_cli.state import write_json

    response_id = reply.response_id if reply.api == "responses" and turn.stored else None
    if not response_id and not conversation_id:
        return
    try:
        path = _state_path(factory)
        with exclusive(path):
            try:
                data = read_kept_json(path)
            except (OSError, ValueError):
                data = {}
            if not isinstance(data, dict):
                data = {}
            # Keys written before passwords were left out of them go.
            data = {k: v for k, v in data.items() if "://" not in k or _no_secret(k)}
            data[_state_key(factory)] = {
                "id": response_id,
                "model": turn.model,
                "cid": conversation_id,
            }
            write_json(path, data)
    except (OSError, ConfigError) as exc:
        factory.io.message(f"oai: warning: could not remember the last answer: {exc}")


def _no_secret(key: str) -> bool:
    from openai_cli.http.redact import stored_url

    url = key.partition("@")[2]
    return stored_url(url, query=True) == url


@dataclass
class Thread:
    """Where a turn follows on from: a logged conversation, a response id, its model."""

    conversation_id: str | None = None
    history: list[Past] = field(default_factory=list)
    previous_response_id: str | None = None
    model: str | None = None


def continue_from(factory: Factory, log: Log | None, options: dict[str, Any]) -> Thread:
    """``--continue``, ``--cid``, ``--previous-response-id`` and ``--conversation``, checked."""
    from openai_cli.errors import UsageError

    cont, cid = options["cont"], options["cid"]
    previous, conversation = options["previous_response_id"], options["conversation"]
    if cont and cid:
        raise UsageError("--continue and --cid: give one, not both")
    if (cont or cid) and previous:
        flag = "--continue" if cont else "--cid"
        raise UsageError(f"{flag} and --previous-response-id: give one, not both")
    if (cont or cid or previous) and conversation:
        raise UsageError("--conversation cannot be combined with continuing a response")
    thread = Thread(previous_response_id=previous, model=options["model"])
    if not (cont or cid):
        return thread
    reading = log or _read_only_log(factory)
    if cont:
        last = recall(factory)
        if last is None:
            raise UsageError("--continue: no earlier answer to continue from for this profile")
        thread.conversation_id = last.get("cid")
        thread.previous_response_id = last.get("id")
        thread.model = thread.model or last.get("model")
    else:
        found = reading.conversation(cid) if reading is not None else None
        if found is None:
            from openai_cli.logs import db_path

            raise UsageError(
                f"--cid {cid}: no such conversation in {db_path(factory.io.env)}",
                hint="`oai logs` lists the conversations kept",
            )
        thread.conversation_id = cid
        thread.model = thread.model or found.get("model")
    if thread.conversation_id and reading is not None:
        from openai_cli.logs import LogError

        try:
            thread.history = reading.history(thread.conversation_id)
        except LogError as exc:
            raise exc.error("cannot read the conversation log: ") from None
        if cid and thread.history:
            last_turn = thread.history[-1]
            if last_turn.api == "responses" and last_turn.stored:
                thread.previous_response_id = last_turn.response_id
    if not thread.history and not thread.previous_response_id:
        flag = "--continue" if cont else f"--cid {cid}"
        raise UsageError(
            f"{flag}: nothing to continue from: the earlier answer is not in the log "
            "(kept with --no-log or log = false?) and the server keeps no copy of it"
        )
    return thread


def _read_only_log(factory: Factory) -> Log | None:
    from openai_cli.logs import Log, LogError

    try:
        return Log.open(factory.io.env, create=False)
    except LogError as exc:
        raise exc.error("cannot read the conversation log: ") from None


def attachment_info(value: str) -> dict[str, Any]:
    """What the log keeps of an attachment: its name and size, never its bytes."""
    if value.startswith(("https://", "http://")) or (
        value.startswith("file-") and not os.path.exists(value)
    ):
        return {"name": value}
    try:
        size: int | None = os.path.getsize(value)
    except OSError:
        size = None
    return {"name": os.path.basename(value), "bytes": size}
