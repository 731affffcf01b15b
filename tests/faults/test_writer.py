"""Downloads against a real server and real processes: pipes, concurrent runs, signals.

What is at the destination and every output flag are in ``tests/cli/test_writer.py``.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.canary import check_run
from tests.faults.server import Action, Exchange, FaultServer, partial, respond
from tests.faults.support import TRACEBACK, Spawned, env_for, oai, process_env
from tests.helpers import temporaries

pytestmark = pytest.mark.faults

BINARY = [("content-type", "application/octet-stream")]


def wait_until(check: Callable[[], object], p: Spawned | None, what: str) -> None:
    end = time.monotonic() + 15
    while not check() and time.monotonic() < end:
        if p is not None and p.proc.poll() is not None:
            break
        time.sleep(0.02)
    assert check(), (what, p.finish() if p is not None else None)


def gated(body: bytes, gate: threading.Event, halfway: list[str]) -> Action:
    """Send half of ``body``, wait for ``gate``, then the rest."""

    def act(ex: Exchange) -> None:
        ex.head(200, BINARY, length=len(body))
        ex.send(body[: len(body) // 2])
        halfway.append(ex.request.path)
        gate.wait(20)
        ex.send(body[len(body) // 2 :])

    return act


def download(server: FaultServer, target: Path, file_id: str = "file-1") -> tuple[str, ...]:
    return ("api", "get", f"/files/{file_id}/content", "--output-file", str(target))


def test_a_pipe_at_the_destination_is_refused_before_the_request(
    server: FaultServer, tmp_path: Path
) -> None:
    target = tmp_path / "out.bin"
    os.mkfifo(target)
    server.always(respond(200, b"paid for", headers=BINARY))
    r = oai(*download(server, target), env=env_for(server.base_url), timeout=20)
    assert r.code == 2, r
    assert (
        r.err.splitlines()[0] == f"oai: --output-file: {target} is a named pipe, not a regular file"
    )
    assert server.requests == []
    assert target.is_fifo() and temporaries(tmp_path) == []


def test_a_pipe_at_the_old_part_name_does_not_hang(
    server: FaultServer, spawn: Callable[..., Spawned], tmp_path: Path
) -> None:
    target = tmp_path / "out.bin"
    os.mkfifo(f"{target}.part")
    server.always(respond(200, b"the bytes", headers=BINARY))
    p = spawn(*download(server, target), env=env_for(server.base_url))
    r = p.finish(timeout=20)
    assert r.code == 0, r
    assert target.read_bytes() == b"the bytes"
    assert Path(f"{target}.part").is_fifo() and temporaries(tmp_path) == []


def test_two_runs_on_one_destination_each_save_their_own_whole_answer(
    server: FaultServer, spawn: Callable[..., Spawned], tmp_path: Path
) -> None:
    target = tmp_path / "out.bin"
    bodies = {"/v1/files/a/content": b"a" * 300_000, "/v1/files/b/content": b"b" * 200_000}
    gate = threading.Event()
    halfway: list[str] = []
    for path, body in bodies.items():
        server.plan(gated(body, gate, halfway), path=path)
    env = env_for(server.base_url)
    runs = [spawn(*download(server, target, name), env=env) for name in ("a", "b")]
    try:
        # Both halfway through, each in a temporary file of its own.
        wait_until(lambda: len(temporaries(tmp_path)) == 2, runs[0], "two temporary files")
    finally:
        gate.set()
    done = [p.finish() for p in runs]
    for r, body in zip(done, bodies.values(), strict=True):
        assert r.code == 0, r
        assert r.err.splitlines() == [f"saved {len(body)} bytes to {target}"], r
    assert target.read_bytes() in bodies.values()
    assert temporaries(tmp_path) == []


@pytest.mark.parametrize(
    ("sig", "code", "said"),
    [
        (signal.SIGHUP, 129, "oai: hung up"),
        (signal.SIGTERM, 143, "oai: terminated"),
        (signal.SIGINT, 130, "oai: interrupted"),
    ],
    ids=["SIGHUP", "SIGTERM", "SIGINT"],
)
def test_a_signal_mid_download_leaves_no_temporary_file(
    server: FaultServer,
    spawn: Callable[..., Spawned],
    tmp_path: Path,
    sig: signal.Signals,
    code: int,
    said: str,
) -> None:
    server.plan(partial(b"\x00" * 1000, declared=100_000, headers=BINARY, then="stall"))
    target = tmp_path / "out.bin"
    target.write_bytes(b"the old file")
    p = spawn(*download(server, target), env=env_for(server.base_url))
    wait_until(lambda: temporaries(tmp_path), p, "the download never started")
    p.proc.send_signal(sig)
    r = p.finish()
    assert r.code == code, r
    assert said in r.err and TRACEBACK not in r.err
    assert target.read_bytes() == b"the old file"
    assert temporaries(tmp_path) == []
    assert server.wait_gone(), "the connection was closed"


def test_an_ignored_hang_up_stays_ignored(server: FaultServer, tmp_path: Path) -> None:
    # nohup: the download goes on after the terminal closes.
    target = tmp_path / "out.bin"
    gate = threading.Event()
    halfway: list[str] = []
    server.plan(gated(b"x" * 100_000, gate, halfway))
    proc = subprocess.Popen(
        [sys.executable, "-m", "openai_cli", *download(server, target)],
        env=process_env(env_for(server.base_url)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    try:
        wait_until(lambda: halfway, None, "the download never started")
        proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        assert proc.poll() is None
    finally:
        gate.set()
    out, err = proc.communicate(timeout=15)
    check_run(download(server, target), stdout=out, stderr=err)
    assert proc.returncode == 0, err
    assert target.read_bytes() == b"x" * 100_000


def test_a_full_disk_is_an_output_error_and_leaves_no_temporary_file(
    server: FaultServer, tmp_path: Path
) -> None:
    target = tmp_path / "out.bin"
    server.always(respond(200, b"x" * 200_000, headers=BINARY))

    def small_disk() -> None:
        # Writes past 64 KiB fail with EFBIG, as on a disk that has just filled up.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))

    proc = subprocess.run(
        [sys.executable, "-m", "openai_cli", *download(server, target)],
        env=process_env(env_for(server.base_url)),
        capture_output=True,
        preexec_fn=small_disk,
        timeout=30,
    )
    check_run(download(server, target), stdout=proc.stdout, stderr=proc.stderr)
    err = proc.stderr.decode()
    assert proc.returncode == 74, err
    assert err.splitlines() == [f"oai: cannot write {target}: File too large"]
    assert not target.exists() and temporaries(tmp_path) == []


def test_a_full_disk_names_the_state_file_it_could_not_write(
    server: FaultServer, tmp_path: Path
) -> None:
    # Said "cannot write the output", as if stdout had failed: every write through
    # the writer names its file, whoever called it.
    src = tmp_path / "in.jsonl"
    line = {"custom_id": "a", "method": "POST", "url": "/v1/embeddings",
            "body": {"model": "text-embedding-3-small", "input": "x"}}  # fmt: skip
    src.write_text(json.dumps(line) + "\n")
    state = tmp_path / "run.json"

    def tiny_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))

    args = ["batches", "run", str(src), "--endpoint", "/v1/embeddings", "--state", str(state)]
    proc = subprocess.run(
        [sys.executable, "-m", "openai_cli", *args],
        env=process_env(env_for(server.base_url)),
        capture_output=True,
        preexec_fn=tiny_disk,
        timeout=30,
    )
    check_run(args, stdout=proc.stdout, stderr=proc.stderr)
    err = proc.stderr.decode()
    assert proc.returncode == 74, err
    assert err.splitlines()[-1] == f"oai: cannot write {state}: File too large"
    assert server.requests == [], "nothing is sent before the state is kept"
    assert temporaries(tmp_path) == []
