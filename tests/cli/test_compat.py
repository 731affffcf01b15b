"""Profiles for OpenAI-compatible servers, against a local HTTP server on 127.0.0.1.

Azure OpenAI style (key in an ``api-key`` header, an ``api-version`` query parameter),
extra headers per profile, and local servers that need no key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from openai_cli.config import config_path
from tests.helpers import CANARY_KEY, invoke
from tests.serving import QuietHandler, http_server

MODELS = {"object": "list", "data": [{"id": "local-model", "object": "model"}]}


@dataclass
class Seen:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]


@dataclass
class LocalServer:
    base: str
    requests: list[Seen] = field(default_factory=list)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    requests: list[Seen] = []

    class Handler(QuietHandler):
        def _answer(self) -> None:
            parts = urlsplit(self.path)
            requests.append(
                Seen(
                    self.command,
                    parts.path,
                    parse_qsl(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                )
            )
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.send_json(MODELS)

        do_GET = _answer
        do_POST = _answer

    with http_server(Handler) as origin:
        yield LocalServer(origin, requests)


def profile_set(*pairs: tuple[str, str], profile: str = "default") -> None:
    for key, value in pairs:
        r = invoke("profile", "set", "--profile", profile, key, value)
        assert r.code == 0, r


@pytest.fixture
def azure(server: LocalServer) -> LocalServer:
    profile_set(
        ("base_url", server.base + "/openai/v1"),
        ("api_key_header", "api-key"),
        ("query.api-version", "2024-10-21"),
        ("headers.X-Team", "research"),
        profile="azure",
    )
    return server


def test_azure_style_profile_sends_api_key_header_and_api_version(azure: LocalServer) -> None:
    r = invoke("--profile", "azure", "api", "get", "/models", env={"OPENAI_API_KEY": CANARY_KEY})
    assert r.code == 0, r
    assert json.loads(r.out) == MODELS
    [seen] = azure.requests
    assert seen.path == "/openai/v1/models"
    assert seen.query == [("api-version", "2024-10-21")]
    assert seen.headers["api-key"] == CANARY_KEY
    assert "authorization" not in seen.headers
    assert seen.headers["x-team"] == "research"


def test_generated_commands_use_the_profile_too(azure: LocalServer) -> None:
    r = invoke(
        "--profile",
        "azure",
        "embeddings",
        "create",
        "--model",
        "emb",
        "--input",
        "hi",
        env={"OPENAI_API_KEY": CANARY_KEY},
    )
    assert r.code == 0, r
    [seen] = azure.requests
    assert (seen.method, seen.path) == ("POST", "/openai/v1/embeddings")
    assert seen.query == [("api-version", "2024-10-21")]
    assert seen.headers["api-key"] == CANARY_KEY


def test_a_query_parameter_given_on_the_request_wins(azure: LocalServer) -> None:
    r = invoke(
        "--profile",
        "azure",
        "api",
        "get",
        "/models",
        "-f",
        "api-version=2025-01-01-preview",
        "-f",
        "limit=2",
        env={"OPENAI_API_KEY": CANARY_KEY},
    )
    assert r.code == 0, r
    [seen] = azure.requests
    assert sorted(seen.query) == [("api-version", "2025-01-01-preview"), ("limit", "2")]


def test_debug_masks_the_api_key_header(azure: LocalServer) -> None:
    r = invoke(
        "--profile", "azure", "api", "get", "/models", "--debug", env={"OPENAI_API_KEY": CANARY_KEY}
    )
    assert r.code == 0, r
    assert "> api-key: ***" in r.err
    assert CANARY_KEY not in r.err + r.out


def test_realtime_uses_the_profile_header_and_query() -> None:
    profile_set(
        ("base_url", "https://res.openai.azure.test/openai/v1"),
        ("api_key_header", "api-key"),
        ("query.api-version", "2024-10-21"),
        profile="azure",
    )
    r = invoke(
        "--profile",
        "azure",
        "realtime",
        "connect",
        "--dry-run",
        "-m",
        "my-deployment",
        env={"OPENAI_API_KEY": CANARY_KEY},
    )
    assert r.code == 0, r
    shown = json.loads(r.out)
    assert shown["url"] == (
        "wss://res.openai.azure.test/openai/v1/realtime?model=my-deployment&api-version=2024-10-21"
    )
    assert shown["headers"]["api-key"] == "***"
    assert "Authorization" not in shown["headers"]


@pytest.mark.parametrize(
    "keyring", ["tests.keyring_backend.FileKeyring", "keyring.backends.fail.Keyring"]
)
def test_a_local_server_without_a_key(server: LocalServer, keyring: str) -> None:
    profile_set(("base_url", server.base + "/v1"), ("api_key_optional", "true"), profile="local")
    # Also where there is no keyring at all, as in a container.
    r = invoke(
        "--profile", "local", "api", "get", "/models", env={"PYTHON_KEYRING_BACKEND": keyring}
    )
    assert r.code == 0, r
    [seen] = server.requests
    assert seen.path == "/v1/models"
    assert "authorization" not in seen.headers


def test_an_optional_key_is_still_sent_when_there_is_one(server: LocalServer) -> None:
    profile_set(("base_url", server.base + "/v1"), ("api_key_optional", "yes"), profile="local")
    r = invoke("--profile", "local", "api", "get", "/models", env={"OPENAI_API_KEY": CANARY_KEY})
    assert r.code == 0, r
    assert server.requests[0].headers["authorization"] == f"Bearer {CANARY_KEY}"


def test_without_api_key_optional_a_key_is_required(server: LocalServer) -> None:
    profile_set(("base_url", server.base + "/v1"), profile="local")
    r = invoke("--profile", "local", "api", "get", "/models")
    assert r.code == 3, r
    assert "no API key" in r.err
    assert server.requests == []


# -- `oai profile set/unset/show` for the new settings --------------------------------------


def read_profile(name: str) -> dict[str, Any]:
    import tomllib

    text = config_path(os.environ).read_text()
    profile: dict[str, Any] = tomllib.loads(text)["profiles"][name]
    return profile


def test_table_entries_are_set_replaced_case_insensitively_and_unset() -> None:
    profile_set(("headers.X-Team", "a"), ("headers.x-team", "b"), ("headers.X-Other", "c"))
    assert read_profile("default")["headers"] == {"x-team": "b", "X-Other": "c"}
    r = invoke("profile", "unset", "headers.X-TEAM")
    assert r.code == 0, r
    assert read_profile("default")["headers"] == {"X-Other": "c"}
    r = invoke("profile", "unset", "headers.X-Other")
    assert r.code == 0, r
    assert "headers" not in read_profile("default")


def test_a_whole_table_from_json() -> None:
    profile_set(("query", '{"api-version": "2024-10-21", "foo": "bar"}'))
    assert read_profile("default")["query"] == {"api-version": "2024-10-21", "foo": "bar"}
    r = invoke("profile", "unset", "query")
    assert r.code == 0, r
    assert "query" not in read_profile("default")


def test_profile_show_lists_table_entries() -> None:
    profile_set(("api_key_header", "api-key"), ("headers.X-Team", "research"))
    r = invoke("profile", "show", stdout_tty=True)
    assert r.code == 0, r
    lines = [" ".join(line.split()) for line in r.out.splitlines()]
    assert "headers.X-Team research" in lines
    assert "api_key_header api-key" in lines


def test_auth_status_shows_where_the_compat_settings_come_from(azure: LocalServer) -> None:
    r = invoke("--profile", "azure", "auth", "status", env={"OPENAI_API_KEY": CANARY_KEY})
    assert r.code == 0, r
    rows = json.loads(r.out)
    assert rows["api_key_header"]["value"] == "api-key"
    assert rows["query"]["value"] == "api-version=2024-10-21"
    assert rows["headers"]["source"].startswith("profile 'azure'")


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("headers.Authorization", "Bearer sk-x", "must not hold Authorization"),
        ("headers.api-key", "sk-x", "must not hold api-key"),
        ("headers.Bad Name", "x", "not a valid header name"),
        ("headers.X-A", "one\ntwo", "must be one line"),
        ("headers", "[1, 2]", "must be a table"),
        ("headers", "not json", "takes a JSON object"),
        ("headers.", "x", "name the entry"),
        ("api_key_header", "api key", "not a valid header name"),
        ("api_key_optional", "maybe", "must be true or false"),
        ("query", '{"a": 1}', "values must be strings"),
        ("colour.x", "y", "unknown setting"),
    ],
)
def test_profile_set_rejects(key: str, value: str, needle: str) -> None:
    r = invoke("profile", "set", key, value)
    assert r.code == 2, r
    assert needle in r.err
    assert not config_path(os.environ).exists(), "nothing is written on a rejected value"


def test_a_hand_written_bad_table_names_the_file_and_key(isolated: Path) -> None:
    path = isolated / "config" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text('[profiles.default]\nheaders = { "X-A" = 1 }\n')
    path.chmod(0o600)
    r = invoke("api", "get", "/models", env={"OPENAI_API_KEY": CANARY_KEY})
    assert r.code == 2, r
    assert f"{path}: profile 'default': headers values must be strings" in r.err


def test_dry_run_shows_the_profile_header_query_and_extra_headers(azure: LocalServer) -> None:
    r = invoke("--profile", "azure", "api", "get", "/models", "--dry-run", "-o", "json")
    assert r.code == 0, r
    shown = json.loads(r.out)
    assert shown["url"] == azure.base + "/openai/v1/models?api-version=2024-10-21"
    assert shown["headers"] == {"api-key": "$OPENAI_API_KEY", "X-Team": "research"}
    assert '-H "api-key: $OPENAI_API_KEY"' in shown["curl"]
    assert azure.requests == []
