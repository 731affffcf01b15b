"""The outline behind ``-o explore``, against plain walks of the same JSON."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from openai_cli.render.explore import Outline, Path

KEYS = st.sampled_from(["id", "data", "name", "Name", "a b", 'q"t', "é", "x.y", "0"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-50, 50),
    st.sampled_from(["file-1", "NAME", "a\nb", "\x1b[2J", "é", "", "name 2", 'say "hi"']),
)
DOCS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=25,
)
NEEDLES = st.sampled_from(["name", "NAME", "1", "e", "a\nb", '"', '"hi"', "\x1b", "é", "zz", "n"])


def nodes(value: Any, path: Path = (), key: Any = None) -> list[tuple[Path, Any, Any]]:
    """Every node in document order, the plain recursive way."""
    found = [(path, key, value)]
    if isinstance(value, dict):
        for i, (k, v) in enumerate(value.items()):
            found += nodes(v, (*path, i), k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += nodes(v, (*path, i), i)
    return found


def matching(doc: Any, needle: str) -> list[Path]:
    needle = needle.casefold()
    out = []
    for path, key, value in nodes(doc):
        in_key = isinstance(key, str) and needle in key.casefold()
        if isinstance(value, str):
            in_value = needle in value.casefold()
        else:
            in_value = not isinstance(value, dict | list) and needle in json.dumps(value)
        if in_key or in_value:
            out.append(path)
    return out


@settings(max_examples=200, deadline=None)
@given(doc=DOCS, needle=NEEDLES, pick=st.integers(0, 1000), backwards=st.booleans())
def test_search_finds_the_next_match_in_document_order(
    doc: Any, needle: str, pick: int, backwards: bool
) -> None:
    every = [p for p, _, _ in nodes(doc)]
    here = every[pick % len(every)]
    hits = matching(doc, needle)
    if backwards:
        before = [p for p in hits if p < here]
        expected = before[-1] if before else (hits[-1] if hits else None)
    else:
        after = [p for p in hits if p > here]
        expected = after[0] if after else (hits[0] if hits else None)
    outline = Outline(doc)
    outline.search("e", here)  # what a search keeps for the next must not mislead it
    assert outline.search(needle, here, backwards=backwards) == expected


@settings(max_examples=100, deadline=None)
@given(doc=DOCS, moves=st.lists(st.tuples(st.sampled_from("tr"), st.integers(0, 1000))))
def test_rows_are_the_unfolded_nodes_in_order(doc: Any, moves: list[tuple[str, int]]) -> None:
    outline = Outline(doc)
    every = nodes(doc)
    for kind, pick in moves:
        if kind == "t":
            outline.toggle(pick % len(outline.rows))
        else:
            path = every[pick % len(every)][0]
            assert outline.rows[outline.reveal(path)][0] == path
    visible = [
        node for node in every if all(node[0][:n] in outline.expanded for n in range(len(node[0])))
    ]
    assert [(p, k) for p, k, _ in outline.rows] == [(p, k) for p, k, _ in visible]
    for (_, _, shown), (_, _, value) in zip(outline.rows, visible, strict=True):
        assert shown is value
    # Nothing stays marked unfolded once hidden under a folded parent.
    assert outline.expanded <= {p for p, _, _ in outline.rows}


def test_paths_as_jq_writes_them() -> None:
    doc = {"data": [{"id": "x", "a b": {'q"t': 1}}], "0": 2}
    outline = Outline(doc)
    paths = {}
    for path, _, _ in nodes(doc):
        paths[path] = outline.json_path(outline.reveal(path))
    assert paths == {
        (): ".",
        (0,): ".data",
        (0, 0): ".data[0]",
        (0, 0, 0): ".data[0].id",
        (0, 0, 1): '.data[0]."a b"',
        (0, 0, 1, 0): '.data[0]."a b"."q\\"t"',
        (1,): '."0"',
    }
    items = Outline([[1]])
    assert items.json_path(items.reveal((0, 0))) == ".[0][0]"


def test_lines_show_control_characters_instead_of_sending_them() -> None:
    outline = Outline({"\x1b]0;k\x07": "\x9b2J", "n": [1, 2]})
    text = "\n".join(outline.line(i) for i in range(len(outline.rows)))
    assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text
    assert '"\\u001b]0;k\\u0007": "\\u009b2J"' in text
    assert '▸ "n": […] 2 items' in text
