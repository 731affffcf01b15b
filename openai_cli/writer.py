"""Every file the CLI writes is written here (``tests/unit/test_writers.py`` holds that).

A file is never written where it will end up. It is written to a fresh temporary
file in the same folder, ``.NAME.XXXXXXXX.part``, created exclusively and without
following a symlink (``O_EXCL | O_NOFOLLOW``), so no other process's file, link or
named pipe is ever written into and two runs never share one temporary file. It is
private (0600) from the start, or takes the mode of the file it replaces; it is
flushed and synced, then renamed over the destination in one step, so a reader
sees the old file or the whole new one. A temporary file is removed on any
failure, on Ctrl-C, SIGTERM and SIGHUP (``main.py`` turns those into exceptions
and calls :func:`discard_all` last).

Results that grow as they arrive and continue after an interruption (``oai map
-O``) are appended to the file itself instead: :func:`append` opens only a
regular file, never through a symlink, and creates a missing one private.

Destinations are checked by :func:`refusal` before any request is sent
(``openai_cli/input/outputs.py``) and again as they are written.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import threading
from collections.abc import Iterator
from typing import BinaryIO

PRIVATE = 0o600
TEMP_SUFFIX = ".part"

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | _BINARY

# Room left in a file name (255 bytes on most file systems) for ".", the random
# part and the suffix.
_NAME_ROOM = 200

# Temporary files still to be renamed or removed; removed by discard_all() at exit,
# whatever interrupted their writer.
_live: set[str] = set()
_live_lock = threading.Lock()

_SIGNALS = tuple(
    s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP")) if s
)


class NotAFile(OSError):
    """The destination is there but is not a regular file (a folder, a pipe, a device)."""


def refusal(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be written as a file (``"is a directory"``), or None.

    A symlink is judged by what it points to: a link to a folder or a pipe is
    refused as one. A missing file, or a dangling link, is fine: the new file takes
    its place. A name longer than the file system takes could never be created:
    refused too, before an answer is paid for that could not be saved.
    """
    if too_long(path):
        return _TOO_LONG
    try:
        mode = os.stat(path).st_mode
    except OSError:
        # Missing, or unreachable: creating the file will say why, in its own words.
        return None
    return _kind(mode)


_TOO_LONG = "has a name too long for its file system"


