"""`oai ask` and `oai repl`: the requests they build and what they print."""

from __future__ import annotations

import base64
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from openai_cli.commands.repl import Session, read_message, run_session
from openai_cli.context import Factory
from openai_cli.io import IO
from tests.cli.test_live import completed, created, delta, sse
from tests.helpers import BASE, api_env, invoke


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "state"
    monkeypatch.setenv("OAI_STATE_DIR", str(path))
    return path


def session_io(stdin: str = "") -> IO:
    """Streams for an in-process session, with this test's config and state dirs."""
    env = {**os.environ, **api_env()}
    return IO(stdin=io.StringIO(stdin), stdout=io.StringIO(), stderr=io.StringIO(), env=env)


def answer(text: str, rid: str = "resp_1", status: str = "completed") -> dict[str, Any]:
    return {
        "id": rid,
        "object": "response",
        "status": status,
        "model": "m",
        "output": [
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ],
        "usage": {"input_tokens": 4, "output_tokens": 2, "total_tokens": 6},
    }


def sent(route: respx.Route, n: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls[n].request.content)
    return body


def test_ask_prints_the_answer_text_when_piped(api: respx.MockRouter) -> None:
    route = api.post("/responses").respond(200, json=answer("This is a test."))
    r = invoke("ask", "-m", "gpt-test", "Say", "this is a test", env=api_env())
    assert r.code == 0, r
    assert r.out == "This is a test.\n"
    # Piped, the answer is asked for whole: no "stream" in the body.
    assert sent(route) == {"model": "gpt-test", "input": "Say this is a test"}


def test_ask_streams_on_a_terminal(api: respx.MockRouter) -> None:
    route = api.post("/responses").mock(
        return_value=sse([created(), delta("Stream"), delta("ed."), completed()])
    )
    r = invoke("ask", "-m", "m", "hi", env=api_env(), stdout_tty=True, stdin_tty=True)
    assert r.code == 0, r
    assert r.out == "Streamed.\n"
    assert sent(route)["stream"] is True
    assert route.calls.last.request.headers["accept"] == "text/event-stream"


def test_piped_stdin_is_context_before_the_prompt(api: respx.MockRouter) -> None:
    route = api.post("/responses").respond(200, json=answer("Looks fine."))
    r = invoke("ask", "-m", "m", "review this", input="diff --git a b\n+x\n", env=api_env())
    assert r.code == 0, r
    assert sent(route)["input"] == [
        {"role": "user", "content": "diff --git a b\n+x\n"},
        {"role": "user", "content": "review this"},
    ]


def test_stdin_alone_is_the_prompt(api: respx.MockRouter) -> None:
    route = api.post("/responses").respond(200, json=answer("4"))
    r = invoke("ask", "-m", "m", input="what is 2+2?", env=api_env())
    assert r.code == 0, r
    assert sent(route)["input"] == "what is 2+2?"


def test_every_option_reaches_the_request(api: respx.MockRouter, tmp_path: Path) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text('{"type": "object", "properties": {"n": {"type": "integer"}}}')
    route = api.post("/responses").respond(200, json=answer('{"n": 4}'))
    r = invoke(
        "ask", "-m", "m", "--system", "Be terse.", "--schema", f"@{schema}",
        "--max-output-tokens", "50", "-r", "low", "-F", "temperature=0",
        "--previous-response-id", "resp_0", "count", env=api_env(),
    )  # fmt: skip
    assert r.code == 0, r
    assert r.out == '{"n": 4}\n'
    assert sent(route) == {
        "model": "m",
        "input": "count",
        "instructions": "Be terse.",
        "previous_response_id": "resp_0",
        "text": {
            "format": {
                "type": "json_schema",
                "name": "output",
                "schema": {"type": "object", "properties": {"n": {"type": "integer"}}},
            }
        },
        "max_output_tokens": 50,
        "reasoning": {"effort": "low"},
        "temperature": 0,
    }


def test_schema_object_with_name_and_strict_is_used_as_is(api: respx.MockRouter) -> None:
    route = api.post("/responses").respond(200, json=answer("{}"))
    schema = '{"name": "point", "strict": true, "schema": {"type": "object"}}'
    r = invoke("ask", "-m", "m", "--schema", schema, "p", env=api_env())
    assert r.code == 0, r
    assert sent(route)["text"]["format"] == {
        "type": "json_schema",
        "name": "point",
        "strict": True,
        "schema": {"type": "object"},
    }


