"""SIGTERM (CI cancellation, timeout(1)) is cleaned up after as Ctrl-C is, exit 143."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.server import FaultServer, partial, stall
from tests.faults.support import TRACEBACK, Spawned, env_for, stalled_chunked_upload
from tests.helpers import temporaries

pytestmark = pytest.mark.faults


def wait_until(check: Callable[[], object], p: Spawned, what: str) -> None:
    end = time.monotonic() + 15
    while not check() and time.monotonic() < end:
        if p.proc.poll() is not None:
            break
        time.sleep(0.02)
    assert check(), (what, p.finish())


def test_sigterm_during_a_download_leaves_no_part_file(
    server: FaultServer, spawn: Callable[..., Spawned], tmp_path: Path
) -> None:
    binary = [("content-type", "application/octet-stream")]
    server.plan(partial(b"\x00" * 1000, declared=100_000, headers=binary, then="stall"))
    target = tmp_path / "out.bin"
    p = spawn(
        "api", "get", "/files/file-1/content", "--output-file", str(target),
        env=env_for(server.base_url),
    )  # fmt: skip
    wait_until(lambda: temporaries(tmp_path), p, "the download never started")
    p.proc.send_signal(signal.SIGTERM)
    r = p.finish()
    assert r.code == 143, r
    assert "oai: terminated" in r.err and TRACEBACK not in r.err
    assert not target.exists() and temporaries(tmp_path) == []
    assert server.wait_gone(), "the connection was closed"


def test_sigterm_leaves_no_spooled_stdin(
    server: FaultServer, spawn: Callable[..., Spawned], tmp_path: Path
) -> None:
    server.always(stall(), path="/v1/embeddings")
    spool = tmp_path / "tmp"
    spool.mkdir()
    p = spawn(
        "map", "-", "--endpoint", "/v1/embeddings", "-c", "1",
        env=env_for(server.base_url, TMPDIR=str(spool)), stdin=subprocess.PIPE,
    )  # fmt: skip
    assert p.proc.stdin is not None
    p.proc.stdin.write(b'{"model": "e", "input": "a"}\n' * 3)
    p.proc.stdin.close()
    wait_until(lambda: server.to("/v1/embeddings"), p, "no request arrived")
    assert [x.name[:10] for x in spool.iterdir()] == ["oai-stdin-"]
    p.proc.send_signal(signal.SIGTERM)
    r = p.finish()
    assert r.code == 143, r
    assert "stopped after line 0" in r.err and TRACEBACK not in r.err
    assert list(spool.iterdir()) == []


def test_sigterm_cancels_a_chunked_upload(
    server: FaultServer, spawn: Callable[..., Spawned], tmp_path: Path
) -> None:
    big = stalled_chunked_upload(server, tmp_path, "upload_term")
    p = spawn(
        "files", "create", "--file", str(big), "--purpose", "assistants", "--chunked",
        env=env_for(server.base_url),
    )  # fmt: skip
    wait_until(lambda: server.to("/v1/uploads/upload_term/parts"), p, "no part was sent")
    p.proc.send_signal(signal.SIGTERM)
    r = p.finish()
    assert r.code == 143, r
    assert TRACEBACK not in r.err
    assert len(server.to("/v1/uploads/upload_term/cancel")) == 1
    assert "upload upload_term cancelled" in r.err
