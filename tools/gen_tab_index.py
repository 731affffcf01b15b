"""Write openai_cli/tab_index/: the command tree as a TAB needs it (see openai_cli/tab.py).

python -m tools.gen_tab_index [--check]

Every group and command is built, and what completion offers is asked of Click
itself: the commands of each group with their summaries, the options of each
command (spellings, help, whether they take a value) and the values each one
completes. IDs and profile names are not values of the tree: their parameters
name where tab.py reads them on TAB.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from openai_cli.io import IO
from openai_cli.tab import file_name
from tools._generated import Folder, sync

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "openai_cli" / "tab_index"


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


def generate() -> dict[str, str]:
    from openai_cli.app import build
    from openai_cli.context import Factory

    group = build()
    factory = Factory(_io())
    # One file for the root and one per top-level command: a TAB reads two small ones.
    files: dict[str, dict[str, Any]] = {}
    todo: list[list[str]] = [[]]
    while todo:
        path = todo.pop(0)
        node = _node(group, factory, path)
        files.setdefault(path[0] if path else "", {})[" ".join(path)] = node
        todo += [[*path, name] for name, _ in node.get("commands", ())]
    return {
        file_name(top): json.dumps(nodes, ensure_ascii=False, separators=(",", ":")) + "\n"
        for top, nodes in files.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.gen_tab_index", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="compare with the file on disk, write nothing"
    )
    args = parser.parse_args(argv)
    stale = "out of date; run python -m tools.gen_tab_index"
    folder = Folder(OUT, leftovers="*.json", missing=stale, changed=stale)
    return sync(folder, generate(), check=args.check)


if __name__ == "__main__":
    sys.exit(main())
