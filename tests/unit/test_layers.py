"""Dependencies point down, and in-function imports stay at the lazy boundaries.

The layers, low to high, are :data:`LAYERS`; a module may import its own layer
and the ones below. Imports under ``if TYPE_CHECKING:`` count too: a type named
from a layer above is a dependency on it all the same (a lower layer that needs
something from above declares what it needs, as ``operations/deps.py`` does).
Importing a project module inside a function is how a command keeps ``--help``
fast, so it is allowed where the CLI loads lazily (the loaders of groups and
commands, and the bodies of commands, which run only when their command does);
anywhere else it hides a dependency and must be listed in :data:`ALLOWED` with
its reason. Third-party modules imported late (httpx, rich,
yaml, keyring) are a matter of start-up time, not of layering, and are not checked.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import openai_cli

PACKAGE = Path(openai_cli.__file__).parent
ARCHITECTURE = PACKAGE.parent / "docs" / "architecture.md"

# The CLI framework. Below the layer commands are built in, nothing knows of it: the
# request layer's run functions return an exit code and raise the project's errors,
# which the command's callback and ``main.run`` turn into Typer's exit. Only
# ``typer_compat``, the one module that wraps its internals, is exempt.
FRAMEWORK = frozenset({"typer", "click"})

# Low to high. A name covers its submodules; the longest name decides.
LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "openai_cli",
        "openai_cli.errors",
        "openai_cli.terminal",
        "openai_cli.io",
        "openai_cli.writer",
        "openai_cli.interrupts",
        # Where the config, state and data folders are.
        "openai_cli.dirs",
        # The one reader, like the one writer, depends on nothing of the project's:
        # the config and state files are read through it too.
        "openai_cli.input.reader",
    ),
    ("openai_cli.config",),
    ("openai_cli.http",),
    ("openai_cli.input",),
    # Progress bars, resumable state files and the conversation log, for the
    # workflows above them; the IDs seen, and the answers to a TAB, for completion.
    (
        "openai_cli.progress",
        "openai_cli.state",
        "openai_cli.logs",
        "openai_cli.idcache",
        "openai_cli.tabsettings",
        "openai_cli.tab",
    ),
    ("openai_cli.operations",),
    ("openai_cli.render",),
    # Shared options, the per-invocation factory, lazy Typer groups: what every
    # command is built with.
    ("openai_cli.options", "openai_cli.context", "openai_cli.lazy"),
    # Generated commands from the catalogue, and how their parsed values become a
    # request (it reads the command's spec).
    ("openai_cli.builder", "openai_cli.values"),
    ("openai_cli.commands",),
    ("openai_cli.app", "openai_cli.main", "openai_cli.__main__"),
)

# Modules whose functions may import project modules: the lazy boundaries.
LAZY_BOUNDARIES = (
    "openai_cli.app",  # loads groups and tools by name
    "openai_cli.main",  # builds the app only when not answering completion or --version
    "openai_cli.lazy",  # the lazy group itself
    "openai_cli.context",  # builds settings, clients and the renderer on first use
    "openai_cli.builder",  # loads a catalogue group, then one command of it
    "openai_cli.commands",  # a command's body runs only when the command does
    "openai_cli.tab",  # a TAB reads the config, the ID cache or the app only when it must
    "openai_cli.tabsettings",  # resolves the settings only when no remembered answer fits
)

# (importer, imported) in-function imports outside the boundaries, or upward ones.
ALLOWED: dict[tuple[str, str], str] = {
    (
        "openai_cli",
        "openai_cli.operations.catalogue",
    ): "--version reads the spec version only when asked",
    (
        "openai_cli.operations.lookup",
        "openai_cli.operations.catalogue",
    ): "oai api indexes the catalogue on use",
    ("openai_cli.operations.streams", "openai_cli.http.sse"): "the SSE decoder only for a stream",
    ("openai_cli.options", "openai_cli.context"): "context builds on the options, so the "
    "factory's class is fetched only inside a running command",
    (
        "openai_cli.operations.streams",
        "openai_cli.operations.lookup",
    ): "the whole catalogue is indexed "
    "only when a stream ends without its final event and its path decides",
    ("openai_cli.builder", "openai_cli.commands.overrides"): "the registry of "
    "hand-written replacements, looked up when a group or command is built",
    ("openai_cli.config.settings", "openai_cli.config.store"): "the config file is read only "
    "when a setting needs it",
    ("openai_cli.config.settings", "openai_cli.config.secrets"): "the keyring only when a key "
    "is looked up",
    ("openai_cli.options", "openai_cli.tab"): "profile names and the IDs seen, read only "
    "when a flag is completed",
    ("openai_cli.commands.completion", "openai_cli.app"): "completion walks the root group",
    ("openai_cli.tab", "openai_cli.commands.completion"): "a line the index of the tree "
    "cannot answer goes to Click, through the built app",
    ("openai_cli.idcache", "openai_cli.http.redact"): "the base URL is masked only when the "
    "ID cache is read or written, never when a command is built",
    ("openai_cli.idcache", "openai_cli.state"): "the state folder is made only when the ID "
    "cache is written",
    ("openai_cli.idcache", "openai_cli.writer"): "the writer (and typing) only when the ID "
    "cache is written: a TAB reads it",
    ("openai_cli.idcache", "openai_cli.config.lock"): "the lock (and the settings table "
    "its package brings) only when the ID cache is written or cleared",
    ("openai_cli.interrupts", "openai_cli.errors"): "the exceptions of SIGTERM and "
    "SIGHUP, made when one arrives",
    ("openai_cli.io", "openai_cli.terminal"): "the guard of a terminal's output (and its "
    "patterns, compiled on import) only when output goes to one: never on a TAB",
    ("openai_cli.input.reader", "openai_cli.errors"): "the error of a read that fails, "
    "made then: a TAB reads through the reader and fails no read to the user",
    ("openai_cli.input.reader", "openai_cli.textfmt"): "sizes are spelled only in errors",
    ("openai_cli.dirs", "openai_cli.errors"): "the error of a home that cannot be found, "
    "made then: a TAB finds its folders without the errors",
    ("openai_cli.input.reader", "openai_cli.writer"): "a UTF-8 copy of a JSONL input is the "
    "one thing the reader writes; a TAB reads through it without the writer",
    ("openai_cli.lazy", "openai_cli.commands.help"): "the index of the whole tree, built "
    "only for the error of a command no group has",
    ("openai_cli.render", "openai_cli.render.explore"): "the outline of -o explore, only "
    "when a viewer opens",
    ("openai_cli.render.explore", "openai_cli.render.viewer"): "Textual, only when a viewer opens",
    ("openai_cli.commands.help", "openai_cli.app"): "the index lists the tools the root registers",
}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    in_function: bool


def _module_name(path: Path, root: Path) -> str:
    parts = ["openai_cli", *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


class _Imports(ast.NodeVisitor):
    def __init__(self, importer: str) -> None:
        self.importer = importer
        self.depth = 0
        self.found: list[Import] = []
        self.framework: list[Import] = []

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def _add(self, name: str, line: int) -> None:
        if name == "openai_cli" or name.startswith("openai_cli."):
            self.found.append(Import(self.importer, name, line, self.depth > 0))
        elif name.split(".")[0] in FRAMEWORK:
            self.framework.append(Import(self.importer, name, line, self.depth > 0))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or node.module is None:
            return
        if node.module.split(".")[0] in FRAMEWORK:
            self._add(node.module, node.lineno)
            return
        for alias in node.names:
            # ``from openai_cli.operations import send`` imports the module
            # openai_cli.operations.send.
            sub = f"{node.module}.{alias.name}"
            self._add(sub if _is_module(sub) else node.module, node.lineno)


def _is_module(name: str) -> bool:
    path = PACKAGE.joinpath(*name.split(".")[1:])
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _layer_name(module: str) -> str:
    best = ""
    for names in LAYERS:
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > len(best):
                best = name
    return best


def layer(module: str) -> int:
    name = _layer_name(module)
    return next(i for i, names in enumerate(LAYERS) if name in names)


def _visited(root: Path) -> list[_Imports]:
    out: list[_Imports] = []
    for path in sorted(root.rglob("*.py")):
        if "catalogue" in path.relative_to(root).parts[:-1]:
            continue  # generated data
        v = _Imports(_module_name(path, root))
        v.visit(ast.parse(path.read_text(encoding="utf-8")))
        out.append(v)
    return out


def imports(root: Path) -> list[Import]:
    # One per statement, however many names it imports.
    return [i for v in _visited(root) for i in dict.fromkeys(v.found)]


def framework(root: Path) -> list[str]:
    """Imports of the CLI framework below the layer commands are built in."""
    lowest = layer("openai_cli.options")
    return [
        f"{i.importer}:{i.line} imports {i.imported}"
        for v in _visited(root)
        for i in v.framework
        if layer(i.importer) < lowest and i.importer != "openai_cli.typer_compat"
    ]


def _allowed(imp: Import) -> bool:
    return (imp.importer, imp.imported) in ALLOWED


def _at_boundary(module: str) -> bool:
    return any(module == b or module.startswith(b + ".") for b in LAZY_BOUNDARIES)


def upward(root: Path) -> list[str]:
    return [
        f"{i.importer}:{i.line} imports {i.imported}"
        for i in imports(root)
        if layer(i.imported) > layer(i.importer) and not _allowed(i)
    ]


def hidden(root: Path) -> list[str]:
    return [
        f"{i.importer}:{i.line} imports {i.imported} inside a function"
        for i in imports(root)
        if i.in_function and not _at_boundary(i.importer) and not _allowed(i)
    ]


def test_no_module_imports_a_layer_above_its_own() -> None:
    assert upward(PACKAGE) == []


def test_in_function_imports_only_at_lazy_boundaries() -> None:
    assert hidden(PACKAGE) == []


def test_the_cli_framework_stays_above_the_request_layer() -> None:
    assert framework(PACKAGE) == []


def test_every_allowed_import_still_exists() -> None:
    # An entry whose import is gone would let the next one back in unnoticed.
    found = {(i.importer, i.imported) for i in imports(PACKAGE)}
    stale = [pair for pair in ALLOWED if pair not in found]
    assert stale == []


def test_the_checks_find_what_they_forbid(tmp_path: Path) -> None:
    (tmp_path / "input").mkdir()
    (tmp_path / "input" / "x.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from openai_cli.operations import runner\n"
        "if TYPE_CHECKING:\n"
        "    from openai_cli.context import Factory\n"
        "def f():\n"
        "    from openai_cli.errors import UsageError\n",
        encoding="utf-8",
    )
    assert upward(tmp_path) == [
        "openai_cli.input.x:2 imports openai_cli.operations.runner",
        "openai_cli.input.x:4 imports openai_cli.context",
    ]
    assert hidden(tmp_path) == ["openai_cli.input.x:6 imports openai_cli.errors inside a function"]


def test_the_framework_check_finds_typer_below_the_commands(tmp_path: Path) -> None:
    (tmp_path / "operations").mkdir()
    (tmp_path / "operations" / "x.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "import typer\n"
        "if TYPE_CHECKING:\n"
        "    from click import Context\n"
        "def f():\n"
        "    from typer import Exit\n",
        encoding="utf-8",
    )
    (tmp_path / "commands").mkdir()
    (tmp_path / "commands" / "y.py").write_text("import typer\n", encoding="utf-8")
    assert framework(tmp_path) == [
        "openai_cli.operations.x:2 imports typer",
        "openai_cli.operations.x:4 imports click",
        "openai_cli.operations.x:6 imports typer",
    ]


# -- the diagram of docs/architecture.md ---------------------------------------------------

# Ends of the diagram's arrows that are not modules.
_OUTSIDE = {"argv", "API"}
_ARROW = re.compile(r"\s*(─▶|┈▶)\s*")


def _diagram_module(name: str, root: Path) -> str:
    """``operations/runner.execute`` -> ``openai_cli.operations.runner``: the longest
    module it starts with."""
    parts = [p for p in name.replace("/", ".").split(".") if p and p != "*"]
    while parts and not _is_module_in(root, parts):
        parts.pop()
    assert parts, f"{name!r} names no module"
    return ".".join(["openai_cli", *parts])


def _is_module_in(root: Path, parts: list[str]) -> bool:
    path = root.joinpath(*parts)
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def diagram_arrows(text: str, root: Path) -> list[tuple[str, str]]:
    """The ``A ─▶ B`` arrows of the first code block, as modules (``┈▶``, an import by
    name, is not read)."""
    block = text.split("```", 2)[1]
    arrows: list[tuple[str, str]] = []
    for line in block.splitlines():
        pieces = _ARROW.split(line.strip())
        names = [p.split()[0] for p in pieces[::2] if p]
        for a, arrow, b in zip(names, pieces[1::2], names[1:], strict=False):
            if arrow == "─▶" and a not in _OUTSIDE and b not in _OUTSIDE:
                arrows.append((_diagram_module(a, root), _diagram_module(b, root)))
    return arrows


def _under(module: str, name: str) -> bool:
    return module == name or module.startswith(name + ".")


def undrawn(text: str, root: Path) -> list[str]:
    """The diagram's arrows no import of ``root`` draws."""
    found = imports(root)
    return [
        f"{a} ─▶ {b}"
        for a, b in diagram_arrows(text, root)
        if not any(_under(i.importer, a) and _under(i.imported, b) for i in found)
    ]


def test_the_architecture_diagram_draws_real_imports() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    assert len(diagram_arrows(text, PACKAGE)) >= 10
    assert undrawn(text, PACKAGE) == []


def test_the_diagram_check_finds_an_arrow_no_import_draws(tmp_path: Path) -> None:
    (tmp_path / "operations").mkdir()
    (tmp_path / "operations" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "operations" / "runner.py").write_text(
        "from openai_cli.operations import send\n", encoding="utf-8"
    )
    (tmp_path / "operations" / "send.py").write_text("", encoding="utf-8")
    (tmp_path / "context.py").write_text("", encoding="utf-8")
    text = (
        "```\n"
        "argv ─▶ operations/runner.execute ─▶ operations/send   drawn\n"
        "context.Factory ─▶ operations/runner            not drawn by any import\n"
        "operations/send ┈▶ context                      by name, not read\n"
        "```\n"
    )
    assert undrawn(text, tmp_path) == ["openai_cli.context ─▶ openai_cli.operations.runner"]
