"""Output paths checked before the first request, so paid work is never lost to a typo."""

from __future__ import annotations

import os

from openai_cli.errors import UsageError

STDOUT = "-"


def check_output_path(path: str, flag: str) -> None:
    """Refuse ``path`` for ``flag`` unless a file can be written there; ``-`` is stdout.

    A missing folder, a directory, or a place this user may not write is exit 2,
    naming the flag. Nothing is created.
    """
    if path == STDOUT:
        return
    if not path:
        raise UsageError(f"{flag}: give a file path, or - for stdout")
    if os.path.isdir(path):
        raise UsageError(f"{flag}: {path} is a directory, not a file")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{flag}: the folder {os.path.dirname(path) or folder} does not exist")
    if os.path.exists(path):
        if not os.access(path, os.W_OK):
            raise UsageError(f"{flag}: permission denied writing {path}")
    elif not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{flag}: permission denied writing in {folder}")
