"""``oai repl``: a multi-turn conversation with a model, at the terminal.

Where the server keeps responses, each turn names the previous one
(``previous_response_id``), or every turn goes into one ``--conversation``; on
Chat Completions (or when nothing is kept server-side) the session's turns are
sent again with each new one. Every turn is kept in the local log, so ``oai ask
--continue`` can carry on where a session left off. Ctrl-C during an answer
cancels that answer only; the turn is then left out of the history.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import typer

from openai_cli.commands.ask import (
    API,
    CID,
    CONTINUE,
    CONVERSATION,
    INSTRUCTIONS,
    MODEL,
    NO_LOG,
    PREVIOUS_RESPONSE_ID,
)
from openai_cli.commands.streaming import MARKDOWN
from openai_cli.options import add_command, reuse

if TYPE_CHECKING:
    from openai_cli.commands.conversation import Choice
    from openai_cli.context import Factory
    from openai_cli.logs import Log, Past

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
    choice: Choice | None = None
    """The engine; chosen as ``oai ask`` chooses it when left out."""
    log: Log | None = None
    conversation_id: str | None = None
    """The conversation in the local log that turns are added to."""
    history: list[Past] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ReplOptions:
    model: str | None = reuse(MODEL)
    instructions: str | None = reuse(INSTRUCTIONS)
    cont: bool = reuse(CONTINUE)
    previous_response_id: str | None = reuse(PREVIOUS_RESPONSE_ID)
    conversation: str | None = reuse(CONVERSATION)
    api: str | None = reuse(API)
    cid: str | None = reuse(CID)
    no_log: bool = reuse(NO_LOG)
    markdown: bool | None = reuse(MARKDOWN, panel=None)


def repl(factory: Factory, opts: ReplOptions) -> int:
    from openai_cli.commands.ask import continue_from, resolve_model
    from openai_cli.commands.conversation import choose, open_log

    choice = choose(factory, opts.api)
    log = None if factory.shared.dry_run else open_log(factory, no_log=opts.no_log)
    thread = continue_from(factory, log, asdict(opts))
    session = Session(
        model=resolve_model(factory, thread.model),
        instructions=opts.instructions,
        previous_response_id=thread.previous_response_id,
        conversation=opts.conversation,
        choice=choice,
        log=log,
        conversation_id=thread.conversation_id,
        history=thread.history,
    )
    return run_session(factory, session, markdown=bool(opts.markdown))


add_command(
    app,
    "repl",
    ReplOptions,
    repl,
    help="Talk with a model, turn after turn (answers streamed; turns kept in oai logs).\n\n"
    + HELP,
)


def line_reader(factory: Factory) -> Reader:
    """Read lines with editing on a terminal; prompts never go to a piped stdout."""
    io = factory.io
    if io.stdin_tty and io.stdout_tty and io.stdin is sys.stdin:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())
        return input

    from openai_cli.input import reader

    def read(prompt: str) -> str:
        if io.stdin_tty:
            io.err.write(prompt)
            io.err.flush()
        line = reader.read_line(io, reader.PROMPT, what="stdin")
        if line is None:
            raise EOFError
        return line

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
    from openai_cli.commands.ask import remember
    from openai_cli.commands.conversation import Logging, Reply, Turn, choose, converse
    from openai_cli.errors import OaiError, Terminated
    from openai_cli.logs import Past

    io = factory.io
    read = read or line_reader(factory)
    choice = session.choice or choose(factory, None)
    last: tuple[Reply, Turn] | None = None
    if io.stdin_tty:
        io.message(f"oai repl: {session.model}. {HELP}")
    while True:
        try:
            text = read_message(read)
        except EOFError:
            if io.stdin_tty:
                io.message("")
            break
        except Terminated:
            raise
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
        turn = Turn(
            model=session.model,
            parts=[{"type": "input_text", "text": text}],
            instructions=session.instructions,
            history=list(session.history),
            previous_response_id=None if session.conversation else session.previous_response_id,
            conversation=session.conversation,
            stream=True,
        )
        logging = Logging(session.log, session.conversation_id)
        try:
            reply, choice = converse(factory, choice, turn, logging, markdown=markdown)
        except Terminated:
            raise
        except KeyboardInterrupt:
            io.message("(answer cancelled)")
            continue
        except OaiError as exc:
            lines = exc.lines()
            io.message(f"oai: {lines[0]}")
            for line in lines[1:]:
                io.message(f"  {line}")
            continue
        finally:
            session.log = logging.log
            session.conversation_id = logging.conversation_id
        last = (reply, turn)
        session.history.append(
            Past(turn.prompt, reply.text, reply.api, turn.model, reply.response_id, True)
        )
        if reply.api != "responses":
            session.previous_response_id = None
        elif reply.response_id and not session.conversation:
            session.previous_response_id = reply.response_id
    if last is not None and not factory.shared.dry_run:
        remember(factory, *last, session.conversation_id)
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
        session.history = []
        session.conversation_id = None
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
