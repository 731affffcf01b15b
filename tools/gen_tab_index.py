"""Write openai_cli/tab_index/ and openai_cli/help_index/: the command tree as a TAB
needs it (see openai_cli/tab.py), and the help pages of its groups and commands (see
openai_cli/helpindex.py).

python -m tools.gen_tab_index [--check]

Every group and command is built, and what completion offers is asked of Click
itself: the commands of each group with their summaries, the options of each
command (spellings, help, whether they take a value) and the values each one
completes. IDs and profile names are not values of the tree: their parameters
name where tab.py reads them on TAB.

A help page is recorded as the calls its command makes to Click's help formatter,
once for every width that changes them, and kept only if replaying the calls gives
Click's page at every width; otherwise ``--help`` is left to Typer.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openai_cli import helpindex
from openai_cli.io import IO
from openai_cli.tab import file_name
from tools._generated import Folder, sync

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "openai_cli" / "tab_index"
HELP_OUT = REPO / "openai_cli" / "help_index"


def _io() -> IO:
    import io

    # No config, no cache: the values recorded are the tree's own.
    env = {"OAI_CONFIG_DIR": "/nonexistent/oai-index", "OAI_ID_CACHE": "0"}
    return IO(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(), env=env)


def _plain(items: list[tuple[str, str, str]]) -> list[list[str]]:
    return [[value, help_text] for value, kind, help_text in items if kind == "plain"]


def _node(group: Any, factory: Any, path: list[str]) -> dict[str, Any]:
    from openai_cli.typer_compat import (
        complete,
        completion_source,
        context_for,
        param_facts,
    )

    ctx = context_for(group, factory, path)
    cmd = ctx.command
    node: dict[str, Any] = {}
    # Fills in the help of generated commands and lists a group's commands.
    listed = complete(group, factory, path, "")
    complete(group, factory, path, "-")
    if hasattr(cmd, "list_commands"):
        node["commands"] = _plain(listed)
    params = []
    placeholders: list[str] = []
    for param in cmd.get_params(ctx):
        facts = param_facts(param)
        if param is cmd.get_help_option(ctx):
            # Click keeps the help option's spellings in a set: any order is its own,
            # and this one keeps the file the same from run to run.
            facts["opts"] = [o for o in ctx.help_option_names if o in facts["opts"]]
        source = completion_source(param)
        if source is not None:
            if source[0] == "ids":
                known = source[2]() if callable(source[2]) else source[2]
                source = ["ids", source[1], list(known)]
            facts["source"] = list(source)
        elif facts["arg"] and not facts["complex"]:
            facts["values"] = _plain(complete(group, factory, path + placeholders, ""))
        elif facts["value"] and not facts["complex"]:
            facts["values"] = _plain(complete(group, factory, [*path, facts["opts"][0]], ""))
        if facts["arg"]:
            placeholders.append("x")
        if not facts["listed"]:
            facts["help"] = ""
        params.append({k: v for k, v in facts.items() if v not in (False, "", None)})
    node["params"] = params
    return node


def generate() -> tuple[dict[str, str], dict[str, str]]:
    """The files of the TAB index and of the help index, by name."""
    from openai_cli.app import build
    from openai_cli.context import Factory

    group = build()
    factory = Factory(_io())
    # One file for the root and one per top-level command: a TAB reads two small ones.
    files: dict[str, dict[str, Any]] = {}
    pages: dict[str, str] = {}
    bare: list[str] = []
    root: dict[str, Any] | None = None
    todo: list[list[str]] = [[]]
    # Breadth first: a group's page is recorded before any command below it is built,
    # as in a process that shows it (a built command is listed with its own summary).
    while todo:
        path = todo.pop(0)
        page = _help_page(group, factory, path)
        if page is not None:
            if page.pop("bare"):
                bare.append(" ".join(path))
            if path:
                pages[helpindex.file_name(path)] = _json(page)
            else:
                root = page
        node = _node(group, factory, path)
        files.setdefault(path[0] if path else "", {})[" ".join(path)] = node
        todo += [[*path, name] for name, _ in node.get("commands", ())]
    # Which lines of bare words show help is read from the root's page, a small file.
    if root is None:
        raise SystemExit("the root's help cannot be replayed exactly")
    pages[helpindex.file_name([])] = _json({**root, "bare": bare})
    return {file_name(top): _json(nodes) for top, nodes in files.items()}, pages


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


# The formatter's methods a page is made of (``section`` and ``indentation`` call them).
_CALLS = (
    "write",
    "indent",
    "dedent",
    "write_paragraph",
    "write_heading",
    "write_usage",
    "write_text",
    "write_dl",
)


def _recorder(base: type) -> type:
    """Click's formatter, noting the calls a command makes to it, and whether the
    command read the width itself (then its calls may differ from width to width)."""

    class Recorder(base):  # type: ignore[misc]
        def __init__(self, width: int) -> None:
            self.calls: list[list[Any]] = []
            self.depth = 0
            self.width_read = False
            super().__init__(width=width)

        @property
        def width(self) -> int:
            if self.depth == 0:
                self.width_read = True
            value: int = self._width
            return value

        @width.setter
        def width(self, value: int) -> None:
            self._width = value

    def noted(name: str) -> Callable[..., Any]:
        method = getattr(base, name)
        signature = inspect.signature(method)

        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            if "rows" in bound.arguments:  # perhaps a generator: read it once
                bound.arguments["rows"] = [tuple(row) for row in bound.arguments["rows"]]
            if self.depth == 0:
                self.calls.append([name, *list(bound.arguments.values())[1:]])
            self.depth += 1
            try:
                return method(*bound.args, **bound.kwargs)
            finally:
                self.depth -= 1

        return call

    for name in _CALLS:
        setattr(Recorder, name, noted(name))
    return Recorder


def _help_page(group: Any, factory: Any, path: list[str]) -> dict[str, Any] | None:
    """The recorded page of ``oai PATH``, or None when replaying it is not exact."""
    from openai_cli.typer_compat import context_for

    ctx = context_for(group, factory, path)
    cmd = ctx.command
    recorder = _recorder(ctx.formatter_class)

    def record(width: int) -> tuple[list[Any], bool]:
        formatter = recorder(width)
        ctx.make_formatter = lambda: formatter
        text = cmd.get_help(ctx)
        calls = json.loads(json.dumps(formatter.calls))
        exact = "\x1b" not in json.dumps(calls) and helpindex.replay(calls, width) == text
        return (calls if exact else []), formatter.width_read

    widest, width_read = record(helpindex.WIDEST)
    widths = range(helpindex.NARROWEST, helpindex.WIDEST + 1)
    variants: list[list[Any]] = []
    for width in widths if width_read else (helpindex.NARROWEST, helpindex.WIDEST):
        calls = widest if width == helpindex.WIDEST else record(width)[0]
        if not calls:
            return None
        if variants and variants[-1][2] == calls:
            variants[-1][1] = width
        else:
            variants.append([width, width, calls])
    if not width_read:
        if len(variants) > 1:
            return None
        variants[0][:2] = [helpindex.NARROWEST, helpindex.WIDEST]
    option = cmd.get_help_option(ctx)
    flags = [] if option is None else [*option.opts, *option.secondary_opts]
    return {
        "flags": [f for f in ctx.help_option_names if f in flags],
        "bare": bool(cmd.no_args_is_help),
        "pages": variants,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.gen_tab_index", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="compare with the file on disk, write nothing"
    )
    args = parser.parse_args(argv)
    stale = "out of date; run python -m tools.gen_tab_index"
    tab_files, help_files = generate()
    codes = [
        sync(Folder(out, leftovers="*.json", missing=stale, changed=stale), files, check=args.check)
        for out, files in ((OUT, tab_files), (HELP_OUT, help_files))
    ]
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
