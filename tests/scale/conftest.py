"""A stateful local API server per test, and ``oai`` run against it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.canary import check_run
from tests.helpers import Result, api_env, default_sigint, invoke, subprocess_env
from tests.scale.server import ApiState, Server, start


@pytest.fixture(autouse=True)
def fast_polls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Polls every 10 ms; resumable state in the test's own directory."""
    state = tmp_path / "state"
    monkeypatch.setenv("OAI_POLL_INTERVAL", "0.01")
    monkeypatch.setenv("OAI_STATE_DIR", str(state))
    return state


@pytest.fixture
def api() -> Iterator[Server]:
    server = start(ApiState())
    try:
        yield server
    finally:
        # Held requests are let go (and dropped) so their threads end.
        server.state.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def oai(api: Server) -> Oai:
    return Oai(api)


class Oai:
    """``oai ARGS`` in this process, pointed at the local server."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.state = server.state
        # The local server echoes bodies the API's schemas would refuse (no model, an
        # integer input): it is a server that takes more, as a gateway may.
        self.env = {**api_env(server.base_url), "OAI_VALIDATE": "false"}

    def __call__(self, *args: str, input: str | bytes = "", **env: str) -> Result:
        return invoke(*args, input=input, env={**self.env, **env})

    def interrupted(self, *args: str, never_held: str = "", **env: str) -> tuple[int, bytes]:
        """Start ``oai ARGS`` as a process, Ctrl-C it once the server holds a request.

        Returns its exit code and stderr; ``never_held`` is the failure message for a run
        whose requests were all answered (see ``ApiState.hold``).
        """
        proc = subprocess.Popen(
            [sys.executable, "-m", "openai_cli", *args],
            env=subprocess_env({**self.env, **env}),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=default_sigint(),
        )
        deadline = time.monotonic() + 30
        while not self.state.held and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.state.held, never_held
        proc.send_signal(signal.SIGINT)
        printed, err = proc.communicate(timeout=30)
        check_run(args, stdout=printed, stderr=err)
        return proc.returncode, err

    def spawn(self, *args: str, **popen: Any) -> subprocess.Popen[bytes]:
        """``oai ARGS`` as a process against the server; the caller drives and reaps it."""
        env = subprocess_env({**self.env, **popen.pop("env", {})})
        popen.setdefault("stdout", subprocess.PIPE)
        popen.setdefault("stderr", subprocess.PIPE)
        popen["preexec_fn"] = default_sigint(popen.get("preexec_fn"))
        return subprocess.Popen([sys.executable, "-m", "openai_cli", *args], env=env, **popen)
