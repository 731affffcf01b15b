"""Answers to a shell's TAB from the index of the command tree, without Typer or Click.

A TAB runs ``oai`` once (the scripts in ``completions/``), so its start-up is the
wait the user feels. ``tools/gen_tab_index.py`` writes ``tab_index.json`` from the
app itself: every group's commands, every command's options and arguments, which
take a value, and the values they complete (enum values; for IDs and profiles, where
to read them). Here a typed line is walked the way Click walks it for completion;
a line the index cannot answer exactly as Click would (``--``, an unknown word,
short options run together, an argument taking several words) is answered by the
full completion in ``commands/completion.py``. ``tests/cli/test_tab_index.py``
checks that both give the same answers for every command.

Also here, so that both paths share them: splitting the line, the candidates of
profiles and IDs, and writing candidates the way each shell's script reads them.
"""

from __future__ import annotations

import json
import os
import shlex

from openai_cli import COMPLETE_VAR as COMPLETE_VAR

# Not from typing, which a TAB and a help page do without (see openai_cli/main.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

    from openai_cli.io import IO

LINE_VAR = "_OAI_COMPLETE_LINE"
WORD_VAR = "_OAI_COMPLETE_WORD"
SHELLS = ("bash", "zsh", "fish", "powershell")
# A plain path: ``pathlib`` (with ``urllib`` and ``ipaddress``) costs more than the answer.
INDEX = os.path.join(os.path.dirname(__file__), "tab_index")
HELP_WIDTH = 80

Items = list[tuple[str, str]]


def split(line: str) -> list[str]:
    """A command line split into words as a shell would (an unfinished quote allowed)."""
    lex = shlex.shlex(line, posix=True)
    lex.whitespace_split = True
    lex.commenters = ""
    out: list[str] = []
    try:
        for token in lex:
            out.append(token)
    except ValueError:
        # The unfinished word, as far as it goes.
        out.append(lex.token)
    return out


def answer(io: IO) -> int:
    """Print the candidates for one completion request; called by ``main.run``."""
    shell = io.env.get(COMPLETE_VAR, "").removeprefix("complete_")
    if shell not in SHELLS:
        io.message(f"oai: unknown completion request {io.env.get(COMPLETE_VAR)!r}")
        return 2
    line = io.env.get(LINE_VAR, "")
    try:
        lines = candidates(line, io, shell, quick)
        if lines is None:
            from openai_cli.commands.completion import complete

            lines = candidates(line, io, shell, complete)
    except Exception as exc:  # a TAB must never print a traceback into the prompt
        io.message(f"oai: completion failed: {type(exc).__name__}: {exc}")
        return 1
    if lines:
        io.out.write("\n".join(lines) + "\n")
    io.out.flush()
    return 0


if TYPE_CHECKING:
    Source = Callable[[list[str], str, IO], Items | None]


def candidates(line: str, io: IO, shell: str, source: Source) -> list[str] | None:
    """The lines the shell script reads back, for the command line up to the cursor.

    ``source`` gives (value, description) pairs for the words before the cursor and
    the word being typed, or None when it cannot tell.
    """
    words = split(line)
    incomplete = words.pop() if words and line and not line[-1].isspace() else ""
    items = source(words[1:], incomplete, io)
    if items is None:
        return None
    # The same split Click makes: `--order=a` completes the value `a`.
    prefix = ""
    if incomplete.startswith("-") and "=" in incomplete and "--" not in words:
        prefix = incomplete.partition("=")[0] + "="
    out: list[str] = []
    for value, help_text in items:
        full = prefix + value
        text = one_line(help_text)
        if shell == "bash":
            cut = _bash_word(full, incomplete, io.env.get(WORD_VAR, incomplete))
            if cut is not None:
                out.append(cut)
        elif shell == "zsh":
            entry = full.replace("\\", "\\\\").replace(":", "\\:")
            out.append(f"{entry}:{text}" if text else entry)
        else:  # fish and PowerShell: the value, a tab, its description
            out.append(f"{full}\t{text}" if text else full)
    return out


def _bash_word(full: str, token: str, word: str) -> str | None:
    # bash replaces only its own last word, which COMP_WORDBREAKS (= and :) may have
    # cut from the middle of the token: answer with the part that replaces that word.
    if not token.endswith(word):
        return full
    lead = token[: len(token) - len(word)]
    return full[len(lead) :] if full.startswith(lead) else None


def one_line(text: str) -> str:
    text = " ".join(text.split())
    if not text.isprintable():
        # A description may be the server's text (a file's name): the shell shows it
        # on the terminal, where an escape in it would be obeyed.
        from openai_cli.terminal import neutralise

        text = neutralise(text)
    return text if len(text) <= HELP_WIDTH else text[: HELP_WIDTH - 3].rstrip() + "..."


# -- the candidates that come from files --------------------------------------------------


def profile_names(env: Mapping[str, str], incomplete: str) -> list[str]:
    """Profile names from the config file (never the keyring)."""
    from openai_cli import tabsettings

    names = tabsettings.profile_names(env, {})
    return sorted(n for n in names if n.startswith(incomplete))


