"""One way to declare a command: options as data (openai_cli/options.py)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import typer
from typer.testing import CliRunner

from openai_cli.app import build
from openai_cli.options import (
    OptionSpec,
    add_command,
    argument,
    option,
    parameter,
    reuse,
    specs_of,
)
from tests.helpers import ROOT, walk_commands

PACKAGE = ROOT / "openai_cli"
SHARED_FLAGS = {"-o", "--output", "--query", "-i", "--include", "--debug", "--dry-run", "-v"}


# What builds a parameter by hand: calling these, or holding them under another name
# (``P = inspect.Parameter``) to call later.
BUILDERS = {("typer", "Option"), ("typer", "Argument"), ("inspect", "Parameter")}


def _typer_declarations(path: Path) -> list[int]:
    """Lines that build a Typer option, argument or signature parameter by hand."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in BUILDERS:
                lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and any(
            (node.module, a.name) in BUILDERS for a in node.names
        ):
            lines.append(node.lineno)
    return sorted(set(lines))


def test_the_declaration_scan_finds_each_way_in(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text(
        "import inspect, typer\n"
        "from typer import Option as O\n"
        "P = inspect.Parameter\n"
        "def f(ctx: typer.Context, x: int = typer.Argument(...)):\n"
        "    return P('a', P.KEYWORD_ONLY), inspect.Signature([])\n",
        encoding="utf-8",
    )
    assert _typer_declarations(sample) == [2, 3, 4]


def test_only_options_py_declares_typer_parameters() -> None:
    found = {
        str(path.relative_to(ROOT)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "options.py"
        for lines in [_typer_declarations(path)]
        if lines
    }
    assert found == {}


def test_shared_options_come_from_the_one_table() -> None:
    """No command declares its own -o, --query, -i, --debug, --dry-run or -v."""
    root = build()
    ctx = typer.Context(root, info_name="oai")
    own = []
    for path, cmd, _ in walk_commands(root, ctx):
        if not path:
            continue  # the root's copies
        for p in cmd.params:
            flags = set(p.opts) | set(getattr(p, "secondary_opts", []))
            # A generated command's API field keeps its own name (vector store --query).
            # `_root_` are the root's own options, accepted after the command too.
            name = p.name or ""
            if flags & SHARED_FLAGS and not name.startswith(("shared_", "api_", "_root_")):
                own.append((" ".join(path), p.name))
    assert own == []


@dataclass(frozen=True, kw_only=True)
class Sample:
    name: str = argument(metavar="NAME", help="A name.")
    count: int = option("--count", "-n", default=3, metavar="N", help="How many.")
    secret: str | None = option("--secret", hidden=True)
    colour: str = option(
        "--colour", required=True, completion=lambda incomplete: ["red"], panel="Looks"
    )
    reused: bool | None = reuse(OptionSpec("x", bool | None, ("--reused",), help="Again."))


def test_an_options_class_is_its_specs() -> None:
    specs = {s.name: s for s in specs_of(Sample)}
    assert list(specs) == ["name", "count", "secret", "colour", "reused"]
    assert specs["name"].argument and specs["name"].required and specs["name"].type is str
    assert (specs["count"].flags, specs["count"].default) == (("--count", "-n"), 3)
    assert specs["secret"].hidden and specs["secret"].type == str | None
    assert specs["colour"].required and specs["colour"].panel == "Looks"
    assert specs["reused"].flags == ("--reused",) and specs["reused"].help == "Again."
    assert parameter(specs["colour"]).default is parameter(specs["colour"]).empty


def test_a_command_gets_the_factory_and_its_options() -> None:
    seen: list[Sample] = []
    app = typer.Typer(add_completion=False, rich_markup_mode=None)

    def run(factory: object, opts: Sample) -> int:
        seen.append(opts)
        return 3

    add_command(app, "sample", Sample, run, help="A sample.", shared=())
    result = CliRunner().invoke(app, ["ada", "-n", "5", "--colour", "red"])
    assert result.exit_code == 3, result.output
    assert seen == [Sample(name="ada", count=5, colour="red")]
    shown = CliRunner().invoke(app, ["--help"]).output
    assert "--secret" not in shown and "--count" in shown and "How many." in shown
    missing = CliRunner().invoke(app, ["ada"])
    assert missing.exit_code == 2 and "--colour" in missing.output
