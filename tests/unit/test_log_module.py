"""The conversation log has one module: nothing else opens ``logs.db`` with SQLite.

What the log stores (no credentials), how it grows (appended pieces) and how it
forgets (a wiped file) hold only if every read and write goes through
``openai_cli/logs.py``; a second module talking to SQLite could go around all three.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "openai_cli"
ALLOWED = {"openai_cli/logs.py"}


def sqlite_users(root: Path) -> list[str]:
    """Every module under ``root`` that imports sqlite3, as a path from its parent."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == "sqlite3" or n.startswith("sqlite3.") for n in names):
                found.append(path.relative_to(root.parent).as_posix())
                break
    return found


def test_only_the_log_module_uses_sqlite() -> None:
    assert set(sqlite_users(PACKAGE)) <= ALLOWED
    assert sqlite_users(PACKAGE) == ["openai_cli/logs.py"]


def test_the_guard_catches_a_module_going_around_the_log(tmp_path: Path) -> None:
    package = tmp_path / "openai_cli"
    (package / "commands").mkdir(parents=True)
    (package / "logs.py").write_text("import sqlite3\n")
    (package / "commands" / "sneaky.py").write_text(
        "def f():\n    from sqlite3 import connect\n    return connect('logs.db')\n"
    )
    assert sqlite_users(package) == ["openai_cli/commands/sneaky.py", "openai_cli/logs.py"]
    assert not set(sqlite_users(package)) <= ALLOWED
