"""`oai responses create --background --wait` follows the response until it ends."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from tests.helpers import api_env, invoke

ENV = {**api_env(), "OAI_POLL_INTERVAL": "0"}


def _response(status: str) -> dict[str, object]:
    return {"id": "resp_1", "object": "response", "status": status, "output": []}


def test_waits_until_completed_and_prints_the_final_state(api: respx.MockRouter) -> None:
    create = api.post("/responses").respond(200, json=_response("queued"))
    poll = api.get("/responses/resp_1")
    poll.side_effect = [
        httpx.Response(200, json=_response("in_progress")),
        httpx.Response(200, json=_response("completed")),
    ]
    r = invoke(
        "responses", "create", "--model", "m", "--input", "hi", "--background", "--wait", env=ENV
    )
    assert r.code == 0, r
    assert json.loads(create.calls.last.request.content)["background"] is True
    assert poll.call_count == 2
    assert json.loads(r.out)["status"] == "completed"


@pytest.mark.parametrize("status", ["failed", "incomplete", "cancelled"])
def test_a_response_that_ends_badly_exits_7(api: respx.MockRouter, status: str) -> None:
    api.post("/responses").respond(200, json=_response("queued"))
    api.get("/responses/resp_1").respond(200, json=_response(status))
    r = invoke(
        "responses", "create", "--model", "m", "--input", "hi", "--background", "--wait", env=ENV
    )
    assert r.code == 7, r
    assert json.loads(r.out)["status"] == status
    assert status in r.err


def test_retrieve_wait_resumes_waiting(api: respx.MockRouter) -> None:
    api.get("/responses/resp_1").respond(200, json=_response("completed"))
    r = invoke("responses", "retrieve", "resp_1", "--wait", env=ENV)
    assert r.code == 0, r
    assert json.loads(r.out)["status"] == "completed"


def test_wait_with_stream_is_a_usage_error(unsent: respx.MockRouter) -> None:
    route = unsent.post("/responses").respond(200, json={})
    r = invoke(
        "responses", "create", "--model", "m", "--input", "hi", "--stream", "--wait", env=ENV
    )
    assert r.code == 2 and "--wait" in r.err
    assert not route.called


def test_timeout_without_wait_is_a_usage_error() -> None:
    r = invoke("responses", "create", "--model", "m", "--input", "hi", "--timeout", "5m", env=ENV)
    assert r.code == 2 and "--timeout" in r.err


def test_retrieve_wait_sends_the_commands_query_on_every_poll(
    api: respx.MockRouter,
) -> None:
    route = api.get("/responses/resp_1")
    route.side_effect = [
        httpx.Response(200, json=_response("queued")),
        httpx.Response(200, json=_response("in_progress")),
        httpx.Response(200, json=_response("completed")),
    ]
    r = invoke(
        "responses",
        "retrieve",
        "resp_1",
        "--include",
        "file_search_call.results",
        "--wait",
        env=ENV,
    )
    assert r.code == 0, r
    assert route.call_count == 3
    for call in route.calls:
        assert call.request.url.params.get_list("include[]") == ["file_search_call.results"]
    assert json.loads(r.out)["status"] == "completed"


def test_retrieve_wait_with_stream_is_a_usage_error(unsent: respx.MockRouter) -> None:
    route = unsent.get("/responses/resp_1").respond(200, json=_response("completed"))
    r = invoke("responses", "retrieve", "resp_1", "--stream", "--wait", env=ENV)
    assert r.code == 2 and "--wait" in r.err
    assert not route.called
