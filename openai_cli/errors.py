"""Typed errors and the documented exit codes.

Every failure travels as an :class:`OaiError` up to ``main.py``, which is the only
place that turns one into a message on stderr and a process exit code.
"""

from __future__ import annotations

import errno
import os
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    API_ERROR = 1  # any other 4xx
    USAGE = 2  # bad flag, bad input; nothing was sent
    AUTH = 3  # missing or rejected key (401/403)
    NOT_FOUND = 4
    RATE_LIMIT = 5  # 429 or quota, after retries
    SERVER = 6  # 5xx, network error or timeout, after retries
    FAILED = 7  # stream cut, error event, job failed
    COST_CAP = 8  # map --max-cost: the answers' cost reached the cap; --resume goes on
    IO_ERROR = 74  # the output could not be written (full disk, I/O error); sysexits' EX_IOERR
    TIMED_OUT = 124  # --wait gave up; the job itself goes on (as timeout(1) exits)
    HUNG_UP = 129  # SIGHUP (128 + 1): the terminal closed; cleaned up as after Ctrl-C
    INTERRUPTED = 130  # Ctrl-C
    TERMINATED = 143  # SIGTERM (128 + 15), cleaned up as after Ctrl-C


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be (``main.py`` installs the handler).

    CI cancellation and timeout(1) send SIGTERM, whose default ends the process
    at once: spooled stdin and ``FILE.part`` stay behind and a chunked upload is
    never cancelled. As a KeyboardInterrupt it takes every cleanup path Ctrl-C
    takes; only the message and the exit code differ, and what treats Ctrl-C as
    "drop this and go on" (the repl) lets it through.
    """

    exit_code = ExitCode.TERMINATED
    message = "terminated"


class HungUp(Terminated):
    """SIGHUP (a closed terminal, a dropped SSH session), cleaned up as SIGTERM is."""

    exit_code = ExitCode.HUNG_UP
    message = "hung up"


class OaiError(Exception):
    """Base of every error the CLI reports to the user."""

    default_exit_code: ExitCode = ExitCode.API_ERROR

    @property
    def exit_code(self) -> ExitCode:
        return self.default_exit_code

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def lines(self) -> list[str]:
        """What main.py prints, one item per line, without the program prefix."""
        out = [self.message]
        if self.hint:
            out.append(self.hint)
        return out


class UsageError(OaiError):
    """Invalid input found before anything was sent."""

    default_exit_code = ExitCode.USAGE


class ConfigError(OaiError):
    """A broken config file or keyring; the user has to fix something locally."""

    default_exit_code = ExitCode.USAGE


class AuthError(OaiError):
    """No key where one is needed."""

    default_exit_code = ExitCode.AUTH


class StreamError(OaiError):
    """A stream that failed or ended early; what was printed stays printed."""

    default_exit_code = ExitCode.FAILED

    def __init__(self, message: str, *, request_id: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.request_id = request_id

    def lines(self) -> list[str]:
        first = self.message
        if self.request_id:
            first += f" (request id {self.request_id})"
        return [first] + ([self.hint] if self.hint else [])


class OutputError(OaiError):
    """Writing the output failed (a full disk, an I/O error): the data did not arrive."""

    default_exit_code = ExitCode.IO_ERROR


# A write that failed for want of room or of a sound, writable disk: nothing the
# user typed was wrong, so exit 74 wherever the file was being written.
# EBADF: stdout closed (main.py keeps its descriptor held and refuses writes to it).
OUTPUT_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EBADF}
)


def cannot_write(path: str | os.PathLike[str], exc: OSError) -> OaiError:
    """The error for a file oai keeps (config, a completion script) that could not be
    written: an :class:`OutputError` for a full, broken or read-only disk, else a
    :class:`ConfigError` (a permission, a folder in the way) the user can fix."""
    return write_failed(f"cannot write {os.fspath(path)}: {exc.strerror or exc}", exc)


def write_failed(message: str, exc: OSError) -> OaiError:
    """:func:`cannot_write`'s choice of error, for a ``message`` already worded."""
    return OutputError(message) if exc.errno in OUTPUT_ERRNOS else ConfigError(message)


class JobFailed(OaiError):
    """An asynchronous job (batch, fine-tune, upload, ...) ended in a failed state."""

    default_exit_code = ExitCode.FAILED


class NothingSaved(OaiError):
    """A command asked to save a result (an image, audio, a video) got none to save."""

    default_exit_code = ExitCode.FAILED


class NetworkError(OaiError):
    """The request never got an HTTP answer (after retries)."""

    default_exit_code = ExitCode.SERVER


class ProtocolError(OaiError):
    """The server answered something that is not what the API speaks."""

    default_exit_code = ExitCode.SERVER


class ApiError(OaiError):
    """An HTTP error answer from the API, after retries."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        hint: str | None = None,
        key_rejected: bool = False,
        from_api: bool = False,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        # The body was JSON, as an API answers; not a proxy's page.
        self.from_api = from_api
        # The body said the key was refused although the status is not 401/403.
        self.key_rejected = key_rejected
        self.type = type
        self.code = code
        self.param = param
        self.request_id = request_id

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.AUTH if self.key_rejected else exit_code_for_status(self.status)

    def lines(self) -> list[str]:
        head = f"HTTP {self.status}"
        details = [d for d in (self.type, self.code) if d]
        if details:
            head += f" ({', '.join(details)})"
        head += f": {self.message}"
        extra = []
        if self.param:
            extra.append(f"param: {self.param}")
        if self.request_id:
            extra.append(f"request id: {self.request_id}")
        out = [head]
        if extra:
            out.append("; ".join(extra))
        if self.hint:
            out.append(self.hint)
        return out


def exit_code_for_status(status: int) -> ExitCode:
    if status in (401, 403):
        return ExitCode.AUTH
    if status == 404:
        return ExitCode.NOT_FOUND
    if status == 429:
        return ExitCode.RATE_LIMIT
    if status >= 500:
        return ExitCode.SERVER
    return ExitCode.API_ERROR
