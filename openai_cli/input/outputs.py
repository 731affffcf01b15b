"""Output paths (``-O``, ``--errors``, ``--output-dir``), checked before the first request.

An answer that was paid for must find somewhere to go: a missing folder, a
directory, named pipe, device or socket where a file was meant, a folder that
cannot be written or two flags naming one file are usage errors found before
anything is sent, never after. ``-`` is stdout wherever a file flag takes it (and
is the way to write to a pipe or a device: ``-O - > /dev/null``). The files
themselves are written by :mod:`openai_cli.writer`, which checks again.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from openai_cli.errors import UsageError
from openai_cli.writer import reason_text, refusal, too_long

STDOUT = "-"


def check_outputs(
    *files: tuple[str, str | None],
    dirs: Sequence[tuple[str, str | None]] = (),
    reads: str | None = None,
) -> list[str | None]:
    """Check each ``(flag, path)`` output; return the paths, ``None`` for stdout or none.

    ``-`` is stdout for the first output only. ``reads`` is a file the command reads
    while it writes (a batch run's input): no output may be that file, under any
    name, or the results would replace what is still to be read.

    A file is written to a temporary file beside it and then renamed over it, so its
    folder must be writable even when the file exists. ``dirs`` are folders that will be created
    when missing (``--output-dir``); a file path may lie inside one of them.
    """
    created: list[str] = []
    for flag, folder in dirs:
        if folder:
            _check_dir(flag, folder)
            if not os.path.isdir(folder):
                created.append(os.path.abspath(folder))
    out: list[str | None] = []
    taken: dict[str, str] = {}
    for flag, path in files:
        if path is None or path == "":
            out.append(None)
            continue
        if path == STDOUT:
            if out:
                # Stdout carries the first output; a second one there would mix with it.
                raise UsageError(f"{flag}: - (stdout) is for {files[0][0]}; give a file")
            out.append(None)
            continue
        key = os.path.realpath(path)
        if reads is not None and reads != STDOUT and _same_file(path, reads):
            raise UsageError(f"{flag}: {path} is the input, which the run reads; give another file")
        if key in taken:
            raise UsageError(f"{flag}: {path} is also where {taken[key]} goes; give another file")
        taken[key] = flag
        _check_file(flag, path, created, stdout=not out)
        out.append(path)
    return out


def _same_file(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` name one file (through links, hard links included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _check_file(flag: str, path: str, created: Sequence[str], *, stdout: bool) -> None:
    if os.path.isdir(path) or path.endswith(("/", os.sep)):
        raise UsageError(f"{flag}: {path} is a directory; give a file name")
    reason = refusal(path)
    if reason is not None:
        # Written into, a pipe would hang the command after the paid request and a
        # device would take the bytes nowhere a file would; replaced, it would be lost.
        raise UsageError(
            f"{flag}: {path} {reason_text(reason)}",
            hint=f"give a file name{f', or {flag} - for stdout' if stdout else ''}",
        )
    folder = os.path.dirname(os.path.abspath(path))
    if folder in created:
        return  # made by --output-dir, whose own check covers it
    if not os.path.exists(folder):
        raise UsageError(f"{flag}: {path}: the folder {_shown(path)} does not exist")
    if not os.path.isdir(folder):
        raise UsageError(f"{flag}: {path}: {_shown(path)} is not a folder")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise UsageError(f"{flag}: {path}: permission denied (the file is read-only)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{flag}: {path}: permission denied writing in {_shown(path)}")


def _check_dir(flag: str, folder: str) -> None:
    """A folder that exists and can be written in, or one that can be created."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise UsageError(f"{flag}: {folder} is a file, not a folder")
    if too_long(folder):
        raise UsageError(f"{flag}: {folder} has a name too long for its file system")
    probe = os.path.abspath(folder)
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise UsageError(f"{flag}: {folder}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"{flag}: {folder}: permission denied writing in {probe}")


def _shown(path: str) -> str:
    return os.path.dirname(path) or "."
