"""Entry point: runs the app and is the ONE place that turns errors into exit codes."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from openai_cli.errors import ExitCode, OaiError, UsageError
from openai_cli.io import IO

if TYPE_CHECKING:
    from openai_cli.context import Factory


def main() -> None:
    sys.exit(run(sys.argv[1:]))


def run(argv: Sequence[str], io: IO | None = None) -> int:
    argv = list(argv)
    if argv in (["--version"], ["-V"]):
        # The commonest probe of all answers before Typer is even imported.
        from openai_cli import version_text

        (io or IO.system()).out.write(version_text() + "\n")
        return 0
    io = io or IO.system()
    try:
        argv = _argv_text(argv)
    except OaiError as exc:
        return _report(io, exc, False)
    if io.env.get("_OAI_COMPLETE"):
        # A shell asking for candidates on TAB (completions/): answered from the
        # typed path alone; no command runs.
        from openai_cli.commands.completion import answer

        return answer(io)
    debug = "--debug" in argv[: argv.index("--")] if "--" in argv else "--debug" in argv
    from openai_cli.context import Factory

    factory = Factory(io)
    try:
        return _invoke(argv, factory)
    except BrokenPipeError:
        return _broken_pipe()
    except KeyboardInterrupt:
        io.message("oai: interrupted")
        return ExitCode.INTERRUPTED
    except OaiError as exc:
        return _report(io, exc, debug)
    except Exception as exc:
        if debug:
            _traceback(io)
        from openai_cli.http.redact import redact

        # An unforeseen exception may quote anything (a proxy URL, a header): masked
        # like everything else that reaches the terminal.
        io.message(redact(f"oai: internal error: {type(exc).__name__}: {exc}"))
        if not debug:
            io.message("run again with --debug for details")
        return ExitCode.API_ERROR
    finally:
        factory.close()


def _argv_text(argv: list[str]) -> list[str]:
    """The arguments as the UTF-8 that terminals send, whatever the locale says.

    Under an ASCII locale with Python's UTF-8 mode off, non-ASCII arguments arrive
    with surrogate escapes, which no request body can carry.
    """
    out = []
    for i, arg in enumerate(argv, start=1):
        if any("\udc80" <= c <= "\udcff" for c in arg):
            try:
                arg = os.fsencode(arg).decode("utf-8")
            except UnicodeDecodeError:
                raise UsageError(f"argument {i} is not valid UTF-8 text") from None
        out.append(arg)
    return out


def _invoke(argv: list[str], factory: Factory) -> int:
    import typer

    from openai_cli.app import build

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
    from openai_cli.typer_compat import is_no_args_help

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
    # The reader went away (`oai ... | head`): that is its choice, not an error. Point
    # stdout at /dev/null so the interpreter's final flush cannot complain either.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 0
