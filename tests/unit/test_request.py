"""The request is the wire and only the wire; what to do with the answer is apart."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openai_cli.http.client import FilePart
from openai_cli.operations.request import Answer, Call, Request

WIRE = {
    "method",
    "path",
    "query",
    "body",
    "files",
    "multipart",
    "headers",
    "admin",
    "stream",
    "accept",
}

_text = st.text(min_size=1, max_size=8)
_files = st.lists(st.builds(FilePart, _text, _text, st.just(lambda: None), _text), max_size=2)
requests = st.builds(
    Request,
    method=st.sampled_from(["GET", "POST", "DELETE"]),
    path=_text.map(lambda t: "/" + t),
    query=st.dictionaries(_text, _text, max_size=3),
    body=st.none() | st.dictionaries(_text, _text, max_size=3),
    files=_files,
    multipart=st.booleans(),
    headers=st.dictionaries(_text, _text, max_size=3),
    admin=st.booleans(),
    stream=st.booleans(),
    accept=st.none() | _text,
)


def test_the_request_holds_the_wire_and_nothing_else() -> None:
    assert {f.name for f in dataclasses.fields(Request)} == WIRE
    assert not {f.name for f in dataclasses.fields(Answer)} & WIRE
    assert {f.name for f in dataclasses.fields(Call)} == {"request", "answer"}


def test_a_request_cannot_be_changed_in_place() -> None:
    req = Request("GET", "/models")
    with pytest.raises(dataclasses.FrozenInstanceError):
        req.path = "/files"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Answer().output_file = "x"  # type: ignore[misc]


@given(requests, _text)
def test_a_poll_carries_who_asks_and_nothing_of_what_was_sent(req: Request, path: str) -> None:
    poll = req.poll("/" + path)
    # Every field but these is the default: a new wire field stays out of polls
    # unless it is carried on purpose.
    assert poll == Request("GET", "/" + path, query=req.query, headers=req.headers, admin=req.admin)
    # Copies: a poll that changed its query could not change the command's request.
    assert poll.query is not req.query and poll.headers is not req.headers
