"""JSONL checks before anything is uploaded: every bad line named, nothing sent."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import pytest

from openai_cli.errors import ExitCode, UsageError
from openai_cli.input import jsonl
from openai_cli.operations.batch_run import batch_endpoints
from tests.scale.conftest import Oai


def req(cid: str, url: str = "/v1/chat/completions", **body: object) -> dict[str, object]:
    return {"custom_id": cid, "method": "POST", "url": url, "body": {"model": "m", **body}}


def dump(*lines: object) -> bytes:
    return b"".join((x if isinstance(x, bytes) else json.dumps(x).encode()) + b"\n" for x in lines)


def problems_of(data: bytes, **kw: object) -> list[str]:
    kw.setdefault("endpoints", batch_endpoints())
    with pytest.raises(UsageError) as info:
        jsonl.validate_batch(io.BytesIO(data), "in.jsonl", **kw)  # type: ignore[arg-type]
    assert info.value.exit_code == ExitCode.USAGE
    return info.value.message.splitlines()


def test_every_kind_of_bad_line_is_reported_with_its_line_number() -> None:
    lines = problems_of(
        dump(
            req("a"),
            b"{not json",
            [1, 2],
            {"method": "POST", "url": "/v1/chat/completions", "body": {}},
            req("a"),
            {**req("g"), "method": "GET"},
            req("u", url="/v1/embeddings"),
            req("x", url="/v1/nope"),
            {"custom_id": "b", "method": "POST", "url": "/v1/chat/completions", "body": "hi"},
            b"\xff\xfe",
            b"   ",
            {**req("s"), "extra": 1},
            req("t", stream=True),
            {"custom_id": 5, "method": "POST", "url": "/v1/chat/completions", "body": {}},
        )
    )
    assert lines == [
        "in.jsonl: 13 problems found; nothing was uploaded",
        "in.jsonl:2: invalid JSON: Expecting property name enclosed in double quotes (column 2)",
        "in.jsonl:3: expected a JSON object, got an array",
        "in.jsonl:4: custom_id is missing",
        "in.jsonl:5: duplicate custom_id 'a' (first on line 1)",
        "in.jsonl:6: method must be POST, got 'GET'",
        "in.jsonl:7: url /v1/embeddings differs from line 1's /v1/chat/completions; "
        "one endpoint per file",
        "in.jsonl:8: url '/v1/nope' is not a batch endpoint (one of: "
        + ", ".join(batch_endpoints())
        + ")",
        "in.jsonl:9: body must be a JSON object, got a string",
        "in.jsonl:10: not valid UTF-8 (byte 1 of the line)",
        "in.jsonl:11: empty line",
        "in.jsonl:12: unknown field: extra",
        "in.jsonl:13: body.stream is true; batch requests cannot stream",
        "in.jsonl:14: custom_id must be a non-empty string, got a number",
    ]


def test_the_endpoint_flag_decides_when_given() -> None:
    lines = problems_of(dump(req("a"), req("b")), endpoint="/v1/responses")
    assert lines[1:] == [
        f"in.jsonl:{n}: url /v1/chat/completions differs from --endpoint /v1/responses; "
        "one endpoint per file"
        for n in (1, 2)
    ]
    with pytest.raises(UsageError, match="--endpoint: '/v1/x' is not a batch endpoint"):
        jsonl.validate_batch(
            io.BytesIO(dump(req("a"))), "f", endpoint="/v1/x", endpoints=batch_endpoints()
        )


def test_past_twenty_problems_a_count_of_the_rest() -> None:
    lines = problems_of(dump(*[b"[]"] * 25))
    assert lines[0] == "in.jsonl: 25 problems found; nothing was uploaded"
    assert len(lines) == 1 + 20 + 1
    assert lines[20] == "in.jsonl:20: expected a JSON object, got an array"
    assert lines[-1] == "... and 5 more"


def test_limits_of_one_batch_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl, "MAX_BATCH_LINES", 3)
    lines = problems_of(dump(*[req(str(i)) for i in range(4)]))
    assert lines[1:] == ["in.jsonl: 4 requests; a batch file holds at most 3"]
    # Splitting callers skip the file limits.
    summary = jsonl.validate_batch(
        io.BytesIO(dump(*[req(str(i)) for i in range(4)])), "f", enforce_limits=False
    )
    assert (summary.lines, summary.endpoint) == (4, "/v1/chat/completions")
    monkeypatch.setattr(jsonl, "MAX_BATCH_BYTES", 100)
    lines = problems_of(dump(req("a", content="x" * 200)), enforce_limits=False)
    assert lines[1].startswith("in.jsonl:1: ") and "at most 200 MB" in lines[1]


def test_embedding_inputs_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl, "MAX_BATCH_EMBEDDING_INPUTS", 4)
    url = "/v1/embeddings"
    within = dump(req("a", url=url, input=["x"] * 3), req("b", url=url, input="y" * 3))
    assert jsonl.validate_batch(io.BytesIO(within), "f").weight == 4
    data = dump(req("a", url=url, input=["x"] * 3), req("b", url=url, input=["y"] * 2))
    lines = problems_of(data)
    assert lines[1:] == ["in.jsonl: 5 embedding inputs; an embeddings batch takes at most 4"]


def test_an_empty_file_is_a_problem() -> None:
    assert problems_of(b"")[1:] == ["in.jsonl: the file is empty"]


def test_fine_tuning_formats() -> None:
    good = dump(
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]},
        {"messages": [{"role": "assistant", "tool_calls": []}]},
        {"prompt": "a", "completion": "b"},
        {
            "input": {"messages": [{"role": "user", "content": "hi"}]},
            "preferred_output": [{"role": "assistant", "content": "a"}],
            "non_preferred_output": [{"role": "assistant", "content": "b"}],
        },
        # A job takes at least 10 examples.
        *(
            {
                "messages": [
                    {"role": "user", "content": f"q{i}"},
                    {"role": "assistant", "content": "a"},
                ]
            }
            for i in range(6)
        ),
    )
    assert jsonl.validate_fine_tune(io.BytesIO(good), "ft.jsonl").lines == 10
    bad = dump(
        {"messages": []},
        {"messages": [{"role": "robot", "content": "x"}]},
        {"messages": [{"role": "user"}]},
        {"text": "x"},
        {"input": {"messages": []}, "preferred_output": []},
    )
    with pytest.raises(UsageError) as info:
        jsonl.validate_fine_tune(io.BytesIO(bad), "ft.jsonl")
    assert info.value.message.splitlines()[1:] == [
        "ft.jsonl:1: messages must be a non-empty array, got an array",
        "ft.jsonl:2: messages[0].role 'robot' is not one of assistant, developer, function, "
        "system, tool, user",
        "ft.jsonl:3: messages[0] (user) has no content",
        "ft.jsonl:4: not a known fine-tuning format: expected messages (chat), input with "
        "preferred_output (preference) or prompt and completion",
        "ft.jsonl:5: preferred_output must be a non-empty array of messages",
        "ft.jsonl:5: non_preferred_output is missing",
        "ft.jsonl:5: input.messages must be a non-empty array, got an array",
        "ft.jsonl: 5 examples; a fine-tuning job takes at least 10",
    ]


def test_request_bodies_for_map_are_one_form_or_the_other() -> None:
    assert jsonl.validate_requests(io.BytesIO(dump({"input": "a"}, {"input": "b"})), "f").lines
    s = jsonl.validate_requests(io.BytesIO(dump(req("a"), req("b"))), "f")
    assert s.batch_lines and s.endpoint == "/v1/chat/completions"
    with pytest.raises(UsageError) as info:
        jsonl.validate_requests(io.BytesIO(dump(req("a"), {"input": "b"}, "x")), "f")
    assert info.value.message.splitlines()[1:] == [
        "f:2: the file started with batch request lines; this line is not one",
        "f:3: expected a JSON object, got a string",
    ]


def test_a_big_file_is_checked_in_little_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    line = json.dumps(req("x", content="y" * 2000))
    with path.open("w") as fh:
        for i in range(5000):
            fh.write(line.replace('"x"', f'"r{i}"', 1) + "\n")
    size = path.stat().st_size
    assert size > 10_000_000
    tracemalloc.start()
    try:
        with path.open("rb") as fh:
            summary = jsonl.validate_batch(fh, "big.jsonl")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.lines == 5000
    # One line and the custom_ids, not the file.
    assert peak < size / 10, peak


def test_files_create_reports_every_problem_and_sends_nothing(oai: Oai, tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(dump(req("a"), b"nope", req("a")))
    r = oai("files", "create", "--file", str(path), "--purpose", "batch")
    assert r.code == 2
    assert r.err.splitlines() == [
        f"oai: {path}: 2 problems found; nothing was uploaded",
        f"{path}:2: invalid JSON: Expecting value (column 1)",
        f"{path}:3: duplicate custom_id 'a' (first on line 1)",
    ]
    assert oai.state.log == []


def test_files_create_checks_fine_tuning_data_and_stdin(oai: Oai) -> None:
    r = oai("files", "create", "--file", "-", "--purpose", "fine-tune", input=b'{"text": 1}\n')
    assert r.code == 2
    assert r.err.splitlines()[1].startswith("<stdin>:1: not a known fine-tuning format")
    assert oai.state.log == []


def test_no_validate_sends_anyway(oai: Oai, tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(b"not json\n")
    r = oai("files", "create", "--file", str(path), "--purpose", "batch", "--no-validate")
    assert r.code == 0, r
    assert oai.state.log == [("POST", "/files")]


def test_other_purposes_are_not_checked(oai: Oai, tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_bytes(b"not json\n")
    r = oai("files", "create", "--file", str(path), "--purpose", "user_data")
    assert r.code == 0, r


def test_fine_tuning_tokens_come_from_the_counter_it_is_given() -> None:
    # The plug-in point for an exact token counter: one count per example, spread noted.
    examples = [{"messages": [{"role": "user", "content": "q" * i}]} for i in range(1, 11)]
    summary = jsonl.validate_fine_tune(
        io.BytesIO(dump(*examples)), "ft.jsonl", tokens=lambda ex: len(ex["messages"][0]["content"])
    )
    assert summary.notes == [
        "messages per example: min 1, median 1, max 1",
        "tokens per example: min 1, median 5.5, max 10",
    ]
