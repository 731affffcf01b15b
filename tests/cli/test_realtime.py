"""`oai realtime connect` against a local Realtime WebSocket server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.sync.server import ServerConnection

from tests.helpers import CANARY_KEY, api_env, invoke, oai_process
from tests.serving import ws_server


@dataclass
class FakeRealtime:
    """Answers each user message with "Echo: <text>" in three deltas, like the API.

    ``mode`` makes it misbehave: "reject" answers conversation.item.create with an
    error about that event, "fail" ends the response with status failed, "close"
    drops the connection mid-response, "warn" sends an error about nothing in
    particular before answering, "silent" never answers.
    """

    key: str = CANARY_KEY
    mode: str = "ok"
    header_name: str = "authorization"
    requests: list[tuple[str, Headers]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0

    def expected_auth(self) -> str:
        return f"Bearer {self.key}" if self.header_name == "authorization" else self.key

    def check(self, conn: ServerConnection, request: Request) -> Response | None:
        self.requests.append((request.path, request.headers))
        if request.headers.get(self.header_name) != self.expected_auth():
            body = {"error": {"message": "Incorrect API key provided", "type": "invalid_api_key"}}
            return conn.respond(401, json.dumps(body))
        return None

    def handler(self, conn: ServerConnection) -> None:
        n = 0

        def send(event: dict[str, Any]) -> None:
            nonlocal n
            n += 1
            event = {"event_id": f"event_{n}", **event}
            self.sent.append(event)
            conn.send(json.dumps(event))

        send({"type": "session.created", "session": {"type": "realtime", "model": "x"}})
        last_text = ""
        for message in conn:
            event = json.loads(message)
            self.received.append(event)
            kind = event["type"]
            if kind == "session.update":
                send({"type": "session.updated", "session": event["session"]})
            elif kind == "conversation.item.create":
                if self.mode == "reject":
                    err = {
                        "type": "invalid_request_error",
                        "code": "invalid_value",
                        "message": "The item is not allowed.",
                        "param": "item",
                        "event_id": event["event_id"],
                    }
                    send({"type": "error", "error": err})
                    continue
                last_text = event["item"]["content"][0]["text"]
                send({"type": "conversation.item.added", "item": event["item"]})
            elif kind == "response.create":
                if self.mode == "silent":
                    continue
                send({"type": "response.created", "response": {"id": "resp_1"}})
                if self.mode == "close":
                    conn.close(1011, "upstream went away")
                    return
                if self.mode == "warn":
                    send({"type": "error", "error": {"type": "server_error", "message": "hiccup"}})
                reply = f"Echo: {last_text}"
                if self.mode == "big":
                    # One delta larger than the library's default limit of 1 MiB.
                    reply += " " + "x" * (2 * 1024 * 1024)
                for part in (reply[:3], reply[3:7], reply[7:]):
                    send({"type": "response.output_text.delta", "response_id": "r", "delta": part})
                send({"type": "response.output_text.done", "response_id": "r", "text": reply})
                status = "failed" if self.mode == "fail" else "completed"
                details = (
                    {"type": "failed", "error": {"type": "server_error", "message": "overloaded"}}
                    if self.mode == "fail"
                    else None
                )
                send(
                    {
                        "type": "response.done",
                        "response": {"id": "r", "status": status, "status_details": details},
                    }
                )


@pytest.fixture
def realtime() -> Iterator[FakeRealtime]:
    fake = FakeRealtime()
    with ws_server(fake.handler, process_request=fake.check) as port:
        fake.port = port
        yield fake


def env_for(fake: FakeRealtime, **extra: str) -> dict[str, str]:
    return {**api_env(f"http://127.0.0.1:{fake.port}/v1"), **extra}


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


def test_each_line_is_a_turn_and_the_text_streams_to_stdout(realtime: FakeRealtime) -> None:
    r = invoke("realtime", "connect", input="hello\n\nsecond line\n", env=env_for(realtime))
    assert r.code == 0, r
    assert r.out == "Echo: hello\nEcho: second line\n"
    assert r.err == ""
    path, headers = realtime.requests[0]
    assert path == "/v1/realtime?model=gpt-realtime"
    assert headers["authorization"] == f"Bearer {CANARY_KEY}"
    assert headers["user-agent"].startswith("oai/")
    assert "openai-beta" not in headers
    kinds = [e["type"] for e in realtime.received]
    # The blank line sent nothing.
    assert kinds == [
        "session.update",
        "conversation.item.create",
        "response.create",
        "conversation.item.create",
        "response.create",
    ]
    assert realtime.received[0]["session"] == {"type": "realtime", "output_modalities": ["text"]}
    items = of_type(realtime.received, "conversation.item.create")
    assert [i["item"]["content"] for i in items] == [
        [{"type": "input_text", "text": "hello"}],
        [{"type": "input_text", "text": "second line"}],
    ]
    assert items[0]["item"]["role"] == "user"
    ids = [e["event_id"] for e in realtime.received]
    assert len(set(ids)) == len(ids)


def test_jsonl_prints_every_server_event_in_order(realtime: FakeRealtime) -> None:
    r = invoke("realtime", "connect", "-o", "jsonl", input="hi\n", env=env_for(realtime))
    assert r.code == 0, r
    printed = [json.loads(line) for line in r.out.splitlines()]
    assert printed == realtime.sent
    assert printed[0]["type"] == "session.created"
    assert printed[-1]["type"] == "response.done"
    assert len(of_type(printed, "response.output_text.delta")) == 3


def test_model_instructions_session_and_identity_headers(realtime: FakeRealtime) -> None:
    env = env_for(realtime, OPENAI_ORG_ID="org-abc", OPENAI_PROJECT_ID="proj_xyz")
    r = invoke(
        "realtime",
        "connect",
        "--model",
        "gpt-realtime-mini",
        "--instructions",
        "Be brief.",
        "--session",
        '{"max_output_tokens": 50}',
        input="q\n",
        env=env,
    )
    assert r.code == 0, r
    path, headers = realtime.requests[0]
    assert path == "/v1/realtime?model=gpt-realtime-mini"
    assert headers["openai-organization"] == "org-abc"
    assert headers["openai-project"] == "proj_xyz"
    assert realtime.received[0]["session"] == {
        "type": "realtime",
        "output_modalities": ["text"],
        "instructions": "Be brief.",
        "max_output_tokens": 50,
    }


def test_a_rejected_key_is_an_auth_error_without_the_key(realtime: FakeRealtime) -> None:
    wrong = "sk-test-WRONGKEY0123456789abcdefWRONG"
    env = {**env_for(realtime), "OPENAI_API_KEY": wrong}
    r = invoke("realtime", "connect", "--debug", input="hi\n", env=env)
    assert r.code == 3, r
    assert "HTTP 401" in r.err and "Incorrect API key provided" in r.err
    assert wrong not in r.err + r.out
    assert realtime.received == []


def test_an_error_about_a_sent_message_ends_the_session_with_exit_7(
    realtime: FakeRealtime,
) -> None:
    realtime.mode = "reject"
    r = invoke("realtime", "connect", input="first\nsecond\n", env=env_for(realtime))
    assert r.code == 7, r
    assert "The item is not allowed." in r.err
    assert "invalid_request_error" in r.err
    # It stopped at the first failure: the second line was never sent.
    assert len(of_type(realtime.received, "conversation.item.create")) == 1


def test_a_failed_response_exits_7_with_the_reason(realtime: FakeRealtime) -> None:
    realtime.mode = "fail"
    r = invoke("realtime", "connect", input="hi\n", env=env_for(realtime))
    assert r.code == 7, r
    assert "the response ended failed: overloaded" in r.err
    assert r.out == "Echo: hi\n"


def test_an_unrelated_error_event_is_a_warning(realtime: FakeRealtime) -> None:
    realtime.mode = "warn"
    r = invoke("realtime", "connect", input="hi\n", env=env_for(realtime))
    assert r.code == 0, r
    assert "warning: the server reported an error: hiccup (server_error)" in r.err
    assert r.out == "Echo: hi\n"


def test_the_server_closing_mid_response_exits_7(realtime: FakeRealtime) -> None:
    realtime.mode = "close"
    r = invoke("realtime", "connect", input="hi\n", env=env_for(realtime))
    assert r.code == 7, r
    assert "closed the connection (code 1011: upstream went away)" in r.err


def test_an_event_over_a_mebibyte_streams_whole(realtime: FakeRealtime) -> None:
    realtime.mode = "big"
    r = invoke("realtime", "connect", input="hi\n", env=env_for(realtime))
    assert r.code == 0, r.err
    assert r.out == "Echo: hi " + "x" * (2 * 1024 * 1024) + "\n"


def test_an_event_over_the_limit_is_named_as_such(
    realtime: FakeRealtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openai_cli.commands import realtime as command

    # The limit (64 MiB) made small, so that the test sends megabytes, not a gigabyte.
    monkeypatch.setattr(command, "MAX_FRAME", 1024 * 1024)
    realtime.mode = "big"
    r = invoke("realtime", "connect", input="hi\n", env=env_for(realtime))
    assert r.code == 7, r
    assert len(r.out) < 100, r.out[:100]  # the deltas before the one over the limit
    assert "larger than 1 MiB" in r.err, r.err
    assert "Traceback" not in r.err


def test_no_answer_within_the_timeout_exits_7(realtime: FakeRealtime) -> None:
    realtime.mode = "silent"
    r = invoke("--timeout", "1", "realtime", "connect", input="hi\n", env=env_for(realtime))
    assert r.code == 7, r
    assert "no event from the server in 1 s" in r.err


def test_debug_logs_frames_with_the_key_masked(realtime: FakeRealtime) -> None:
    r = invoke("realtime", "connect", "--debug", input="hi\n", env=env_for(realtime))
    assert r.code == 0, r
    assert "> GET ws://127.0.0.1" in r.err
    assert "Authorization: Bearer ***" in r.err
    assert '"type": "conversation.item.create"' in r.err
    assert "< {" in r.err
    assert CANARY_KEY not in r.err


def test_a_refused_connection_is_a_network_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = invoke("realtime", "connect", input="hi\n", env=api_env(f"http://127.0.0.1:{port}/v1"))
    assert r.code == 6, r
    assert f"could not connect to ws://127.0.0.1:{port}/v1/realtime" in r.err


def test_no_key_is_an_auth_error_before_connecting(realtime: FakeRealtime) -> None:
    env = env_for(realtime)
    del env["OPENAI_API_KEY"]
    r = invoke("realtime", "connect", input="hi\n", env=env)
    assert r.code == 3, r
    assert "no API key" in r.err
    assert realtime.requests == []


def test_dry_run_shows_the_wss_url_and_masked_headers() -> None:
    r = invoke(
        "realtime",
        "connect",
        "--dry-run",
        "-o",
        "json",
        env=api_env("https://api.openai.test/v1"),
    )
    assert r.code == 0, r
    shown = json.loads(r.out)
    assert shown["url"] == "wss://api.openai.test/v1/realtime?model=gpt-realtime"
    assert shown["headers"]["Authorization"] == "Bearer ***"
    assert shown["first"]["type"] == "session.update"
    assert CANARY_KEY not in r.out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-o", "yaml"], "-o yaml"),
        (["--session", "[1]"], "--session: expected a JSON object"),
        (["--session", "{nope"], "--session: not valid JSON"),
    ],
)
def test_usage_errors(args: list[str], needle: str) -> None:
    r = invoke("realtime", "connect", *args, env=api_env())
    assert r.code == 2, r
    assert needle in r.err


def test_plain_ws_to_a_remote_host_is_refused() -> None:
    r = invoke("realtime", "connect", env=api_env("http://api.openai.test/v1"))
    assert r.code == 2, r
    assert "refusing to send the API key over plain http" in r.err


def test_a_real_process_session(realtime: FakeRealtime) -> None:
    proc = oai_process(
        "realtime", "connect", env=env_for(realtime), input=b"one\ntwo\n", timeout=30
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"Echo: one\nEcho: two\n"
