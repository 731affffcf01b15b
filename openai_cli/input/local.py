"""Local input files given as arguments, with ``-`` for stdin spooled to disk."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator

from openai_cli import writer
from openai_cli.errors import UsageError
from openai_cli.input.reader import check_stdin, check_streamable, file_error, file_kind, utf8_copy
from openai_cli.io import IO

_COPY_CHUNK = 1 << 20


def spool_stdin(
    io: IO, *, directory: str | None = None, suffix: str = ".jsonl", what: str = "stdin"
) -> str:
    """Copy stdin to a file, a chunk at a time, and return its path.

    Input that must be checked before anything is sent, or read twice, or sent
    again on a retry, cannot come straight from a pipe; a file on disk costs no
    memory whatever its size.
    """
    check_stdin(io, what=what)
    folder = directory or tempfile.gettempdir()
    # Private, and removed if the copy fails or is interrupted.
    with writer.new_file(folder, prefix="oai-stdin-", suffix=suffix) as (path, out):
        src = io.stdin_bytes
        while chunk := src.read(_COPY_CHUNK):
            out.write(chunk)
    return path


def check_input_file(path: str, *, what: str) -> None:
    """A file argument read more than once (checked, then sent): a readable regular
    file, else one line naming it and what it is."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise file_error(what, path, exc) from None
    if not stat.S_ISREG(mode):
        pipe = stat.S_ISFIFO(mode)
        raise UsageError(
            f"{what}: {path} is {file_kind(mode)}, not a regular file"
            + ("; give - for stdin" if pipe else "")
        )
    check_streamable(path, what=what, allow_empty=True)


@contextlib.contextmanager
def jsonl_input(
    io: IO, value: str, *, what: str, transcode: bool = True
) -> Iterator[tuple[str, str, bool]]:
    """``(path, name for messages, copied)`` of a JSONL file argument, as UTF-8
    without a BOM (:func:`utf8_copy`; not without ``transcode``); ``copied`` when
    the path is not the file named (stdin spooled, or another encoding made UTF-8)."""
    with local_input(io, value, what=what) as (path, shown):
        copy = utf8_copy(path, what=what, shown=shown) if transcode else None
        if copy is None:
            yield path, shown, value == "-"
            return
        try:
            yield copy, shown, True
        finally:
            with contextlib.suppress(OSError):
                os.unlink(copy)


@contextlib.contextmanager
def local_input(io: IO, value: str, *, what: str) -> Iterator[tuple[str, str]]:
    """``(path, name for messages)`` of a file argument; ``-`` is stdin, spooled."""
    if value != "-":
        check_input_file(value, what=what)
        yield value, value
        return
    path = spool_stdin(io, what=what)
    try:
        yield path, "<stdin>"
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