def seen_ids(
    io: IO,
    flags: Mapping[str, str],
    kind: str,
    incomplete: str,
    known: Callable[[], Sequence[str]] | Sequence[str] = (),
) -> Items:
    """The IDs of ``kind`` the profile's answers held (the newest first), described.

    ``flags`` are the connection flags on the line (``profile``, ``base_url``), as
    typed. Read from the cache alone: a TAB never sends a request. With nothing
    cached, ``known`` (the spec's model names).
    """
    from openai_cli import idcache, tabsettings

    found: Items = []
    section = tabsettings.id_section(io.env, flags)
    if section is not None:
        found = idcache.read(io.env, section, kind)
    if not found:
        found = [(name, "") for name in (known() if callable(known) else known)]
    return [(oid, text) for oid, text in found if oid.startswith(incomplete)]


# -- the index ----------------------------------------------------------------------------

# The settings a TAB needs to find a profile's IDs, by the name of their parameter on
# the root and of their copies on every command.
_CONNECTION = {"profile": "profile", "base_url": "base_url"}
_CONNECTION.update({f"_root_{k}": v for k, v in list(_CONNECTION.items())})


def file_name(top: str) -> str:
    """The index file of the nodes under ``oai TOP`` (the root's: ``oai.json``)."""
    return f"{top or 'oai'}.json"


class _Index:
    """The index's nodes by command path, each file read when a path first needs it."""

    def __init__(self) -> None:
        self.nodes: dict[str, Any] = {}
        self.read: set[str] = set()

    def get(self, path: str) -> dict[str, Any] | None:
        top = path.split(" ", 1)[0]
        if top not in self.read:
            self.read.add(top)
            name = os.path.join(INDEX, file_name(top))
            try:
                with open(name, encoding="utf-8") as f:
                    self.nodes.update(json.load(f))
            except (OSError, ValueError):
                pass
        node: dict[str, Any] | None = self.nodes.get(path)
        return node


def quick(args: list[str], incomplete: str, io: IO) -> Items | None:
    """The candidates, from the index alone; None when only Click can tell."""
    index = _Index()
    node = index.get("")
    if node is None or incomplete == "=":
        return None
    return _walk(index, node, args, incomplete, io)


def _walk(
    index: _Index, node: dict[str, Any], args: list[str], incomplete: str, io: IO
) -> Items | None:
    path: list[str] = []
    given: set[int] = set()  # the params of ``node`` given on the line
    flags: dict[str, str] = {}
    positional = 0
    pending: dict[str, Any] | None = None  # an option waiting for its value
    for word in args:
        if pending is not None:
            _note(pending, word, flags)
            pending = None
            continue
        if word == "--":
            return None
        if word.startswith("-"):
            name, eq, value = word.partition("=")
            found = _option(node, name)
            if found is None:
                return None
            number, param = found
            given.add(number)
            if param.get("complex"):
                return None
            if param.get("value"):
                if eq:
                    _note(param, value, flags)
                else:
                    pending = param
            elif eq:
                return None
            continue
        if "commands" in node:
            sub = index.get(" ".join([*path, word]))
            if sub is None:
                return None
            path.append(word)
            node, given, positional = sub, set(), 0
            continue
        positional += 1
    if pending is not None and incomplete[:1] != "-":
        return _values(pending, incomplete, io, flags)
    if incomplete[:1] == "-":
        if "=" in incomplete:
            found = _option(node, incomplete.partition("=")[0])
            if found is None or not found[1].get("value") or found[1].get("complex"):
                return None
            return _values(found[1], incomplete.partition("=")[2], io, flags)
        return _flags(node, given, incomplete)
    if pending is not None:
        return None
    arguments = [p for p in node.get("params", ()) if p.get("arg")]
    if positional < len(arguments):
        argument = arguments[positional]
        if argument.get("complex"):
            return None
        return _values(argument, incomplete, io, flags)
    if arguments and arguments[-1].get("complex"):
        return None
    if "commands" in node:
        return [(n, h) for n, h in node["commands"] if n.startswith(incomplete)]
    return []


def _option(node: Mapping[str, Any], name: str) -> tuple[int, dict[str, Any]] | None:
    for number, param in enumerate(node.get("params", ())):
        if not param.get("arg") and name in param["opts"]:
            return number, param
    return None


def _note(param: Mapping[str, Any], value: str, flags: dict[str, str]) -> None:
    setting = _CONNECTION.get(param["name"])
    if setting is not None:
        flags[setting] = value


def _flags(node: Mapping[str, Any], given: set[int], incomplete: str) -> Items:
    # As Click lists them: a group's commands (none starts with "-"), then the
    # options shown in help that are not given already (unless repeatable).
    items: Items = []
    if incomplete[:1].isalnum():
        return items
    for number, param in enumerate(node.get("params", ())):
        if param.get("arg") or not param.get("listed"):
            continue
        if number in given and not param.get("multiple"):
            continue
        items += [(o, param.get("help", "")) for o in param["opts"] if o.startswith(incomplete)]
    return items


def _values(param: Mapping[str, Any], incomplete: str, io: IO, flags: Mapping[str, str]) -> Items:
    source = param.get("source")
    if source is None:
        return [(v, h) for v, h in param.get("values", ()) if v.startswith(incomplete)]
    if source[0] == "profile":
        return [(name, "") for name in profile_names(io.env, incomplete)]
    return seen_ids(io, flags, source[1], incomplete, source[2])
