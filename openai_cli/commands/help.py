"""``oai help``: find commands by name or summary, and the index of the whole tree.

The index lists every command and group: the catalogue's operations, the commands
added to its groups (``overrides.EXTRA_COMMANDS``) and the hand-written tools of
``app.TOOLS`` with their subcommands. It is built only when asked for: by this
command, or by a group that was given a word it does not know (``lazy.py``), so
start-up never pays for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache
from typing import TYPE_CHECKING, Any

import typer

from openai_cli.options import PRINTING, add_command, argument, option

if TYPE_CHECKING:
    from openai_cli.context import Factory

Path = tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    path: Path  # the words after ``oai``
    summary: str
    group: bool  # has commands below it (not a command to run)

    @property
    def line(self) -> str:
        return " ".join(("oai", *self.path))


@cache
def index() -> tuple[Entry, ...]:
    """Every command and group of ``oai``: the API families first, then the tools."""
    return (*_catalogue(), *_tools())


def _catalogue() -> list[Entry]:
    from openai_cli.commands.overrides import EXTRA_COMMANDS
    from openai_cli.operations.catalogue import GROUPS, load
    from openai_cli.operations.help import all_summaries

    summaries = all_summaries()
    leaves = {op.command for name in GROUPS for op in load(name)}
    extra = {path: text for path, (_, text) in EXTRA_COMMANDS.items()}
    groups = {path[:i] for path in (*leaves, *extra) for i in range(1, len(path))}
    entries = [
        Entry(path, extra.get(path) or summaries.get(" ".join(path), ""), path in groups)
        for path in sorted(leaves | groups | set(extra))
    ]
    return entries


def _tools() -> list[Entry]:
    from openai_cli.app import TOOLS
    from openai_cli.lazy import typer_loader

    entries: list[Entry] = []
    for name, (module, text) in TOOLS.items():
        cmd = typer_loader(module)()
        entries += _walk(cmd, (name,), text)
    return entries


def _walk(cmd: Any, path: Path, text: str | None = None) -> list[Entry]:
    children: dict[str, Any] = getattr(cmd, "commands", None) or {}
    out = [Entry(path, text or _first_paragraph(cmd), bool(children))]
    for name, sub in children.items():
        if not sub.hidden:
            out += _walk(sub, (*path, name))
    return out


def _first_paragraph(cmd: Any) -> str:
    text: str = cmd.short_help or cmd.help or ""
    return " ".join(text.strip().split("\n\n")[0].split())


# -- suggestions for a word no group knows ------------------------------------------------

# Below this, two words are not close: difflib's own 0.6 finds `roles` in `projects`.
_CUTOFF = 0.75
_SHOWN = 3


def _closeness(typed: str, word: str) -> float:
    if typed == word:
        return 1.0
    if typed in word.split("-"):
        # `keys` for `admin-api-keys`: a whole part, not a spelling.
        return 0.9
    ratio = SequenceMatcher(None, typed, word).ratio()
    return ratio if ratio >= _CUTOFF else 0.0


@dataclass(frozen=True)
class _Fit:
    matched: int  # typed words that found a word of the path
    kept_prefix: bool  # the path starts with the words that were right
    unmatched: int  # words of the path nobody typed
    exact: int  # typed words found as they are
    length_gap: int
    closeness: float
    has_failed: bool  # the unknown word itself found one

    def rank(self) -> tuple[int, bool, int, int]:
        return (-self.matched, not self.kept_prefix, self.unmatched, -self.exact)


def _fit(typed: Sequence[str], failed: int, path: Path) -> _Fit:
    free = list(range(len(path)))
    matched, exact, closeness, has_failed = 0, 0, 0.0, False
    for i, word in enumerate(typed):
        scores = [(_closeness(word, path[j]), j) for j in free]
        best, j = max(scores, default=(0.0, -1))
        if best:
            free.remove(j)
            matched += 1
            exact += best == 1.0
            closeness += best
            has_failed |= i == failed
    return _Fit(
        matched=matched,
        kept_prefix=tuple(typed[:failed]) == path[:failed],
        unmatched=len(free),
        exact=exact,
        length_gap=abs(len(path) - len(typed)),
        closeness=closeness,
        has_failed=has_failed,
    )


def suggest(typed: Sequence[str], failed: int) -> list[Entry]:
    """The commands or groups closest to ``typed`` (words after ``oai``, up to the
    first option), where ``typed[failed]`` is the word no group knows.

    Ranked by how many typed words match a word of the path (exactly, as a part of
    a hyphenated word, or closely), then paths that keep the words already right,
    then paths with the fewest words nobody typed, then the most words typed
    exactly; only the best of that order is shown, nearest in length first.
    """
    typed = [w.lower() for w in typed]
    fits = [(_fit(typed, failed, e.path), e) for e in index()]
    fits = [(f, e) for f, e in fits if f.has_failed]
    if not fits:
        return []
    best = min(f.rank() for f, _ in fits)
    tier = [(f, e) for f, e in fits if f.rank() == best]
    tier.sort(key=lambda fe: (fe[0].length_gap, -fe[0].closeness, fe[1].path))
    return [e for _, e in tier[:_SHOWN]]


def suggestion_lines(typed: Sequence[str], failed: int) -> list[str]:
    """What a usage error adds below its first line: nothing, or the closest commands."""
    found = suggest(typed, failed)
    if len(found) == 1:
        return [f"did you mean `{found[0].line}`?"]
    return ["did you mean one of these?", *(f"  {e.line}" for e in found)] if found else []


# -- oai help -----------------------------------------------------------------------------

app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)


@dataclass(frozen=True, kw_only=True)
class HelpOptions:
    words: list[str] | None = argument(
        default=None,
        metavar="WORDS...",
        help="Words that must all appear in a command's name or summary (any case).",
        show_default=False,
    )
    search: bool = option(
        "--search",
        "-s",
        default=False,
        help="Search for the words even when they name a command.",
    )


def find(factory: Factory, opts: HelpOptions) -> int | None:
    """List the commands whose name or summary holds every word.

    One command a line with its summary: aligned on a terminal, tab-separated when
    piped, a list of {command, summary} with -o json. Without words: every command.
    When the words are a command or a group (`oai help files list`), its --help is
    shown instead; --search searches for them anyway. Exit 1 when nothing matches.
    """
    words = opts.words or []
    renderer = factory.renderer()  # an unknown -o is a usage error before anything prints
    if words and not opts.search and any(e.path == tuple(words) for e in index()):
        factory.io.out.write(_help_of(factory, words))
        return None
    needles = [w.lower() for w in words]
    found = [
        e
        for e in index()
        if not e.group and all(n in f"{e.line} {e.summary}".lower() for n in needles)
    ]
    if not found:
        factory.io.message(f"oai help: no command matches {' '.join(words)!r}")
        for line in suggestion_lines(words, failed=0):
            factory.io.message(f"  {line}")
        return 1  # as grep: nothing found, which a script may test for
    if renderer.fmt != "auto" or renderer.query:
        renderer.answer([{"command": e.line, "summary": e.summary} for e in found])
    elif factory.io.stdout_tty:
        _aligned(factory, found)
    else:
        factory.io.out.write("".join(f"{e.line}\t{e.summary}\n" for e in found))
    return None


def _aligned(factory: Factory, found: list[Entry]) -> None:
    left = max(len(e.line) for e in found)
    room = max((factory.io.width or 80) - left - 2, 20)
    for e in found:
        summary = e.summary if len(e.summary) <= room else e.summary[: room - 1] + "…"
        factory.io.out.write(f"{e.line.ljust(left)}  {summary}".rstrip() + "\n")


def _help_of(factory: Factory, words: list[str]) -> str:
    """The --help text of ``oai WORDS``, from the real tree (only that branch loads)."""
    from openai_cli.app import build

    cmd: Any = build()
    # With the root's settings (``-h``), which every context below inherits.
    ctx = typer.Context(cmd, info_name="oai", obj=factory, **cmd.context_settings)
    for word in words:
        cmd = cmd.get_command(ctx, word)
        ctx = typer.Context(cmd, parent=ctx, info_name=word)
    text: str = ctx.get_help()
    return text + "\n"


add_command(app, "help", HelpOptions, find, shared=PRINTING)
