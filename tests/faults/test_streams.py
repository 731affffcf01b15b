"""Scenarios 11-14: server-sent event streams through `oai api ... --stream`."""

from __future__ import annotations

import json

import pytest

from tests.faults.server import FaultServer, sse
from tests.faults.support import TRACEBACK, env_for, oai

pytestmark = pytest.mark.faults

CHAT = ("api", "post", "/chat/completions", "--stream", "-F", "model=m", "-F", "messages=[]")
RESPONSES = ("api", "post", "/responses", "--stream", "-F", "model=m", "-F", "input=hi")


def chat_chunk(text: str) -> bytes:
    body = {"object": "chat.completion.chunk", "choices": [{"delta": {"content": text}}]}
    return b"data: " + json.dumps(body, ensure_ascii=False).encode() + b"\n\n"


def response_event(kind: str, **fields: object) -> bytes:
    return b"data: " + json.dumps({"type": kind, **fields}).encode() + b"\n\n"


COMMANDS = {
    "chat": (CHAT, [chat_chunk("Hel"), chat_chunk("lo")], b"data: [DONE]\n\n"),
    "responses": (
        RESPONSES,
        [
            response_event("response.created", response={"id": "resp_1"}),
            response_event("response.output_text.delta", delta="Hello"),
        ],
        response_event("response.completed", response={"id": "resp_1"}),
    ),
}


# -- 11: cut mid-stream ---------------------------------------------------------------


@pytest.mark.parametrize("api", sorted(COMMANDS))
def test_11_reset_mid_stream_keeps_output_and_never_replays(server: FaultServer, api: str) -> None:
    args, events, _end = COMMANDS[api]
    server.plan(sse(events, end="reset", request_id="req_cut", gap=0.02))
    r = oai(*args, env=env_for(server.base_url))
    assert r.code == 7, r
    assert len(r.out.splitlines()) == 2, "what arrived was printed"
    assert "stream interrupted" in r.err and "req_cut" in r.err
    assert len(server.requests) == 1, "a stream is never replayed"
    assert server.requests[0].json()["stream"] is True
    assert TRACEBACK not in r.err


@pytest.mark.parametrize("api", sorted(COMMANDS))
def test_11_closed_without_the_last_chunk(server: FaultServer, api: str) -> None:
    args, events, _end = COMMANDS[api]
    server.plan(sse(events, end="close", request_id="req_eof"))
    r = oai(*args, env=env_for(server.base_url))
    assert r.code == 7, r
    assert len(r.out.splitlines()) == 2 and "req_eof" in r.err


# -- 12: the stream reports a failure --------------------------------------------------


@pytest.mark.parametrize(
    ("args", "failure", "words"),
    [
        (
            RESPONSES,
            b'event: error\ndata: {"type":"error","code":"server_error","message":"boom"}\n\n',
            "boom",
        ),
        (
            RESPONSES,
            response_event(
                "response.failed",
                response={"id": "resp_1", "error": {"code": "x", "message": "model fell over"}},
            ),
            "model fell over",
        ),
        (
            CHAT,
            b'data: {"error": {"message": "overloaded", "type": "server_error"}}\n\n',
            "overloaded",
        ),
    ],
    ids=["error-event", "response.failed", "chat-data-error"],
)
def test_12_failure_events_exit_7(
    server: FaultServer, args: tuple[str, ...], failure: bytes, words: str
) -> None:
    first = COMMANDS["chat" if args is CHAT else "responses"][1][0]
    server.plan(sse([first, failure, b"data: [DONE]\n\n"], request_id="req_failed"))
    r = oai(*args, env=env_for(server.base_url))
    assert r.code == 7, r
    assert words in r.err and "req_failed" in r.err
    assert r.out.splitlines()[0] == first.decode()[6:].strip()
    assert len(server.requests) == 1


# -- 13: ended early --------------------------------------------------------------------


@pytest.mark.parametrize("api", sorted(COMMANDS))
def test_13_stream_without_its_final_event_exits_7(server: FaultServer, api: str) -> None:
    args, events, _end = COMMANDS[api]
    server.plan(sse(events, request_id="req_short"))  # a clean end, but no [DONE] / completed
    r = oai(*args, env=env_for(server.base_url))
    assert r.code == 7, r
    assert len(r.out.splitlines()) == 2
    assert "ended before its final event" in r.err and "req_short" in r.err


