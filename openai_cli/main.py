"""Entry point: runs the app and is the ONE place that turns errors into exit codes."""

from __future__ import annotations

import errno
import io
import os
import sys

from openai_cli import COMPLETE_VAR

# Not typing.TYPE_CHECKING: importing ``typing`` costs a TAB or a help page some
# 3 ms; mypy takes a name TYPE_CHECKING as true wherever it comes from. Nor the
# errors and the IO at the top: a TAB, a help page and --version import only what
# they use, and the errors only when a command runs.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import TypeVar

    from openai_cli.context import Factory
    from openai_cli.errors import OaiError, Terminated
    from openai_cli.io import IO

    T = TypeVar("T")


def main() -> None:
    try:
        _hold_standard_descriptors()
        from openai_cli import interrupts

        # SIGTERM and SIGHUP as Ctrl-C, before anything could write a file; a TAB,
        # only if it comes to write one.
        if os.environ.get(COMPLETE_VAR):
            interrupts.defer()
        else:
            interrupts.catch()
        code = run(sys.argv[1:])
    except KeyboardInterrupt as exc:
        # Ctrl-C, SIGTERM or SIGHUP where run() does not handle them (a TAB, the
        # imports before a command): no temporary file outlives them, no traceback.
        from openai_cli.errors import ExitCode, Terminated

        _discard_partial_files()
        code = exc.exit_code if isinstance(exc, Terminated) else ExitCode.INTERRUPTED
    # A stderr that cannot take the last message (a full disk) would fail the
    # interpreter's own flush and turn the code into 120.
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        _discard(sys.stderr)
    sys.exit(code)


class _ClosedStdout(io.TextIOBase):
    """Stdout of a process started with descriptor 1 closed (``oai ... >&-``): data
    cannot go anywhere, which is an output error like a full disk."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "stdout is closed")

    def fileno(self) -> int:
        return 1

    def isatty(self) -> bool:
        return False


def _hold_standard_descriptors() -> None:
    """Put ``/dev/null`` on descriptors 0-2 that the process was started without.

    Left free, the first file oai opens would take the number, and what is meant for
    stdout would be written into it. A closed stdin still reads as empty, a closed
    stderr takes the messages nowhere; a closed stdout refuses data.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            if fd == 1:
                sys.stdout = _ClosedStdout()
            elif fd == 2:
                sys.stderr = open(fd, "w", encoding="utf-8", closefd=False)  # noqa: SIM115


def run(argv: Sequence[str], io: IO | None = None) -> int:
    argv = list(argv)
    if io is None:
        from openai_cli.io import IO

        io = IO.system()
    if argv in (["--version"], ["-V"]):
        # The commonest probe of all answers before Typer is even imported.
        return _printed(io, lambda: _version(io))
    argv = _argv_text(argv)
    if io.env.get(COMPLETE_VAR):
        # A shell asking for candidates on TAB (completions/): answered from the
        # index of the command tree, without Typer; no command runs.
        from openai_cli.tab import answer

        return _printed(io, lambda: answer(io))
    if not argv or argv[-1] in ("-h", "--help") or all(a[:1].isalnum() for a in argv):
        # Help, and a group run bare (which shows its help): from the index of help
        # pages, without Typer, when the line is one of those shapes exactly.
        from openai_cli import helpindex

        code = _printed(io, lambda: helpindex.answer(argv, io))
        if code is not None:
            return code
    return _command(argv, io)


def _printed(io: IO, answer: Callable[[], T]) -> T | int:
    """What ``answer`` returns, having printed it outside any command: a reader that
    went away is exit 0, as for a command; output that cannot be written, 74."""
    try:
        return answer()
    except BrokenPipeError:
        return _broken_pipe()
    except OSError as exc:
        return _output_failed(io, exc)


def _version(io: IO) -> int:
    from openai_cli import version_text

    io.out.write(version_text() + "\n")
    io.out.flush()
    return 0


def _command(argv: list[str], io: IO) -> int:
    """Run the command ``argv`` names, and turn whatever stops it into an exit code."""
    from openai_cli.context import Factory
    from openai_cli.errors import OUTPUT_ERRNOS, ExitCode, OaiError, Terminated, UsageError

    debug = "--debug" in argv[: argv.index("--")] if "--" in argv else "--debug" in argv
    factory = Factory(io)
    try:
        code = _invoke(argv, factory)
        # Inside the handlers: a full disk often shows only when the buffer is written.
        io.out.flush()
        return code
    except BrokenPipeError:
        return _broken_pipe()
    except OSError as exc:
        if exc.errno not in OUTPUT_ERRNOS:
            return _internal_error(io, exc, debug)
        return _output_failed(io, exc, debug)
    except KeyboardInterrupt as exc:
        if isinstance(exc, Terminated):
            return _ended(io, exc)
        io.message("oai: interrupted")
        return ExitCode.INTERRUPTED
    except OaiError as exc:
        return _report(io, exc, debug)
    except Exception as exc:
        if isinstance(exc, UnicodeEncodeError) and exc.reason == "surrogates not allowed":
            # An argument that is not UTF-8 (kept so that it can name a file) reached
            # a request, which carries text only.
            return _report(
                io,
                UsageError(
                    "an argument is not valid UTF-8 text and cannot be sent",
                    hint="file names in another encoding work as paths to read, not as values",
                ),
                debug,
            )
        return _internal_error(io, exc, debug)
    finally:
        factory.close()
        # Whatever stopped a write halfway (a signal inside its own cleanup), no
        # temporary file outlives the command.
        _discard_partial_files()


