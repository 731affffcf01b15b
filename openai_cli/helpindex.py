"""``--help`` of a group or command from the index, without Typer or Click.

Help is printed by Click's plain formatter (the app sets ``rich_markup_mode=None``),
which builds a page from a few calls: a usage line, text, headings, definition
lists, indents. ``tools/gen_tab_index.py`` records those calls for every group and
command (``help_index/``, one small JSON file per page) and this
module replays them through a copy of the formatter's layout rules, so the page is
laid out for the terminal's width here, as Click would lay it out.

A page whose calls depend on the width (a group's summaries are shortened to fit,
examples are folded) is recorded once per width Click can use (50 to 78 columns)
that changes it. ``tests/cli/test_help_index.py`` checks every page, at several
widths, against Typer's, byte for byte; any command line of another shape (an option
before ``--help``, an unknown word) is left to Typer.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from functools import cache

# Not from typing, which a TAB and a help page do without (see openai_cli/main.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import textwrap
    from typing import Any

    from openai_cli.io import IO

# A plain path: ``pathlib`` (with ``urllib`` and ``ipaddress``) costs more than the answer.
INDEX = os.path.join(os.path.dirname(__file__), "help_index")
# Click's page width: the terminal's columns less 2, kept within these bounds.
NARROWEST, WIDEST = 50, 78

if TYPE_CHECKING:
    Call = Sequence[Any]


def file_name(words: Sequence[str]) -> str:
    """The file of the page of ``oai WORDS``: ``oai.files.list.json``, ``oai.json``.

    One file per page: the page asked for is the only one read.
    """
    return ".".join(["oai", *words]) + ".json"


# The letters of command names; any other word is not looked up as a file name.
_NAME = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def lookup(words: Sequence[str]) -> dict[str, Any] | None:
    """The recorded page of ``oai WORDS``, or None when the index has none."""
    if not all(word[:1].isalnum() and _NAME.issuperset(word) for word in words):
        return None
    try:
        with open(os.path.join(INDEX, file_name(words)), encoding="utf-8") as f:
            node: dict[str, Any] = json.load(f)
    except (OSError, ValueError):
        return None
    return node


def answer(argv: Sequence[str], io: IO) -> int | None:
    """Print the help ``argv`` asks for and return the exit code; None if Typer must.

    ``oai WORDS --help`` (or ``-h``) prints the page on stdout; ``oai GROUP`` alone,
    for a group that shows its help when run bare, prints it on stderr and exits 2.
    """
    if argv and argv[-1].startswith("-"):
        words, flag = argv[:-1], argv[-1]
    else:
        words, flag = argv, ""
    if flag:
        node = lookup(words)
        if node is None or flag not in node["flags"]:
            return None
        stream, code = io.stdout, 0
    else:
        # Most lines of bare words run a command: the root's page lists those that
        # show help instead, so that the others read this one small file only.
        root = lookup([])
        if root is None or " ".join(words) not in root["bare"]:
            return None
        node = lookup(words) if words else root
        if node is None:
            return None
        stream, code = io.err, 2
    stream.write(render(node["pages"], page_width()) + "\n")
    stream.flush()
    return code


def page_width() -> int:
    """The width Click gives its help formatter, from the same sources."""
    return max(min(terminal_columns(), WIDEST + 2) - 2, NARROWEST)


def terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``, which Click asks, by the same rules:
    ``COLUMNS`` when it is a positive number, else the terminal on stdout, else 80.

    Importing shutil (with bz2 and lzma) would cost a help page more than a tenth of
    its start-up; ``tests/cli/test_help_index.py`` holds the two to the same answers.
    """
    import os
    import sys

    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def render(pages: Sequence[Sequence[Any]], width: int) -> str:
    """The page recorded for ``width``, laid out at that width.

    ``pages`` is a list of ``[narrowest, widest, calls]``: the formatter's calls for
    the widths from ``narrowest`` to ``widest``.
    """
    for low, high, calls in pages:
        if low <= width <= high:
            return replay(calls, width)
    raise LookupError(f"no help recorded for width {width}")


def replay(calls: Sequence[Call], width: int) -> str:
    page = Page(width)
    for name, *args in calls:
        getattr(page, name)(*args)
    return "".join(page.buffer).rstrip("\n")


