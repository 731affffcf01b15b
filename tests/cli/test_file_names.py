"""File names that are not UTF-8 (made on another system, or in another encoding)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import respx

from tests.helpers import api_env, invoke

# What Python hands a program for the byte 0xE9 in an argument under a UTF-8 locale.
LATIN1_NAME = os.fsdecode(b"caf\xe9.jsonl")


@pytest.fixture
def latin1_file(tmp_path: Path) -> str:
    path = os.path.join(os.fsencode(tmp_path), b"caf\xe9.jsonl")
    with open(path, "wb") as fh:
        fh.write(b'{"a": 1}\n')
    return os.fsdecode(path)


def test_a_file_whose_name_is_not_utf8_can_be_uploaded(
    latin1_file: str, api: respx.MockRouter
) -> None:
    route = api.post("/files").respond(json={"id": "file-1", "object": "file"})
    r = invoke("files", "create", "--file", latin1_file, "--purpose", "user_data", env=api_env())
    assert r.code == 0, r
    body = route.calls.last.request.content
    assert b'{"a": 1}' in body
    # The form header is text: the undecodable byte is sent replaced.
    assert 'filename="caf\ufffd.jsonl"'.encode() in body


def test_a_value_that_is_not_utf8_is_a_usage_error_not_a_crash(unsent: respx.MockRouter) -> None:
    route = unsent.route()
    r = invoke("models", "retrieve", LATIN1_NAME, env=api_env())
    assert r.code == 2, r
    assert "not valid UTF-8" in r.err
    assert "internal error" not in r.err
    assert not route.called
