"""One Steady per pytest worker for the docs' examples."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.steady import Steady, SteadyUnavailable, unavailable


@pytest.fixture(scope="session")
def steady(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Steady]:
    try:
        server = Steady.start(tmp_path_factory.mktemp("steady-docs"))
    except SteadyUnavailable as exc:
        unavailable(f"Steady not available: {exc}")
    with server:
        yield server
