"""The one module that relies on Typer beyond its documented API, against the pinned Typer."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import typer

from openai_cli import typer_compat
from tests.helpers import ROOT, invoke


def _pin() -> tuple[str, tuple[int, int], tuple[int, int]]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    [spec] = [d for d in deps if re.match(r"typer\b", d)]
    m = re.fullmatch(r"typer>=(\d+)\.(\d+)(?:\.\d+)?,<(\d+)\.(\d+)", spec.replace(" ", ""))
    assert m, f"pyproject.toml pins Typer as {spec!r}; expected typer>=A.B,<A.C"
    a, b, c, d = map(int, m.groups())
    return spec, (a, b), (c, d)


def test_the_installed_typer_is_the_pinned_one_the_module_was_checked_with() -> None:
    spec, low, high = _pin()
    installed = tuple(int(p) for p in typer.__version__.split(".")[:2])
    assert low <= installed < high, (
        f"Typer {typer.__version__} is installed, outside the pin {spec!r} in pyproject.toml; "
        "openai_cli/typer_compat.py relies on Typer internals checked only for that range"
    )
    assert low == typer_compat.CHECKED_WITH, (
        f"pyproject.toml pins {spec!r} but openai_cli/typer_compat.py was checked with "
        f"{'.'.join(map(str, typer_compat.CHECKED_WITH))}: check the module against the new "
        "version, then update CHECKED_WITH"
    )


# Typer's documented API: what ``import typer`` offers, and the one documented way to
# get a Typer app's Click command.
PUBLIC = frozenset(
    {"Typer", "Context", "Exit", "Abort", "Option", "Argument", "BadParameter"}
    | {"TyperException", "echo", "secho", "style", "prompt", "confirm", "colors", "testing"}
)
PUBLIC_PATHS = frozenset({"typer.main.get_command"})
# Attributes of Typer's and Click's objects that are not part of either's API.
INTERNAL_ATTRS = frozenset(
    {"registered_commands", "registered_groups", "registered_callback", "_click"}
    | {"NoArgsIsHelpError", "_protected_args", "_opt_prefixes", "_main_shell_completion"}
)


def _dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


class _Internals(ast.NodeVisitor):
    def __init__(self) -> None:
        self.type_only = False
        self.found: list[tuple[int, str]] = []

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        ):
            self.type_only = True
            for stmt in node.body:
                self.visit(stmt)
            self.type_only = False
            for stmt in node.orelse:
                self.visit(stmt)
            return
        self.generic_visit(node)

    def _module(self, line: int, module: str, names: list[str]) -> None:
        top, _, rest = module.partition(".")
        if top == "click" or (top == "typer" and rest.startswith("_")):
            self.found.append((line, module))
        elif (
            top == "typer"
            and rest
            and rest != "testing"
            # The group and command classes, named in annotations only, are the ones
            # typer_compat re-exports; anything used at run time goes through it.
            and not (self.type_only and set(names) <= set(typer_compat.__all__))
        ):
            self.found.append((line, f"{module}: {', '.join(names)}"))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] == "click" or alias.name.startswith("typer."):
                self.found.append((node.lineno, alias.name))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and not node.level:
            self._module(node.lineno, node.module, [a.name for a in node.names])
            if node.module == "typer":
                bad = [a.name for a in node.names if a.name not in PUBLIC]
                if bad:
                    self.found.append((node.lineno, f"typer: {', '.join(bad)}"))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        dotted = _dotted(node)
        if node.attr in INTERNAL_ATTRS:
            self.found.append((node.lineno, ast.unparse(node)))
        elif dotted and dotted.startswith("typer."):
            parts = dotted.split(".")
            if parts[1] not in PUBLIC and not any(
                dotted.startswith(p) or p.startswith(dotted) for p in PUBLIC_PATHS
            ):
                self.found.append((node.lineno, dotted))
            return  # the chain is judged whole, not each of its prefixes
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in INTERNAL_ATTRS:
            self.found.append((node.lineno, node.id))


def typer_internals(root: Path) -> list[str]:
    """``file:line: what`` of each reach into Typer or Click beyond their API."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "typer_compat.py":
            continue
        scan = _Internals()
        scan.visit(ast.parse(path.read_text(encoding="utf-8")))
        rel = path.relative_to(root).as_posix()
        found += [f"{rel}:{line}: {what}" for line, what in scan.found]
    return found


def test_no_module_but_the_compat_one_reaches_into_typer_internals() -> None:
    assert typer_internals(ROOT / "openai_cli") == []


def test_the_internals_scan_finds_each_way_in(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "import typer\n"
        "import click\n"
        "from typer._click.exceptions import NoArgsIsHelpError\n"
        "from typer.core import TyperGroup\n"
        "from typer.models import DefaultPlaceholder\n"
        "if TYPE_CHECKING:\n"
        "    from typer.core import TyperCommand\n"
        "    from typer.models import CommandInfo\n"
        "def f(app, ctx):\n"
        "    for info in app.registered_commands: pass\n"
        "    k = typer.core\n"
        "    m = typer.models.ParameterInfo\n"
        "    g = typer.main.get_command(app)\n"
        "    return typer.Exit(2), typer.Context, click.echo\n",
        encoding="utf-8",
    )
    assert typer_internals(tmp_path) == [
        "x.py:3: click",
        "x.py:4: typer._click.exceptions",
        "x.py:5: typer.core: TyperGroup",
        "x.py:6: typer.models: DefaultPlaceholder",
        "x.py:9: typer.models: CommandInfo",
        "x.py:11: app.registered_commands",
        "x.py:12: typer.core",
        "x.py:13: typer.models.ParameterInfo",
    ]


def test_the_line_splitter_allows_an_unfinished_quote() -> None:
    # tab.split is the splitter of both completion paths (Click's own is not used).
    from openai_cli.tab import split

    assert split("oai files list --order 'de") == [
        "oai",
        "files",
        "list",
        "--order",
        "de",
    ]


def test_a_group_without_a_command_prints_its_help_as_a_usage_error() -> None:
    r = invoke("models")
    assert r.code == 2, r
    assert r.err.startswith("Usage: oai models")


def test_completion_goes_through_the_compat_module() -> None:
    r = invoke(
        env={"_OAI_COMPLETE": "complete_fish", "_OAI_COMPLETE_LINE": "oai profi"},
    )
    assert r.code == 0, r
    assert r.out.startswith("profile\t")


def test_hand_written_commands_get_plain_usage_lines() -> None:
    r = invoke("completion", "show", "--help")
    assert r.code == 0, r
    assert "Usage: oai completion show [OPTIONS] SHELL" in r.out
