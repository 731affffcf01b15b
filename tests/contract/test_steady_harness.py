"""Tests of the Steady harness itself, with plain httpx requests."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.contract.steady import TAG_HEADER, Steady, format_diagnostic

VALID_CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def client(steady: Steady) -> httpx.Client:
    return httpx.Client(base_url=steady.base_url, timeout=10.0)


def _operations(entries: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [
        (e["request"]["method"], e["request"]["pathPattern"], e["response"]["status"])
        for e in entries
    ]


def test_valid_request_has_no_diagnostics(steady: Steady, client: httpx.Client) -> None:
    mark = steady.mark()
    response = client.get("/models")
    assert response.status_code == 200
    entries = steady.entries_since(mark)
    assert _operations(entries) == [("GET", "/models", 200)]
    assert steady.diagnostics(entries) == []


def test_missing_required_property_is_reported(steady: Steady, client: httpx.Client) -> None:
    mark = steady.mark()
    response = client.post("/chat/completions", json={})
    assert response.status_code == 400
    entries = steady.entries_since(mark)
    assert _operations(entries) == [("POST", "/chat/completions", 400)]
    found = steady.diagnostics(entries)
    assert any("model" in line and "E3007" in line for line in found), found
    assert all(line.startswith("POST /chat/completions -> 400: error ") for line in found)


def test_entries_since_returns_only_later_requests(steady: Steady, client: httpx.Client) -> None:
    first = steady.mark()
    client.get("/models")
    second = steady.mark()
    client.get("/models/gpt-4o-mini")
    client.post("/chat/completions", json=VALID_CHAT)

    assert _operations(steady.entries_since(second)) == [
        ("GET", "/models/{model}", 200),
        ("POST", "/chat/completions", 200),
    ]
    assert len(steady.entries_since(first)) == 3
    assert steady.entries_since(steady.mark()) == []


def test_tag_header_picks_out_requests(steady: Steady, client: httpx.Client) -> None:
    tag = uuid.uuid4().hex
    mark = steady.mark()
    client.get("/models")
    client.get("/models", headers={TAG_HEADER: tag})
    entries = steady.entries_since(mark, tag=tag)
    assert len(entries) == 1
    assert entries[0]["request"]["headers"][TAG_HEADER] == tag
    assert steady.diagnostics(entries) == []


def test_sse_is_served_when_asked(steady: Steady, client: httpx.Client) -> None:
    mark = steady.mark()
    events: list[dict[str, Any]] = []
    headers = {"Accept": "text/event-stream", "X-Steady-Stream-Interval-Ms": "1"}
    body = {**VALID_CHAT, "stream": True}
    with client.stream("POST", "/chat/completions", json=body, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
    chunks = [e for e in events if e.get("object") == "chat.completion.chunk"]
    assert chunks, events

    entries = steady.entries_since(mark)
    assert _operations(entries) == [("POST", "/chat/completions", 200)]
    assert entries[0]["response"]["body"] == "[streaming]"
    assert steady.diagnostics(entries) == []


def test_without_accept_header_chat_answers_json(steady: Steady, client: httpx.Client) -> None:
    response = client.post("/chat/completions", json={**VALID_CHAT, "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")


def test_multipart_form_is_validated(steady: Steady, client: httpx.Client) -> None:
    upload = {"file": ("train.jsonl", b'{"a": 1}\n', "application/jsonl")}
    mark = steady.mark()
    assert client.post("/files", data={"purpose": "fine-tune"}, files=upload).status_code == 200
    assert client.post("/files", data={"purpose": "bogus"}, files=upload).status_code == 400
    entries = steady.entries_since(mark)
    assert entries[0]["request"]["body"] == {"purpose": "fine-tune", "file": "[File]"}
    found = steady.diagnostics(entries)
    assert len(found) == 1
    assert "E3016 at body.purpose" in found[0], found


def test_bracket_query_arrays_are_validated(steady: Steady, client: httpx.Client) -> None:
    mark = steady.mark()
    client.get("/responses/resp_1?include[]=file_search_call.results")
    client.get("/responses/resp_1?include[]=bogus")
    entries = steady.entries_since(mark)
    assert entries[0]["request"]["query"] == "?include[]=file_search_call.results"
    assert _operations(entries) == [
        ("GET", "/responses/{response_id}", 200),
        ("GET", "/responses/{response_id}", 400),
    ]
    found = steady.diagnostics(entries)
    assert len(found) == 1
    assert "query.include.0" in found[0], found


def test_format_diagnostic_shows_expected_and_actual() -> None:
    entry = {
        "request": {"method": "POST", "path": "/files", "pathPattern": "/files"},
        "response": {"status": 400},
    }
    diagnostic = {
        "code": "E3016",
        "severity": "error",
        "requestPath": "body.purpose",
        "message": 'Value "bogus" is not in allowed values',
        "expected": ["batch", "fine-tune"],
        "actual": "bogus",
    }
    assert format_diagnostic(entry, diagnostic) == (
        'POST /files -> 400: error E3016 at body.purpose: Value "bogus" is not in allowed'
        ' values (expected ["batch", "fine-tune"], got bogus)'
    )
