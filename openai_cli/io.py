"""The process's streams and what is known about the terminal.

Commands never touch ``sys.stdout`` directly: they write data to ``io.out`` and
messages to ``io.err``. Tests swap in a twin with :meth:`IO.for_test`.
"""

from __future__ import annotations

import contextlib
import io as _io
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO


def _utf8_text(stream: TextIO) -> TextIO:
    # stdout is UTF-8 whatever the locale: LANG=C must not turn an emoji into a crash.
    enc = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    reconfigure = getattr(stream, "reconfigure", None)
    if enc != "utf8" and reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):
            reconfigure(encoding="utf-8", errors="replace")
    return stream


@dataclass
class IO:
    stdin: TextIO
    stdout: TextIO
    stderr: TextIO
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    stdin_tty: bool = False
    stdout_tty: bool = False
    stderr_tty: bool = False

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

    @property
    def out(self) -> TextIO:
        return self.stdout

    @property
    def err(self) -> TextIO:
        return self.stderr

    @property
    def stdout_bytes(self) -> BinaryIO:
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
        self.stderr.write(text + "\n")
        self.stderr.flush()