class Page:
    """The ``HelpFormatter`` of Typer's copy of Click, for text without ANSI escapes.

    The method names are those of the calls recorded by the generator.
    """

    def __init__(self, width: int) -> None:
        self.width = width
        self.indent_level = 0
        self.buffer: list[str] = []

    def write(self, text: str) -> None:
        self.buffer.append(text)

    def indent(self) -> None:
        self.indent_level += 2

    def dedent(self) -> None:
        self.indent_level -= 2

    def write_paragraph(self) -> None:
        if self.buffer:
            self.write("\n")

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.indent_level}}{heading}:\n")

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        if prefix is None:
            prefix = "Usage: "
        usage_prefix = f"{prefix:>{self.indent_level}}{prog} "
        text_width = self.width - self.indent_level
        if text_width >= len(usage_prefix) + 20:
            indent = " " * len(usage_prefix)
            self.write(wrap(args, text_width, usage_prefix, indent))
        else:
            self.write(usage_prefix + "\n")
            indent = " " * (max(self.indent_level, len(prefix)) + 4)
            self.write(wrap(args, text_width, indent, indent))
        self.write("\n")

    def write_text(self, text: str) -> None:
        indent = " " * self.indent_level
        self.write(wrap(text, self.width, indent, indent, paragraphs=True) + "\n")

    def write_dl(self, rows: Sequence[Sequence[str]], col_max: int = 30, spacing: int = 2) -> None:
        first_col = min(max(len(first) for first, _ in rows), col_max) + spacing
        margin = self.indent_level
        for first, second in rows:
            self.write(f"{'':>{margin}}{first}")
            if not second:
                self.write("\n")
                continue
            if len(first) <= first_col - spacing:
                self.write(" " * (first_col - len(first)))
            else:
                self.write("\n" + " " * (first_col + margin))
            lines = wrap(second, max(self.width - first_col - 2, 10), paragraphs=True).splitlines()
            if not lines:
                self.write("\n")
                continue
            self.write(f"{lines[0]}\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + margin}}{line}\n")


@cache
def _wrapper_class() -> type[textwrap.TextWrapper]:
    import textwrap

    class Wrapper(textwrap.TextWrapper):
        # Click cuts a word longer than the line where the line ends, hyphens or not.
        def _handle_long_word(
            self, reversed_chunks: list[str], cur_line: list[str], cur_len: int, width: int
        ) -> None:
            space_left = max(width - cur_len, 1)
            last = reversed_chunks[-1]
            cur_line.append(last[:space_left])
            reversed_chunks[-1] = last[space_left:]

    return Wrapper


def wrap(
    text: str, width: int, first: str = "", rest: str = "", *, paragraphs: bool = False
) -> str:
    """Click's ``wrap_text``: with ``paragraphs``, blank lines part paragraphs, each
    rewrapped at its own indent, except one that opens with a line holding ``\\b``."""
    text = text.expandtabs()
    wrapper = _wrapper_class()(
        width, initial_indent=first, subsequent_indent=rest, replace_whitespace=False
    )
    if not paragraphs:
        return wrapper.fill(text)
    out = []
    for indent, raw, body in _paragraphs(text):
        wrapper.initial_indent = first + " " * indent
        wrapper.subsequent_indent = rest + " " * indent
        if raw:
            lines = body.splitlines()
            out.append(
                "\n".join(
                    (wrapper.subsequent_indent if i else wrapper.initial_indent) + line
                    for i, line in enumerate(lines)
                )
            )
        else:
            out.append(wrapper.fill(body))
    return "\n\n".join(out)


def _paragraphs(text: str) -> Iterator[tuple[int, bool, str]]:
    buf: list[str] = []
    indent: int | None = None
    for line in [*text.splitlines(), ""]:
        if not line:
            if buf:
                if buf[0].strip() == "\b":
                    yield indent or 0, True, "\n".join(buf[1:])
                else:
                    yield indent or 0, False, " ".join(buf)
            buf, indent = [], None
            continue
        if indent is None:
            stripped = line.lstrip()
            indent = len(line) - len(stripped)
            line = stripped
        buf.append(line)
