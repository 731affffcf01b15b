"""Fixtures for the compatibility suite: a local server that stops with the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.server import FaultServer


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as s:
        yield s
    assert not s.errors, f"the local server itself failed: {s.errors}"
