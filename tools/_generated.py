"""Write generated files into a folder, or (--check) list how the committed ones differ.

Shared by the gen_* tools so that all of them agree on what "stale" means and CI can run
each with --check.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Folder:
    """Where a generator's files go, and the words --check uses for each kind of difference."""

    path: Path
    # Files matching this glob that the generator no longer makes are reported by --check
    # and deleted on write; None leaves the folder's other files alone.
    leftovers: str | None = None
    missing: str = "missing"
    changed: str = "out of date"
    leftover: str = "not generated"

    def stale(self, files: Mapping[str, str]) -> list[str]:
        """One ``<path>: <why>`` line for each file on disk that differs from ``files``."""
        lines = []
        for name, text in sorted(files.items()):
            current = read(self.path / name)
            if current != text:
                why = self.missing if current is None else self.changed
                lines.append(f"{self.path / name}: {why}")
        lines += [f"{self.path / name}: {self.leftover}" for name in self._leftovers(files)]
        return lines

    def write(self, files: Mapping[str, str]) -> list[Path]:
        """Bring the folder in line with ``files``; return the paths written."""
        self.path.mkdir(parents=True, exist_ok=True)
        for name in self._leftovers(files):
            (self.path / name).unlink()
        written = []
        for name, text in sorted(files.items()):
            if read(self.path / name) != text:
                (self.path / name).write_text(text, encoding="utf-8")
                written.append(self.path / name)
        return written

    def _leftovers(self, files: Mapping[str, str]) -> list[str]:
        if self.leftovers is None or not self.path.is_dir():
            return []
        return sorted({p.name for p in self.path.glob(self.leftovers)} - set(files))


def sync(
    folder: Folder,
    files: Mapping[str, str],
    *,
    check: bool,
    hint: str | None = None,
    say_written: bool = False,
) -> int:
    """A generator's exit status: under ``check`` 1 if anything is stale, else write and 0.

    ``hint`` goes to stderr after the stale lines, ``say_written`` names each file written.
    """
    if check:
        problems = folder.stale(files)
        for line in problems:
            print(line)
        if problems and hint:
            print(hint, file=sys.stderr)
        return 1 if problems else 0
    for path in folder.write(files):
        if say_written:
            print(f"wrote {path}", file=sys.stderr)
    return 0


def read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
