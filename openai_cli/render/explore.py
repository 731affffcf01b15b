"""``-o explore``: the outline of a JSON answer that the interactive viewer shows.

The viewer (:mod:`openai_cli.render.viewer`) is a thin Textual screen over
:class:`Outline`, which holds everything that can be tested without a terminal: the
rows now visible, folding, search and the path of a node. Textual is imported only
by :func:`explore`, when a viewer actually opens.

A node is addressed by the positions of its ancestors (``(2, 0)`` is the first
field of the third item), so document order is tuple order: the visible rows are
always sorted, a row is found by bisection, and a search skips a whole subtree that
lies before the cursor without walking it. Only the rows of unfolded containers
exist, so an answer of 100,000 items is never walked as a whole to be shown.
"""

from __future__ import annotations

import json
import re
import sys
from bisect import bisect_left
from typing import TYPE_CHECKING, Any

from openai_cli.terminal import json_escape, neutralise
from openai_cli.textfmt import count

if TYPE_CHECKING:
    from openai_cli.io import IO

Path = tuple[int, ...]
# A visible row: its path, its key (a field name, an item's index, None for the root)
# and its value. A plain tuple: unfolding a list of 100,000 items makes 100,000 rows
# at once, and a tuple is the cheapest thing to build.
Row = tuple[Path, str | int | None, Any]

_BLOCK = 256  # children encoded at once by a search, to skip those that cannot match
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _foldable(value: Any) -> bool:
    return isinstance(value, dict | list) and len(value) > 0


def _children(path: Path, value: Any) -> list[Row]:
    if isinstance(value, dict):
        return [((*path, i), k, v) for i, (k, v) in enumerate(value.items())]
    if isinstance(value, list):
        return [((*path, i), i, v) for i, v in enumerate(value)]
    return []


def scalar_text(value: Any) -> str:
    """A scalar as JSON, safe to put on a terminal."""
    return neutralise(json_escape(json.dumps(value, ensure_ascii=False)))


def summary(value: Any) -> str:
    """What a folded container holds, in a few characters."""
    if isinstance(value, dict):
        return "{}" if not value else f"{{…}} {count(len(value), 'key')}"
    if isinstance(value, list):
        return "[]" if not value else f"[…] {count(len(value), 'item')}"
    return scalar_text(value)


