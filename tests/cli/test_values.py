"""How values are written on the command line: JSON arrays for repeated flags, typed
``@file`` fields, list positions in ``-F`` keys, a file or a reference, dates for Unix
times. Every case goes through the real entry point and checks what is sent."""

from __future__ import annotations

import json
from pathlib import Path

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
