"""Exclusive locks for files that are read, changed and written back.

Two processes that each read a file, change it and replace it lose one change
unless the read-modify-write is serialised. As git does, the lock is a separate
file beside the one it protects (``config.toml.lock``), never the file itself,
which is replaced by a rename and so cannot carry a lock, and it is removed when
the change is done. The lock itself is an ``flock`` on that file, which the kernel
releases when the process ends, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from openai_cli.errors import ConfigError
from openai_cli.input.reader import file_kind

DEFAULT_WAIT = 10.0
_POLL = 0.02
# Never through a symlink planted at the lock's path (it would create or lock the
# file it points to), never blocking on a pipe put there, never inherited.
_OPEN = (
    os.O_RDWR
    | os.O_CREAT
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NONBLOCK", 0)
)


class LockBusy(ConfigError):
    """Another process held the lock for longer than the caller would wait."""


def lock_path(path: Path) -> Path:
    """The lock file of ``path``: beside the real file when ``path`` is a symlink."""
    target = Path(os.path.realpath(path))
    return target.with_name(target.name + ".lock")


def private_dir(directory: Path) -> None:
    """Create ``directory`` (mode 0700) when it is missing."""
    if directory.is_dir():
        return
    directory.mkdir(parents=True, mode=0o700, exist_ok=True)
    # mkdir's mode is filtered by the umask, which may be looser than 0700 on some
    # systems; chmod sets it exactly.
    os.chmod(directory, 0o700)


@contextmanager
def exclusive(path: Path, *, wait: float = DEFAULT_WAIT, what: str | None = None) -> Iterator[None]:
    """Hold the exclusive lock of ``path`` for the ``with`` block.

    Waits up to ``wait`` seconds for another holder (0: do not wait), then raises
    :class:`LockBusy` naming ``what`` (default: the path). Where the platform has
    no ``flock`` (Windows) the block runs unlocked.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    lock = lock_path(path)
    private_dir(lock.parent)
    deadline = time.monotonic() + wait
    while True:
        try:
            fd = os.open(lock, _OPEN, 0o600)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EISDIR):
                kind = "a symbolic link" if exc.errno == errno.ELOOP else "a directory"
                raise _not_a_lock(lock, kind) from None
            # Named after the file being changed, which is what cannot be written
            # (a read-only file system), not after its lock.
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise _not_a_lock(lock, file_kind(mode))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                raise LockBusy(
                    f"{what or path} is in use by another oai process"
                    + (f" (waited {wait:g} s)" if wait else ""),
                    hint=f"the lock is {lock}; it is released when that process ends",
                ) from None
            time.sleep(_POLL)
            continue
        except BaseException:
            os.close(fd)
            raise
        # The holder before us removes the file as it lets go: a lock on a file no
        # longer at that path protects nothing, so open the path again.
        if _same_file(fd, lock):
            break
        os.close(fd)
    try:
        yield
    finally:
        # Removed while still locked, so nobody can lock the old file after this.
        with contextlib.suppress(OSError):
            os.unlink(lock)
        os.close(fd)


def _not_a_lock(lock: Path, kind: str) -> ConfigError:
    return ConfigError(
        f"the lock file {lock} is {kind}, not a regular file",
        hint="oai makes it and removes it itself; remove what is there",
    )


def _same_file(fd: int, path: Path) -> bool:
    try:
        here = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (held.st_dev, held.st_ino)
