"""How values are written on the command line: JSON arrays for repeated flags, typed
``@file`` fields, list positions in ``-F`` keys, a file or a reference, dates for Unix
times. Every case goes through the real entry point and checks what is sent."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import respx

from tests.helpers import api_env, invoke


def sent_json(route: respx.Route) -> object:
    return json.loads(route.calls.last.request.content)


# --- -F keys: list positions ----------------------------------------------------------


def test_field_positions_build_a_list_of_messages(api: respx.MockRouter) -> None:
    route = api.post("/chat/completions").respond(200, json={"id": "c1"})
    r = invoke(
        "chat",
        "completions",
        "create",
        "--model",
        "gpt-4o-mini",
        "-F",
        "messages[0].role=system",
        "-F",
        "messages[0].content=Be brief.",
        "-F",
        "messages[1].role=user",
        "-F",
        "messages[1].content=Hi",
        env=api_env(),
    )
    assert r.code == 0, r
    assert sent_json(route) == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
        ],
    }


def test_appended_objects_fill_key_by_key(api: respx.MockRouter) -> None:
    route = api.post("/chat/completions").respond(200, json={"id": "c1"})
    r = invoke(
        "api",
        "post",
        "/chat/completions",
        "-f",
        "model=gpt-4o-mini",
        "-f",
        "messages[].role=user",
        "-f",
        "messages[].content=Hi",
        "-f",
        "messages[].role=assistant",
        "-f",
        "messages[].content=Hello",
        env=api_env(),
    )
    assert r.code == 0, r
    assert sent_json(route) == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
        ],
    }


def test_a_position_that_skips_ahead_is_refused(unsent: respx.MockRouter) -> None:
    unsent.post("/chat/completions")
    r = invoke(
        "chat",
        "completions",
        "create",
        "--model",
        "m",
        "-F",
        "logit_bias[50256]=-100",
        "-F",
        "messages[0].role=user",
        env=api_env(),
    )
    assert r.code == 2, r
    assert "'logit_bias' has 0 elements, so [50256] skips ahead" in r.err
    assert "logit_bias.50256" in r.err
    assert not unsent.calls


# --- repeated flags: a JSON array -----------------------------------------------------


def test_a_json_array_gives_a_repeated_query_flag_its_values(api: respx.MockRouter) -> None:
    route = api.get("/organization/costs").respond(200, json={"data": [], "has_more": False})
    r = invoke(
        "admin",
        "organization",
        "usage",
        "costs",
        "--start-time",
        "1700000000",
        "--project-ids",
        '["proj_a", "proj_b"]',
        "--project-ids",
        "proj_c",
        "--group-by",
        '["project_id","line_item"]',
        env=api_env(),
    )
    assert r.code == 0, r
    params = route.calls.last.request.url.params
    assert params.get_list("project_ids[]") == ["proj_a", "proj_b", "proj_c"]
    assert params.get_list("group_by[]") == ["project_id", "line_item"]


def test_a_json_array_gives_a_body_list_its_items(api: respx.MockRouter) -> None:
    route = api.post("/vector_stores").respond(200, json={"id": "vs_1"})
    r = invoke(
        "vector-stores", "create", "--file-ids", '["file-a","file-b"]', "--name", "d", env=api_env()
    )
    assert r.code == 0, r
    assert sent_json(route) == {"file_ids": ["file-a", "file-b"], "name": "d"}


def test_an_empty_json_array_empties_a_body_list(api: respx.MockRouter) -> None:
    route = api.post("/organization/projects/proj_1/model_permissions").respond(200, json={})
    r = invoke(
        "admin",
        "organization",
        "projects",
        "model-permissions",
        "update",
        "proj_1",
        "--mode",
        "allow_list",
        "--model-ids",
        "[]",
        env=api_env(),
    )
    assert r.code == 0, r
    assert sent_json(route) == {"mode": "allow_list", "model_ids": []}


def test_array_items_are_checked_against_the_enum(unsent: respx.MockRouter) -> None:
    unsent.get("/organization/costs")
    r = invoke(
        "admin",
        "organization",
        "usage",
        "costs",
        "--start-time",
        "1",
        "--group-by",
        '["project_id","nope"]',
        env=api_env(),
    )
    assert r.code == 2, r
    assert "--group-by: 'nope' is not one of" in r.err
    assert not unsent.calls


def test_text_starting_with_a_bracket_must_be_a_json_array(unsent: respx.MockRouter) -> None:
    unsent.get("/organization/costs")
    r = invoke(
        "admin",
        "organization",
        "usage",
        "costs",
        "--start-time",
        "1",
        "--project-ids",
        '["a", "b"',
        env=api_env(),
    )
    assert r.code == 2, r
    assert (
        "--project-ids: '[\"a\", \"b\"' starts with '[' but is not a JSON array of strings" in r.err
    )
    assert "write it inside a JSON array" in r.err
    assert "Traceback" not in r.err
    assert not unsent.calls


def test_a_literal_bracketed_value_goes_inside_an_array(api: respx.MockRouter) -> None:
    route = api.post("/vector_stores").respond(200, json={"id": "vs_1"})
    r = invoke("vector-stores", "create", "--file-ids", '["[odd]"]', env=api_env())
    assert r.code == 0, r
    assert sent_json(route) == {"file_ids": ["[odd]"]}


# --- -F name=@file: JSON when the field holds JSON ------------------------------------

MESSAGES = [{"role": "user", "content": "Say hi"}]


def test_a_json_field_reads_its_file_as_json(api: respx.MockRouter, tmp_path: Path) -> None:
    (tmp_path / "messages.json").write_text(json.dumps(MESSAGES))
    (tmp_path / "msgs.txt").write_text(json.dumps(MESSAGES))
    (tmp_path / "user.json").write_text('"alice"')
    route = api.post("/chat/completions").respond(200, json={"id": "c1"})
    # The example of docs/scripting.md: the field's schema decides, whatever the name.
    r = invoke(
        "chat",
        "completions",
        "create",
        "--model",
        "gpt-4o-mini",
        "-F",
        "temperature=0.2",
        "-F",
        f"messages=@{tmp_path / 'msgs.txt'}",
        "-F",
        f"user=@{tmp_path / 'user.json'}",
        env=api_env(),
    )
    assert r.code == 0, r
    # --user holds text, so its file is sent as it is.
    assert sent_json(route) == {
        "model": "gpt-4o-mini",
        "temperature": 0.2,
        "messages": MESSAGES,
        "user": '"alice"',
    }


def test_oai_api_reads_a_known_json_field_as_json(api: respx.MockRouter, tmp_path: Path) -> None:
    (tmp_path / "messages.json").write_text(json.dumps(MESSAGES))
    route = api.post("/chat/completions").respond(200, json={"id": "c1"})
    r = invoke(
        "api",
        "post",
        "/chat/completions",
        "-f",
        "model=m",
        "-F",
        f"messages=@{tmp_path / 'messages.json'}",
        env=api_env(),
    )
    assert r.code == 0, r
    assert sent_json(route) == {"model": "m", "messages": MESSAGES}


def test_text_or_json_field_goes_by_the_file_name(api: respx.MockRouter, tmp_path: Path) -> None:
    items = [{"role": "user", "content": "Hi"}]
    (tmp_path / "items.json").write_text(json.dumps(items))
    (tmp_path / "prompt.txt").write_text("[not json] just a prompt\n")
    route = api.post("/responses").respond(200, json={"id": "r1"})
    for path, sent in (("items.json", items), ("prompt.txt", "[not json] just a prompt\n")):
        r = invoke(
            "responses",
            "create",
            "--model",
            "m",
            "-F",
            f"input=@{tmp_path / path}",
            env=api_env(),
        )
        assert r.code == 0, r
        assert sent_json(route) == {"model": "m", "input": sent}


def test_unknown_path_json_file_is_json_and_other_files_text(
    api: respx.MockRouter, tmp_path: Path
) -> None:
    (tmp_path / "cfg.json").write_text('{"depth": 2}')
    (tmp_path / "note.txt").write_text('{"depth": 2}')
    route = api.post("/not_in_the_spec").respond(200, json={})
    r = invoke(
        "api",
        "post",
        "/not_in_the_spec",
        "-F",
        f"cfg=@{tmp_path / 'cfg.json'}",
        "-F",
        f"note=@{tmp_path / 'note.txt'}",
        env=api_env(),
    )
    assert r.code == 0, r
    assert sent_json(route) == {"cfg": {"depth": 2}, "note": '{"depth": 2}'}


def test_a_form_field_that_holds_json_is_read_not_uploaded(
    api: respx.MockRouter, tmp_path: Path
) -> None:
    audio = tmp_path / "a.mp3"
    audio.write_bytes(b"ID3 audio")
    (tmp_path / "cs.json").write_text('{"type": "server_vad"}')
    route = api.post("/audio/transcriptions").respond(200, json={"text": "hi"})
    r = invoke(
        "audio",
        "transcriptions",
        "create",
        "--file",
        str(audio),
        "--model",
        "whisper-1",
        "-F",
        f"chunking_strategy=@{tmp_path / 'cs.json'}",
        env=api_env(),
    )
    assert r.code == 0, r
    content = route.calls.last.request.read()
    assert b'filename="cs.json"' not in content
    assert b'name="chunking_strategy[type]"\r\n\r\nserver_vad' in content
    assert b'filename="a.mp3"' in content


def test_a_json_field_with_bad_json_is_refused(unsent: respx.MockRouter, tmp_path: Path) -> None:
    unsent.post("/chat/completions")
    (tmp_path / "m.txt").write_text('[{"role": "user",')
    r = invoke(
        "chat",
        "completions",
        "create",
        "--model",
        "m",
        "-F",
        f"messages=@{tmp_path / 'm.txt'}",
        env=api_env(),
    )
    assert r.code == 2, r
    assert "-F 'messages=@" in r.err and "invalid JSON at line 1" in r.err
    assert not unsent.calls


# --- a file or a reference ------------------------------------------------------------

VIDEO = {"id": "video_9", "object": "video", "status": "queued"}


def extend(*video: str) -> list[str]:
    return ["videos", "extend", "--video", *video, "--prompt", "more", "--seconds", "4"]


def test_a_video_id_is_sent_as_a_reference(api: respx.MockRouter) -> None:
    route = api.post("/videos/extensions").respond(200, json=VIDEO)
    for given in ("video_123", '{"id": "video_123"}'):
        r = invoke(*extend(given), env=api_env())
        assert r.code == 0, r
        request = route.calls.last.request
        assert request.headers["content-type"] == "application/json"
        assert sent_json(route) == {"video": {"id": "video_123"}, "prompt": "more", "seconds": "4"}


def test_a_video_path_is_uploaded(
    api: respx.MockRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # A file that exists wins over an id of the same spelling.
    (tmp_path / "video_123").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    route = api.post("/videos/edits").respond(200, json=VIDEO)
    r = invoke("videos", "edit", "--video", "video_123", "--prompt", "p", env=api_env())
    assert r.code == 0, r
    request = route.calls.last.request
    assert request.headers["content-type"].startswith("multipart/form-data")
    content = request.read()
    assert b'name="video"; filename="video_123"' in content and b"ftypmp42" in content
    assert b'name="prompt"\r\n\r\np' in content


def test_a_missing_video_file_is_a_usage_error(unsent: respx.MockRouter) -> None:
    unsent.post("/videos/extensions")
    r = invoke(*extend("clips/missing.mp4"), env=api_env())
    assert r.code == 2, r
    assert "--video: file not found: clips/missing.mp4" in r.err
    assert not unsent.calls


def test_a_reference_that_is_no_object_is_refused(unsent: respx.MockRouter) -> None:
    unsent.post("/videos/extensions")
    r = invoke(*extend('{"id": '), env=api_env())
    assert r.code == 2, r
    assert "--video: invalid JSON" in r.err
    assert not unsent.calls


def test_an_image_reference_takes_a_file_id_or_a_url(api: respx.MockRouter) -> None:
    route = api.post("/videos").respond(200, json=VIDEO)
    for given, ref in (
        ("file-abc123", {"file_id": "file-abc123"}),
        ("https://example.com/cat.png", {"image_url": "https://example.com/cat.png"}),
    ):
        r = invoke(
            "videos", "create", "--prompt", "a cat", "--input-reference", given, env=api_env()
        )
        assert r.code == 0, r
        assert sent_json(route) == {"prompt": "a cat", "input_reference": ref}


def test_an_image_mask_takes_a_file_id(
    api: respx.MockRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the edited image is saved here
    image = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
    answer = {"created": 1, "data": [{"b64_json": image}]}
    route = api.post("/images/edits").respond(200, json=answer)
    r = invoke(
        "images",
        "edit",
        "--prompt",
        "p",
        "--mask",
        "file-m1",
        "-F",
        'images=[{"file_id": "file-i1"}]',
        env=api_env(),
    )
    assert r.code == 0, r
    assert sent_json(route) == {
        "prompt": "p",
        "mask": {"file_id": "file-m1"},
        "images": [{"file_id": "file-i1"}],
    }


def test_every_flag_that_takes_a_file_or_a_reference_does() -> None:
    """The flags that take both are those where the spec pairs an upload with an object."""
    from openai_cli.operations.catalogue import GROUPS
    from openai_cli.operations.catalogue import load as load_ops
    from openai_cli.values import takes_reference
    from tools.spec_facts import FACTS_SPEC

    spec = json.loads(FACTS_SPEC.read_text(encoding="utf-8"))
    schemas = spec["components"]["schemas"]

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = schemas[str(node["$ref"]).rsplit("/", 1)[-1]]
        return node

    def is_binary(node: dict[str, Any]) -> bool:
        return resolve(node).get("format") == "binary"

    def is_object(node: dict[str, Any]) -> bool:
        return resolve(node).get("type") == "object"

    expected = set()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            content = op.get("requestBody", {}).get("content", {}) if isinstance(op, dict) else {}
            form = resolve(content.get("multipart/form-data", {}).get("schema", {}))
            body = resolve(content.get("application/json", {}).get("schema", {}))
            for name, field in form.get("properties", {}).items():
                union = field.get("oneOf", []) + field.get("anyOf", [])
                pairs = any(map(is_binary, union)) and any(map(is_object, union))
                in_json = body.get("properties", {}).get(name)
                if pairs or (is_binary(field) and in_json and is_object(in_json)):
                    expected.add((method.upper(), path, name))

    found = {
        (op.method, op.path, p.name)
        for group in GROUPS
        for op in load_ops(group)
        for p in op.body
        if takes_reference(p)
    }
    assert found == expected
    assert len(found) == 4


# --- Unix times: a date or a date-time ------------------------------------------------


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def costs(*args: str) -> list[str]:
    return ["admin", "organization", "usage", "costs", *args]


def test_unix_times_take_dates(api: respx.MockRouter, new_york: None) -> None:
    route = api.get("/organization/costs").respond(200, json={"data": [], "has_more": False})
    r = invoke(
        *costs("--start-time", "2026-11-01", "--end-time", "2026-11-02T12:00:00Z"), env=api_env()
    )
    assert r.code == 0, r
    params = route.calls.last.request.url.params
    # No zone: local time, midnight in New York (UTC-4 on that day).
    assert params["start_time"] == str(1793491200 + 4 * 3600)
    assert params["end_time"] == str(1793491200 + 86400 + 12 * 3600)
    r = invoke(
        *costs("--start-time", "1793491200", "--end-time", "2026-11-01T02:00+02:00"), env=api_env()
    )
    assert r.code == 0, r
    params = route.calls.last.request.url.params
    assert params["start_time"] == "1793491200"
    assert params["end_time"] == "1793491200"


def test_a_bad_time_names_the_flag(unsent: respx.MockRouter) -> None:
    unsent.get("/organization/costs")
    r = invoke(*costs("--start-time", "2026-13-01"), env=api_env())
    assert r.code == 2, r
    assert "--start-time: '2026-13-01' is neither Unix seconds nor an ISO-8601 date" in r.err
    assert "Traceback" not in r.err
    assert not unsent.calls


def test_audit_log_bounds_take_dates(api: respx.MockRouter) -> None:
    route = api.get("/organization/audit_logs").respond(200, json={"data": [], "has_more": False})
    r = invoke(
        "admin",
        "organization",
        "audit-logs",
        "list",
        "--effective-at",
        '{"gte": "2026-11-01T00:00:00Z", "lt": 1793577600}',
        env=api_env(),
    )
    assert r.code == 0, r
    params = route.calls.last.request.url.params
    assert params["effective_at[gte]"] == "1793491200"
    assert params["effective_at[lt]"] == "1793577600"


# -- values in the server's answers -------------------------------------------------------


@pytest.mark.parametrize("answer", [{"object": "file"}, {"id": None}, {"id": ""}, {"id": 7}])
def test_batches_run_on_an_upload_answer_without_an_id(
    api: respx.MockRouter, tmp_path: Path, answer: dict[str, Any]
) -> None:
    """A 200 without the id the run goes on with is an answer the API does not give
    (exit 6), not an internal KeyError."""
    requests = tmp_path / "in.jsonl"
    line = {"custom_id": "a", "method": "POST", "url": "/v1/embeddings",
            "body": {"model": "m", "input": "x"}}  # fmt: skip
    requests.write_text(json.dumps(line) + "\n")
    api.post("/files").respond(json=answer)
    r = invoke("batches", "run", str(requests), "--state", str(tmp_path / "s.json"),
               env=api_env())  # fmt: skip
    assert r.code == 6, r
    assert "files create: the answer has no id" in r.err
    assert "internal error" not in r.err
