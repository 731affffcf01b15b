"""Counts in messages agree with their number: ``1 problem``, ``2 problems``.

Every count of things a message gives goes through ``textfmt.count``; a plural made
on the spot (``'s' if n != 1 else ''``) is where ``1 results`` and ``0 result`` come
from, and the guard below finds one wherever it is written.
"""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import openai_cli
from openai_cli.textfmt import count, plural

PACKAGE = Path(openai_cli.__file__).parent
TOOLS = PACKAGE.parent / "tools"

NOUNS = st.sampled_from(["problem", "line", "request", "example", "part", "byte", "input line"])
IRREGULAR = st.sampled_from([("batch", "batches"), ("child", "children"), ("epoch", "epochs")])


@given(st.integers(min_value=0, max_value=10**9), NOUNS, st.booleans())
def test_the_noun_is_singular_exactly_for_one(n: int, noun: str, sep: bool) -> None:
    said = count(n, noun, sep=sep)
    number, _, words = said.partition(" ")
    assert int(number.replace(",", "")) == n
    assert words == (noun if n == 1 else noun + "s")
    assert plural(n, noun) == words


@given(st.integers(min_value=0, max_value=10**9))
def test_thousands_are_separated_when_asked(n: int) -> None:
    number = count(n, "token", sep=True).partition(" ")[0]
    assert number == f"{n:,}"
    assert count(n, "token").partition(" ")[0] == str(n)


@given(st.integers(min_value=0, max_value=10**6), IRREGULAR)
def test_a_plural_given_is_the_plural_said(n: int, forms: tuple[str, str]) -> None:
    one, many = forms
    assert count(n, one, many) == f"{n} {one if n == 1 else many}"


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
    return any({a, b} == {"", end} or a + end == b or b + end == a for end in ("s", "es"))


def _choices(tree: ast.AST) -> list[ast.IfExp]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.IfExp)]


def _compares_with_one(test: ast.expr) -> bool:
    return any(
        isinstance(n, ast.Compare)
        and any(isinstance(c, ast.Constant) and c.value == 1 for c in [n.left, *n.comparators])
        for n in ast.walk(test)
    )


# Words ending in "s" that are no plural noun. Most are verbs: the value before them
# is the subject of the sentence ("{path} contains '#'", "{name} is not known"), not
# a number of things; "as" and "its" are short words that happen to end in "s".
NOT_NOUNS = {
    "is", "was", "has", "does", "goes", "contains", "holds", "names", "sets", "loads",
    "trains", "answers", "runs", "conflicts", "differs", "starts", "exists", "chooses",
    "as", "its",
}  # fmt: skip

# Values followed by a plural noun that is not their count, as (file, value, noun),
# each with the reason.
EXEMPT = {
    # "{place} parameters share ...": place names the spot in the spec, not a number.
    ("tools/gen_catalogue.py", "place", "parameters"),
}

# Functions whose result is text already, so the words after them are not its noun.
TEXT_CALLS = {"str", "repr", "count", "plural", "dollars", "human_seconds", "show", "_shown"}


def _numberish(value: ast.FormattedValue) -> bool:
    """Could this value be a count of things? Not an ALL_CAPS constant (a limit,
    never 1), not text, not a measure formatted with decimals ("1.5 requests/s")."""
    spec = value.format_spec
    if isinstance(spec, ast.JoinedStr) and spec.values:
        last = spec.values[-1]
        if isinstance(last, ast.Constant) and str(last.value)[-1:] in set("eEfFgG%"):
            return False
    expr = value.value
    if isinstance(expr, ast.Call):
        func = expr.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return called not in TEXT_CALLS
    if isinstance(expr, (ast.Name, ast.Attribute)):
        name = expr.attr if isinstance(expr, ast.Attribute) else expr.id
        return not name.isupper()
    return isinstance(expr, (ast.Subscript, ast.BinOp))