def too_long(path: str | os.PathLike[str]) -> bool:
    """Whether ``path``, or a folder on the way to it still to be made, has a name
    longer than the file system takes: creating it could only fail."""
    full = os.path.abspath(path)
    try:
        os.stat(full)
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            return True
    else:
        return False
    there = full
    while not os.path.isdir(there):
        parent = os.path.dirname(there)
        if parent == there:
            break
        there = parent
    try:
        most = os.pathconf(there, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        most = 255
    missing = os.fsencode(os.path.relpath(full, there))
    return any(len(name) > most for name in missing.split(os.fsencode(os.sep)))


def reason_text(reason: str) -> str:
    """A :func:`refusal` as the end of a sentence that begins with the path."""
    return reason if reason == _TOO_LONG else f"{reason}, not a regular file"


def _kind(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory"
    if stat.S_ISFIFO(mode):
        return "is a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device"
    if stat.S_ISSOCK(mode):
        return "is a socket"
    return "is not a regular file"


def _not_regular(path: str) -> str | None:
    """What is at ``path`` itself (a link is not followed), if not a regular file."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    if stat.S_ISLNK(mode):
        return "is a symbolic link; give the file it points to"
    kind = _kind(mode)
    return None if kind is None else f"{kind}, not a regular file"


def _refuse(path: str) -> None:
    reason = refusal(path)
    if reason is not None:
        raise NotAFile(errno.EINVAL, reason_text(reason), path)


class Replacement:
    """A file being written to take the place of ``path``; see the module's docstring.

    Used as a context manager it is committed when the block ends normally and
    discarded when it raises. ``mode`` forces a mode (private files: 0600 even when
    the old one was looser); by default the old file's mode is kept, 0600 for a new
    file.
    """

    def __init__(self, path: str | os.PathLike[str], *, mode: int | None = None) -> None:
        self.path = os.fspath(path)
        _refuse(self.path)
        self.folder = os.path.dirname(os.path.abspath(self.path))
        keep = _mode_of(self.path) if mode is None else mode
        fd, self.temporary = _create(self.folder, "." + os.path.basename(self.path) + ".")
        try:
            if keep != PRIVATE and hasattr(os, "fchmod"):
                os.fchmod(fd, keep)
            self.file: BinaryIO = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            _remove(self.temporary)
            raise
        self.done = False

    def write(self, data: bytes) -> int:
        try:
            return self.file.write(data)
        except OSError as exc:
            raise _named(exc, self.path) from None

    def commit(self) -> None:
        """Sync the bytes and rename them over the destination; discard on failure."""
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            # Checked again: it may have become a folder or a pipe since it was opened.
            _refuse(self.path)
            os.replace(self.temporary, self.path)
        except OSError as exc:
            self.discard()
            raise _named(exc, self.path) from None
        except BaseException:
            self.discard()
            raise
        self.done = True
        _forget(self.temporary)
        _sync_folder(self.folder)

    def discard(self) -> None:
        """Remove the temporary file; the destination stays as it was."""
        if self.done:
            return
        self.done = True
        with contextlib.suppress(OSError):
            self.file.close()
        _remove(self.temporary)

    def __enter__(self) -> Replacement:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def replace(path: str | os.PathLike[str], *, mode: int | None = None) -> Replacement:
    """A :class:`Replacement` of ``path``: ``with replace(p) as out: out.write(...)``."""
    return Replacement(path, mode=mode)


def write_file(path: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` in one step."""
    with replace(path, mode=mode) as out:
        out.write(data)


def append(path: str | os.PathLike[str]) -> BinaryIO:
    """Open ``path`` to add to its end: a regular file only, never through a symlink.

    A missing file is created private (0600); an existing one keeps its mode. A
    named pipe is not waited on: it is opened without blocking, then refused.
    """
    name = os.fspath(path)
    flags = os.O_WRONLY | os.O_APPEND | _NOFOLLOW | _NONBLOCK | _CLOEXEC | _BINARY
    try:
        fd = os.open(name, flags | os.O_CREAT | os.O_EXCL, PRIVATE)
        created = True
    except FileExistsError:
        try:
            fd = os.open(name, flags)
        except OSError as exc:
            # A link (ELOOP, EMLINK on the BSDs), a pipe nobody reads or a socket
            # (ENXIO), a folder (EISDIR): said as what it is.
            reason = _not_regular(name)
            if reason is not None:
                raise NotAFile(exc.errno, reason, name) from None
            raise
        created = False
    try:
        kind = _kind(os.fstat(fd).st_mode)
        if kind is not None:
            raise NotAFile(errno.EINVAL, f"{kind}, not a regular file", name)
        if created and hasattr(os, "fchmod"):
            os.fchmod(fd, PRIVATE)  # exactly, whatever the umask
        if _NONBLOCK:
            import fcntl

            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~_NONBLOCK)
        return os.fdopen(fd, "ab")
    except BaseException:
        os.close(fd)
        raise


@contextlib.contextmanager
def new_file(folder: str, *, prefix: str, suffix: str) -> Iterator[tuple[str, BinaryIO]]:
    """``(path, file)``: a fresh private file with a unique name in ``folder``.

    The caller keeps it (and removes it when done) if the block ends normally; it is
    removed if the block raises. Stdin is spooled into one.
    """
    fd, path = _create(folder, prefix, suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield path, fh
    except BaseException:
        _remove(path)
        raise
    _forget(path)


def discard_all() -> None:
    """Remove every temporary file still open (the process is ending early)."""
    with _live_lock:
        left = list(_live)
        _live.clear()
    for path in left:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _create(folder: str, prefix: str, suffix: str = TEMP_SUFFIX) -> tuple[int, str]:
    """A new file in ``folder``, opened for writing, mode 0600, and registered."""
    raw = os.fsencode(prefix)
    if len(raw) > _NAME_ROOM:
        prefix = os.fsdecode(raw[:_NAME_ROOM])
    for _ in range(100):
        path = os.path.join(folder, f"{prefix}{os.urandom(4).hex()}{suffix}")
        # A signal between the create and the registration would leave the file
        # behind with nobody to remove it; it is delivered just after instead.
        with _signals_held():
            try:
                fd = os.open(path, _NEW, PRIVATE)
            except FileExistsError:
                continue
            with _live_lock:
                _live.add(path)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, PRIVATE)  # exactly, whatever the umask
        except BaseException:
            os.close(fd)
            _remove(path)
            raise
        return fd, path
    raise FileExistsError(errno.EEXIST, "no unused temporary name", os.path.join(folder, prefix))


def _named(exc: OSError, path: str) -> OSError:
    """``exc`` naming the destination: a full disk shows on the temporary file, or on
    none at all (a buffered write), and the user knows only the destination."""
    exc.filename = path
    return exc


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
    _forget(path)


def _forget(path: str) -> None:
    with _live_lock:
        _live.discard(path)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None or threading.current_thread() is not threading.main_thread():
        # Signals reach Python's handlers in the main thread only.
        yield
        return
    old = mask(signal.SIG_BLOCK, _SIGNALS)
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, old)


def _mode_of(path: str) -> int:
    """The permission bits of the regular file at ``path`` (not through a link), or 0600."""
    try:
        st = os.lstat(path)
    except OSError:
        return PRIVATE
    # Never set-id bits on downloaded bytes.
    return stat.S_IMODE(st.st_mode) & 0o777 if stat.S_ISREG(st.st_mode) else PRIVATE


def _sync_folder(folder: str) -> None:
    # Makes the rename itself durable; not possible (nor needed) everywhere.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
