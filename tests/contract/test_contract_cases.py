"""Generated commands against Steady, case by case: the shapes one plain call does not show.

Multipart forms with several files and nested fields, streams, downloads, pagination,
array query parameters, nested JSON bodies, ``--dry-run``, input errors that must send
nothing, and ``--body`` standing in for flags.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest

from openai_cli.operations import catalogue
from tests.contract.steady import Steady
from tests.contract.test_operations import failing_diagnostics, json_part_misreads, tiny_png
from tests.helpers import CANARY_KEY, Result, api_env, invoke, temporaries

Entry = dict[str, Any]

MESSAGES = json.dumps([{"role": "user", "content": "Hi"}])


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Some commands save what they get into the current directory.
    monkeypatch.chdir(tmp_path)


def run(steady: Steady, *args: str, stdout_tty: bool = False) -> tuple[Result, list[Entry]]:
    mark = steady.mark()
    result = invoke(*args, env=api_env(steady.base_url), stdout_tty=stdout_tty)
    return result, steady.entries_since(mark)


def one_clean_hit(
    result: Result, entries: list[Entry], method: str, pattern: str, *, code: int = 0
) -> Entry:
    assert result.code == code, result
    seen = [(e["request"]["method"], e["request"]["pathPattern"]) for e in entries]
    assert seen == [(method, pattern)]
    assert failing_diagnostics(entries) == []
    assert 200 <= entries[0]["response"]["status"] < 300
    return entries[0]


def json_lines(text: str) -> list[Any]:
    lines = text.splitlines()
    assert lines, "no output"
    return [json.loads(line) for line in lines]


def png(tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(tiny_png())
    return str(path)


def batch_file(tmp_path: Path) -> str:
    path = tmp_path / "requests.jsonl"
    line = {
        "custom_id": "1",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]},
    }
    path.write_text(json.dumps(line) + "\n")
    return str(path)


# -- multipart ------------------------------------------------------------------------


def test_image_edit_with_two_images_a_mask_and_fields(steady: Steady, tmp_path: Path) -> None:
    result, entries = run(
        steady,
        "images",
        "edit",
        "--image",
        png(tmp_path, "a.png"),
        "--image",
        png(tmp_path, "b.png"),
        "--mask",
        png(tmp_path, "mask.png"),
        "--prompt",
        "Add a hat",
        "--n",
        "2",
    )
    # Steady's answer holds no image (only the required fields): nothing saved, exit 7.
    entry = one_clean_hit(result, entries, "POST", "/images/edits", code=7)
    request = entry["request"]
    assert request["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    # Two `image[]` parts, logged by Steady as one list.
    assert request["body"] == {
        "image": ["[File]", "[File]"],
        "mask": "[File]",
        "prompt": "Add a hat",
        "n": 2,
    }


def test_file_upload_with_purpose_and_expiry_object(steady: Steady, tmp_path: Path) -> None:
    result, entries = run(
        steady,
        "files",
        "create",
        "--file",
        batch_file(tmp_path),
        "--purpose",
        "batch",
        "--expires-after",
        '{"anchor": "created_at", "seconds": 3600}',
    )
    entry = one_clean_hit(result, entries, "POST", "/files")
    # The object travels as expires_after[anchor] and expires_after[seconds] parts.
    assert entry["request"]["body"] == {
        "file": "[File]",
        "purpose": "batch",
        "expires_after": {"anchor": "created_at", "seconds": 3600},
    }
    assert json.loads(result.out)["object"] == "file"


def test_realtime_call_session_travels_as_one_json_part(steady: Steady) -> None:
    offer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    result, entries = run(steady, "realtime", "calls", "create", "--sdp", offer)
    entry = one_clean_hit(result, entries, "POST", "/realtime/calls")
    assert entry["request"]["body"] == {"sdp": offer}

    # Empty objects and arrays and a list of tools: what bracketed fields cannot carry.
    session = {
        "type": "realtime",
        "model": "gpt-realtime",
        "audio": {"input": {}},
        "tools": [
            {"type": "function", "name": "a", "parameters": {}},
            {"type": "function", "name": "b"},
        ],
        "include": [],
    }
    result, entries = run(
        steady, "realtime", "calls", "create", "--sdp", offer, "--session", json.dumps(session)
    )
    [entry] = entries
    body = entry["request"]["body"]
    # One `session` part holding the JSON text (bracketed fields would show as an object).
    assert set(body) == {"sdp", "session"} and body["sdp"] == offer
    assert json.loads(body["session"]) == session
    # Steady reads the JSON part as text and so answers 400; nothing else is wrong.
    [op] = [o for o in catalogue.load("realtime") if o.command == ("realtime", "calls", "create")]
    misread = json_part_misreads(entries, op)
    assert [d["requestPath"] for d in misread] == ["body.session"]
    assert failing_diagnostics(entries, besides=misread) == []
    assert result.code == 1 and "HTTP 400" in result.err


# -- streams --------------------------------------------------------------------------


def test_chat_completion_streamed_as_json_events(steady: Steady) -> None:
    result, entries = run(
        steady,
        "chat",
        "completions",
        "create",
        "--model",
        "gpt-4o-mini",
        "--messages",
        MESSAGES,
        "--stream",
        "-o",
        "jsonl",
    )
    entry = one_clean_hit(result, entries, "POST", "/chat/completions")
    assert entry["request"]["headers"]["accept"] == "text/event-stream"
    assert entry["request"]["body"]["stream"] is True
    assert entry["response"]["body"] == "[streaming]"
    events = json_lines(result.out)
    assert all(e["object"] == "chat.completion.chunk" for e in events), events


def test_response_streamed_as_json_events(steady: Steady) -> None:
    result, entries = run(
        steady,
        "responses",
        "create",
        "--model",
        "gpt-4o-mini",
        "--input",
        "Hi",
        "--stream",
        "-o",
        "jsonl",
    )
    entry = one_clean_hit(result, entries, "POST", "/responses")
    assert entry["request"]["headers"]["accept"] == "text/event-stream"
    assert entry["request"]["body"] == {"model": "gpt-4o-mini", "input": "Hi", "stream": True}
    events = json_lines(result.out)
    assert all(isinstance(e.get("type"), str) for e in events), events


def test_image_stream_as_json_events(steady: Steady) -> None:
    result, entries = run(
        steady, "images", "generate", "--prompt", "A cat", "--stream", "-o", "jsonl"
    )
    entry = one_clean_hit(result, entries, "POST", "/images/generations")
    assert entry["request"]["headers"]["accept"] == "text/event-stream"
    events = json_lines(result.out)
    assert all(e["type"].startswith("image_generation.") for e in events), events


# -- bytes ----------------------------------------------------------------------------


def test_speech_saved_to_a_file(steady: Steady, tmp_path: Path) -> None:
    out = tmp_path / "speech.mp3"
    result, entries = run(
        steady,
        "audio",
        "speech",
        "create",
        "--model",
        "gpt-4o-mini-tts",
        "--input",
        "Hello",
        "--voice",
        "alloy",
        "--output-file",
        str(out),
    )
    one_clean_hit(result, entries, "POST", "/audio/speech")
    assert result.out == ""
    size = out.stat().st_size
    assert size > 0
    assert f"saved {size} bytes to {out}" in result.err
    assert temporaries(tmp_path) == []


def test_file_content_saved_and_piped(steady: Steady, tmp_path: Path) -> None:
    out = tmp_path / "content.bin"
    result, entries = run(steady, "files", "content", "file-abc", "--output-file", str(out))
    one_clean_hit(result, entries, "GET", "/files/{file_id}/content")
    saved = out.read_bytes()
    assert saved
    result, entries = run(steady, "files", "content", "file-abc")
    one_clean_hit(result, entries, "GET", "/files/{file_id}/content")
    assert result.out_bytes == saved


def test_bytes_to_a_terminal_are_refused_before_sending(steady: Steady) -> None:
    result, entries = run(steady, "files", "content", "file-abc", stdout_tty=True)
    assert result.code == 2, result
    assert "--output-file" in result.err
    assert entries == []


# -- pagination -----------------------------------------------------------------------


def test_max_items_stops_after_one_item(steady: Steady) -> None:
    result, entries = run(steady, "fine-tuning", "jobs", "list", "--max-items", "1")
    entry = one_clean_hit(result, entries, "GET", "/fine_tuning/jobs")
    assert entry["response"]["body"]["has_more"] is True
    assert dict(parse_qsl(entry["request"]["query"].lstrip("?"))) == {"limit": "1"}
    assert len(json.loads(result.out)["data"]) == 1


def test_a_page_that_does_not_advance_is_an_error(steady: Steady) -> None:
    result, entries = run(steady, "fine-tuning", "jobs", "list", "--max-items", "5", "-o", "jsonl")
    assert result.code == 6, result
    assert "pagination did not advance" in result.err
    first, second = entries
    assert failing_diagnostics(entries) == []
    last_id = first["response"]["body"]["data"][-1]["id"]
    assert dict(parse_qsl(second["request"]["query"].lstrip("?")))["after"] == last_id
    # The repeated page is not printed a second time.
    printed = [item["id"] for item in json_lines(result.out)]
    assert printed == [item["id"] for item in first["response"]["body"]["data"]]


# -- query and JSON bodies ------------------------------------------------------------


def test_array_query_parameter_repeats_with_brackets(steady: Steady) -> None:
    result, entries = run(
        steady,
        "admin",
        "organization",
        "audit-logs",
        "list",
        "--event-types",
        "project.created",
        "--event-types",
        "project.updated",
        "--limit",
        "2",
    )
    entry = one_clean_hit(result, entries, "GET", "/organization/audit_logs")
    query = entry["request"]["query"]
    # Brackets are percent-encoded on the wire, as urlencode does in the Python SDK.
    assert "event_types[]=project.created&event_types[]=project.updated" in unquote(query)
    assert parse_qsl(query.lstrip("?")) == [
        ("event_types[]", "project.created"),
        ("event_types[]", "project.updated"),
        ("limit", "2"),
    ]
    assert entry["request"]["headers"]["authorization"] == f"Bearer {api_env()['OPENAI_ADMIN_KEY']}"


def test_nested_json_from_a_flag_and_a_dotted_field(steady: Steady) -> None:
    response_format = {
        "type": "json_schema",
        "json_schema": {
            "name": "answer",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {"text": {"type": "string"}},
                "required": ["text"],
                "additionalProperties": False,
            },
        },
    }
    result, entries = run(
        steady,
        "chat",
        "completions",
        "create",
        "--model",
        "gpt-4o-mini",
        "--messages",
        MESSAGES,
        "--response-format",
        json.dumps(response_format),
        "--store",
        "-F",
        "metadata.key=value",
    )
    entry = one_clean_hit(result, entries, "POST", "/chat/completions")
    assert entry["request"]["body"] == {
        "model": "gpt-4o-mini",
        "messages": json.loads(MESSAGES),
        "response_format": response_format,
        "store": True,
        "metadata": {"key": "value"},
    }


def test_number_for_a_field_whose_only_text_is_an_enum(steady: Steady) -> None:
    for given, sent in (("4096", 4096), ("inf", "inf")):
        result, entries = run(
            steady,
            "realtime",
            "calls",
            "accept",
            "call_1",
            "--type",
            "realtime",
            "--max-output-tokens",
            given,
        )
        entry = one_clean_hit(result, entries, "POST", "/realtime/calls/{call_id}/accept")
        assert entry["request"]["body"]["max_output_tokens"] == sent


def test_array_header_is_comma_joined(steady: Steady) -> None:
    result, entries = run(
        steady,
        "beta",
        "responses",
        "retrieve",
        "resp_1",
        "--openai-beta",
        "responses_multi_agent=v1",
    )
    entry = one_clean_hit(result, entries, "GET", "/responses/{response_id}?beta=true")
    assert entry["request"]["headers"]["openai-beta"] == "responses_multi_agent=v1"


def test_body_file_supplies_the_required_fields(steady: Steady, tmp_path: Path) -> None:
    body = {"model": "gpt-4o-mini", "messages": json.loads(MESSAGES), "temperature": 0.5}
    path = tmp_path / "request.json"
    path.write_text(json.dumps(body))
    result, entries = run(steady, "chat", "completions", "create", "--body", f"@{path}")
    entry = one_clean_hit(result, entries, "POST", "/chat/completions")
    assert entry["request"]["body"] == body
    # A flag wins over the same field in the file.
    result, entries = run(
        steady, "chat", "completions", "create", "--body", f"@{path}", "--model", "gpt-4o"
    )
    entry = one_clean_hit(result, entries, "POST", "/chat/completions")
    assert entry["request"]["body"] == {**body, "model": "gpt-4o"}


# -- nothing sent ---------------------------------------------------------------------


def test_dry_run_shows_the_request_and_sends_nothing(steady: Steady, tmp_path: Path) -> None:
    result, entries = run(
        steady,
        "images",
        "edit",
        "--image",
        png(tmp_path, "a.png"),
        "--image",
        png(tmp_path, "b.png"),
        "--prompt",
        "Add a hat",
        "--dry-run",
    )
    assert result.code == 0, result
    assert entries == []
    shown = json.loads(result.out)
    assert shown["method"] == "POST"
    assert shown["url"] == f"{steady.base_url}/images/edits"
    assert shown["multipart"]["files"] == [["image[]", "a.png"], ["image[]", "b.png"]]
    assert shown["multipart"]["fields"] == [["prompt", "Add a hat"]]
    assert shown["curl"].startswith(f"curl -X POST {steady.base_url}/images/edits ")
    assert f"-F 'image[]=@{tmp_path}/a.png' -F 'image[]=@{tmp_path}/b.png'" in shown["curl"]
    assert CANARY_KEY not in result.out + result.err

    result, entries = run(steady, "files", "list", "--limit", "2", "--order", "asc", "--dry-run")
    assert result.code == 0, result
    assert entries == []
    shown = json.loads(result.out)
    assert (shown["method"], shown["url"]) == ("GET", f"{steady.base_url}/files?limit=2&order=asc")
    assert "curl -X GET" in shown["curl"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["chat", "completions", "create", "--model", "gpt-4o-mini"], "--messages"),
        (["files", "create", "--purpose", "batch"], "--file"),
        (
            ["batches", "create", "--input-file-id", "file-abc", "--endpoint", "/v1/responses"],
            "--completion-window",
        ),
        (["admin", "organization", "usage", "costs"], "--start-time"),
        (["files", "retrieve"], "FILE_ID"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else v,
)
def test_missing_required_input_names_it_and_sends_nothing(
    steady: Steady, args: list[str], named: str
) -> None:
    result, entries = run(steady, *args)
    assert result.code == 2, result
    assert re.search(rf"(?<![\w-]){re.escape(named)}(?![\w-])", result.err), result.err
    assert entries == []


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["files", "list", "--order", "sideways"], "--order"),
        (["files", "create", "--file", "FILE", "--purpose", "nope"], "--purpose"),
        (
            ["admin", "organization", "audit-logs", "list", "--event-types", "nope.happened"],
            "--event-types",
        ),
        (
            [
                "realtime",
                "calls",
                "accept",
                "call_1",
                "--type",
                "realtime",
                "--max-output-tokens",
                "lots",
            ],
            "--max-output-tokens",
        ),
    ],
    ids=["query", "multipart", "array", "number-or-enum"],
)
def test_value_outside_a_closed_enum_is_refused(
    steady: Steady, tmp_path: Path, args: list[str], named: str
) -> None:
    args = [batch_file(tmp_path) if a == "FILE" else a for a in args]
    result, entries = run(steady, *args)
    assert result.code == 2, result
    assert result.err.startswith(f"oai: {named}: "), result.err
    assert entries == []
