"""``--dry-run`` shows the request that is sent: the same command, run for real past
Steady, sends what the dry run printed.

What may differ, and why: the key (the dry run shows the variable that holds it, the
send the key itself: checked to be the only difference in that header), and the
Idempotency-Key (a new one for every request, so present in both but not equal).
The dry run leaves out what every request carries, which the HTTP library (or curl)
adds by itself: Host, Content-Length, Connection, Accept-Encoding, User-Agent and a
plain ``Accept: */*``, and a form's Content-Type, whose boundary is drawn per send.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.contract.steady import Steady
from tests.helpers import CANARY_ADMIN_KEY, CANARY_KEY, api_env, invoke, write_config

EVERY_REQUEST = frozenset({"host", "content-length", "connection", "accept-encoding", "user-agent"})
PLACEHOLDERS = {"$OPENAI_API_KEY": CANARY_KEY, "$OPENAI_ADMIN_KEY": CANARY_ADMIN_KEY}
MESSAGES = json.dumps([{"role": "user", "content": "hi"}])

CASES = {
    "json": ("chat", "completions", "create", "--model", "gpt-4o-mini", "--messages", MESSAGES),
    "multipart": ("files", "create", "--file", "notes.txt", "--purpose", "assistants"),
    "query": ("files", "list", "--limit", "2", "--order", "asc", "--purpose", "assistants"),
    "admin": ("admin", "organization", "projects", "list", "--limit", "3"),
    "streaming": ("responses", "create", "--model", "gpt-4o-mini", "--input", "Hi", "--stream"),
}
# The profile's own query and headers, an organisation and a project: the project
# header goes with the API key only, never with the admin key.
PROFILE = """\
[profiles.default]
organization = "org-dry"
project = "proj_dry"
headers = { "X-Team" = "research" }
query = { "tag" = "dry" }
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("some notes")
    return tmp_path


def shown_and_sent(steady: Steady, args: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    env = api_env(steady.base_url)
    mark = steady.mark()
    dry = invoke(*args, "--dry-run", env=env)
    assert dry.code == 0, dry
    assert steady.entries_since(mark) == [], "the dry run sent something"
    r = invoke(*args, env=env)
    assert r.code == 0, r
    (entry,) = steady.entries_since(mark)
    shown: dict[str, Any] = json.loads(dry.out)
    return shown, entry["request"]


def unkeyed(value: str) -> str:
    for placeholder, key in PLACEHOLDERS.items():
        value = value.replace(placeholder, key)
    return value


def assert_agree(shown: dict[str, Any], sent: dict[str, Any]) -> None:
    assert shown["method"] == sent["method"]
    url = urlsplit(shown["url"])
    assert url.path == sent["path"]
    assert parse_qsl(url.query) == parse_qsl(sent.get("query", "").removeprefix("?"))

    dry_headers = {k.lower(): v for k, v in shown["headers"].items()}
    wire = dict(sent["headers"])
    # The key: the placeholder stands for exactly the key that was sent.
    key_header = next(k for k, v in dry_headers.items() if "$OPENAI_" in v)
    assert unkeyed(dry_headers.pop(key_header)) == wire.pop(key_header)
    if sent["method"] == "POST":
        assert dry_headers.pop("idempotency-key").startswith("oai-")
        assert wire.pop("idempotency-key").startswith("oai-")
    if "multipart" in shown:
        assert wire.pop("content-type").startswith("multipart/form-data; boundary=")
    if wire.get("accept") == "*/*":
        del wire["accept"]
    assert dry_headers == {k: v for k, v in wire.items() if k not in EVERY_REQUEST}

    if "multipart" in shown:
        form = dict(shown["multipart"]["fields"])
        form.update((name, "[File]") for name, _ in shown["multipart"]["files"])
        assert form == sent["body"]
    else:
        assert shown.get("body") == sent.get("body")


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_dry_run_is_what_is_sent(steady: Steady, workdir: Path, case: str) -> None:
    shown, sent = shown_and_sent(steady, CASES[case])
    assert_agree(shown, sent)


@pytest.mark.parametrize("case", sorted(CASES))
def test_with_a_profile_the_dry_run_is_what_is_sent(
    steady: Steady, workdir: Path, case: str
) -> None:
    write_config(dict(os.environ), PROFILE)
    shown, sent = shown_and_sent(steady, CASES[case])
    assert_agree(shown, sent)
    assert ("tag", "dry") in parse_qsl(urlsplit(shown["url"]).query)
    assert shown["headers"]["X-Team"] == "research"
    assert shown["headers"]["OpenAI-Organization"] == "org-dry"
    assert ("OpenAI-Project" in shown["headers"]) == (case != "admin")
