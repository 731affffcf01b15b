"""`oai realtime calls create`: the SDP offer and the session, each in a typed form part."""

from __future__ import annotations

import json
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import httpx
import respx

from tests.helpers import BASE, api_env, invoke

OFFER = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
# Empty objects and arrays, and a list of tools, are what bracketed form fields lose.
SESSION = {
    "type": "realtime",
    "model": "gpt-realtime",
    "audio": {"input": {}},
    "tools": [
        {"type": "function", "name": "lookup", "parameters": {"type": "object"}},
        {"type": "function", "name": "hang_up", "parameters": {}},
    ],
    "include": [],
}


def form_parts(request: httpx.Request) -> list[Message]:
    """The parts of a multipart/form-data request, as email messages (headers and payload)."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = message_from_bytes(head + request.content)
    assert message.is_multipart()
    parts: list[Message] = message.get_payload()  # type: ignore[assignment]
    return parts


def send_create(*args: str) -> httpx.Request:
    with respx.mock(base_url=BASE, assert_all_called=True) as api:
        route = api.post("/realtime/calls").respond(
            201, text="v=0\r\n", headers={"content-type": "application/sdp"}
        )
        r = invoke("realtime", "calls", "create", *args, env=api_env())
    assert r.code == 0, r
    assert r.out == "v=0\r\n"
    request: httpx.Request = route.calls[0].request
    return request


def check_parts(request: httpx.Request) -> None:
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    parts = form_parts(request)
    assert [p.get_param("name", header="content-disposition") for p in parts] == ["sdp", "session"]
    sdp, session = parts
    assert sdp.get_content_type() == "application/sdp"
    assert sdp.get_payload(decode=True) == OFFER.encode()
    assert session.get_content_type() == "application/json"
    # A form field, not a file: no file name.
    assert session.get_param("filename", header="content-disposition") is None
    payload = session.get_payload(decode=True)
    assert isinstance(payload, bytes) and json.loads(payload) == SESSION


def test_session_is_one_json_part() -> None:
    check_parts(send_create("--sdp", OFFER, "--session", json.dumps(SESSION)))


def test_session_from_body_or_fields_is_one_json_part_too(tmp_path: Path) -> None:
    body = tmp_path / "call.json"
    body.write_text(json.dumps({"sdp": OFFER, "session": SESSION}))
    check_parts(send_create("--body", f"@{body}"))
    check_parts(send_create("--sdp", OFFER, "-F", f"session={json.dumps(SESSION)}"))


def test_api_command_sends_the_same_parts() -> None:
    with respx.mock(base_url=BASE, assert_all_called=True) as api:
        route = api.post("/realtime/calls").respond(201, text="v=0\r\n")
        r = invoke(
            "api",
            "POST",
            "/realtime/calls",
            "-f",
            f"sdp={OFFER}",
            "-F",
            f"session={json.dumps(SESSION)}",
            env=api_env(),
        )
    assert r.code == 0, r
    check_parts(route.calls[0].request)