def _discard_partial_files() -> None:
    # Imported only here: a TAB or a help page writes no file and need not load the
    # writer (nor the threading it locks with).
    from openai_cli import writer

    writer.discard_all()


def _ended(io: IO, exc: Terminated) -> int:
    """SIGTERM or SIGHUP: say so if anyone is still there to read it."""
    from openai_cli.errors import HungUp

    # After a hang-up the terminal may be gone (io.message loses the line then).
    io.message(f"oai: {exc.message}")
    if isinstance(exc, HungUp) and io.stdout_tty:
        # Nor can what stdout still buffers reach the closed terminal.
        _discard_stdout()
    return int(exc.exit_code)


def _internal_error(io: IO, exc: Exception, debug: bool) -> int:
    from openai_cli.errors import ExitCode

    if debug:
        _traceback(io)
    from openai_cli.http.redact import redact

    # An unforeseen exception may quote anything (a proxy URL, a header): masked
    # like everything else that reaches the terminal.
    io.message(redact(f"oai: internal error: {type(exc).__name__}: {exc}"))
    if not debug:
        io.message("run again with --debug for details")
    return ExitCode.API_ERROR


def _output_failed(io: IO, exc: OSError, debug: bool = False) -> int:
    """A write that failed for lack of space or an I/O error: say so, exit IO_ERROR."""
    from openai_cli.errors import OutputError

    what = f"{exc.filename}" if exc.filename else "the output"
    code = _report(io, OutputError(f"cannot write {what}: {exc.strerror or exc}"), debug)
    # What is still buffered can never be written: drop it, so the interpreter's
    # final flush does not fail again after this message.
    _discard_stdout()
    return code


def _argv_text(argv: list[str]) -> list[str]:
    """The arguments as the UTF-8 that terminals send, whatever the locale says.

    Under an ASCII locale with Python's UTF-8 mode off, non-ASCII arguments arrive
    with surrogate escapes, which no request body can carry.
    """
    out = []
    for arg in argv:
        if any("\udc80" <= c <= "\udcff" for c in arg):
            # Not UTF-8 at all (a file name in another encoding): kept with its
            # surrogate escapes, which open() turns back into the same bytes. Text that
            # must go into a request is checked where it is encoded.
            try:  # noqa: SIM105 (contextlib costs a TAB half a millisecond)
                arg = os.fsencode(arg).decode("utf-8")
            except UnicodeDecodeError:
                pass
        out.append(arg)
    return out


def _invoke(argv: list[str], factory: Factory) -> int:
    import typer

    from openai_cli.app import build
    from openai_cli.errors import ExitCode

    io = factory.io
    group = build()
    try:
        # Not group.main(): Typer's wrapper turns Ctrl-C into a silent exit code and a
        # closed stdout into exit 1 before run() could handle either.
        with group.make_context("oai", argv, obj=factory) as ctx:
            rv = group.invoke(ctx)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, EOFError):
        io.message("oai: aborted")
        return ExitCode.INTERRUPTED
    except typer.TyperException as exc:
        return _usage(io, exc)
    if isinstance(rv, int):
        return rv
    return 0


def _usage(io: IO, exc: Exception) -> int:
    """Typer's own usage errors, in the same one-line shape as ours."""
    from openai_cli.errors import ExitCode
    from openai_cli.typer_compat import is_no_args_help, keep_close_suggestions

    keep_close_suggestions(exc)
    ctx = getattr(exc, "ctx", None)
    if is_no_args_help(exc) and ctx is not None:
        # A group run without a command: its help, on stderr, as a usage error.
        io.err.write(ctx.get_help() + "\n")
        return ExitCode.USAGE
    message = getattr(exc, "format_message", lambda: str(exc))()
    where = ctx.command_path if ctx is not None else "oai"
    io.message(f"{where}: {message}")
    if ctx is not None:
        io.message(f"  see '{where} --help'")
    code = int(getattr(exc, "exit_code", ExitCode.USAGE))
    return ExitCode.USAGE if code in (1, 2) else code


def _traceback(io: IO) -> None:
    import traceback

    from openai_cli.http.redact import redact

    io.err.write(redact(traceback.format_exc()))


def _report(io: IO, exc: OaiError, debug: bool) -> int:
    if debug:
        _traceback(io)
    lines = exc.lines()
    io.message(f"oai: {lines[0]}")
    for line in lines[1:]:
        io.message(f"  {line}")
    return int(exc.exit_code)


def _broken_pipe() -> int:
    # The reader went away (`oai ... | head`): that is its choice, not an error.
    _discard_stdout()
    return 0


def _discard_stdout() -> None:
    _discard(sys.stdout)


def _discard(stream: object) -> None:
    # The stream pointed at /dev/null, so the interpreter's final flush cannot complain.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, getattr(stream, "fileno")())  # noqa: B009
    except (OSError, ValueError, AttributeError):
        pass
