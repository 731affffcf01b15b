"""A program on a pseudo-terminal, read through a terminal emulator (pyte).

For full-screen programs (the ``-o explore`` viewer): what the user would see is
the emulated screen, not the escape sequences that drew it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pyte


class Screen:
    def __init__(
        self,
        argv: list[str],
        env: dict[str, str],
        cwd: Path,
        *,
        stdin: int | None = None,
        stdout: int | None = None,
        columns: int = 100,
        lines: int = 30,
    ) -> None:
        import pty

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.screen = pyte.Screen(columns, lines)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = b""
        self.proc = subprocess.Popen(
            argv,
            stdin=slave if stdin is None else stdin,
            stdout=slave if stdout is None else stdout,
            stderr=slave,
            env={**env, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(lines)},
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_controlling(slave),
        )
        os.close(slave)

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def pump(self, timeout: float) -> bool:
        """Read what the program wrote within ``timeout``; False once it closed."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 1 << 16)
        except OSError:
            return False
        if not chunk:
            return False
        self.raw += chunk
        self.stream.feed(chunk)
        return True

    def settle(self, seconds: float) -> str:
        """The screen after reading for ``seconds``."""
        end = time.monotonic() + seconds
        while time.monotonic() < end and self.pump(0.05):
            pass
        return self.text()

    def wait_for(self, done: Callable[[str], bool], timeout: float = 30) -> str:
        """The screen once ``done(screen)`` holds; fails with the screen at the timeout."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if done(self.text()):
                return self.text()
            if not self.pump(0.05):
                break
        screen = self.text()
        assert done(screen), f"screen never matched; it shows:\n{screen}"
        return screen

    def wait_exit(self, timeout: float = 30) -> int:
        end = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < end:
            self.pump(0.05)
        while self.pump(0.05):  # what it wrote last
            pass
        return self.proc.wait(timeout=1)

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        os.close(self.master)


def _controlling(slave: int) -> Callable[[], None]:
    def make() -> None:
        # The pty becomes the controlling terminal, so /dev/tty opens it.
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    return make
