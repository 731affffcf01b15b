"""``oai logs``: the conversations ``ask`` and ``repl`` kept locally.

``oai logs`` (or ``oai logs list``) shows the recent conversations, ``show`` one of
them (Markdown on a terminal, JSON when piped or with ``-o json``), ``search`` finds
text in prompts and answers, ``path`` prints where the file is and ``delete``
removes one conversation or all of them. Output follows ``-o`` as everywhere else.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

from openai_cli.errors import UsageError
from openai_cli.input.numbers import positive
from openai_cli.options import (
    PRINTING,
    OptionSpec,
    add_command,
    argument,
    callback,
    factory_of,
    option,
    pop_shared,
    reuse,
)
from openai_cli.textfmt import count

if TYPE_CHECKING:
    from openai_cli.context import Factory
    from openai_cli.logs import Log

DEFAULT_LIMIT = 10

app = typer.Typer(
    help="The conversations of `oai ask` and `oai repl`, kept in a local SQLite file.",
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

LIMIT = OptionSpec(
    "n", int | None, ("-n", "--limit"), metavar="N", help=f"At most N (default {DEFAULT_LIMIT})."
)


def _limit(n: int | None) -> int:
    return positive(n, "-n/--limit", DEFAULT_LIMIT)


def _open(factory: Factory) -> Log | None:
    """The log for reading; None when nothing has been logged yet."""
    from openai_cli.logs import Log, LogError

    try:
        return Log.open(factory.io.env, create=False)
    except LogError as exc:
        raise exc.error() from None


def _print_list(factory: Factory, rows: list[dict[str, Any]]) -> None:
    factory.renderer().answer({"object": "list", "data": rows})


def _recent(factory: Factory, n: int | None) -> None:
    limit = _limit(n)
    factory.renderer()  # an unknown -o is a usage error before the file is read
    log = _open(factory)
    rows = [] if log is None else _read(log.recent, limit)
    _print_list(factory, [_summary(c) for c in rows] if _table(factory) else rows)


def _read(fn: Any, *args: Any) -> Any:
    from openai_cli.logs import LogError

    try:
        return fn(*args)
    except LogError as exc:
        raise exc.error() from None


def _table(factory: Factory) -> bool:
    """True when the list is shown as a table: one line per conversation then."""
    return factory.renderer().effective in ("table", "pretty")


def _summary(conversation: dict[str, Any]) -> dict[str, Any]:
    exchanges = conversation.get("exchanges") or []
    return {
        "id": conversation["id"],
        "updated": _when(conversation["updated_at"]),
        "model": conversation["model"],
        "turns": len(exchanges),
        "title": conversation["title"],
        "profile": conversation["profile"] or "",
    }


def _when(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


@dataclass(frozen=True, kw_only=True)
class ListOptions:
    n: int | None = reuse(LIMIT)


def list_(factory: Factory, opts: ListOptions) -> None:
    """The most recent conversations, newest first, each with its exchanges.

    On a terminal one line per conversation; piped or with -o json, every exchange:
    prompt, answer, model, usage, ids and timings.
    """
    _recent(factory, opts.n)


# The log is local: these print data and send nothing.
add_command(app, "list", ListOptions, list_, shared=PRINTING)
_list_all = callback(ListOptions, list_, PRINTING)


def _root(ctx: typer.Context, **kwargs: Any) -> None:
    if ctx.invoked_subcommand is None:
        _list_all(ctx, **kwargs)
        return
    if kwargs.get("n") is not None:
        raise UsageError("-n/--limit: give it after the command (oai logs list -n 3)")
    factory_of(ctx).use(pop_shared(kwargs))


_root.__signature__ = inspect.signature(_list_all)  # type: ignore[attr-defined]
app.callback(
    invoke_without_command=True,
    help="The conversations of `oai ask` and `oai repl`, kept in a local SQLite file.\n\n"
    "Without a command: the recent conversations (as `oai logs list`).",
)(_root)


@dataclass(frozen=True, kw_only=True)
class ShowOptions:
    conversation_id: str = argument(metavar="ID", help="The conversation (from `oai logs`).")


def show(factory: Factory, opts: ShowOptions) -> None:
    """One conversation: Markdown on a terminal, JSON when piped or with -o json."""
    conversation_id = opts.conversation_id
    renderer = factory.renderer()
    log = _open(factory)
    found = None if log is None else _read(log.conversation, conversation_id)
    if found is None:
        raise UsageError(
            f"no conversation {conversation_id!r} in the log", hint="`oai logs` lists them"
        )
    if renderer.effective == "pretty" and not factory.shared.query:
        _markdown(factory, found)
    else:
        renderer.answer(found)


@dataclass(frozen=True, kw_only=True)
class SearchOptions:
    text: list[str] = argument(
        metavar="TEXT...", help="Words that must all appear (prompt or answer)."
    )
    n: int | None = reuse(LIMIT)


def search(factory: Factory, opts: SearchOptions) -> None:
    """Exchanges whose prompt or answer holds every word of TEXT, newest first."""
    limit = _limit(opts.n)
    factory.renderer()
    words = " ".join(opts.text)
    if not words.strip():
        raise UsageError("search: give some TEXT to look for")
    log = _open(factory)
    rows = [] if log is None else _read(log.search, words, limit)
    if _table(factory):
        rows = [
            {
                "conversation": r["conversation_id"],
                "when": _when(r["created_at"]),
                "model": r["model"],
                "prompt": _line(r["prompt"]),
                "answer": _line(r["answer"]),
            }
            for r in rows
        ]
    _print_list(factory, rows)


def _line(text: str, width: int = 60) -> str:
    one = " ".join((text or "").split())
    return one if len(one) <= width else one[: width - 1] + "…"


@dataclass(frozen=True, kw_only=True)
class UsageOptions:
    by: str = option(
        "--by",
        default="day",
        metavar="day|model|profile",
        help="Total by local day (default), model or profile.",
        completion=lambda incomplete: [
            g for g in ("day", "model", "profile") if g.startswith(incomplete)
        ],
    )


def usage(factory: Factory, opts: UsageOptions) -> None:
    """Tokens and cost of the logged ask and repl turns, totalled by day, model or profile.

    The cost of a turn is priced when it is logged (oai prices); a turn whose model
    has no price counts in without_price, one whose answer carried no usage in
    without_usage. Newest day first; by model or profile, the costliest first.
    """
    from openai_cli.logs import USAGE_GROUPS

    if opts.by not in USAGE_GROUPS:
        raise UsageError(f"--by: one of {', '.join(USAGE_GROUPS)}, got {opts.by!r}")
    factory.renderer()
    log = _open(factory)
    rows = [] if log is None else _read(log.usage, opts.by)
    for row in rows:
        row["cost"] = round(row["cost"], 6)
    _print_list(factory, rows)


add_command(
    app, "usage", UsageOptions, usage, shared=PRINTING, example="oai logs usage --by model -o table"
)


@dataclass(frozen=True, kw_only=True)
class PathOptions:
    pass


def path(factory: Factory, opts: PathOptions) -> None:
    """Print the path of the log file (it may not exist yet)."""
    from openai_cli.logs import db_path

    factory.io.out.write(f"{db_path(factory.io.env)}\n")


@dataclass(frozen=True, kw_only=True)
class DeleteOptions:
    conversation_id: str | None = argument(
        default=None, metavar="[ID]", help="The conversation to delete."
    )
    all_: bool = option("--all", default=False, help="Delete every conversation.")
    yes: bool = option("--yes", "-y", default=False, help="Do not ask for confirmation.")


def delete(factory: Factory, opts: DeleteOptions) -> None:
    """Delete one conversation, or all of them with --all (asks first on a terminal)."""
    conversation_id, all_, yes = opts.conversation_id, opts.all_, opts.yes
    if all_ == (conversation_id is not None):
        raise UsageError("delete: give a conversation ID or --all (one of them)")
    log = _open(factory)
    if conversation_id is not None:
        found = None if log is None else _read(log.conversation, conversation_id)
        if found is None:
            raise UsageError(
                f"no conversation {conversation_id!r} in the log", hint="`oai logs` lists them"
            )
        what = f"conversation {conversation_id} ({count(len(found['exchanges']), 'exchange')})"
    else:
        what = "every logged conversation"
    if not yes:
        _confirm(factory, f"Delete {what}? [y/N] ")
    if log is None:
        factory.io.message("Nothing to delete: the log is empty.")
        return
    if conversation_id is not None:
        _read(log.delete, conversation_id)
        factory.io.message(f"Deleted {what}.")
    else:
        deleted = _read(log.delete_all)
        factory.io.message(f"Deleted {count(deleted, 'conversation')}.")


add_command(app, "show", ShowOptions, show, shared=PRINTING)
add_command(app, "search", SearchOptions, search, shared=PRINTING)
add_command(app, "path", PathOptions, path, shared=())
add_command(app, "delete", DeleteOptions, delete, shared=())


def _confirm(factory: Factory, question: str) -> None:
    io = factory.io
    if not io.stdin_tty:
        raise UsageError(
            "refusing to delete without confirmation",
            hint="pass --yes (stdin is not a terminal, so oai cannot ask)",
        )
    io.err.write(question)
    io.err.flush()
    if io.stdin.readline().strip().lower() not in ("y", "yes"):
        io.message("Not deleted.")
        raise typer.Exit(1)


def _markdown(factory: Factory, conversation: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markdown import Markdown

    from openai_cli.render.live import usage_text
    from openai_cli.terminal import neutralise

    facts = [f"`{conversation['id']}`", _when(conversation["created_at"])]
    facts += [conversation[k] for k in ("model", "profile", "base_url") if conversation.get(k)]
    lines = [f"# {conversation['title'] or '(no prompt)'}", "", " · ".join(facts), ""]
    for i, ex in enumerate(conversation["exchanges"], start=1):
        lines += [f"## {i}. Prompt", ""]
        if ex["system"]:
            lines += [f"*System:* {ex['system']}", ""]
        lines += [ex["prompt"], ""]
        for a in ex["attachments"]:
            size = f" ({count(a['bytes'], 'byte')})" if a.get("bytes") is not None else ""
            lines.append(f"- attached: {a['name']}{size}")
        lines += ["", f"## {i}. Answer ({ex['model']}, {ex['api']})", "", ex["answer"], ""]
        notes = []
        if ex["status"] != "complete":
            notes.append(ex["status"])
        if ex["usage"]:
            notes.append(usage_text(ex["usage"]))
        if ex["duration_ms"] is not None:
            notes.append(f"{ex['duration_ms'] / 1000:.1f} s")
        if notes:
            lines += [f"*{'; '.join(notes)}*", ""]
    io = factory.io
    # The bare stream, so that rich's own styling reaches the terminal as styling;
    # everything the log holds (answers are the server's text) is neutralised, and
    # links are shown as "text (url)", never as hidden targets.
    Console(file=io.term_out, force_terminal=io.color, no_color=not io.color).print(
        Markdown(neutralise("\n".join(lines)), hyperlinks=False)
    )
