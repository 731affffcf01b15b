"""`ask -c` and `repl` on a server that has `/responses` but keeps no responses.

llama.cpp's server answers the Responses API but refuses ``previous_response_id``
(HTTP 400, "llama.cpp does not support 'previous_response_id'."), so a follow-up turn
must carry the logged history instead, through Chat Completions.
"""

from __future__ import annotations

from typing import Any

import httpx
import respx

from tests.cli.test_ask import answer, sent
from tests.helpers import api_env, invoke

REFUSED = {
    "error": {
        "code": 400,
        "message": "llama.cpp does not support 'previous_response_id'.",
        "type": "invalid_request_error",
    }
}


def chat_answer(text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
    }


def test_continue_where_the_server_refuses_previous_response_id(api: respx.MockRouter) -> None:
    responses = api.post("/responses").mock(
        side_effect=[
            httpx.Response(200, json=answer("Hello Ada.", rid="resp_1")),
            httpx.Response(400, json=REFUSED),
        ]
    )
    chat = api.post("/chat/completions").mock(
        side_effect=[
            httpx.Response(200, json=chat_answer("Your name is Ada.")),
            httpx.Response(200, json=chat_answer("Goodbye.")),
        ]
    )
    assert invoke("ask", "-m", "m", "I am Ada.", env=api_env()).code == 0
    r = invoke("ask", "-c", "Who am I?", env=api_env())
    assert r.code == 0, r
    assert r.out == "Your name is Ada.\n"
    assert r.err == (
        "oai: this server keeps no responses to continue from (HTTP 400: llama.cpp does not "
        "support 'previous_response_id'.); using /v1/chat/completions from now on with this "
        "server (--api responses to try again)\n"
    )
    assert sent(responses, 1)["previous_response_id"] == "resp_1"
    assert sent(chat, 0)["messages"] == [
        {"role": "user", "content": "I am Ada."},
        {"role": "assistant", "content": "Hello Ada."},
        {"role": "user", "content": "Who am I?"},
    ]
    # Found out once, remembered: the next turn goes straight to chat, with the history.
    r = invoke("ask", "-c", "Bye.", env=api_env())
    assert r.code == 0, r
    assert r.err == ""
    assert len(responses.calls) == 2
    assert [m["content"] for m in sent(chat, 1)["messages"]] == [
        "I am Ada.",
        "Hello Ada.",
        "Who am I?",
        "Your name is Ada.",
        "Bye.",
    ]


def test_explicit_responses_names_the_way_around(api: respx.MockRouter) -> None:
    api.post("/responses").mock(
        side_effect=[
            httpx.Response(200, json=answer("Hello Ada.", rid="resp_1")),
            httpx.Response(400, json=REFUSED),
        ]
    )
    assert invoke("ask", "-m", "m", "I am Ada.", env=api_env()).code == 0
    r = invoke("ask", "--api", "responses", "-c", "Who am I?", env=api_env())
    assert r.code == 1, r
    assert r.err.splitlines()[-1] == (
        "  this server keeps no responses to continue from; "
        "--api chat sends the logged history instead"
    )


def test_other_bad_requests_are_not_taken_for_it(api: respx.MockRouter) -> None:
    bad = {"error": {"message": "Unknown parameter: 'colour'.", "type": "invalid_request_error"}}
    api.post("/responses").mock(
        side_effect=[
            httpx.Response(200, json=answer("Hello Ada.", rid="resp_1")),
            httpx.Response(400, json=bad),
        ]
    )
    assert invoke("ask", "-m", "m", "I am Ada.", env=api_env()).code == 0
    r = invoke("ask", "-c", "-F", "colour=red", "Who am I?", env=api_env())
    assert r.code == 1, r
    assert "Unknown parameter" in r.err
    assert "keeps no responses" not in r.err


def test_repl_goes_on_with_the_history(api: respx.MockRouter) -> None:
    responses = api.post("/responses").mock(
        side_effect=[
            httpx.Response(200, json=answer("One.", rid="resp_1")),
            httpx.Response(400, json=REFUSED),
        ]
    )
    chat = api.post("/chat/completions").mock(
        side_effect=[
            httpx.Response(200, json=chat_answer("Two.")),
            httpx.Response(200, json=chat_answer("Three.")),
        ]
    )
    r = invoke("repl", "-m", "m", input="first\nsecond\nthird\n", env=api_env())
    assert r.code == 0, r
    assert r.out == "One.\nTwo.\nThree.\n"
    assert "keeps no responses" in r.err
    assert len(responses.calls) == 2
    assert [m["content"] for m in sent(chat, 1)["messages"]] == [
        "first",
        "One.",
        "second",
        "Two.",
        "third",
    ]
