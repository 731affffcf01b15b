"""Helpers shared by the hand-written file, batch and map commands."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator

from openai_cli.errors import UsageError
from openai_cli.io import IO

_COPY_CHUNK = 1 << 20


def spool_stdin(io: IO, *, directory: str | None = None, suffix: str = ".jsonl") -> str:
    """Copy stdin to a file, a chunk at a time, and return its path.

    Input that must be checked before anything is sent, or read twice, or sent
    again on a retry, cannot come straight from a pipe; a file on disk costs no
    memory whatever its size.
    """
    fd, path = tempfile.mkstemp(prefix="oai-stdin-", suffix=suffix, dir=directory)
    try:
        src = io.stdin_bytes
        with os.fdopen(fd, "wb") as out:
            while chunk := src.read(_COPY_CHUNK):
                out.write(chunk)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    return path


@contextlib.contextmanager
def local_input(io: IO, value: str, *, what: str) -> Iterator[tuple[str, str]]:
    """``(path, name for messages)`` of a file argument; ``-`` is stdin, spooled."""
    if value != "-":
        if not os.path.isfile(value):
            if not os.path.exists(value):
                raise UsageError(f"{what}: file not found: {value}")
            raise UsageError(f"{what}: {value} is not a regular file")
        if not os.access(value, os.R_OK):
            raise UsageError(f"{what}: permission denied reading {value}")
        yield value, value
        return
    path = spool_stdin(io)
    try:
        yield path, "<stdin>"
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def positive(value: int | None, flag: str, default: int) -> int:
    if value is None:
        return default
    if value < 1:
        raise UsageError(f"{flag}: must be at least 1")
    return value


_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1024**3,
}


def parse_size(text: str, *, flag: str) -> int:
    """``1048576``, ``8MiB``, ``64MB``, ``5m`` as a number of bytes."""
    t = text.strip().lower().replace(" ", "")
    number = t.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = t[len(number) :]
    try:
        value = float(number) * _SIZE_UNITS[unit]
    except (ValueError, KeyError):
        raise UsageError(f"{flag}: {text!r} is not a size (bytes, or like 8MiB, 64MB)") from None
    if value < 1:
        raise UsageError(f"{flag}: must be at least 1 byte")
    return int(value)