def test_attachments(api: respx.MockRouter, tmp_path: Path) -> None:
    png = tmp_path / "chart.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\nDATA")
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(b"%PDF-1.4 ...")
    notes = tmp_path / "notes.txt"
    notes.write_text("remember the milk")
    route = api.post("/responses").respond(200, json=answer("ok"))
    r = invoke(
        "ask", "-m", "m", "-a", str(png), "--file", str(pdf), "--attach", str(notes),
        "--file", "https://example.com/cat.jpg", "--file", "file-abc123", "what are these?",
        env=api_env(),
    )  # fmt: skip
    assert r.code == 0, r
    parts = sent(route)["input"][0]["content"]
    assert parts == [
        {
            "type": "input_image",
            "image_url": "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode(),
            "detail": "auto",
        },
        {
            "type": "input_file",
            "filename": "paper.pdf",
            "file_data": "data:application/pdf;base64,"
            + base64.b64encode(pdf.read_bytes()).decode(),
        },
        {"type": "input_text", "text": "File notes.txt:\n\nremember the milk"},
        {"type": "input_image", "image_url": "https://example.com/cat.jpg", "detail": "auto"},
        {"type": "input_file", "file_id": "file-abc123"},
        {"type": "input_text", "text": "what are these?"},
    ]


def test_missing_attachment_is_a_usage_error(unsent: respx.MockRouter) -> None:
    route = unsent.post("/responses").respond(200, json=answer("never"))
    r = invoke("ask", "-m", "m", "-a", "/nonexistent.png", "x", env=api_env())
    assert r.code == 2
    assert "--file #1: file not found: /nonexistent.png" in r.err
    assert not route.called


def test_no_model_anywhere_uses_the_built_in_default(api: respx.MockRouter) -> None:
    route = api.post("/responses").respond(200, json=answer("ok"))
    r = invoke("ask", "hello", env=api_env())
    assert r.code == 0, r
    assert sent(route)["model"] == "gpt-4o-mini"
    shown = invoke("ask", "--help")
    assert "else gpt-4o-mini" in " ".join(shown.out.split())


def test_model_defaults_to_the_profile_model(api: respx.MockRouter) -> None:
    route = api.post("/responses").respond(200, json=answer("ok"))
    r = invoke("--default-model", "gpt-default", "ask", "hello", env=api_env())
    assert r.code == 0, r
    assert sent(route)["model"] == "gpt-default"


def test_continue_follows_on_from_the_last_answer(api: respx.MockRouter) -> None:
    route = api.post("/responses").mock(
        side_effect=[
            httpx.Response(200, json=answer("Paris.", rid="resp_first")),
            httpx.Response(200, json=answer("Paris, France.", rid="resp_second")),
            httpx.Response(200, json=answer("Yes.", rid="resp_third")),
        ]
    )
    assert invoke("ask", "-m", "gpt-x", "capital of France?", env=api_env()).code == 0
    r = invoke("ask", "-c", "and the country?", env=api_env())
    assert r.code == 0, r
    assert r.out == "Paris, France.\n"
    assert sent(route, 1) == {
        "model": "gpt-x",
        "input": "and the country?",
        "previous_response_id": "resp_first",
    }
    assert invoke("ask", "--continue", "sure?", env=api_env()).code == 0
    assert sent(route, 2)["previous_response_id"] == "resp_second"


def test_continue_with_nothing_to_continue_is_exit_2(unsent: respx.MockRouter) -> None:
    route = unsent.post("/responses").respond(200, json=answer("never"))
    r = invoke("ask", "-m", "m", "-c", "more", env=api_env())
    assert r.code == 2
    assert "no earlier answer" in r.err
    assert not route.called


@pytest.mark.parametrize("field", ["id", "cid"])
@pytest.mark.parametrize("value", [5, ["resp_1"], {"a": 1}, True])
def test_continue_from_a_remembered_answer_of_another_kind_is_nothing_to_continue(
    unsent: respx.MockRouter, state_dir: Path, field: str, value: object
) -> None:
    # An id of 5 went out as previous_response_id (the API refused it, exit 1); a
    # list as the logged conversation was "Error binding parameter" from SQLite.
    route = unsent.post("/responses").respond(200, json=answer("never"))
    from openai_cli.http.redact import stored_url

    state_dir.mkdir(parents=True, exist_ok=True)
    kept = state_dir / "last-response.json"
    entry = {"id": "resp_1", "cid": None, "model": "m", field: value}
    where = stored_url(api_env()["OPENAI_BASE_URL"], query=True)
    kept.write_text(json.dumps({f"@{where}": entry}))
    r = invoke("ask", "-m", "m", "-c", "more", env=api_env())
    assert r.code == 2, r
    assert "no earlier answer" in r.err
    assert not route.called


def test_o_json_prints_the_whole_response(api: respx.MockRouter) -> None:
    body = answer("hi")
    api.post("/responses").respond(200, json=body)
    r = invoke("ask", "-m", "m", "x", "-o", "json", env=api_env())
    assert r.code == 0, r
    assert json.loads(r.out) == body


