"""Every test runs isolated: its own config dir and keyring, no real keys or env.

Also the respx routers that stand in for the API at ``BASE``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import respx

from tests.helpers import BASE

pytest_plugins = ("tests.canary",)  # fails any run that leaks the fake test keys
_SCRUBBED = (
    "OPENAI_API_KEY",
    "OPENAI_ADMIN_KEY",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "OPENAI_BASE_URL",
    "OAI_PROFILE",
    "OPENAI_WEBHOOK_SECRET",
    "NO_COLOR",
    "FORCE_COLOR",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "ALL_PROXY",
    "https_proxy",
    "http_proxy",
    "all_proxy",
    "OPENAI_MTLS_CLIENT_CERT_FILE",
    "OPENAI_MTLS_CLIENT_KEY_FILE",
    "OAI_ALLOW_INSECURE_HTTP",
    "OAI_KEYRING_TIMEOUT",
)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in _SCRUBBED:
        monkeypatch.delenv(name, raising=False)
    # Where the XDG variables point is the machine's: a test that installs a
    # completion script or a config file must neither miss HOME nor write there.
    for name in [n for n in os.environ if n.startswith("XDG_")]:
        monkeypatch.delenv(name)
    home = tmp_path / "oai-home"
    home.mkdir()
    monkeypatch.setenv("OAI_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("OAI_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("OAI_STATE_DIR", str(home / "state"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.keyring_backend.FileKeyring")
    monkeypatch.setenv("OAI_TEST_KEYRING_FILE", str(home / "keyring.json"))
    monkeypatch.setenv("NO_PROXY", "*")
    yield home


@pytest.fixture
def env(isolated: Path) -> dict[str, str]:
    """The isolated settings environment as a mapping, for code that takes ``env``."""
    return {
        "OAI_CONFIG_DIR": str(isolated / "config"),
        "OAI_DATA_DIR": str(isolated / "data"),
        "OAI_STATE_DIR": str(isolated / "state"),
        "PYTHON_KEYRING_BACKEND": "tests.keyring_backend.FileKeyring",
        "OAI_TEST_KEYRING_FILE": str(isolated / "keyring.json"),
    }


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    """The API at ``BASE``: every route a test adds must be called, nothing else may be sent."""
    with respx.mock(base_url=BASE, assert_all_called=True, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
def unsent() -> Iterator[respx.MockRouter]:
    """For tests that prove nothing is sent: routes here must stay uncalled."""
    with respx.mock(base_url=BASE, assert_all_called=False, assert_all_mocked=True) as router:
        yield router
