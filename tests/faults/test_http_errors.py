"""Scenarios 1-5 and 8: the server answers, but not with what was asked for."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from tests.faults.server import FaultServer, raw, respond
from tests.faults.support import TRACEBACK, env_for, oai
from tests.helpers import CANARY_KEY

pytestmark = pytest.mark.faults

ERROR = {"error": {"message": "the server had an error", "type": "server_error"}}


def gaps(server: FaultServer) -> list[float]:
    times = [r.at for r in server.requests]
    return [b - a for a, b in itertools.pairwise(times)]


# -- 1, 2: server errors ------------------------------------------------------------


def test_1_two_500s_then_200_succeeds_after_backoff(server: FaultServer) -> None:
    server.plan(
        respond(500, json=ERROR, request_id="req_a"),
        respond(500, json=ERROR, request_id="req_b"),
        respond(200, json={"object": "list", "data": []}),
    )
    r = oai("api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 0, r
    assert r.out.strip() == '{"object": "list", "data": []}'
    assert len(server.requests) == 3
    first, second = gaps(server)
    # 0.5 s and 1 s, each less up to 25 % jitter, plus process and loopback time.
    assert 0.3 <= first <= 1.0, first
    assert 0.7 <= second <= 1.6, second
    assert "HTTP 500 (request id req_a); retrying in" in r.err
    assert "(attempt 2 of 3)" in r.err and "(attempt 3 of 3)" in r.err
    assert TRACEBACK not in r.err


def test_2_500_on_every_attempt_exits_6_with_the_request_id(server: FaultServer) -> None:
    server.plan(*(respond(500, json=ERROR, request_id=f"req_{i}") for i in range(3)))
    r = oai("api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 6, r
    assert len(server.requests) == 3
    last = r.err.strip().splitlines()
    assert any("HTTP 500" in line and "the server had an error" in line for line in last)
    assert "request id: req_2" in r.err
    assert r.out == ""


def test_2_retries_can_be_turned_off(server: FaultServer) -> None:
    server.plan(respond(503, json=ERROR, request_id="req_once"))
    r = oai("--max-retries", "0", "api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 6, r
    assert len(server.requests) == 1
    assert "retrying" not in r.err and "req_once" in r.err


def test_1_post_retries_keep_one_idempotency_key(server: FaultServer) -> None:
    server.plan(respond(502, "bad gateway"), respond(200, json={"id": "emb"}))
    r = oai("api", "post", "/embeddings", "-F", "model=m", env=env_for(server.base_url))
    assert r.code == 0, r
    keys = [q.headers.get("idempotency-key") for q in server.requests]
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]


# -- 3: rate limits -------------------------------------------------------------------


def test_3_retry_after_ms_is_obeyed(server: FaultServer) -> None:
    server.plan(
        respond(
            429, json={"error": {"message": "slow down"}}, headers=[("retry-after-ms", "1500")]
        ),
        respond(200, json={"data": []}),
    )
    r = oai("api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 0, r
    assert len(server.requests) == 2
    (gap,) = gaps(server)
    assert 1.4 <= gap <= 3.0, gap
    assert "retrying in 1.5 s" in r.err


def test_3_retry_after_an_hour_is_not_waited(server: FaultServer) -> None:
    server.plan(
        respond(
            429,
            json={"error": {"message": "slow down", "type": "requests"}},
            headers=[("retry-after", "3600")],
            request_id="req_slow",
        )
    )
    r = oai("api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 5, r
    assert len(server.requests) == 1
    assert r.elapsed < 10
    assert "wait 1.0 h" in r.err and "req_slow" in r.err


def test_3_insufficient_quota_is_not_retried_and_points_at_billing(server: FaultServer) -> None:
    server.plan(
        respond(
            429,
            json={
                "error": {
                    "message": "You exceeded your current quota",
                    "type": "insufficient_quota",
                    "code": "insufficient_quota",
                }
            },
            request_id="req_quota",
        )
    )
    r = oai("api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 5, r
    assert len(server.requests) == 1
    assert "billing" in r.err and "req_quota" in r.err and "retrying" not in r.err


def test_3_429_after_every_retry_exits_5(server: FaultServer) -> None:
    server.plan(
        *(respond(429, json={"error": {"message": "busy"}}, headers=[("retry-after", "0")]),) * 3
    )
    r = oai("api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 5, r
    assert len(server.requests) == 3


# -- 4: x-should-retry ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("retry-after", "soon"),
        ("retry-after", "Fri, 99 Foo 2024 25:61:00 GMT"),
        ("retry-after", "inf"),
        ("retry-after", "nan"),
        ("retry-after", "-5"),
        ("retry-after", "1e1"),
        ("retry-after-ms", "soon"),
        ("retry-after-ms", "-inf"),
    ],
)
@pytest.mark.parametrize("status", [429, 503])
def test_3_a_malformed_retry_after_falls_back_to_the_backoff(
    server: FaultServer, status: int, name: str, value: str
) -> None:
    server.plan(
        respond(status, json={"error": {"message": "slow down"}}, headers=[(name, value)]),
        respond(200, json={"data": []}),
    )
    r = oai("api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 0, r
    assert len(server.requests) == 2
    (gap,) = gaps(server)
    assert 0.3 <= gap <= 1.0, gap  # the first backoff: 0.5 s less up to 25 % jitter
    assert TRACEBACK not in r.err and "internal error" not in r.err


def test_3_an_absurd_retry_after_is_clamped_not_waited(server: FaultServer) -> None:
    server.plan(
        respond(429, json={"error": {"message": "slow down"}}, headers=[("retry-after", "9" * 400)])
    )
    r = oai("api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 5, r
    assert len(server.requests) == 1
    assert "the server asks to wait more than a day before retrying" in r.err, r
    assert "internal error" not in r.err


def test_3_a_malformed_retry_after_does_not_stop_map(server: FaultServer, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"model": "m", "input": "a"}\n')
    server.plan(
        respond(429, json={"error": {"message": "slow down"}}, headers=[("retry-after", "soon")]),
        respond(200, json={"object": "list", "data": []}),
    )
    r = oai("map", str(src), "--endpoint", "/v1/embeddings", env=env_for(server.base_url))
    assert r.code == 0, r
    assert len(server.requests) == 2 and json.loads(r.out)["response"]["object"] == "list"


def test_9_501_is_never_retried(server: FaultServer) -> None:
    server.plan(
        respond(501, json={"error": {"message": "not here"}}, headers=[("x-should-retry", "true")])
    )
    r = oai("api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 6, r
    assert len(server.requests) == 1 and "retrying" not in r.err


def test_4_should_retry_false_overrules_a_503(server: FaultServer) -> None:
    server.plan(respond(503, json=ERROR, headers=[("x-should-retry", "false")]))
    r = oai("api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 6, r
    assert len(server.requests) == 1 and "retrying" not in r.err


def test_4_should_retry_true_retries_a_400(server: FaultServer) -> None:
    server.plan(
        respond(
            400, json={"error": {"message": "try again"}}, headers=[("x-should-retry", "true")]
        ),
        respond(200, json={"data": []}),
    )
    r = oai("api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 0, r
    assert len(server.requests) == 2 and "HTTP 400" in r.err and "retrying" in r.err


def test_4_plain_400_is_not_retried(server: FaultServer) -> None:
    server.plan(respond(400, json={"error": {"message": "bad", "param": "model"}}))
    r = oai("api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 1, r
    assert len(server.requests) == 1


# -- 5: rejected keys -----------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_5_rejected_key_exit_3_names_its_source_masked(server: FaultServer, status: int) -> None:
    server.plan(
        respond(
            status,
            json={
                "error": {
                    "message": f"Incorrect API key provided: {CANARY_KEY}.",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            },
            request_id="req_auth",
        )
    )
    r = oai("api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 3, r
    assert len(server.requests) == 1
    assert f"HTTP {status}" in r.err and "req_auth" in r.err
    assert "came from env OPENAI_API_KEY" in r.err
    assert f"{CANARY_KEY[:7]}...{CANARY_KEY[-4:]}" in r.err  # masked, enough to tell keys apart
    assert CANARY_KEY not in r.err


def test_5_admin_key_rejection_names_the_admin_key(server: FaultServer) -> None:
    server.plan(respond(401, json={"error": {"message": "no"}}))
    r = oai("api", "get", "/organization/projects", env=env_for(server.base_url))
    assert r.code == 3, r
    assert "came from env OPENAI_ADMIN_KEY" in r.err


# -- 8: answers that are not JSON -----------------------------------------------------


def test_8_html_502_from_a_proxy_is_summarised_briefly(server: FaultServer) -> None:
    page = (
        "<html><head><title>502 Bad Gateway</title></head><body>"
        + "<h1>502 Bad Gateway</h1>" * 2000
        + "</body></html>"
    )
    server.plan(respond(502, page, headers=[("content-type", "text/html")], request_id="req_proxy"))
    r = oai("--max-retries", "0", "api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 6, r
    assert "HTTP 502" in r.err and "text/html" in r.err and "502 Bad Gateway" in r.err
    assert "req_proxy" in r.err
    assert len(r.err) < 800, "an excerpt, not the page"


def test_8_200_with_invalid_json(server: FaultServer) -> None:
    server.plan(
        respond(
            200,
            '{"object": "list", "data": [' + "x" * 5000,
            headers=[("content-type", "application/json")],
            request_id="req_badjson",
        )
    )
    r = oai("api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 6, r
    assert "HTTP 200" in r.err and "not valid JSON" in r.err
    assert '{"object": "list"' in r.err and "req_badjson" in r.err
    assert len(r.err) < 600
    assert TRACEBACK not in r.err


DEEP = "[" * 5000 + "]" * 5000  # valid JSON, nested past the parser's recursion limit


@pytest.mark.parametrize("status", [200, 400])
def test_8_json_nested_too_deeply_is_an_error_not_a_crash(server: FaultServer, status: int) -> None:
    server.plan(
        respond(status, DEEP, headers=[("content-type", "application/json")], request_id="req_deep")
    )
    r = oai("api", "get", "/models", env=env_for(server.base_url))
    assert r.code == (6 if status == 200 else 1), r
    assert f"HTTP {status}" in r.err and "req_deep" in r.err
    assert "internal error" not in r.err and TRACEBACK not in r.err


def test_8_garbage_instead_of_http(server: FaultServer) -> None:
    server.always(raw(b"SSH-2.0-OpenSSH_9.6\r\n\x00\xff garbage\r\n\r\n"))
    r = oai("--max-retries", "1", "api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 6, r
    assert len(server.requests) == 2, "retried once, like any broken connection"
    assert f"talking to {server.base_url}" in r.err
    assert "internal error" not in r.err and TRACEBACK not in r.err
