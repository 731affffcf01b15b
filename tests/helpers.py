"""Running ``oai`` in tests: through the real entry point, in-process or as a process."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openai_cli.config import Overrides, config_path
from openai_cli.context import Factory
from openai_cli.io import IO
from openai_cli.main import run
from openai_cli.options import SharedOptions

ROOT = Path(__file__).resolve().parent.parent
CANARY_KEY = "sk-test-CANARY0123456789abcdefCANARY"
CANARY_ADMIN_KEY = "sk-admin-CANARY9876543210fedcbaCANARY"
BASE = "https://api.openai.test/v1"


@dataclass
class Result:
    code: int
    out: str
    err: str
    out_bytes: bytes

    def __repr__(self) -> str:  # shown by pytest on a failed assertion
        return f"Result(code={self.code}, out={self.out[:2000]!r}, err={self.err[:2000]!r})"


# Standard modules that cost a TAB or a help page more than the answer itself (with
# what they import): such a start-up reads its index with none of them.
SLOW_STDLIB = (
    "dataclasses",
    "inspect",
    "ast",
    "pathlib",
    "urllib",
    "ipaddress",
    "typing",
    "threading",
    "shutil",
)
# Source for a probe (``python -c``): an editable install's finder loads pathlib
# before any code runs, so the probe forgets those modules to see whether oai
# imports them again.
FORGET_STARTUP_IMPORTS = (
    f"for _m in [m for m in sys.modules if m.split('.')[0] in {SLOW_STDLIB!r}]:\n"
    "    del sys.modules[_m]\n"
)


def invoke(
    *args: str,
    input: str | bytes = "",
    env: dict[str, str] | None = None,
    stdout_tty: bool = False,
    stdin_tty: bool = False,
) -> Result:
    """Run ``oai ARGS`` in this process with its own streams and environment."""
    raw = input.encode() if isinstance(input, str) else input
    out_buf = io.BytesIO()
    out = io.TextIOWrapper(out_buf, encoding="utf-8", write_through=True)
    err = io.StringIO()
    stdin = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8")
    full_env = dict(os.environ)
    full_env.update(env or {})
    the_io = IO(
        stdin=stdin,
        stdout=out,
        stderr=err,
        env=full_env,
        stdin_tty=stdin_tty,
        stdout_tty=stdout_tty,
    )
    with redirect_stdout(out), redirect_stderr(err):
        code = run(list(args), the_io)
    out.flush()
    data = out_buf.getvalue()
    return Result(int(code), data.decode("utf-8", "replace"), err.getvalue(), data)


def api_env(base_url: str = BASE) -> dict[str, str]:
    return {
        "OPENAI_API_KEY": CANARY_KEY,
        "OPENAI_ADMIN_KEY": CANARY_ADMIN_KEY,
        "OPENAI_BASE_URL": base_url,
    }


def default_sigint(then: Callable[[], object] | None = None) -> Callable[[], None]:
    """A ``preexec_fn`` that gives a child the default Ctrl-C, then runs ``then``.

    A suite started in the background (``cmd &``, nohup, some CI runners) ignores
    SIGINT; exec keeps an ignored signal ignored, and Python then installs no
    KeyboardInterrupt handler, so an ``oai`` a test interrupts would carry on. A CLI
    started that way is meant to ignore Ctrl-C: the test's child is what must not.
    """

    def preexec() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if then is not None:
            then()

    return preexec


def subprocess_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra or {})
    return env


def oai_process(
    *args: str, env: dict[str, str] | None = None, input: bytes | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m openai_cli ARGS`` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "openai_cli", *args],
        env=subprocess_env(env),
        input=input,
        capture_output=True,
        timeout=timeout,
    )


def make_io(
    env: dict[str, str], *, stdin: str = "", stdin_tty: bool = False, stdout_tty: bool = False
) -> IO:
    """Streams in memory for code that takes an ``IO``; read them back with out() and err()."""
    return IO(
        stdin=io.StringIO(stdin),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        env=env,
        stdin_tty=stdin_tty,
        stdout_tty=stdout_tty,
        stderr_tty=False,
    )


def out(i: IO) -> str:
    value = i.stdout.getvalue()  # type: ignore[attr-defined]
    assert isinstance(value, str)
    return value


def err(i: IO) -> str:
    value = i.stderr.getvalue()  # type: ignore[attr-defined]
    assert isinstance(value, str)
    return value


def write_config(env: dict[str, str], text: str, mode: int = 0o600) -> Path:
    """The profiles file of this ``env``, in a private directory as the app makes it."""
    path = config_path(env)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


class SettingsFactory(Factory):
    """The root app's factory without an API client, for commands that need none."""

    client = None  # type: ignore[assignment]  # `auth status --check` says it cannot check

    def __init__(self, io: IO, overrides: Overrides | None = None) -> None:
        overrides = overrides or Overrides()
        # The root takes -o as a shared option rather than a connection flag.
        super().__init__(io, flags=overrides, shared=SharedOptions(output=overrides.output))


def walk_commands(
    group: Any, ctx: Any, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    """Every group (itself first) and command under ``group``, as (path, command, context).

    Asking a lazy group for a child by name loads it, so this walks the real tree.
    """
    import typer
    from typer.core import TyperCommand, TyperGroup

    yield prefix, group, ctx
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, (*prefix, name)
        sub = typer.Context(cmd, parent=ctx, info_name=name)
        if isinstance(cmd, TyperGroup):
            yield from walk_commands(cmd, sub, (*prefix, name))
        else:
            assert isinstance(cmd, TyperCommand), (*prefix, name)
            yield (*prefix, name), cmd, sub


def temporaries(folder: Path) -> list[Path]:
    """The temporary files of openai_cli.writer (``.NAME.XXXXXXXX.part``) left in ``folder``."""
    return sorted(
        p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".part")
    )
