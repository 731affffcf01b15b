"""Every input a user names is read by one module: ``openai_cli/input/reader.py``.

The reader holds the limits and refuses devices; a module that read stdin or a
file by itself would bring back the unbounded read it exists to prevent
(``yes | oai ask hi`` growing until the kernel killed it). This scan lists every
read of stdin and every file opened for reading, and fails on any outside the
reader that is not in :data:`ALLOWED`, each entry with its reason. An entry that no
longer matches anything fails too, so the list stays true.

Also: every successful answer is read into memory by ``http.client.read_answer``,
the one place with the answer's limit; no other module calls a response's
``read()``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import openai_cli

PACKAGE = Path(openai_cli.__file__).parent
READER = "input/reader.py"

# (file, enclosing function) -> why it may read stdin or open a file itself.
ALLOWED: dict[tuple[str, str], str] = {
    ("io.py", "system"): "the process's own streams, wrapped once",
    ("io.py", "__init__"): "the streams handed in, kept as they are",
    ("io.py", "stdin_bytes"): "the binary side of stdin, for the streaming readers below",
    ("input/local.py", "spool_stdin"): "stdin copied to disk a chunk at a time (uploads, map)",
    ("input/assemble.py", "file_part"): "a multipart file part streamed from stdin",
    ("input/body.py", "opener"): "a file part streamed from disk at send time",
    ("commands/batches.py", "_prepare"): "PROMPTS streamed a line at a time",
    ("commands/repl.py", "line_reader"): "whether stdin is the terminal input() reads",
    ("commands/profile.py", "delete"): "a yes/no answer",
    ("commands/logs.py", "_confirm"): "a yes/no answer",
    ("commands/conversation.py", "__init__"): "stdin handed on, unread, to a quiet IO",
    ("writer.py", "append"): "the writer opens a file to add to it, not to read it",
    ("writer.py", "_create"): "the writer creates its temporary file, not a read",
    ("writer.py", "_sync_folder"): "a directory opened to fsync it, not read",
    ("config/lock.py", "exclusive"): "a lock file opened to flock it, never read",
    ("operations/help/__init__.py", "_read"): "help text shipped with the package",
    ("helpindex.py", "lookup"): "the help pages shipped with the package",
    ("operations/uploads.py", "__init__"): "an upload's part, sent from disk over its byte range",
    ("operations/uploads.py", "file_md5"): "an upload's checksum, a chunk at a time",
    ("operations/batch_run.py", "start"): "the batch input checked a line at a time",
    ("operations/batch_run.py", "_merge"): "results merged a line at a time",
    ("operations/batch_run.py", "_write_results"): "the input read a line at a time, for ids",
    ("operations/map.py", "record"): "the input hashed a chunk at a time",
    ("commands/files.py", "_validate"): "an upload checked a line at a time",
    ("input/jsonl.py", "check_file"): "a batch file or training data checked a line at a time",
    ("operations/schemas/__init__.py", "_data"): "the package's own request schemas",
    ("input/prices.py", "load"): "the package's own price table (a user's file goes through "
    "the reader)",
    ("commands/files.py", "opener"): "an upload streamed from disk",
    ("commands/map.py", "_answered"): "map's own output, read back a line at a time",
    ("commands/map.py", "_settle"): "map's own output, its lines past the rewritten ones copied",
    ("commands/map.py", "_check_input"): "the input counted a line at a time",
    ("commands/map.py", "_items"): "the input and the results rewritten read a line at a time",
    ("commands/completion.py", "_read"): "a completion script oai installs, read to compare",
    ("render/viewer.py", "run"): "the explorer's keys from the terminal while stdin holds the "
    "data, as less reads them",
    ("commands/completion.py", "_notes"): "the shell's rc file, searched for one line",
    ("tab.py", "get"): "the index of the command tree shipped with the package",
}

_WRITES = ("w", "a", "x", "+")
_WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT")


def _mode(call: ast.Call, position: int) -> str:
    """The mode argument of an ``open`` call, as text ('r' when not given)."""
    node = call.args[position] if len(call.args) > position else None
    for kw in call.keywords:
        if kw.arg == "mode":
            node = kw.value
    if node is None:
        return "r"
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else "?"


def _reads_a_file(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Name) and func.id == "open":
        return not any(c in _mode(call, 1) for c in _WRITES)
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr in ("read_text", "read_bytes"):
        return not (isinstance(func.value, ast.Name) and func.value.id == "reader")
    if func.attr == "open" and isinstance(func.value, ast.Name) and func.value.id == "os":
        return not any(f in ast.unparse(call) for f in _WRITE_FLAGS)
    if func.attr == "open" and not (isinstance(func.value, ast.Name) and func.value.id == "Log"):
        return not any(c in _mode(call, 0) for c in _WRITES)  # Path.open
    return False


def _reads_stdin(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr in ("stdin", "stdin_bytes")
    return isinstance(node, ast.Name) and node.id == "stdin" and isinstance(node.ctx, ast.Load)


class _Scan(ast.NodeVisitor):
    def __init__(self, rel: str) -> None:
        self.rel = rel
        self.where = ["<module>"]
        self.found: list[tuple[str, str, int, str]] = []

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.where.append(node.name)
        self.generic_visit(node)
        self.where.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def _hit(self, node: ast.expr) -> None:
        self.found.append((self.rel, self.where[-1], node.lineno, ast.unparse(node)))

    def visit_Call(self, node: ast.Call) -> None:
        if _reads_a_file(node):
            self._hit(node)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if _reads_stdin(node):
            self._hit(node)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if _reads_stdin(node):
            self._hit(node)


def reads(root: Path) -> list[tuple[str, str, int, str]]:
    """(file, function, line, text) of every stdin read and file opened to read."""
    found: list[tuple[str, str, int, str]] = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel == READER or rel.startswith("operations/catalogue/"):
            continue
        scan = _Scan(rel)
        scan.visit(ast.parse(path.read_text(encoding="utf-8")))
        found += scan.found
    return found


def bypasses(root: Path, allowed: dict[tuple[str, str], str]) -> list[str]:
    return [
        f"{rel}:{line} in {func}(): {text}"
        for rel, func, line, text in reads(root)
        if (rel, func) not in allowed
    ]


def test_only_the_reader_reads_what_a_user_names() -> None:
    assert bypasses(PACKAGE, ALLOWED) == []


def test_every_allowed_entry_is_still_used() -> None:
    used = {(rel, func) for rel, func, _, _ in reads(PACKAGE)}
    assert sorted(set(ALLOWED) - used) == []


def test_the_scan_finds_each_way_around_the_reader(tmp_path: Path) -> None:
    (tmp_path / "commands").mkdir()
    # The last lines read nothing: a write, a flag, a check of the terminal.
    (tmp_path / "commands" / "x.py").write_text(
        "import sys, os\n"
        "from pathlib import Path\n"
        "def f(factory, path):\n"
        "    sys.stdin.read()\n"
        "    factory.io.stdin_bytes.read()\n"
        "    data = open(path, 'rb').read()\n"
        "    Path(path).read_bytes()\n"
        "    Path(path).expanduser().read_text()\n"
        "    with Path(path).open() as fh: pass\n"
        "    os.open(path, os.O_RDONLY)\n"
        "    open(path, 'wb'); os.open(path, os.O_WRONLY | os.O_CREAT)\n"
        "    factory.io.stdin_tty\n",
        encoding="utf-8",
    )
    assert bypasses(tmp_path, {}) == [
        "commands/x.py:4 in f(): sys.stdin",
        "commands/x.py:5 in f(): factory.io.stdin_bytes",
        "commands/x.py:6 in f(): open(path, 'rb')",
        "commands/x.py:7 in f(): Path(path).read_bytes()",
        "commands/x.py:8 in f(): Path(path).expanduser().read_text()",
        "commands/x.py:9 in f(): Path(path).open()",
        "commands/x.py:10 in f(): os.open(path, os.O_RDONLY)",
    ]
    assert bypasses(tmp_path, {("commands/x.py", "f"): "reason"}) == []


# -- answers ----------------------------------------------------------------------------

ANSWER_READER = "http/client.py"


def answer_reads(root: Path) -> list[str]:
    """``file:line: text`` of each ``resp.read()`` outside ``http.client.read_answer``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel == ANSWER_READER or rel.startswith("operations/catalogue/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("read", "aread")
                and not node.args
                and "resp" in ast.unparse(node.func.value).lower()
            ):
                found.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_only_read_answer_reads_a_whole_answer() -> None:
    assert answer_reads(PACKAGE) == []


def test_the_answer_scan_finds_a_direct_read(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text(
        "def f(resp, response, fh):\n    resp.read()\n    response.read()\n    fh.read()\n",
        encoding="utf-8",
    )
    assert answer_reads(tmp_path) == ["x.py:2: resp.read()", "x.py:3: response.read()"]


# -- the limits, as documented ------------------------------------------------------------


def test_every_limit_is_in_the_docs_table() -> None:
    from openai_cli.input import reader

    doc = (PACKAGE.parent / "docs" / "reliability.md").read_text(encoding="utf-8")
    section = doc.split("## One reader", 1)[1].split("\n## ", 1)[0]
    table = section.split("| Use | Limit |", 1)[1].split("\n\n", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert [row.rsplit("|", 2)[1].strip() for row in rows] == [
        reader.size_text(use.limit) for use in reader.USES
    ]