def test_stream_with_o_jsonl_prints_events_and_remembers_the_id(
    api: respx.MockRouter, state_dir: Path
) -> None:
    api.post("/responses").mock(return_value=sse([created("resp_s"), delta("x"), completed()]))
    r = invoke("ask", "-m", "m", "--stream", "x", "-o", "jsonl", env=api_env())
    assert r.code == 0, r
    assert [json.loads(line)["type"] for line in r.out.splitlines()] == [
        "response.created",
        "response.output_text.delta",
        "response.completed",
    ]
    saved = json.loads((state_dir / "last-response.json").read_text())
    assert [v["id"] for v in saved.values()] == ["resp_s"]


def test_incomplete_answer_prints_what_came_and_exits_7(api: respx.MockRouter) -> None:
    body = answer("cut sho", status="incomplete")
    body["incomplete_details"] = {"reason": "max_output_tokens"}
    api.post("/responses").respond(200, json=body, headers={"x-request-id": "req_7"})
    r = invoke("ask", "-m", "m", "x", env=api_env())
    assert r.code == 7, r
    assert r.out == "cut sho\n"
    assert (
        "the answer is incomplete: it reached the output token limit (max_output_tokens)" in r.err
    )
    assert "req_7" in r.err


def test_verbose_shows_usage(api: respx.MockRouter) -> None:
    api.post("/responses").respond(200, json=answer("ok"), headers={"x-request-id": "req_v"})
    r = invoke("ask", "-m", "m", "x", "-v", env=api_env())
    assert r.code == 0, r
    assert "request id: req_v" in r.err
    assert "usage: input_tokens 4, output_tokens 2, total_tokens 6" in r.err


def test_dry_run_sends_nothing(unsent: respx.MockRouter) -> None:
    route = unsent.post("/responses").respond(200, json=answer("never"))
    r = invoke("ask", "-m", "m", "hello", "--dry-run", env=api_env())
    assert r.code == 0, r
    shown = json.loads(r.out)
    assert shown["body"] == {"model": "m", "input": "hello"}
    assert shown["url"] == f"{BASE}/responses"
    assert not route.called


# -- oai repl ----------------------------------------------------------------------------


def test_read_message_joins_continued_and_block_lines() -> None:
    lines = iter(["first \\", "second", '"""', "a", "", "b", '"""'])

    def read(prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    assert read_message(read) == "first \nsecond"
    assert read_message(read) == "a\n\nb"
    with pytest.raises(EOFError):
        read_message(read)


def test_repl_keeps_history_server_side_and_switches_model(api: respx.MockRouter) -> None:
    route = api.post("/responses").mock(
        side_effect=[
            sse([created("resp_a"), delta("One."), completed("resp_a")]),
            sse([created("resp_b"), delta("Two."), completed("resp_b")]),
        ]
    )
    script = 'hello\n/model gpt-other\n"""\nline 1\nline 2\n"""\n/exit\nnever sent\n'
    r = invoke("repl", "-m", "gpt-x", "--system", "Be brief.", input=script, env=api_env())
    assert r.code == 0, r
    assert r.out == "One.\nTwo.\n"
    assert "model: gpt-other" in r.err
    assert len(route.calls) == 2
    assert sent(route, 0) == {
        "model": "gpt-x",
        "input": "hello",
        "instructions": "Be brief.",
        "stream": True,
    }
    assert sent(route, 1) == {
        "model": "gpt-other",
        "input": "line 1\nline 2",
        "instructions": "Be brief.",
        "previous_response_id": "resp_a",
        "stream": True,
    }


def test_repl_with_a_conversation_sends_every_turn_to_it(api: respx.MockRouter) -> None:
    route = api.post("/responses").mock(
        side_effect=[
            sse([created("resp_a"), delta("A"), completed("resp_a")]),
            sse([created("resp_b"), delta("B"), completed("resp_b")]),
        ]
    )
    r = invoke("repl", "-m", "m", "--conversation", "conv_1", input="x\ny\n", env=api_env())
    assert r.code == 0, r
    for n in (0, 1):
        assert sent(route, n)["conversation"] == "conv_1"
        assert "previous_response_id" not in sent(route, n)


def test_repl_reports_an_api_error_and_goes_on(api: respx.MockRouter) -> None:
    api.post("/responses").mock(
        side_effect=[
            httpx.Response(400, json={"error": {"message": "bad model", "type": "invalid"}}),
            sse([created("resp_b"), delta("fine"), completed("resp_b")]),
        ]
    )
    r = invoke("repl", "-m", "m", input="a\nb\n", env=api_env())
    assert r.code == 0, r
    assert "bad model" in r.err
    assert r.out == "fine\n"


def test_ctrl_c_cancels_the_answer_not_the_session(api: respx.MockRouter) -> None:
    def interrupted() -> httpx.Response:
        def body() -> Iterator[bytes]:
            yield created("resp_cancelled") + delta("This answer is cut")
            raise KeyboardInterrupt

        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())

    route = api.post("/responses").mock(
        side_effect=[
            sse([created("resp_1"), delta("First."), completed("resp_1")]),
            interrupted(),
            sse([created("resp_3"), delta("Third."), completed("resp_3")]),
        ]
    )
    the_io = session_io("one\ntwo\nthree\n")
    with Factory(the_io) as factory:
        rc = run_session(factory, Session(model="m"))
    assert rc == 0
    assert the_io.stdout.getvalue() == "First.\nThis answer is cut\nThird.\n"  # type: ignore[attr-defined]
    assert "(answer cancelled)" in the_io.stderr.getvalue()  # type: ignore[attr-defined]
    assert len(route.calls) == 3
    # The cancelled turn is left out of the history.
    assert sent(route, 1)["previous_response_id"] == "resp_1"
    assert sent(route, 2)["previous_response_id"] == "resp_1"


