"""Progress on stderr, shown only when stderr is a terminal.

CI logs and scripts read stderr too: a bar redrawn ten times a second would fill
them with noise, so off a terminal every call here does nothing. ``rich`` is
imported only when a bar is really drawn, which keeps it off the startup path.
Every method may be called from several threads at once.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from openai_cli.config.settings_table import Environment
from openai_cli.io import IO
from openai_cli.terminal import neutralise

_UNITS = ("bytes", "items", "status")


def enabled(io: IO) -> bool:
    return (
        io.stderr_tty and not Environment.no_progress.read(io.env) and io.env.get("TERM") != "dumb"
    )


class Progress:
    """One bar (``bytes``, ``items``) or one status line with a spinner (``status``)."""

    def __init__(
        self, io: IO, description: str, total: float | None = None, *, unit: str = "bytes"
    ) -> None:
        if unit not in _UNITS:
            raise ValueError(unit)
        self._bar: Any = None
        self._task: Any = None
        self._lock = threading.Lock()
        if not enabled(io):
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as RichProgress

        columns: list[Any]
        if unit == "bytes":
            columns = [
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
            ]
        elif unit == "items":
            columns = [
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            ]
        else:
            columns = [
                SpinnerColumn(),
                TextColumn("{task.description}", markup=False),
                TimeElapsedColumn(),
            ]
        console = Console(file=io.term_err, force_terminal=True, highlight=False)
        self._bar = RichProgress(*columns, console=console, transient=True)
        self._task = self._bar.add_task(neutralise(description), total=total)
        self._bar.start()

    @property
    def shown(self) -> bool:
        return self._bar is not None

    def advance(self, amount: float) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, amount)

    def update(
        self,
        *,
        completed: float | None = None,
        total: float | None = None,
        description: str | None = None,
    ) -> None:
        if self._bar is None:
            return
        kwargs: dict[str, Any] = {}
        if completed is not None:
            kwargs["completed"] = completed
        if total is not None:
            kwargs["total"] = total
        if description is not None:
            kwargs["description"] = neutralise(description)
        self._bar.update(self._task, **kwargs)

    def close(self) -> None:
        with self._lock:
            bar, self._bar = self._bar, None
        if bar is not None:
            bar.stop()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def download_progress(io: IO, resp: Any, target: str) -> Progress:
    """A bar for a response body on its way to ``target``, sized by its Content-Length."""
    length = resp.headers.get("content-length")
    total = int(length) if length and length.isdigit() else None
    return Progress(io, f"downloading to {target}", total=total)


def human_bytes(n: float) -> str:
    if abs(n) < 1024:
        return f"{n:.0f} B"
    units = ("KiB", "MiB", "GiB", "TiB")
    i = 0
    n /= 1024
    while abs(n) >= 1024 and i < len(units) - 1:
        n /= 1024
        i += 1
    return f"{n:.1f} {units[i]}"