def _noun_after(text: str) -> str | None:
    """The plural noun (one word, or an adjective and a noun: "input tokens") that
    ``text`` starts with after a space, or None."""
    words = re.match(r" ([a-z]+)(?: ([a-z]+))?", text)
    if words is None or words[1] in NOT_NOUNS:
        return None
    if words[1].endswith("s"):
        return words[1]
    # "{n:,} a pass": after "a" the noun is one of each, never a count.
    if words[1] in ("a", "an"):
        return None
    if words[2] and words[2].endswith("s") and words[2] not in NOT_NOUNS:
        return f"{words[1]} {words[2]}"
    return None


def _counted_in_place(tree: ast.AST, name: str) -> list[int]:
    """``f"{n} requests"``: a number followed directly by a plural noun of its own."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.JoinedStr):
            continue
        for value, text in itertools.pairwise(node.values):
            if not (isinstance(value, ast.FormattedValue) and isinstance(text, ast.Constant)):
                continue
            noun = _noun_after(str(text.value))
            site = (name, ast.unparse(value.value), noun)
            if noun and _numberish(value) and site not in EXEMPT:
                lines.append(value.lineno)
    return lines


def found(root: Path, base: Path) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(base).as_posix()
        if name == "openai_cli/textfmt.py":  # the helper itself
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        on_the_spot = [n.lineno for n in _choices(tree) if _plural_on_the_spot(n)]
        lines = sorted(set(on_the_spot + _counted_in_place(tree, name)))
        out += [f"{name}:{line}" for line in lines]
    return out


def test_every_count_goes_through_the_one_helper() -> None:
    base = PACKAGE.parent
    assert found(PACKAGE, base) + found(TOOLS, base) == []


def _found_in(tmp_path: Path, name: str, source: str) -> list[str]:
    """What the guard finds in one file ``name`` (relative to ``tmp_path``) of ``source``."""
    path = tmp_path / name
    path.parent.mkdir()
    path.write_text(source, encoding="utf-8")
    return found(path.parent, tmp_path)


def test_the_guard_finds_each_way_of_writing_one(tmp_path: Path) -> None:
    said = _found_in(
        tmp_path,
        "pkg/x.py",
        "def f(n, items):\n"
        "    a = f\"{n} line{'s' if n != 1 else ''}\"\n"
        "    b = f\"{n} key{'' if n == 1 else 's'}\"\n"
        "    c = 'item' if len(items) == 1 else 'items'\n"
        '    d = "elements" if n > 1 else "element"\n'
        "    e = 'wss' if n.secure else 'ws'\n"
        "    g = f\"{n} batch{'es' if n > 1 else ''}\"\n"
        "    return a, b, c, d, e, g\n",
    )
    assert said == [f"pkg/x.py:{line}" for line in (2, 3, 4, 5, 7)]


def test_the_guard_finds_each_number_followed_by_its_own_plural(tmp_path: Path) -> None:
    said = _found_in(
        tmp_path,
        "pkg/x.py",
        "def f(n, parts, a, s, d, MAX_SIZE, path, name, rate):\n"
        '    b = f"{n:,} input tokens"\n'
        '    c = f"{len(parts)} parts already sent"\n'
        '    e = f"{a.total} requests failed"\n'
        "    g = f\"{d['bytes']} bytes\"\n"
        '    h = f"{n + 1} more lines"\n'
        '    i = f"done: {s} of " f"{n} lines"\n'
        '    j = f"{s.get(n)} batches"\n'
        '    k = f"at most {MAX_SIZE:,} bytes"\n'
        '    m = f"{path} contains a tab; {name} is not known; {n} a pass"\n'
        '    o = f"{rate:.1f} requests/s, {str(n)} items"\n'
        "    return b, c, e, g, h, i, j, k, m, o\n",
    )
    assert said == [f"pkg/x.py:{line}" for line in range(2, 9)]


def test_an_exemption_covers_its_value_only(tmp_path: Path) -> None:
    said = _found_in(
        tmp_path,
        "tools/gen_catalogue.py",
        'def f(place, n):\n    a = f"{place} parameters share"\n    return a, f"{n} parameters"\n',
    )
    assert said == ["tools/gen_catalogue.py:3"]
