"""Every file the CLI writes goes through ``openai_cli/writer.py``.

An AST scan of the package finds every call that can create, change, move or
replace a file: ``open`` (and ``io.open``, ``os.fdopen``, ``Path.open``) with a
mode holding ``w``, ``a``, ``x`` or ``+`` (or a mode the scan cannot read),
``os.open`` with a flag that writes or creates (or flags it cannot read),
``write_text``/``write_bytes``, ``os.replace``/``os.rename`` and ``Path.rename``/
``Path.replace``, ``shutil``'s copies and moves, ``tempfile``'s files and folders,
links and SQLite connections. Outside the writer each must be in :data:`ALLOWED`
with the reason it does not need it. The scan is proved against a sample that
goes around the writer in each of those ways.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import openai_cli

PACKAGE = Path(openai_cli.__file__).parent
WRITER = "openai_cli.writer"

# (module, function, call) -> why it does not go through the writer.
ALLOWED: dict[tuple[str, str, str], str] = {
    ("openai_cli.main", "_discard", "os.open"): "opens /dev/null to point stdout or stderr "
    "at, so that what it still buffers has somewhere to go at exit; no file is written",
    ("openai_cli.main", "_hold_standard_descriptors", "os.open"): "opens /dev/null on a "
    "standard descriptor the process was started without, so no file takes its number",
    ("openai_cli.main", "_hold_standard_descriptors", "open"): "makes a text stream of that "
    "descriptor (now /dev/null) for stderr, whose messages then go nowhere",
    ("openai_cli.config.lock", "exclusive", "os.open"): "a lock file holds no data: it is "
    "created empty (0600) only to be flock'd, and removed when the lock is let go",
    ("openai_cli.logs", "Log.open", "os.open"): "creates the empty database file owner-only "
    "(O_EXCL, so no symlink is followed) for SQLite to fill; its -wal and -shm files take "
    "the same mode",
    ("openai_cli.logs", "Log.open", "sqlite3.connect"): "SQLite writes its own files (the "
    "database, its journal) with its own locking and crash safety; the writer's "
    "replace-by-rename would defeat both",
    ("openai_cli.lazy", "PlainUsageCommand.format_epilog", "formatter.write_text"): (
        "Click's help formatter, not a file"
    ),
    ("openai_cli.input.reader", "_open", "os.open"): "the reader's own open: its flags are "
    "O_RDONLY (and O_NONBLOCK for a regular file), named in a variable the scan cannot read",
    ("openai_cli.logs", "Log._read_only", "sqlite3.connect"): "the log opened mode=ro or "
    "immutable=1 on a read-only file system: SQLite writes nothing",
    ("openai_cli.logs", "_unwritable", "os.open"): "a probe: O_RDWR tells whether the log "
    "can be written (a read-only file system refuses even root); nothing is written",
}

# Calls that write whatever their arguments.
ALWAYS = frozenset(
    {
        "os.replace",
        "os.rename",
        "os.renames",
        "os.link",
        "os.symlink",
        "os.truncate",
        "os.mkfifo",
        "os.mknod",
        "shutil.move",
        "shutil.copy",
        "shutil.copy2",
        "shutil.copyfile",
        "shutil.copytree",
        "shutil.copymode",
        "shutil.copystat",
        "tempfile.mkstemp",
        "tempfile.mkdtemp",
        "tempfile.NamedTemporaryFile",
        "tempfile.TemporaryFile",
        "tempfile.SpooledTemporaryFile",
        "tempfile.TemporaryDirectory",
        "sqlite3.connect",
    }
)
# Methods that write whatever their receiver (a Path, most likely).
METHODS = frozenset({"write_text", "write_bytes", "touch", "rename", "symlink_to", "hardlink_to"})
# Calls that write when their mode says so: (mode's position, its keyword).
MODED = {
    "open": 1,
    "io.open": 1,
    "io.FileIO": 1,
    "codecs.open": 1,
    "os.fdopen": 1,
}
OS_WRITE_FLAGS = frozenset({"O_WRONLY", "O_RDWR", "O_CREAT", "O_APPEND", "O_TRUNC", "O_TMPFILE"})
OS_OTHER_FLAGS = frozenset(
    {
        "O_RDONLY",
        "O_CLOEXEC",
        "O_NOFOLLOW",
        "O_NONBLOCK",
        "O_BINARY",
        "O_DIRECTORY",
        "O_NOCTTY",
        "O_PATH",
        "O_NOATIME",
        "os",
        "getattr",
    }
)


@dataclass(frozen=True)
class Write:
    module: str
    function: str
    call: str
    line: int

    def __str__(self) -> str:
        return f"{self.module}:{self.line} {self.function or '<module>'} calls {self.call}"


def _module_name(path: Path, root: Path) -> str:
    parts = ["openai_cli", *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _writing_mode(call: ast.Call, position: int, keyword: str = "mode") -> bool:
    """Whether the mode argument asks to write; a mode the scan cannot read counts."""
    node: ast.expr | None = call.args[position] if len(call.args) > position else None
    for kw in call.keywords:
        if kw.arg == keyword:
            node = kw.value
        elif kw.arg is None:
            return True  # **kwargs: cannot tell
    if node is None:
        return False  # the default mode reads
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(set(node.value) & set("wax+"))
    return True


def _writing_flags(call: ast.Call) -> bool:
    node: ast.expr | None = call.args[1] if len(call.args) > 1 else None
    for kw in call.keywords:
        if kw.arg == "flags":
            node = kw.value
    if node is None:
        return True
    names = {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
    names |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    return bool(names & OS_WRITE_FLAGS) or not names <= OS_OTHER_FLAGS | OS_WRITE_FLAGS


class _Writes(ast.NodeVisitor):
    def __init__(self, module: str) -> None:
        self.module = module
        self.names: dict[str, str] = {}  # local name -> what it was imported as
        self.scope: list[str] = []
        self.found: list[Write] = []

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.names[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.names[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module is None or node.level:
            return
        for alias in node.names:
            self.names[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def _scoped(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = _scoped
    visit_AsyncFunctionDef = _scoped
    visit_ClassDef = _scoped

    def _resolve(self, name: str) -> str:
        head, dot, rest = name.partition(".")
        full = self.names.get(head, head)
        if full == "builtins.open":
            full = "open"
        return full + dot + rest

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        dotted = _dotted(node.func)
        called = self._resolve(dotted) if dotted else None
        method = node.func.attr if isinstance(node.func, ast.Attribute) else None
        writes = False
        if called and called.startswith("openai_cli."):
            pass  # the project's own function, scanned where it is defined
        elif called in ALWAYS:
            writes = True
        elif called == "os.open":
            writes = _writing_flags(node)
        elif called in MODED:
            writes = _writing_mode(node, MODED[called])
        elif method in METHODS:
            writes = True
        elif method == "replace" and len(node.args) == 1 and not node.keywords:
            writes = True  # Path.replace(target); str.replace takes two
        elif method == "open":
            writes = _writing_mode(node, 0)
        if writes:
            shown = called or f"<...>.{method}"
            self.found.append(Write(self.module, ".".join(self.scope), shown, node.lineno))


def scan_source(module: str, text: str) -> list[Write]:
    v = _Writes(module)
    v.visit(ast.parse(text))
    return v.found


def scan(root: Path) -> list[Write]:
    out: list[Write] = []
    for path in sorted(root.rglob("*.py")):
        if "catalogue" in path.relative_to(root).parts[:-1]:
            continue  # generated data
        module = _module_name(path, root)
        if module != WRITER:
            out += scan_source(module, path.read_text(encoding="utf-8"))
    return out


def bypasses(found: list[Write]) -> list[str]:
    return [str(w) for w in found if (w.module, w.function, w.call) not in ALLOWED]


def test_every_file_write_goes_through_the_writer() -> None:
    assert bypasses(scan(PACKAGE)) == []


def test_every_allowed_write_still_exists() -> None:
    # An entry whose call is gone would let the next one in unnoticed.
    found = {(w.module, w.function, w.call) for w in scan(PACKAGE)}
    assert [key for key in ALLOWED if key not in found] == []


BYPASS = """
import io
import os
import shutil as sh
import tempfile
from os import replace as swap
from pathlib import Path
from tempfile import NamedTemporaryFile


