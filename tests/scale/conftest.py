"""A stateful local API server per test, and ``oai`` run against it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Result, api_env, invoke
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
        self.env = api_env(server.base_url)

    def __call__(self, *args: str, input: str | bytes = "", **env: str) -> Result:
        return invoke(*args, input=input, env={**self.env, **env})
