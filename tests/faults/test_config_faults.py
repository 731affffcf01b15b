"""Scenarios 21 and 22: a keyring that fails or hangs, a config file that is exposed or broken."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.faults.server import FaultServer, respond
from tests.faults.support import TRACEBACK, env_for, oai
from tests.helpers import CANARY_KEY

pytestmark = pytest.mark.faults

FAIL_BACKEND = "keyring.backends.fail.Keyring"
HANGING_BACKEND = "tests.keyring_backend.HangingKeyring"


def config_file() -> Path:
    return Path(os.environ["OAI_CONFIG_DIR"]) / "config.toml"


def write_config(text: str, mode: int = 0o600) -> Path:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def profile_without_key(base_url: str) -> Path:
    # A profile in effect whose key would have to come from the keyring.
    return write_config(f'current_profile = "work"\n\n[profiles.work]\nbase_url = "{base_url}"\n')


# -- 21: the keyring fails or hangs ---------------------------------------------------


@pytest.mark.parametrize("backend", [FAIL_BACKEND, HANGING_BACKEND], ids=["fail", "hang"])
def test_21_broken_keyring_gives_up_with_a_clear_message(server: FaultServer, backend: str) -> None:
    profile_without_key(server.base_url)
    env = {"PYTHON_KEYRING_BACKEND": backend}
    r = oai("api", "get", "/models", env=env)
    assert r.code == 2, r
    assert r.elapsed < 8, "gives up within a few seconds"
    assert "keyring" in r.err and "OPENAI_API_KEY" in r.err and "--insecure-storage" in r.err
    assert "work" in r.err
    if backend == HANGING_BACKEND:
        assert "did not answer within 3 s" in r.err
    assert TRACEBACK not in r.err and len(r.err.strip().splitlines()) <= 3
    assert server.requests == []


@pytest.mark.parametrize("backend", [FAIL_BACKEND, HANGING_BACKEND], ids=["fail", "hang"])
def test_21_env_key_works_whatever_the_keyring(server: FaultServer, backend: str) -> None:
    profile_without_key(server.base_url)
    server.plan(respond(200, json={"data": []}))
    r = oai(
        "api", "get", "/models", env={"PYTHON_KEYRING_BACKEND": backend, **env_for(server.base_url)}
    )
    assert r.code == 0, r
    assert r.elapsed < 5, "the keyring is not even asked"
    assert server.requests[0].headers["authorization"] == f"Bearer {CANARY_KEY}"


def test_21_env_key_works_with_a_chosen_profile_and_a_failing_keyring(
    server: FaultServer,
) -> None:
    # A CI job picks its profile (base URL, project) and passes the key in the env;
    # the machine has no usable keyring.
    profile_without_key(server.base_url)
    server.plan(respond(401, json={"error": {"message": "bad key"}}))
    env = {"PYTHON_KEYRING_BACKEND": FAIL_BACKEND, "OAI_PROFILE": "work"}
    r = oai("api", "get", "/models", env={**env, "OPENAI_API_KEY": CANARY_KEY})
    assert r.code == 3, r
    assert server.requests[0].headers["authorization"] == f"Bearer {CANARY_KEY}"
    assert "came from env OPENAI_API_KEY (the OS keyring failed)" in r.err

    r = oai("api", "get", "/models", env=env)
    assert r.code == 2, r
    assert "no OS keyring is available" in r.err and len(server.requests) == 1


def test_21_auth_status_survives_a_hanging_keyring(server: FaultServer) -> None:
    profile_without_key(server.base_url)
    env = {"PYTHON_KEYRING_BACKEND": HANGING_BACKEND, "OAI_KEYRING_TIMEOUT": "1"}
    r = oai("auth", "status", env=env)
    assert r.elapsed < 6
    assert "did not answer" in r.out + r.err
    assert TRACEBACK not in r.err


# -- 22: the config file -----------------------------------------------------------------


def test_22_config_readable_by_others_warns(server: FaultServer) -> None:
    path = write_config(
        f'current_profile = "p"\n\n[profiles.p]\nbase_url = "{server.base_url}"\n', mode=0o644
    )
    server.plan(respond(200, json={"data": []}))
    r = oai("api", "get", "/models", env={"OPENAI_API_KEY": CANARY_KEY})
    assert r.code == 0, r
    assert "warning:" in r.err and str(path) in r.err and f"chmod 600 {path}" in r.err
    assert len(server.requests) == 1
    assert oct(path.stat().st_mode & 0o777) == "0o644", "the user's file is not changed behind them"


CORRUPT = '[profiles.default]\nbase_url = "https://api.example.test/v1"\nmodel = gpt-4o\n'


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (("api", "get", "/models"), b""),
        (("auth", "login", "--with-key-stdin", "--insecure-storage"), CANARY_KEY.encode()),
        (("auth", "login", "--with-key-stdin"), CANARY_KEY.encode()),
        (("auth", "logout"), b""),
        (("profile", "set", "model", "gpt-4o"), b""),
        (("profile", "use", "default"), b""),
        (("profile", "delete", "default"), b""),
        (("auth", "status"), b""),
    ],
    ids=lambda v: "-".join(v) if isinstance(v, tuple) else "",
)
def test_22_corrupt_toml_is_reported_and_never_overwritten(
    server: FaultServer, args: tuple[str, ...], stdin: bytes
) -> None:
    path = write_config(CORRUPT)
    before = path.read_bytes(), path.stat().st_mtime_ns
    r = oai(*args, env=env_for(server.base_url), input=stdin)
    assert r.code == 2, r
    assert str(path) in r.err and "line 3" in r.err
    assert "invalid TOML" in r.err and TRACEBACK not in r.err
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml"], "no stray temp file"
    assert server.requests == []