def test_ctrl_c_at_the_prompt_only_clears_the_line(api: respx.MockRouter) -> None:
    route = api.post("/responses").mock(return_value=sse([delta("ok"), completed()]))
    inputs: list[str | type[BaseException]] = [KeyboardInterrupt, "hello", EOFError]

    def read(prompt: str) -> str:
        item = inputs.pop(0)
        if isinstance(item, str):
            return item
        raise item

    with Factory(session_io()) as factory:
        assert run_session(factory, Session(model="m"), read=read) == 0
    assert inputs == []
    assert len(route.calls) == 1
    assert sent(route)["input"] == "hello"


def test_repl_unknown_command_is_not_sent(api: respx.MockRouter) -> None:
    r = invoke("repl", "-m", "m", input="/nope\n/help\n", env=api_env())
    assert r.code == 0, r
    assert "unknown command /nope" in r.err
    assert "/exit" in r.err


# -- the local log on the Responses API --------------------------------------------------


def logged() -> list[dict[str, Any]]:
    r = invoke("logs", "-o", "json")
    assert r.code == 0, r
    data: list[dict[str, Any]] = json.loads(r.out)["data"]
    return data


def test_cid_continues_a_logged_conversation_by_its_response_id(api: respx.MockRouter) -> None:
    route = api.post("/responses").mock(
        side_effect=[
            httpx.Response(200, json=answer("Paris.", rid="resp_first")),
            httpx.Response(200, json=answer("Other.", rid="resp_other")),
            httpx.Response(200, json=answer("France.", rid="resp_second")),
        ]
    )
    assert invoke("ask", "-m", "gpt-x", "capital?", env=api_env()).code == 0
    assert invoke("ask", "-m", "gpt-y", "something else", env=api_env()).code == 0
    first = logged()[1]
    assert first["exchanges"][0]["response_id"] == "resp_first"
    r = invoke("ask", "--cid", first["id"], "which country?", env=api_env())
    assert r.code == 0, r
    assert sent(route, 2) == {
        "model": "gpt-x",
        "input": "which country?",
        "previous_response_id": "resp_first",
    }
    assert [e["prompt"] for e in logged()[0]["exchanges"]] == ["capital?", "which country?"]


def test_store_false_sends_the_history_again(api: respx.MockRouter) -> None:
    route = api.post("/responses").mock(
        side_effect=[
            httpx.Response(200, json=answer("Paris.", rid="resp_unstored")),
            httpx.Response(200, json=answer("France.", rid="resp_2")),
        ]
    )
    r = invoke("ask", "-m", "m", "-F", "store=false", "capital?", env=api_env())
    assert r.code == 0, r
    r = invoke("ask", "-c", "-F", "store=false", "which country?", env=api_env())
    assert r.code == 0, r
    assert sent(route, 1) == {
        "model": "m",
        "input": [
            {"role": "user", "content": "capital?"},
            {"role": "assistant", "content": "Paris."},
            {"role": "user", "content": "which country?"},
        ],
        "store": False,
    }


def test_an_api_error_leaves_nothing_in_the_log(api: respx.MockRouter) -> None:
    api.post("/responses").respond(400, json={"error": {"message": "bad model"}})
    r = invoke("ask", "-m", "m", "x", env=api_env())
    assert r.code == 1, r
    assert logged() == []


def test_continue_and_cid_together_is_exit_2(unsent: respx.MockRouter) -> None:
    r = invoke("ask", "-c", "--cid", "abc", "x", env=api_env())
    assert r.code == 2
    assert "--continue and --cid: give one, not both" in r.err
    r = invoke("ask", "--cid", "abc", "x", env=api_env())
    assert r.code == 2
    assert "--cid abc: no such conversation" in r.err
