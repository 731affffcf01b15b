"""Running the CLI as a real process against the fault servers."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tests import canary, helpers
from tests.faults.server import FaultServer, respond, stall

# Every fault server speaks plain http on loopback, so no key is refused for that.
TRACEBACK = "Traceback (most recent call last)"


@dataclass
class Run:
    code: int
    out: str
    err: str
    out_bytes: bytes
    elapsed: float

    def __repr__(self) -> str:  # shown by pytest on a failed assertion
        return (
            f"Run(code={self.code}, elapsed={self.elapsed:.2f}, "
            f"out={self.out[:1500]!r}, err={self.err[:3000]!r})"
        )


def env_for(base_url: str, **extra: str) -> dict[str, str]:
    return {**helpers.api_env(base_url), **extra}


def oai(
    *args: str, env: dict[str, str] | None = None, input: bytes = b"", timeout: float = 30
) -> Run:
    """``oai ARGS`` as a process, through the canary-checked helper, timed."""
    start = time.monotonic()
    # Looked up at call time: the canary plugin has wrapped the helper by then.
    proc = helpers.oai_process(*args, env=env, input=input, timeout=timeout)
    elapsed = time.monotonic() - start
    return Run(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
        proc.stdout,
        elapsed,
    )


def process_env(env: dict[str, str] | None = None, unset: Iterable[str] = ()) -> dict[str, str]:
    full = helpers.subprocess_env(env)
    for name in unset:
        full.pop(name, None)
    return full


class Spawned:
    """A running ``oai`` whose streams the test drives (signals, closed pipes)."""

    def __init__(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        unset: Iterable[str] = (),
        stdin: int | None = subprocess.DEVNULL,
    ) -> None:
        self.args = args
        self.env = process_env(env, unset)
        self.before = canary.snapshot()
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "openai_cli", *args],
            env=self.env,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=helpers.default_sigint(),
        )
        self.out = b""

    def read_line(self, timeout: float = 10.0) -> bytes:
        """Block (bounded) until stdout has produced one whole line; return it."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        end = time.monotonic() + timeout
        while b"\n" not in self.out:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line on stdout within {timeout} s; got {self.out!r}")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise AssertionError(f"stdout ended before a whole line: {self.out!r}")
                self.out += chunk
        return self.out.split(b"\n", 1)[0]

    def close_stdout(self) -> None:
        """Stop reading, like ``head`` does once it has its line."""
        assert self.proc.stdout is not None
        self.proc.stdout.close()

    def finish(self, timeout: float = 15.0) -> Run:
        """Wait for the exit, collect what is left, and check it for the canary."""
        try:
            rest, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise
        except ValueError:  # stdout already closed by the test
            self.proc.wait(timeout)
            rest = b""
            assert self.proc.stderr is not None
            err = self.proc.stderr.read()
        elapsed = time.monotonic() - self.started
        out = self.out + (rest or b"")
        canary.check_run(self.args, stdout=out, stderr=err, env=self.env, before=self.before)
        return Run(
            self.proc.returncode,
            out.decode("utf-8", "replace"),
            err.decode("utf-8", "replace"),
            out,
            elapsed,
        )

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def free_port() -> int:
    """A loopback port nobody listens on (connection refused)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def stalled_chunked_upload(server: FaultServer, tmp_path: Path, upload_id: str) -> Path:
    """An 80 MiB file, and a server that starts its upload but never takes a part.

    The cancel answers, so what a signal does to the upload can be seen.
    """
    big = tmp_path / "data.bin"
    with open(big, "wb") as fh:
        fh.truncate(80 * 1024 * 1024)
    upload = {
        "id": upload_id,
        "object": "upload",
        "status": "pending",
        "bytes": 80 * 1024 * 1024,
        "filename": "data.bin",
        "purpose": "assistants",
    }
    server.plan(respond(200, json=upload), path="/v1/uploads")
    server.always(stall(read_body=False), path=f"/v1/uploads/{upload_id}/parts")
    server.always(
        respond(200, json={**upload, "status": "cancelled"}),
        path=f"/v1/uploads/{upload_id}/cancel",
    )
    return big
