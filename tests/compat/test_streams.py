"""Event streams framed as servers other than the OpenAI API frame them.

Each case runs the real ``oai`` as a process against a local server sending one
framing, and checks the whole of stdout, the exit code and stderr: a stream that
ended cleanly prints the full answer and exits 0, one that was really cut keeps
what arrived and exits 7 with one line saying so.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

import pytest

from tests.compat.servers import (
    DONE,
    PIECES,
    REQUEST_ID,
    TEXT,
    USAGE,
    chat_chunks,
    completion_chunks,
    crlf,
    data,
    gzip_sse,
    response_events,
)
from tests.faults.server import Action, FaultServer, sse
from tests.faults.support import TRACEBACK, env_for, oai
from tests.helpers import invoke

CHAT = (
    "chat", "completions", "create", "--model", "m",
    "--messages", '[{"role": "user", "content": "hi"}]', "--stream",
)  # fmt: skip
COMPLETIONS = ("completions", "create", "--model", "m", "--prompt", "hi", "--stream")
RESPONSES = ("responses", "create", "--model", "m", "--input", "hi", "--stream")
UNKNOWN = ("api", "post", "/some/unknown", "--stream", "-F", "x=1")

CUT = (
    "oai: stream interrupted (RemoteProtocolError); the output above is partial"
    f" (request id {REQUEST_ID})\n"
)
RESET = re.compile(
    r"oai: stream interrupted \((ReadError|RemoteProtocolError)\); the output above is partial"
    rf" \(request id {REQUEST_ID}\)\n"
)
NO_OBJECT: dict[str, Any] = {}
PLURAL = {"object": "chat.completions.chunk"}
OFFICIAL_CHAT = {"object": "chat.completion.chunk"}
OFFICIAL_TEXT = {"object": "text_completion"}


def stream(chunks: list[bytes], **kw: Any) -> Action:
    return sse(chunks, request_id=REQUEST_ID, **kw)


@dataclass
class Case:
    args: tuple[str, ...]
    action: Action
    out: str = TEXT + "\n"
    code: int = 0
    err: str | re.Pattern[str] = ""
    quick: bool = False
    """The server keeps the connection open: oai must be done long before it gives up."""


def _answers(
    args: tuple[str, ...], chunks: Any, official: dict[str, Any], cut_after: int
) -> dict[str, Case]:
    """The framings of a chat or completions stream; ``chunks(label, finish=...)`` builds one."""
    whole = chunks(official)
    partial = "".join(PIECES[:cut_after]) + "\n"
    begun = chunks(official, finish=False)[: cut_after + (args is CHAT)]
    usage_empty = data({**official, "choices": [], "usage": USAGE})
    usage_delta = data({**official, "choices": [{"index": 0, "delta": {}}], "usage": USAGE})
    return {
        "no-object": Case(args, stream([*chunks(NO_OBJECT), DONE])),
        "plural-object": Case(args, stream([*chunks(PLURAL), DONE])),
        "no-done": Case(args, stream(whole)),
        "done-without-blank-line": Case(args, stream([*whole, b"data: [DONE]\n"])),
        "done-without-line-ending": Case(args, stream([*whole, b"data: [DONE]"])),
        "crlf": Case(args, stream(crlf([*whole, DONE]))),
        "done-without-space": Case(args, stream([*whole, b"data:[DONE]\n\n"])),
        "usage-empty-choices": Case(args, stream([*whole, usage_empty, DONE])),
        "usage-empty-choices-no-done": Case(args, stream([*whole, usage_empty])),
        "usage-empty-delta-no-done": Case(args, stream([*whole, usage_delta])),
        "gzip": Case(args, gzip_sse([*whole, DONE])),
        "open-after-done": Case(args, stream([*whole, DONE], end="stall"), quick=True),
        "cut-mid-answer": Case(args, stream(begun, end="close"), out=partial, code=7, err=CUT),
        "reset-mid-answer": Case(args, stream(begun, end="reset"), out=partial, code=7, err=RESET),
        "finished-then-cut": Case(args, stream(whole, end="close"), code=7, err=CUT),
    }


def _responses() -> dict[str, Case]:
    events = response_events()
    partial = "".join(PIECES[:2]) + "\n"
    incomplete = data(
        {
            "type": "response.incomplete",
            "response": {
                "id": "resp_compat",
                "incomplete_details": {"reason": "max_output_tokens"},
            },
        }
    )
    return {
        "event-names": Case(RESPONSES, stream(events)),
        "no-event-names": Case(RESPONSES, stream(response_events(names=False))),
        "crlf": Case(RESPONSES, stream(crlf(events))),
        "completed-without-blank-line": Case(
            RESPONSES, stream([*events[:-1], events[-1].rstrip(b"\n")])
        ),
        "gzip": Case(RESPONSES, gzip_sse(events)),
        "open-after-completed": Case(RESPONSES, stream(events, end="stall"), quick=True),
        "cut-mid-answer": Case(
            RESPONSES, stream(events[:3], end="close"), out=partial, code=7, err=CUT
        ),
        "reset-mid-answer": Case(
            RESPONSES, stream(events[:3], end="reset"), out=partial, code=7, err=RESET
        ),
        "no-completed": Case(
            RESPONSES,
            stream(events[:-1]),
            code=7,
            err=(
                "oai: the stream ended before its final event; the output is partial"
                f" (request id {REQUEST_ID})\n"
            ),
        ),
        "incomplete": Case(
            RESPONSES,
            stream([*events[:3], incomplete]),
            out=partial,
            code=7,
            err=(
                "oai: the answer is incomplete: it reached the output token limit"
                f" (max_output_tokens) (request id {REQUEST_ID})\n"
                "  raise the limit (--max-output-tokens, max_tokens) to get the rest\n"
            ),
        ),
    }


def _unknown_path() -> dict[str, Case]:
    events = [data({"token": p}) for p in PIECES]
    lines = "".join(json.dumps({"token": p}, ensure_ascii=False) + "\n" for p in PIECES)
    partial = "".join(json.dumps({"token": p}, ensure_ascii=False) + "\n" for p in PIECES[:2])
    return {
        "clean-end": Case(UNKNOWN, stream(events), out=lines),
        "done": Case(UNKNOWN, stream([*events, DONE]), out=lines),
        "crlf": Case(UNKNOWN, stream(crlf(events)), out=lines),
        "gzip": Case(UNKNOWN, gzip_sse(events), out=lines),
        "open-after-done": Case(
            UNKNOWN, stream([*events, DONE], end="stall"), out=lines, quick=True
        ),
        "cut-mid-answer": Case(
            UNKNOWN, stream(events[:2], end="close"), out=partial, code=7, err=CUT
        ),
    }


CASES: dict[str, Case] = {
    **{f"chat:{k}": v for k, v in _answers(CHAT, chat_chunks, OFFICIAL_CHAT, 2).items()},
    **{
        f"completions:{k}": v
        for k, v in _answers(COMPLETIONS, completion_chunks, OFFICIAL_TEXT, 2).items()
    },
    **{f"responses:{k}": v for k, v in _responses().items()},
    **{f"unknown-path:{k}": v for k, v in _unknown_path().items()},
}


def _check(case: Case, code: int, out: str, err: str, elapsed: float, server: FaultServer) -> None:
    assert out == case.out
    assert code == case.code
    if isinstance(case.err, str):
        assert err == case.err
    else:
        assert case.err.fullmatch(err), err
    assert TRACEBACK not in err
    if case.quick:
        assert elapsed < 5, f"waited {elapsed:.1f} s for a server that kept the line open"
    [request] = server.requests  # a stream is never replayed
    assert request.headers["accept"] == "text/event-stream"


@pytest.mark.parametrize("name", list(CASES))
def test_framing(server: FaultServer, name: str) -> None:
    case = CASES[name]
    server.plan(case.action)
    start = time.monotonic()
    r = invoke(*case.args, env=env_for(server.base_url))
    _check(case, r.code, r.out, r.err, time.monotonic() - start, server)


@pytest.mark.parametrize(
    "name",
    ["chat:plural-object", "completions:no-done", "responses:gzip", "unknown-path:cut-mid-answer"],
)
def test_framing_in_a_process(server: FaultServer, name: str) -> None:
    # The same through python -m openai_cli: real stdout and stderr, real exit status.
    case = CASES[name]
    server.plan(case.action)
    r = oai(*case.args, env=env_for(server.base_url))
    _check(case, r.code, r.out, r.err, r.elapsed, server)
