"""The command tree as the user meets it: built by the real app, every group loaded.

The catalogue tests check the data; these check what ``openai_cli.app.build()`` turns it
into: one command per operation with the usage the operations table gives, help on
every node, and ``--help`` of one group that loads nothing else.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.core import TyperArgument, TyperCommand, TyperGroup

from openai_cli.app import TOOLS, build
from openai_cli.builder import load_help
from openai_cli.commands.overrides import EXTRA_COMMANDS, OVERRIDES
from openai_cli.operations import catalogue
from openai_cli.operations.help import summary
from tests.contract.steady import SteadyUnavailable, find_spec, unavailable
from tests.helpers import invoke, subprocess_env, walk_commands

Leaf = tuple[tuple[str, ...], TyperCommand]


def spec_path() -> Path:
    try:
        return find_spec()
    except SteadyUnavailable as exc:
        unavailable(str(exc))


def tsv_path() -> Any:
    return spec_path().with_name("operations.tsv")


@cache
def tsv_rows() -> list[dict[str, str]]:
    with tsv_path().open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


@cache
def spec_paths() -> dict[str, Any]:
    with spec_path().open(encoding="utf-8") as handle:
        paths: dict[str, Any] = yaml.load(handle, Loader=yaml.CSafeLoader)["paths"]
    return paths


def walk(group: TyperGroup, ctx: typer.Context, prefix: tuple[str, ...]) -> Iterator[Leaf]:
    """Every leaf command under ``group``; asking for a child by name loads it."""
    for path, cmd, _ in walk_commands(group, ctx, prefix):
        if not isinstance(cmd, TyperGroup):
            yield path, cmd


@cache
def tree() -> tuple[TyperGroup, list[Leaf]]:
    """The root and every command of the API families, hand-written extras left out."""
    root = build()
    ctx = typer.Context(root, info_name="oai")
    leaves = [
        leaf
        for name in root.list_commands(ctx)
        if name not in TOOLS
        for leaf in _subtree(root, ctx, name)
    ]
    extras = [leaf for leaf in leaves if leaf[0] in EXTRA_COMMANDS]
    assert sorted(path for path, _ in extras) == sorted(EXTRA_COMMANDS)
    return root, [leaf for leaf in leaves if leaf[0] not in EXTRA_COMMANDS]


def _subtree(root: TyperGroup, ctx: typer.Context, name: str) -> Iterator[Leaf]:
    cmd = root.get_command(ctx, name)
    assert isinstance(cmd, TyperGroup), name
    yield from walk(cmd, typer.Context(cmd, parent=ctx, info_name=name), (name,))


def usage(path: tuple[str, ...], cmd: TyperCommand) -> str:
    """The command and its required arguments, as the operations table writes them.

    A hand-written override may add an optional argument after them (a file to upload),
    which leaves the table's usage valid as written.
    """
    arguments = [p for p in cmd.params if isinstance(p, TyperArgument) and p.required]
    return " ".join(["oai", *path, *(str(a.metavar) for a in arguments)])


def test_every_operation_is_a_command_with_its_usage() -> None:
    _, leaves = tree()
    built = [usage(path, cmd) for path, cmd in leaves]
    assert len(built) == len(set(built)) == 288
    assert set(built) == {row["usage"] for row in tsv_rows()}


def test_every_command_is_the_operation_of_the_spec_it_names() -> None:
    _, leaves = tree()
    rows = {row["usage"]: row for row in tsv_rows()}
    for path, cmd in leaves:
        row = rows[usage(path, cmd)]
        # A generated command's help names the operation it calls on a line of its own,
        # below its summary (and any words an override puts first).
        called = f"{row['method']} {row['path']}"
        load_help(cmd)
        assert called in (cmd.help or "").splitlines(), path
        assert cmd.short_help != called and summary(path) == cmd.short_help, path
        operation = spec_paths()[row["path"]][row["method"].lower()]
        assert operation["operationId"] == row["operation_id"], path


def test_path_arguments_come_first_and_take_one_value() -> None:
    _, leaves = tree()
    for path, cmd in leaves:
        arguments = [p for p in cmd.params if isinstance(p, TyperArgument)]
        required = [p for p in arguments if p.required]
        assert arguments[: len(required)] == required, path
        assert all(p.nargs == 1 for p in required), path
        if len(arguments) > len(required):
            assert path in OVERRIDES, path


def test_every_group_and_command_has_help() -> None:
    root, leaves = tree()
    ctx = typer.Context(root, info_name="oai")

    def check(group: TyperGroup, where: tuple[str, ...]) -> None:
        assert (group.help or "").strip(), where
        for name, (_, short_help) in getattr(group, "lazy", {}).items():
            assert short_help.strip(), (*where, name)
        for name in group.list_commands(ctx):
            sub = group.get_command(ctx, name)
            if isinstance(sub, TyperGroup):
                check(sub, (*where, name))

    check(root, ())
    for path, cmd in leaves:
        load_help(cmd)
        assert (cmd.help or "").strip(), path
        assert (cmd.short_help or "").strip(), path


@pytest.mark.parametrize("group", sorted(catalogue.GROUPS))
def test_group_help_lists_its_commands(group: str) -> None:
    r = invoke(group, "--help")
    assert r.code == 0, r
    assert r.out.startswith(f"Usage: oai {group} [OPTIONS] COMMAND [ARGS]...")
    words = {op.command[1] for op in catalogue.load(group)}
    listed = r.out.split("Commands:", 1)[1]
    for word in words:
        assert re.search(rf"^  {re.escape(word)}\b", listed, re.MULTILINE), word


HELP_CASES: list[tuple[tuple[str, ...], list[str]]] = [
    (
        ("fine-tuning", "jobs", "list-events"),
        [
            "Usage: oai fine-tuning jobs list-events [OPTIONS] FINE_TUNING_JOB_ID\n",
            "GET /fine_tuning/jobs/{fine_tuning_job_id}/events",
            "--max-items N",
            "is paginated",
        ],
    ),
    (
        ("vector-stores", "files", "update"),
        [
            "Usage: oai vector-stores files update [OPTIONS] VECTOR_STORE_ID FILE_ID\n",
            "Required:\n  --attributes JSON",
        ],
    ),
    (
        ("files", "create"),
        [
            "Required:\n  --file PATH ",
            "--purpose TEXT",
            "assistants, batch, fine-tune",
        ],
    ),
    (
        ("audio", "speech", "create"),
        [
            "Required:\n  --input TEXT ",
            "\n  --voice TEXT|JSON ",
            # Filled in when left out, so not required.
            "Common:\n  --model TEXT ",
            "e.g. alloy, ash",
            "answers with bytes (--output-file)",
        ],
    ),
    (
        ("admin", "organization", "audit-logs", "list"),
        ["--event-types TEXT", "[repeatable; one of: api_key.created", "needs an admin key"],
    ),
    (("chat", "completions", "create"), ["--stream / --no-stream", "can stream"]),
]


@pytest.mark.parametrize(("command", "shown"), HELP_CASES, ids=[" ".join(c) for c, _ in HELP_CASES])
def test_command_help_shows_arguments_required_flags_and_enums(
    command: tuple[str, ...], shown: list[str]
) -> None:
    r = invoke(*command, "--help")
    assert r.code == 0, r
    text = " ".join(r.out.split(" "))
    for piece in shown:
        assert piece in text, piece


def _loaded_modules(*args: str, code: int = 0) -> set[str]:
    """Modules a run of ``python -X importtime ARGS`` loaded, from its report on stderr.

    ``-X importtime`` does not report a module loaded by ``importlib.import_module``
    (how catalogue groups are loaded), so ``-v``, which does, is asked for as well.
    """
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-v", *args],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == code, done.stderr[-2000:]
    modules = set()
    for line in done.stderr.splitlines():
        timed = re.match(r"import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", line)
        verbose = re.match(r"import '([\w.]+)'", line)
        if timed or verbose:
            modules.add((timed or verbose).group(1))  # type: ignore[union-attr]
    return modules


# An option before the command words leaves --help to Typer (the index of help pages
# answers only bare words and --help): what Typer's path loads is checked with it.
TYPER_HELP = "--debug"


def test_help_of_one_command_loads_only_its_group() -> None:
    modules = _loaded_modules("-m", "openai_cli", TYPER_HELP, "files", "list", "--help")
    # The report must see what it is meant to rule out, or the test proves nothing.
    assert {
        "typer",
        "openai_cli.operations.catalogue",
        "openai_cli.operations.catalogue.files",
    } <= modules
    others = {
        m
        for m in modules
        if m.startswith("openai_cli.operations.catalogue.")
        and m != "openai_cli.operations.catalogue.files"
    }
    assert others == set()
    heavy = {m for m in modules if m.split(".")[0] in ("httpx", "httpcore", "keyring", "yaml")}
    assert heavy == set()
    assert not {f"openai_cli.commands.{m}" for m in ("api", "auth", "profile")} & modules


@pytest.mark.parametrize("group", sorted(catalogue.GROUPS))
def test_help_of_a_group_loads_no_other_group(group: str) -> None:
    modules = _loaded_modules("-m", "openai_cli", TYPER_HELP, group, "--help")
    own = f"openai_cli.operations.catalogue.{catalogue.GROUPS[group]}"
    assert own in modules
    assert {m for m in modules if m.startswith("openai_cli.operations.catalogue.")} == {own}
    assert {m for m in modules if m.split(".")[0] in ("httpx", "httpcore", "keyring")} == set()


def test_root_help_loads_no_group() -> None:
    modules = _loaded_modules("-m", "openai_cli", TYPER_HELP, "--help")
    assert "openai_cli.operations.catalogue" in modules
    assert {m for m in modules if m.startswith("openai_cli.operations.catalogue.")} == set()
    assert {m for m in modules if m.split(".")[0] in ("httpx", "keyring")} == set()


@pytest.mark.parametrize("args", [[], ["files"], ["files", "list"]], ids=" ".join)
def test_help_from_the_index_loads_no_catalogue(args: list[str]) -> None:
    modules = _loaded_modules("-m", "openai_cli", *args, "--help")
    assert "openai_cli.helpindex" in modules
    assert {m for m in modules if m.startswith("openai_cli.operations.")} == set()


def test_no_usage_line_wraps_arguments_in_braces() -> None:
    """Arguments read as in the reference (FILE_ID, METHOD), never Typer's {FILE_ID}."""
    root = build()
    ctx = typer.Context(root, info_name="oai")
    braced = [
        " ".join(path)
        for path, cmd, sub in walk_commands(root, ctx)
        if not isinstance(cmd, TyperGroup) and "{" in cmd.get_usage(sub)
    ]
    assert braced == []
