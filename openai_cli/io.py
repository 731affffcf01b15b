"""The process's streams and what is known about the terminal.

Commands never touch ``sys.stdout`` directly: they write data to ``io.out`` and
messages to ``io.err``. Tests build their own, with streams in memory.

On a terminal, ``io.out`` and ``io.err`` show control characters instead of sending
them (:mod:`openai_cli.terminal`): whatever the server says is printed, never
obeyed. Only rich consoles, which style with escapes of their own, write to the
bare ``term_out``/``term_err`` and are handed neutralised text.
"""

from __future__ import annotations

import io as _io
import os
import sys

# Not from typing, which a TAB and a help page do without (see openai_cli/main.py);
# nor the terminal guard, nor contextlib, which only output on a terminal needs.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import BinaryIO, TextIO

    from openai_cli.terminal import TerminalText


def _utf8_text(stream: TextIO) -> TextIO:
    # stdout is UTF-8 whatever the locale: LANG=C must not turn an emoji into a crash.
    enc = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    reconfigure = getattr(stream, "reconfigure", None)
    if enc != "utf8" and reconfigure is not None:
        try:  # noqa: SIM105 (contextlib costs a TAB half a millisecond)
            reconfigure(encoding="utf-8", errors="replace")
        except (ValueError, OSError):
            pass
    return stream


class IO:
    # A plain class, not a dataclass: ``dataclasses`` (with ``inspect`` and ``ast``)
    # would cost a TAB and a help page a third of their start-up.
    def __init__(
        self,
        stdin: TextIO,
        stdout: TextIO,
        stderr: TextIO,
        env: Mapping[str, str] | None = None,
        stdin_tty: bool = False,
        stdout_tty: bool = False,
        stderr_tty: bool = False,
    ) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.env: Mapping[str, str] = dict(os.environ) if env is None else env
        self.stdin_tty = stdin_tty
        self.stdout_tty = stdout_tty
        self.stderr_tty = stderr_tty
        self._guards: dict[int, TerminalText] = {}

    def _fields(self) -> dict[str, object]:
        # What equality and repr look at: the constructor's arguments, not the guards.
        return {k: v for k, v in vars(self).items() if k != "_guards"}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IO) or type(other) is not type(self):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self._fields().items())
        return f"{type(self).__qualname__}({shown})"

    @classmethod
    def system(cls) -> IO:
        def tty(s: object) -> bool:
            try:
                return bool(getattr(s, "isatty")())  # noqa: B009
            except (ValueError, AttributeError):
                return False

        return cls(
            stdin=sys.stdin,
            stdout=_utf8_text(sys.stdout),
            stderr=_utf8_text(sys.stderr),
            env=os.environ,
            stdin_tty=tty(sys.stdin),
            stdout_tty=tty(sys.stdout),
            stderr_tty=tty(sys.stderr),
        )

    def _guarded(self, stream: TextIO) -> TerminalText:
        from openai_cli.terminal import TerminalText

        guard = self._guards.get(id(stream))
        if guard is None or guard.stream is not stream:
            guard = self._guards[id(stream)] = TerminalText(stream)
        return guard

    def _guarded_text(self, stream: TextIO) -> TextIO:
        # Only a terminal needs the guard, and only then is ``typing`` imported.
        from typing import cast

        return cast("TextIO", self._guarded(stream))

    @property
    def out(self) -> TextIO:
        """Data: as it is when piped; with control characters made visible on a terminal."""
        if not self.stdout_tty:
            return self.stdout
        return self._guarded_text(self.stdout)

    @property
    def err(self) -> TextIO:
        """Messages: as :attr:`out`, for stderr."""
        if not self.stderr_tty:
            return self.stderr
        return self._guarded_text(self.stderr)

    @property
    def term_out(self) -> TextIO:
        """stdout itself, for a rich console that is given only neutralised text."""
        return self.stdout

    @property
    def term_err(self) -> TextIO:
        """stderr itself, for a rich console (progress bars) given only neutralised text."""
        return self.stderr

    @property
    def width(self) -> int | None:
        """How many columns the terminal on stdout has; None when stdout is not one."""
        if not self.stdout_tty:
            return None
        columns = self.env.get("COLUMNS", "")
        if columns.isdigit() and int(columns) > 0:
            return int(columns)
        try:
            return os.get_terminal_size(self.stdout.fileno()).columns or 80
        except (OSError, ValueError, AttributeError):
            return 80

    @property
    def stdout_bytes(self) -> BinaryIO:
        if self.stdout_tty:
            from typing import cast

            from openai_cli.terminal import TerminalBytes

            return cast("BinaryIO", TerminalBytes(self._guarded(self.stdout)))
        buf = getattr(self.stdout, "buffer", None)
        if buf is None:
            raise RuntimeError("stdout has no binary buffer")
        self.stdout.flush()
        return buf  # type: ignore[no-any-return]

    @property
    def stdin_bytes(self) -> BinaryIO:
        buf = getattr(self.stdin, "buffer", None)
        if buf is None:
            return _io.BytesIO(self.stdin.read().encode())
        return buf  # type: ignore[no-any-return]

    @property
    def color(self) -> bool:
        if "NO_COLOR" in self.env:
            return False
        if self.env.get("FORCE_COLOR"):
            return True
        return self.stdout_tty and self.env.get("TERM") != "dumb"

    def message(self, text: str) -> None:
        """A line for humans: always stderr, never mixed into data."""
        err = self.err
        # A stderr that is full or gone loses the message, never the command or
        # its exit code.
        try:
            err.write(text + "\n")
            err.flush()
        except (OSError, ValueError):
            pass
