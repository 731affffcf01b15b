"""The interactive viewer of ``-o explore``: a Textual screen over an :class:`Outline`.

Imported only when a viewer opens (Textual's import alone costs more than the
start-up of any other command). Every row is drawn on demand from the outline, so
the screen costs the same for ten items or a hundred thousand. Keys are those of
``less`` and vim; what is copied is also kept, and printed to stdout on exit.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.app import App, ComposeResult
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from openai_cli.errors import UsageError
from openai_cli.render.explore import Outline, copy_text
from openai_cli.terminal import neutralise

if TYPE_CHECKING:
    from openai_cli.io import IO

# Keys are looked up here by the view itself rather than as Textual bindings: those
# run out of order with the keys the view handles, so `/name` typed quickly after
# `j` would search before moving. Each key names a method and its argument.
KEYS: dict[str, tuple[str, int]] = {
    **dict.fromkeys(("j", "down", "ctrl+n"), ("move", 1)),
    **dict.fromkeys(("k", "up", "ctrl+p"), ("move", -1)),
    "ctrl+d": ("half", 1),
    "ctrl+u": ("half", -1),
    **dict.fromkeys(("space", "f", "ctrl+f", "pagedown"), ("page", 1)),
    **dict.fromkeys(("b", "ctrl+b", "pageup"), ("page", -1)),
    **dict.fromkeys(("g", "home", "less_than_sign"), ("top", 0)),
    **dict.fromkeys(("G", "end", "greater_than_sign"), ("bottom", 0)),
    **dict.fromkeys(("h", "left"), ("fold", 0)),
    **dict.fromkeys(("l", "right"), ("unfold", 0)),
    **dict.fromkeys(("enter", "o", "z"), ("toggle", 0)),
    "slash": ("search", 0),
    "n": ("next", 0),
    "N": ("next", 1),
    "y": ("copy_path", 0),
    "Y": ("copy_value", 0),
    **dict.fromkeys(("q", "Q", "ctrl+c"), ("quit", 0)),
}

HINTS = "j/k move · h/l fold · / search · n/N next · y copy path · Y copy value · q quit"

_CURSOR = Style(reverse=True)
_FOLDED = Style(dim=True)


class JsonView(ScrollView, can_focus=True):
    def __init__(self, outline: Outline) -> None:
        super().__init__(id="tree")
        self.outline = outline
        self.cursor = 0
        self.needle = ""
        self.typing: str | None = None  # the search being typed after /

    # -- drawing -------------------------------------------------------------------

    def on_resize(self) -> None:
        self._sized()

    def _sized(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.outline.rows))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        i = y + int(self.scroll_offset.y)
        if i >= len(self.outline.rows):
            return Strip.blank(width)
        text = self.outline.line(i)
        style = _CURSOR if i == self.cursor else None
        return Strip([Segment(text, style)]).crop(0, width).extend_cell_length(width, style)

    def _changed(self, message: str | None = None) -> None:
        self._sized()
        top = int(self.scroll_offset.y)
        height = max(1, self.size.height)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)
        self.refresh()
        if self.typing is not None:
            line = "/" + neutralise(self.typing)
        else:
            line = f"{self.outline.json_path(self.cursor)}   {neutralise(message or HINTS)}"
        self.app.query_one("#status", Static).update(line)

    def on_mount(self) -> None:
        self._changed()

    # -- moving and folding ---------------------------------------------------------

    def _go(self, i: int, message: str | None = None) -> None:
        self.cursor = max(0, min(i, len(self.outline.rows) - 1))
        self._changed(message)

    def do_move(self, by: int) -> None:
        self._go(self.cursor + by)

    def do_half(self, by: int) -> None:
        self._go(self.cursor + by * max(1, self.size.height // 2))

    def do_page(self, by: int) -> None:
        self._go(self.cursor + by * max(1, self.size.height - 1))

    def do_top(self, _: int) -> None:
        self._go(0)

    def do_bottom(self, _: int) -> None:
        self._go(len(self.outline.rows) - 1)

    def do_fold(self, _: int) -> None:
        if self.outline.unfolded(self.cursor):
            self.outline.collapse(self.cursor)
            self._changed()
        else:
            self._go(self.outline.parent(self.cursor))

    def do_unfold(self, _: int) -> None:
        if self.outline.unfolded(self.cursor):
            self._go(self.cursor + 1)
        elif self.outline.foldable(self.cursor):
            self.outline.expand(self.cursor)
            self._changed()

    def do_toggle(self, _: int) -> None:
        self.outline.toggle(self.cursor)
        self._changed()

    # -- searching ----------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        if self.typing is not None:
            self._type(event)
            return
        name, arg = KEYS.get(event.key, ("", 0))
        if name:
            getattr(self, f"do_{name}")(arg)

    def _type(self, event: events.Key) -> None:
        assert self.typing is not None
        if event.key == "enter":
            text, self.typing = self.typing, None
            if text:
                self.needle = text
                self.do_next(0)
            else:
                self._changed()
        elif event.key in ("escape", "ctrl+c"):
            self.typing = None
            self._changed()
        elif event.key == "backspace":
            self.typing = self.typing[:-1]
            self._changed()
        elif event.is_printable and event.character:
            self.typing += event.character
            self._changed()

    def do_search(self, _: int) -> None:
        self.typing = ""
        self._changed()

    def do_quit(self, _: int) -> None:
        self.app.exit()

    def do_next(self, backwards: int) -> None:
        if not self.needle:
            self._changed("type / and a word to search")
            return
        here = self.outline.rows[self.cursor][0]
        found = self.outline.search(self.needle, here, backwards=bool(backwards))
        if found is None:
            self._changed(f"no key or value contains {self.needle!r}")
        else:
            self._go(self.outline.reveal(found), f"/{self.needle}")

    # -- copying ------------------------------------------------------------------

    def _copy(self, text: str, what: str) -> None:
        viewer = self.app
        assert isinstance(viewer, Viewer)
        viewer.copied.append(text)
        # Through the terminal (OSC 52) where it allows it; stdout on exit regardless.
        with contextlib.suppress(Exception):
            viewer.copy_to_clipboard(text)
        self._changed(f"copied the {what}; printed on exit")

    def do_copy_path(self, _: int) -> None:
        self._copy(self.outline.json_path(self.cursor), "path")

    def do_copy_value(self, _: int) -> None:
        self._copy(copy_text(self.outline.value(self.cursor)), "value")


class Viewer(App[None]):
    CSS = """
    #tree { height: 1fr; scrollbar-size-horizontal: 0; }
    #status { dock: bottom; height: 1; background: $panel; color: $text; }
    """
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, outline: Outline) -> None:
        super().__init__()
        self.outline = outline
        self.copied: list[str] = []

    def compose(self) -> ComposeResult:
        yield JsonView(self.outline)
        yield Static(id="status", markup=False)

    def on_mount(self) -> None:
        self.query_one(JsonView).focus()


def run(outline: Outline, io: IO) -> list[str]:
    """Show ``outline`` until the user quits; return what they copied."""
    if not io.stdin_tty:
        # The answer came through stdin (`... | oai explore`), which is read to the
        # end by now: keys come from the terminal itself, as `less` reads them.
        try:
            tty = os.open("/dev/tty", os.O_RDONLY)
        except OSError:
            raise UsageError("-o explore: no terminal to read keys from; use -o json") from None
        os.dup2(tty, 0)
        os.close(tty)
    viewer = Viewer(outline)
    viewer.run()
    return viewer.copied
