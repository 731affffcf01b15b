"""Counts in messages agree with their number: ``1 problem``, ``2 problems``.

Every count of things a message gives goes through ``textfmt.count``; a plural made
on the spot (``'s' if n != 1 else ''``) is where ``1 results`` and ``0 result`` come
from, and the guard below finds one wherever it is written.
"""

from __future__ import annotations

import ast
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import openai_cli
from openai_cli.textfmt import count, plural

PACKAGE = Path(openai_cli.__file__).parent
TOOLS = PACKAGE.parent / "tools"

# Files with a plural of their own, changed in parallel when the guard was written;
# each is to go through ``count`` too, and then leave this list.
PENDING = {
    "openai_cli/values.py",
    "openai_cli/builder.py",
    "openai_cli/commands/embeddings.py",
    "openai_cli/commands/logs.py",
}

NOUNS = st.sampled_from(["problem", "line", "request", "example", "part", "byte", "input line"])


@given(st.integers(min_value=0, max_value=10**9), NOUNS)
def test_the_noun_is_singular_exactly_for_one(n: int, noun: str) -> None:
    said = count(n, noun)
    number, _, words = said.partition(" ")
    assert int(number) == n
    assert words == (noun if n == 1 else noun + "s")
    assert plural(n, noun) == words


def _plural_on_the_spot(node: ast.IfExp) -> bool:
    """``'s' if n != 1 else ''`` and ``'key' if len(x) == 1 else 'keys'``, either way
    round: two words a plural ``s`` apart, chosen by comparing a number with 1."""
    if not _compares_with_one(node.test):
        return False
    body, other = node.body, node.orelse
    if not (isinstance(body, ast.Constant) and isinstance(other, ast.Constant)):
        return False
    a, b = body.value, other.value
    if not (isinstance(a, str) and isinstance(b, str)) or not (a or b):
        return False
    return {a, b} == {"", "s"} or a + "s" == b or b + "s" == a


def _choices(tree: ast.AST) -> list[ast.IfExp]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.IfExp)]


def _compares_with_one(test: ast.expr) -> bool:
    return any(
        isinstance(n, ast.Compare)
        and any(isinstance(c, ast.Constant) and c.value == 1 for c in [n.left, *n.comparators])
        for n in ast.walk(test)
    )


def found(root: Path, base: Path) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(base).as_posix()
        if name in PENDING or name == "openai_cli/textfmt.py":  # the helper itself
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        lines = sorted({n.lineno for n in _choices(tree) if _plural_on_the_spot(n)})
        out += [f"{name}:{line}" for line in lines]
    return out


def test_every_count_goes_through_the_one_helper() -> None:
    base = PACKAGE.parent
    assert found(PACKAGE, base) + found(TOOLS, base) == []


def test_every_pending_file_still_has_its_own_plural() -> None:
    # An entry whose plural is gone would let the next one back in unnoticed.
    base = PACKAGE.parent
    for name in PENDING:
        tree = ast.parse((base / name).read_text(encoding="utf-8"))
        assert any(_plural_on_the_spot(n) for n in _choices(tree)), name


def test_the_guard_finds_each_way_of_writing_one(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "x.py").write_text(
        "def f(n, items):\n"
        "    a = f\"{n} line{'s' if n != 1 else ''}\"\n"
        "    b = f\"{n} key{'' if n == 1 else 's'}\"\n"
        "    c = 'item' if len(items) == 1 else 'items'\n"
        '    d = "elements" if n > 1 else "element"\n'
        "    e = 'wss' if n.secure else 'ws'\n"
        "    return a, b, c, d, e\n",
        encoding="utf-8",
    )
    assert found(pkg, tmp_path) == ["pkg/x.py:2", "pkg/x.py:3", "pkg/x.py:4", "pkg/x.py:5"]