def copy_text(value: Any) -> str:
    """A value as it is copied: strings bare (an ID pastes as itself), the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


class Outline:
    """The rows of a JSON document that are visible, and the moves over them."""

    def __init__(self, data: Any) -> None:
        self.root: Row = ((), None, data)
        self.rows: list[Row] = [self.root]
        self.expanded: set[Path] = set()
        # The JSON text of blocks of children, folded to one case, kept by the first
        # search so that the next (n, N) only has to look in it.
        self._texts: dict[tuple[int, int], str] = {}
        self.expand(0)

    # -- folding -------------------------------------------------------------------

    def index(self, path: Path) -> int | None:
        """The row of ``path``, if it is visible."""
        i = bisect_left(self.rows, path, key=lambda r: r[0])
        return i if i < len(self.rows) and self.rows[i][0] == path else None

    def value(self, i: int) -> Any:
        return self.rows[i][2]

    def unfolded(self, i: int) -> bool:
        return self.rows[i][0] in self.expanded

    def foldable(self, i: int) -> bool:
        return _foldable(self.rows[i][2])

    def expand(self, i: int) -> None:
        path, _, value = self.rows[i]
        if not _foldable(value) or path in self.expanded:
            return
        self.expanded.add(path)
        self.rows[i + 1 : i + 1] = _children(path, value)

    def collapse(self, i: int) -> None:
        path = self.rows[i][0]
        if path not in self.expanded:
            return
        end = i + 1
        while end < len(self.rows) and len(self.rows[end][0]) > len(path):
            end += 1
        self.expanded.difference_update(r[0] for r in self.rows[i + 1 : end])
        self.expanded.discard(path)
        del self.rows[i + 1 : end]

    def toggle(self, i: int) -> None:
        if self.unfolded(i):
            self.collapse(i)
        else:
            self.expand(i)

    def parent(self, i: int) -> int:
        path = self.rows[i][0]
        found = self.index(path[:-1]) if path else None
        return i if found is None else found

    def reveal(self, path: Path) -> int:
        """Unfold the ancestors of ``path`` and return its row."""
        for n in range(len(path)):
            i = self.index(path[:n])
            assert i is not None  # its parent was unfolded just before
            self.expand(i)
        i = self.index(path)
        assert i is not None
        return i

    # -- what a row says -----------------------------------------------------------

    def line(self, i: int) -> str:
        """Row ``i`` as text: indent, fold marker, key and value or summary."""
        path, key, value = self.rows[i]
        unfolded = path in self.expanded
        mark = ("▾ " if unfolded else "▸ ") if _foldable(value) else "  "
        if key is None:
            label = ""
        elif isinstance(key, int):
            label = f"[{key}]: "
        else:
            label = scalar_text(key) + ": "
        if unfolded:
            body = ("{" if isinstance(value, dict) else "[") + f" {len(value)}"
        else:
            body = summary(value)
        return "  " * len(path) + mark + label + body

    def json_path(self, i: int) -> str:
        """The path of row ``i`` as jq writes it: ``.data[3].id``, ``.`` for the root."""
        path = self.rows[i][0]
        parts: list[str] = []
        for n in range(1, len(path) + 1):
            # Every ancestor of a visible row is visible.
            key = self.rows[self.index(path[:n]) or 0][1]
            if isinstance(key, int):
                parts.append(f"[{key}]")
            elif _IDENTIFIER.match(str(key)):
                parts.append(f".{key}")
            else:
                parts.append("." + json.dumps(key, ensure_ascii=False))
        text = "".join(parts)
        return neutralise(json_escape(text if text.startswith(".") else "." + text))

    # -- search --------------------------------------------------------------------

    def search(self, text: str, after: Path, *, backwards: bool = False) -> Path | None:
        """The next node after ``after`` (or before it, ``backwards``), wrapping
        around, whose key or scalar value contains ``text`` in any case."""
        needle = text.casefold()
        if not needle:
            return None
        find = _Search(needle, backwards, self._texts)
        try:
            found = find(self.root, after) or find(self.root, find.wrap)
        except RecursionError:
            return None
        if found is None and not backwards:
            # Wrapping forwards starts after the root: the root itself comes last.
            path, key, value = self.root
            if find._matches(key, value):
                return path
        return found


class _Search:
    """A search from one node, forwards or backwards, in document order.

    A subtree is entered only when its JSON text holds the needle (as JSON escapes
    it): ``json.dumps`` runs in C, so 100,000 items are searched at the speed of
    encoding them, and only the subtrees that can match are walked in Python.
    """

    def __init__(self, needle: str, backwards: bool, texts: dict[tuple[int, int], str]) -> None:
        self.needle = needle
        self.texts = texts
        self.escaped = json.dumps(needle, ensure_ascii=False)[1:-1]
        self.backwards = backwards
        # Where a search that found nothing starts again: past the end it went to.
        self.wrap: Path = (sys.maxsize,) if backwards else ()
        self.after: Path = ()

    def __call__(self, root: Row, after: Path) -> Path | None:
        self.after = after
        return self._walk(*root)

    def _matches(self, key: Any, value: Any) -> bool:
        if isinstance(key, str) and self.needle in key.casefold():
            return True
        if isinstance(value, str):
            return self.needle in value.casefold()
        if isinstance(value, dict | list):
            return False
        return self.needle in json.dumps(value).casefold()

    def _may_hold(self, key: Any, value: Any) -> bool:
        if isinstance(key, str) and self.needle in key.casefold():
            return True
        return self.escaped in json.dumps(value, ensure_ascii=False).casefold()

    def _block_may_hold(
        self, parent: Any, start: int, keys: list[str] | None, values: list[Any]
    ) -> bool:
        text = self.texts.get((id(parent), start))
        if text is None:
            # With the keys of an object, since a key holding the needle is a match.
            block = values if keys is None else list(zip(keys, values, strict=True))
            text = json.dumps(block, ensure_ascii=False).casefold()
            self.texts[(id(parent), start)] = text
        return self.escaped in text

    def _outside(self, first: Path, last: Path) -> bool:
        """Whether the subtrees from ``first`` to ``last`` all lie on the side of the
        cursor that this search has already left."""
        after = self.after
        if self.backwards:
            return first > after
        return last < after and after[: len(last)] != last

    def _walk(self, path: Path, key: Any, value: Any) -> Path | None:
        forwards = not self.backwards
        if forwards and path > self.after and self._matches(key, value):
            return path
        keys: list[str] | None = None
        values: list[Any] = []
        if isinstance(value, dict):
            keys, values = list(value), list(value.values())
        elif isinstance(value, list):
            values = value
        # Children a block at a time: one encoding tells whether any of them can match.
        starts = range(0, len(values), _BLOCK)
        for start in starts if forwards else reversed(starts):
            stop = min(start + _BLOCK, len(values))
            if self._outside((*path, start), (*path, stop - 1)) or not self._block_may_hold(
                value, start, None if keys is None else keys[start:stop], values[start:stop]
            ):
                continue
            indices = range(start, stop)
            for i in indices if forwards else reversed(indices):
                child, k, v = (*path, i), i if keys is None else keys[i], values[i]
                if self._outside(child, child):
                    continue
                # A large container is checked a block at a time by the walk itself.
                large = isinstance(v, dict | list) and len(v) > _BLOCK
                if (large or self._may_hold(k, v)) and (found := self._walk(child, k, v)):
                    return found
        if not forwards and path < self.after and self._matches(key, value):
            return path
        return None


def explore(io: IO, data: Any) -> None:
    """Open the viewer on ``data``; print what was copied in it once it closes."""
    from openai_cli.render.viewer import run

    copied = run(Outline(data), io)
    out = io.out
    for text in copied:
        out.write(text + "\n")
    out.flush()
