"""`oai api` against Steady with the official spec: requests that keep to the spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.contract.steady import Steady
from tests.helpers import Result, api_env, invoke


def run(steady: Steady, *args: str, input: str = "") -> tuple[Result, list[dict[str, Any]]]:
    mark = steady.mark()
    result = invoke(*args, env=api_env(steady.base_url), input=input)
    return result, steady.entries_since(mark)


def assert_clean(result: Result, entries: list[dict[str, Any]], method: str, pattern: str) -> None:
    assert result.code == 0, result
    assert entries, "no request reached Steady"
    hits = [(e["request"]["method"], e["request"]["pathPattern"]) for e in entries]
    assert (method, pattern) in hits, hits
    problems = Steady.diagnostics(entries)
    assert problems == [], problems


def test_get_models(steady: Steady) -> None:
    result, entries = run(steady, "api", "get", "/models")
    assert_clean(result, entries, "GET", "/models")
    assert json.loads(result.out)["object"] == "list"


def test_post_chat_completions_body_from_file(steady: Steady, tmp_path: Path) -> None:
    req = tmp_path / "req.json"
    req.write_text(
        json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]})
    )
    result, entries = run(steady, "api", "post", "/chat/completions", "--body", f"@{req}")
    assert_clean(result, entries, "POST", "/chat/completions")


def test_post_chat_completions_streamed(steady: Steady) -> None:
    body = json.dumps(
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "stream": True}
    )
    result, entries = run(steady, "api", "post", "/chat/completions", "--stream", "--body", body)
    assert_clean(result, entries, "POST", "/chat/completions")
    lines = result.out.splitlines()
    assert lines and all(json.loads(line)["object"] == "chat.completion.chunk" for line in lines)


def test_post_files_multipart_upload(steady: Steady, tmp_path: Path) -> None:
    data = tmp_path / "data.jsonl"
    data.write_text(
        '{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", '
        '"body": {"model": "m", "messages": []}}\n'
    )
    result, entries = run(
        steady, "api", "post", "/files", "-F", "purpose=batch", "-F", f"file=@{data}"
    )
    assert_clean(result, entries, "POST", "/files")
    assert entries[-1]["request"]["body"]["file"] == "[File]"


def test_admin_projects_with_the_admin_key(steady: Steady) -> None:
    result, entries = run(steady, "api", "get", "/organization/projects")
    assert_clean(result, entries, "GET", "/organization/projects")
    auth = entries[-1]["request"]["headers"]["authorization"]
    assert auth == "Bearer " + api_env()["OPENAI_ADMIN_KEY"]


@pytest.mark.parametrize(
    ("args", "method", "pattern"),
    [
        (
            ["api", "post", "/embeddings", "-F", "model=text-embedding-3-small", "-F", "input=hi"],
            "POST",
            "/embeddings",
        ),
        (["api", "get", "/files", "-F", "limit=2", "-F", "order=asc"], "GET", "/files"),
        (["api", "get", "/fine_tuning/jobs", "--max-items", "1"], "GET", "/fine_tuning/jobs"),
        (["api", "delete", "/models/ft:gpt-4o-mini:x"], "DELETE", "/models/{model}"),
        (["api", "post", "/moderations", "-F", "input=hello"], "POST", "/moderations"),
        (
            [
                "api",
                "get",
                "/organization/audit_logs",
                "-F",
                "event_types[]=project.created",
                "-F",
                "limit=1",
            ],
            "GET",
            "/organization/audit_logs",
        ),
        (
            ["api", "post", "/vector_stores", "-F", "name=docs", "-F", "metadata.team=search"],
            "POST",
            "/vector_stores",
        ),
        (["api", "post", "/batches/batch_1/cancel"], "POST", "/batches/{batch_id}/cancel"),
    ],
    ids=["json", "query", "paginated", "delete", "moderation", "array-query", "nested", "no-body"],
)
def test_operations_of_different_kinds(
    steady: Steady, args: list[str], method: str, pattern: str
) -> None:
    result, entries = run(steady, *args)
    assert_clean(result, entries, method, pattern)


def test_binary_content_to_file(steady: Steady, tmp_path: Path) -> None:
    out = tmp_path / "speech.mp3"
    result, entries = run(
        steady,
        "api",
        "post",
        "/audio/speech",
        "-F",
        "model=gpt-4o-mini-tts",
        "-F",
        "input=hi",
        "-F",
        "voice=alloy",
        "--output-file",
        str(out),
    )
    assert_clean(result, entries, "POST", "/audio/speech")
    assert out.stat().st_size > 0


def test_paginated_admin_list_in_jsonl(steady: Steady) -> None:
    result, entries = run(
        steady, "api", "get", "/organization/projects", "--max-items", "1", "-o", "jsonl"
    )
    assert_clean(result, entries, "GET", "/organization/projects")
    assert len(result.out.splitlines()) == 1


def test_bad_input_sends_nothing(steady: Steady, tmp_path: Path) -> None:
    for args in (
        ["api", "post", "/chat/completions", "--body", "{bad"],
        ["api", "post", "/files", "-F", "purpose=batch", "-F", f"file=@{tmp_path / 'missing'}"],
    ):
        result, entries = run(steady, *args)
        assert result.code == 2, result
        assert len(result.err.strip().splitlines()) == 1, result.err
        assert entries == []
    mark = steady.mark()
    result = invoke("api", "get", "/models", env={"OPENAI_BASE_URL": steady.base_url})
    assert result.code == 3 and "OPENAI_API_KEY" in result.err
    assert steady.entries_since(mark) == []