def save(path, data, mode):
    with open(path + ".part", "wb") as fh:  # bypass
        fh.write(data)
    os.replace(path + ".part", path)  # bypass
    swap(path, path + ".old")  # bypass
    open(path, mode=mode)  # bypass
    open(path, "a")  # bypass
    open(path, "r+b")  # bypass
    io.open(path, "x")  # bypass
    Path(path).open("w")  # bypass
    Path(path).write_text("x")  # bypass
    Path(path).write_bytes(b"x")  # bypass
    Path(path).rename(path + ".2")  # bypass
    Path(path).replace(path + ".3")  # bypass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)  # bypass
    os.open(path, os.O_RDONLY | os.O_APPEND)  # bypass
    os.open(path, flags)  # bypass
    os.fdopen(fd, "wb")  # bypass
    sh.copyfile(path, path + ".bak")  # bypass
    sh.move(path, path + ".moved")  # bypass
    tempfile.mkstemp()  # bypass
    NamedTemporaryFile()  # bypass
    os.rename(path, path + ".4")  # bypass


class Store:
    def keep(self, path):
        return Path(path).open(mode="ab")  # bypass
"""

CLEAN = """
import os
from pathlib import Path


def load(path):
    with open(path) as fh, open(path, "rb") as raw, Path(path).open("rb") as p:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        os.fdopen(fd, "rb")
        return fh.read(), raw.read(), p.read(), "a.b".replace(".", "/")
"""


def test_the_scan_finds_every_way_around_the_writer() -> None:
    found = scan_source("openai_cli.sample", BYPASS)
    # One finding per line of the sample that writes, in order.
    writing = [n for n, line in enumerate(BYPASS.splitlines(), 1) if line.endswith("# bypass")]
    assert [w.line for w in found] == writing
    assert [w.call for w in found] == [
        "open",
        "os.replace",
        "os.replace",
        "open",
        "open",
        "open",
        "io.open",
        "<...>.open",
        "<...>.write_text",
        "<...>.write_bytes",
        "<...>.rename",
        "<...>.replace",
        "os.open",
        "os.open",
        "os.open",
        "os.fdopen",
        "shutil.copyfile",
        "shutil.move",
        "tempfile.mkstemp",
        "tempfile.NamedTemporaryFile",
        "os.rename",
        "<...>.open",
    ]
    assert found[-1].function == "Store.keep"
    assert bypasses(found) == [str(w) for w in found]
    assert scan_source("openai_cli.sample", CLEAN) == []
