"""Fixtures for the contract tests, which run requests past Steady and read its verdicts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.contract.steady import CONTRACT_DIR, Steady, SteadyUnavailable, unavailable


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees every collected item, not only the ones under this folder.
    for item in items:
        if Path(item.path).is_relative_to(CONTRACT_DIR):
            item.add_marker(pytest.mark.contract)


@pytest.fixture(scope="session")
def steady(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Steady]:
    """One Steady server per pytest(-xdist) worker, stopped at the end of the session."""
    try:
        server = Steady.start(tmp_path_factory.mktemp("steady"))
    except SteadyUnavailable as exc:
        unavailable(f"Steady not available: {exc}")
    with server:
        yield server
