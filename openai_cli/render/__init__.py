"""The one renderer: JSON, JSONL, YAML, tables or raw text on stdout.

Piped output with the default format is the JSON the API sent, byte for byte, so
scripts see exactly what the API documents. On a terminal, lists become tables and
objects highlighted JSON. Nothing but data is ever written here, and data is never
read as rich markup: on a terminal it goes out with its control characters made
visible (:mod:`openai_cli.terminal`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from openai_cli.errors import ProtocolError, UsageError
from openai_cli.formats import OUTPUT_FORMATS as FORMATS
from openai_cli.io import IO
from openai_cli.render.table import MORE_HINT, layout, lines
from openai_cli.terminal import json_escape


def _items(data: Any) -> list[Any] | None:
    """The rows of a list answer, or None when the answer is one object."""
    if isinstance(data, list):
        return data
    if (
        isinstance(data, dict)
        and isinstance(data.get("data"), list)
        and (data.get("object") in ("list", "page", None) or "has_more" in data)
    ):
        return data["data"]  # type: ignore[no-any-return]
    return None


def _observed(pages: Iterable[Any], observe: Callable[[Any], None]) -> Iterable[Any]:
    for page in pages:
        observe(page)
        yield page


class Renderer:
    def __init__(
        self,
        io: IO,
        *,
        fmt: str = "auto",
        query: str | None = None,
        observe: Callable[[Any], None] | None = None,
    ) -> None:
        if fmt not in FORMATS:
            raise UsageError(
                f"-o/--output: unknown format {fmt!r}; choose from {', '.join(FORMATS)}"
            )
        self.io = io
        self.fmt = fmt
        self.query = query
        # Shown each answer and each page as read, before --query: the context notes
        # the objects in them (their IDs complete on TAB).
        self.observe = observe
        self._compiled: Any = None
        if query:
            import jmespath
            from jmespath.exceptions import JMESPathError

            try:
                self._compiled = jmespath.compile(query)
            except JMESPathError as exc:
                raise UsageError(f"--query: invalid JMESPath expression: {exc}") from exc
            except RecursionError:
                # The parser recurses once per level of nesting: `((((...` runs out.
                raise UsageError("--query: the expression is nested too deeply") from None

    @property
    def effective(self) -> str:
        if self.fmt == "explore":
            # The viewer draws on stderr and needs both ends on the terminal; anywhere
            # else the answer is what -o json prints.
            return "explore" if self.io.stdout_tty and self.io.stderr_tty else "json"
        if self.fmt != "auto":
            return self.fmt
        return "pretty" if self.io.stdout_tty else "json-raw"

    def _apply(self, data: Any) -> Any:
        if self._compiled is None:
            return data
        from jmespath.exceptions import JMESPathError

        try:
            return self._compiled.search(data)
        except JMESPathError as exc:
            # A valid expression can still fail on this answer (a function given the
            # wrong type, an unknown function): the expression is what needs fixing.
            raise UsageError(f"--query: {exc}") from None
        except (TypeError, ValueError, RecursionError) as exc:
            # jmespath lets some of these through unchecked (merge(@, `1`)), and a
            # deeply nested expression or literal exhausts the recursion limit.
            raise UsageError(f"--query: cannot apply it to the answer: {exc}") from None

    # -- whole answers -------------------------------------------------------------

    def answer(
        self, data: Any, raw: str | None = None, *, view: Callable[[], None] | None = None
    ) -> None:
        """Print one answer. ``raw`` is the body as the API sent it, when there is one.

        ``view`` prints a command's own layout for people (``profile list`` marks the
        default with ``*``), used instead of the table or indented JSON a terminal
        would get, and for ``-o table``; every other format prints ``data``.
        """
        if self.observe is not None:
            self.observe(data)
        self._print(data, raw, view)

    def _print(self, data: Any, raw: str | None, view: Callable[[], None] | None = None) -> None:
        out = self.io.out
        if view is not None and self._compiled is None and self.effective in ("pretty", "table"):
            view()
            out.flush()
            return
        if self._compiled is not None:
            data = self._apply(data)
            raw = None
        try:
            self._write(self.effective, data, raw)
        except RecursionError:
            self._too_deep(data, raw)
        out.flush()

    def _too_deep(self, data: Any, raw: str | None) -> None:
        """An answer nested past what YAML, indented JSON or a table can walk: compact
        JSON instead (the body as sent when there is one), and a line saying so.

        Each format builds its whole text before writing, so nothing was printed yet.
        """
        fmt = "the terminal" if self.fmt == "auto" else f"-o {self.fmt}"
        self.io.message(f"oai: the answer is nested too deeply for {fmt}; printed as JSON")
        try:
            self._write("json-raw", data, raw)
        except RecursionError:
            raise ProtocolError("the answer is nested too deeply to print") from None

    def _write(self, mode: str, data: Any, raw: str | None) -> None:
        out = self.io.out
        if mode == "json-raw":
            if raw is not None:
                out.write(raw if raw.endswith("\n") else raw + "\n")
            else:
                out.write(json.dumps(data, ensure_ascii=False) + "\n")
        elif mode == "json":
            out.write(self._dumps(data, indent=2) + "\n")
        elif mode == "jsonl":
            rows = _items(data)
            rows = [data] if rows is None else rows
            out.write("".join(self._dumps(row) + "\n" for row in rows))
        elif mode == "yaml":
            import yaml

            out.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        elif mode == "raw":
            if isinstance(data, str):
                out.write(data + "\n")
            elif raw is not None:
                out.write(raw if raw.endswith("\n") else raw + "\n")
            else:
                out.write(json.dumps(data, ensure_ascii=False) + "\n")
        elif mode == "table":
            self._table(data)
        elif mode == "explore":
            from openai_cli.render.explore import explore

            explore(self.io, data)
        else:  # pretty
            if _items(data) is not None:
                self._table(data)
            else:
                self._pretty_json(data)

    def _dumps(self, data: Any, indent: int | None = None) -> str:
        try:
            text = json.dumps(data, indent=indent, ensure_ascii=False)
        except RecursionError:
            if indent is None:
                raise
            # Indenting walks the data in Python, one frame per level; compact JSON is
            # the same data, encoded in C.
            text = json.dumps(data, ensure_ascii=False)
        # On a terminal C1 characters are escaped the JSON way, so the text shown is
        # still valid JSON for the same data (io.out would show them as \x9b).
        return json_escape(text) if self.io.stdout_tty else text

    def _pretty_json(self, data: Any) -> None:
        text = self._dumps(data, indent=2)
        if not self.io.color:
            self.io.out.write(text + "\n")
            return
        from rich.console import Console
        from rich.highlighter import JSONHighlighter
        from rich.text import Text

        # Highlighted here rather than by rich.json.JSON, which re-encodes the data
        # and would put the C1 characters back.
        shown = JSONHighlighter()(Text(text, no_wrap=True))
        Console(file=self.io.term_out, force_terminal=True, soft_wrap=True).print(shown)

    def _table(self, data: Any) -> None:
        rows = _items(data)
        if rows is None:
            rows = [data]
        if not rows:
            self.io.message("(no items)")
            return
        if not all(isinstance(r, dict) for r in rows):
            text = [(r if isinstance(r, str) else self._dumps(r)) + "\n" for r in rows]
            self.io.out.write("".join(text))
            return
        table = layout(rows, self.io.width, terminal=self.io.stdout_tty)
        # Cells are neutralised already; the bare stream lets the header be bold.
        self.io.term_out.write("".join(line + "\n" for line in lines(table, self.io.color)))
        if isinstance(data, dict) and data.get("has_more") is True:
            self.io.message(MORE_HINT)

    # -- pages and streams ----------------------------------------------------------

    def pages(self, pages: Iterable[Any]) -> None:
        """Print the items of several pages as one list, as the pages arrive."""
        mode = self.effective
        out = self.io.out
        if self.observe is not None:
            pages = _observed(pages, self.observe)
        if self._compiled is not None or mode in ("table", "pretty", "yaml", "explore"):
            items: list[Any] = []
            last: dict[str, Any] = {}
            for page in pages:
                items.extend(_items(page) or [])
                last = page if isinstance(page, dict) else {}
            merged = {**last, "data": items}
            merged.pop("next_page", None)
            self._print(merged, None)
            return
        if mode == "jsonl":
            for page in pages:
                for row in _items(page) or []:
                    out.write(self._dumps(row) + "\n")
                out.flush()
            return
        # json / json-raw / raw: one list object, written item by item.
        indent = 2 if mode == "json" else None
        sep = ",\n" if indent else ", "
        out.write('{"object": "list", "data": [')
        first = True
        last_page: dict[str, Any] = {}
        for page in pages:
            for row in _items(page) or []:
                if not first:
                    out.write(sep)
                text = self._dumps(row, indent=indent)
                out.write(("\n" + text) if indent and first else text)
                first = False
            out.flush()
            last_page = page if isinstance(page, dict) else {}
        tail = {k: v for k, v in last_page.items() if k in ("has_more", "first_id", "last_id")}
        tail_text = "".join(f", {json.dumps(k)}: {json.dumps(v)}" for k, v in tail.items())
        out.write(("\n" if indent and not first else "") + "]" + tail_text + "}\n")
        out.flush()

    def event(self, data: Any, raw: str | None = None) -> None:
        """One streamed event, one line, flushed at once."""
        out = self.io.out
        if self._compiled is not None:
            data = self._apply(data)
            raw = None
        if raw is not None:
            out.write(raw.replace("\n", "") + "\n")
        elif isinstance(data, str) and self.fmt == "raw":
            out.write(data + "\n")
        else:
            out.write(json.dumps(data, ensure_ascii=False) + "\n")
        out.flush()
