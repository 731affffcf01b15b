"""Fixtures for the fault suite: servers that stop with the test, processes that die."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.faults.server import FaultServer, TLSFiles, make_tls
from tests.faults.support import Spawned


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as s:
        yield s
    assert not s.errors, f"the fault server itself failed: {s.errors}"


@pytest.fixture
def new_server() -> Iterator[Callable[..., FaultServer]]:
    """More servers in one test (a redirect target, a proxy, a TLS server)."""
    started: list[FaultServer] = []

    def make(tls: TLSFiles | None = None) -> FaultServer:
        s = FaultServer(tls=tls).start()
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()
    errors = [e for s in started for e in s.errors]
    assert not errors, f"a fault server itself failed: {errors}"


@pytest.fixture
def tls_files(tmp_path: Path) -> TLSFiles:
    return make_tls(tmp_path)


@pytest.fixture
def spawn() -> Iterator[Callable[..., Spawned]]:
    """Start ``oai`` as a process the test drives; killed at teardown if still running."""
    running: list[Spawned] = []

    def start(*args: str, **kw: object) -> Spawned:
        p = Spawned(*args, **kw)  # type: ignore[arg-type]
        running.append(p)
        return p

    yield start
    for p in running:
        p.kill()
