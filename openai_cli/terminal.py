"""Server text on a terminal: shown, never obeyed.

To a terminal, ESC ] 52 writes the clipboard, ESC [ 2 J clears the screen, ESC ] 8
makes a link and ESC ] 0 sets the window title. Text from the server (model answers,
file names, error messages) is data, so when stdout or stderr is a terminal every
C0 and C1 control character in it except newline and tab is shown as text instead:
C0 and DEL in caret notation (``^[`` for ESC, ``^G``, ``^?``), C1 as ``\\x9b``. A CR
stays only right before LF (a line end); alone it would move back over the line and
let later text overwrite what was shown, so it is shown as ``^M``.

:class:`openai_cli.io.IO` applies this to everything written to ``io.out`` and
``io.err`` on a terminal; rich consoles, which style with escapes of their own, write
to the bare stream and are given data through :func:`neutralise` (and never as
markup). Piped output is never touched.
"""

from __future__ import annotations

import codecs
import io
import re

# Not from typing, which a TAB and a help page do without (see openai_cli/main.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")
_JSON_UNSAFE = re.compile("[\x7f-\x9f]")


def _visible(ch: str) -> str:
    code = ord(ch)
    if code < 0x20 or code == 0x7F:
        return "^" + chr(code ^ 0x40)
    return f"\\x{code:02x}"


def neutralise(text: str) -> str:
    """``text`` with every control character but newline and tab made visible."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(lambda m: _visible(m.group()), text)


def json_escape(text: str) -> str:
    """JSON text whose strings escape DEL and C1 too, so it stays valid JSON.

    ``json.dumps`` already escapes C0 (``\\u001b``); with ``ensure_ascii=False`` it
    leaves C1 (``\\x9b`` is CSI to many terminals) as it is. Outside strings JSON is
    ASCII, so every match is inside a string, where ``\\u009b`` means the same.
    """
    if _JSON_UNSAFE.search(text) is None:
        return text
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class TerminalText(io.TextIOBase):
    """A text stream to a terminal that shows control characters instead of sending them.

    A CR at the end of one write may begin a CRLF that ends in the next, so it is
    held until the next write decides; a CR still held at exit is lost, which a
    terminal would not have shown anyway.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._cr = False

    def write(self, s: str) -> int:
        n = len(s)
        if self._cr:
            s = "\r" + s
            self._cr = False
        if s.endswith("\r"):
            s = s[:-1]
            self._cr = True
        if s:
            self.stream.write(neutralise(s))
        return n

    def flush(self) -> None:
        self.stream.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.stream.errors


class TerminalBytes(io.RawIOBase):
    """Bytes for a terminal (JSONL results of ``map`` or ``batches run``): decoded as
    UTF-8 as they come, then shown through :class:`TerminalText`."""

    def __init__(self, text: TerminalText) -> None:
        self.text = text
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.text.write(self._decoder.decode(bytes(b)))
        return len(b)

    def flush(self) -> None:
        self.text.flush()

    def writable(self) -> bool:
        return True
