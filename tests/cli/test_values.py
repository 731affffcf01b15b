"""How values are written on the command line: JSON arrays for repeated flags, typed
``@file`` fields, list positions in ``-F`` keys, a file or a reference, dates for Unix
times. Every case goes through the real entry point and checks what is sent."""

from __future__ import annotations

import json

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
