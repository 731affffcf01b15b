"""What the upload, validation and map benchmarks share: a server process, a measured run."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Measured:
    code: int
    wall: float  # seconds
    cpu: float  # user + system seconds of the process
    max_rss_mib: float  # peak resident set size
    out: bytes
    err: bytes


def measure(argv: Sequence[str], env: dict[str, str] | None = None) -> Measured:
    """Run ``argv`` as a process; its own peak RSS and CPU come from ``os.wait4``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            list(argv), env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            proc.returncode,
            wall,
            usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss / 1024,  # kilobytes on Linux
            out.read(),
            err.read(),
        )


@contextmanager
def api_server(*flags: str) -> Iterator[str]:
    """``python -m tests.scale.server FLAGS`` in its own process; yields its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.scale.server", *flags],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().decode().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def oai_env(base_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "OAI_"))}
    env.update(
        OPENAI_API_KEY="sk-bench",
        OPENAI_BASE_URL=base_url,
        NO_PROXY="*",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def oai(*args: str) -> list[str]:
    return [sys.executable, "-m", "openai_cli", *args]


def upload(path: Path, *flags: str) -> list[str]:
    """``oai files create`` of ``path``, the command the upload benchmarks time."""
    return oai("files", "create", "--file", str(path), "--purpose", "assistants", *flags)


UNITS = {"KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}


def size_of(text: str) -> int:
    """Bytes in a size as given on a benchmark's command line: ``4096``, ``256MiB``, ``2GiB``."""
    for unit, factor in UNITS.items():
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(text)


def sparse_file(path: Path, size: int) -> Path:
    with path.open("wb") as fh:
        fh.truncate(size)
    return path