@pytest.mark.parametrize("api", sorted(COMMANDS))
def test_13_complete_stream_exits_0(server: FaultServer, api: str) -> None:
    args, events, end = COMMANDS[api]
    server.plan(sse([*events, end]))
    r = oai(*args, env=env_for(server.base_url))
    assert r.code == 0, r
    assert len(r.out.splitlines()) == len(events) + (api == "responses")


# -- 14: awkward but valid framing, and invalid streams -------------------------------


def test_14_awkward_framing_is_parsed_right(server: FaultServer) -> None:
    e_acute = chat_chunk("é")
    emoji = chat_chunk("😀")
    cut_e = e_acute.index("é".encode()) + 1
    cut_emoji = emoji.index("😀".encode()) + 1
    chunks = [
        b": keepalive\n\n",
        e_acute[:cut_e],  # split inside the two bytes of é
        e_acute[cut_e:],
        b"retry: 3000\n\n",  # an event with nothing but a retry field
        emoji[:cut_emoji],  # split after the first of the four bytes of the emoji
        emoji[cut_emoji:],
        b': ping\r\rdata: {"n": \r',  # CR-only line endings, data over two lines
        b"data: 1}\r\r",
        b'data: {"choices": [],\ndata:  "x": "two lines"}\n\n',
        b"id: 7\nevent: message\ndata:[DONE]\n\n",  # no space after the colon
    ]
    server.plan(sse(chunks, gap=0.03, request_id="req_ok"))
    r = oai(*CHAT, env=env_for(server.base_url))
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert [json.loads(line) for line in lines] == [
        json.loads(e_acute[6:]),
        json.loads(emoji[6:]),
        {"n": 1},
        {"choices": [], "x": "two lines"},
    ]
    assert "é" in lines[0] and "😀" in lines[1]


@pytest.mark.parametrize("ending", [b"\r\n", b"\r"], ids=["crlf", "cr"])
def test_14_whole_stream_with_other_line_endings(server: FaultServer, ending: bytes) -> None:
    body = (chat_chunk("a") + chat_chunk("b") + b"data: [DONE]\n\n").replace(b"\n", ending)
    server.plan(sse([body[i : i + 7] for i in range(0, len(body), 7)]))
    r = oai(*CHAT, env=env_for(server.base_url))
    assert r.code == 0, r
    assert [json.loads(x)["choices"][0]["delta"]["content"] for x in r.out.splitlines()] == [
        "a",
        "b",
    ]


def test_14_invalid_utf8_is_a_clear_protocol_error(server: FaultServer) -> None:
    server.plan(
        sse([chat_chunk("ok"), b'data: {"bad": "\xff\xfe"}\n\n', b"data: [DONE]\n\n"],
            request_id="req_utf8")
    )  # fmt: skip
    r = oai(*CHAT, env=env_for(server.base_url))
    assert r.code == 7, r
    assert "invalid UTF-8" in r.err and "ff" in r.err and "req_utf8" in r.err
    assert len(r.out.splitlines()) == 1
    assert TRACEBACK not in r.err


def test_14_oversized_event_is_a_clear_protocol_error(server: FaultServer) -> None:
    mb = b"x" * (1 << 20)
    server.plan(sse([b'data: {"big": "', *([mb] * 17), b'"}\n\n'], request_id="req_big"))
    r = oai(*CHAT, env=env_for(server.base_url))
    assert r.code == 7, r
    assert "exceeds" in r.err and "byte limit" in r.err and "req_big" in r.err
    assert r.out == ""


def test_14_event_nested_too_deeply_is_passed_through_not_a_crash(server: FaultServer) -> None:
    deep = b"[" * 5000 + b"]" * 5000
    server.plan(sse([b"data: " + deep + b"\n\n", b"data: [DONE]\n\n"]))
    r = oai(*CHAT, env=env_for(server.base_url))
    assert r.code == 0, r
    assert json.loads(r.out) == deep.decode(), "passed on as text, still one JSON line"
    assert TRACEBACK not in r.err
