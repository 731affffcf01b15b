"""``oai repl``: a multi-turn conversation with a model, at the terminal.

History lives server-side: each turn names the previous response
(``previous_response_id``), or every turn goes into one ``--conversation``. So
nothing but an id is kept here, and ``oai ask --continue`` can carry on where a
session left off. Ctrl-C during an answer cancels that answer only; the turn is
then left out of the history.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

from openai_cli.commands.ask import (
    CONTINUE,
    CONVERSATION,
    INSTRUCTIONS,
    MODEL,
    PREVIOUS_RESPONSE_ID,
)
from openai_cli.commands.streaming import MARKDOWN
from openai_cli.options import add_command, shared

if TYPE_CHECKING:
    from openai_cli.context import Factory

BLOCK = '"""'
HELP = (
    "/exit (or Ctrl-D) ends the session; /model NAME switches model; /new starts a fresh "
    "conversation; /help shows this. Multi-line input: end a line with \\ to go on, or put "
    f"it between lines of {BLOCK}. Ctrl-C cancels the answer being printed."
)

app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)

Reader = Callable[[str], str]  # prompt -> one line without its ending; EOFError at the end


@dataclass
class Session:
    model: str
    instructions: str | None = None
    previous_response_id: str | None = None
    conversation: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReplOptions:
    model: str | None = shared(MODEL)
    instructions: str | None = shared(INSTRUCTIONS)
    cont: bool = shared(CONTINUE)
    previous_response_id: str | None = shared(PREVIOUS_RESPONSE_ID)
    conversation: str | None = shared(CONVERSATION)
    markdown: bool | None = shared(MARKDOWN, panel=None)


def repl(factory: Factory, opts: ReplOptions) -> int:
    from openai_cli.commands.ask import recall, resolve_model
    from openai_cli.errors import UsageError

    previous = opts.previous_response_id
    model = opts.model
    if opts.cont:
        last = recall(factory)
        if last is None:
            raise UsageError("--continue: no earlier answer to continue from for this profile")
        previous = previous or last.get("id")
        model = model or last.get("model")
    if previous and opts.conversation:
        raise UsageError("--conversation cannot be combined with continuing a response")
    session = Session(
        model=resolve_model(factory, model),
        instructions=opts.instructions,
        previous_response_id=previous,
        conversation=opts.conversation,
    )
    return run_session(factory, session, markdown=bool(opts.markdown))


add_command(
    app,
    "repl",
    ReplOptions,
    repl,
    help="Talk with a model, turn after turn (Responses API, answers streamed).\n\n" + HELP,
)


def line_reader(factory: Factory) -> Reader:
    """Read lines with editing on a terminal; prompts never go to a piped stdout."""
    io = factory.io
    if io.stdin_tty and io.stdout_tty and io.stdin is sys.stdin:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())
        return input

    def read(prompt: str) -> str:
        if io.stdin_tty:
            io.err.write(prompt)
            io.err.flush()
        line = io.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\r\n")

    return read


def read_message(read: Reader) -> str:
    """One user message, which may span lines (``\\`` at line end, or a block of lines)."""
    first = read("> ")
    lines: list[str] = []
    if first.strip() == BLOCK:
        while True:
            line = read("... ")
            if line.strip() == BLOCK:
                return "\n".join(lines)
            lines.append(line)
    line = first
    while line.endswith("\\"):
        lines.append(line[:-1])
        line = read("... ")
    lines.append(line)
    return "\n".join(lines)


def run_session(
    factory: Factory, session: Session, *, markdown: bool = False, read: Reader | None = None
) -> int:
    from openai_cli.commands.ask import remember, respond, response_body
    from openai_cli.errors import OaiError

    io = factory.io
    read = read or line_reader(factory)
    if io.stdin_tty:
        io.message(f"oai repl: {session.model}. {HELP}")
    while True:
        try:
            text = read_message(read)
        except EOFError:
            if io.stdin_tty:
                io.message("")
            break
        except KeyboardInterrupt:
            # At the prompt Ctrl-C drops what was typed, as shells do.
            io.message("")
            continue
        if not text.strip():
            continue
        if text.lstrip().startswith("/") and "\n" not in text.strip():
            if not _command(factory, session, text.strip()):
                break
            continue
        body = response_body(
            session.model,
            [{"type": "input_text", "text": text}],
            instructions=session.instructions,
            previous_response_id=None if session.conversation else session.previous_response_id,
            conversation=session.conversation,
            stream=True,
        )
        try:
            answer = respond(factory, body, markdown=markdown)
        except KeyboardInterrupt:
            io.message("(answer cancelled)")
            continue
        except OaiError as exc:
            lines = exc.lines()
            io.message(f"oai: {lines[0]}")
            for line in lines[1:]:
                io.message(f"  {line}")
            continue
        if answer.response_id and not session.conversation:
            session.previous_response_id = answer.response_id
    if session.previous_response_id and not factory.common.dry_run:
        remember(factory, session.previous_response_id, session.model)
    return 0


def _command(factory: Factory, session: Session, text: str) -> bool:
    """Run a /command; False when the session should end."""
    io = factory.io
    name, _, arg = text[1:].partition(" ")
    arg = arg.strip()
    if name in ("exit", "quit", "q"):
        return False
    if name == "model":
        if arg:
            session.model = arg
        io.message(f"model: {session.model}")
    elif name in ("new", "reset"):
        session.previous_response_id = None
        io.message(
            "new conversation"
            if not session.conversation
            else f"turns keep going to conversation {session.conversation}"
        )
    elif name == "help":
        io.message(HELP)
    else:
        io.message(f"unknown command /{name}; /help lists the commands")
    return True
