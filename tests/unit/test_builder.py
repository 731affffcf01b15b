"""Generated commands: how option values become request values, and what help shows."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from openai_cli.builder import CommandSpec
from openai_cli.errors import UsageError
from openai_cli.operations import catalogue
from openai_cli.operations.model import Operation, Param
from openai_cli.values import coerce, header_value
from tests.helpers import BASE, api_env, invoke


def find(*command: str) -> Operation:
    matches = [op for op in catalogue.load(command[0]) if op.command == command]
    assert len(matches) == 1, command
    return matches[0]


def param(op: Operation, name: str) -> Param:
    matches = [p for p in op.params if p.name == name]
    assert len(matches) == 1, name
    return matches[0]


# The factory is only read for @file and stdin values, which these cases do not use.
NO_FACTORY: Any = None


def test_text_of_a_number_or_enum_field_is_the_number() -> None:
    p = param(find("realtime", "calls", "accept"), "max_output_tokens")
    assert (p.type, p.enum, p.open_enum) == ("string_or_json", ("inf",), False)
    assert coerce(p, "4096", NO_FACTORY) == 4096
    assert coerce(p, "inf", NO_FACTORY) == "inf"
    for bad in ("lots", "NaN", '"text"', "null"):
        with pytest.raises(UsageError, match=r"^--max-output-tokens: .* not one of: inf"):
            coerce(p, bad, NO_FACTORY)


def test_text_of_an_open_text_or_json_field_stays_text() -> None:
    p = param(find("embeddings", "create"), "input")
    assert coerce(p, "123", NO_FACTORY) == "123"
    assert coerce(p, '["a", "b"]', NO_FACTORY) == ["a", "b"]


def test_closed_enum_is_checked_for_each_array_item() -> None:
    p = param(find("admin", "organization", "audit-logs", "list"), "event_types[]")
    assert p.enum and not p.open_enum
    assert coerce(p, ["project.created"], NO_FACTORY) == ["project.created"]
    with pytest.raises(UsageError, match=r"^--event-types: 'nope' is not one of: "):
        coerce(p, ["project.created", "nope"], NO_FACTORY)


def test_header_lists_are_comma_joined() -> None:
    assert header_value(["a=1", "b=2"]) == "a=1,b=2"
    assert header_value("x") == "x"
    assert header_value(True) == "true"
    assert header_value(3) == "3"


def test_usage_line_names_path_arguments_plainly() -> None:
    r = invoke("vector-stores", "files", "update", "--help")
    assert r.code == 0, r
    assert r.out.startswith(
        "Usage: oai vector-stores files update [OPTIONS] VECTOR_STORE_ID FILE_ID\n"
    )


def test_help_names_the_fixed_query_of_the_operation() -> None:
    spec = CommandSpec(find("beta", "responses", "retrieve"))
    assert "\nGET /responses/{response_id}?beta=true\n" in spec.help_text()
    r = invoke("beta", "responses", "retrieve", "--help")
    assert "\n  GET /responses/{response_id}?beta=true\n" in r.out


def test_help_of_a_number_or_enum_field_says_what_else_it_takes() -> None:
    r = invoke("realtime", "calls", "accept", "--help")
    text = " ".join(r.out.split())
    assert "--max-output-tokens TEXT|JSON" in text
    assert "[one of: inf; anything else is read as JSON]" in text


def test_help_says_when_an_operation_is_paginated() -> None:
    assert (
        "This operation is paginated (--all, --max-items)."
        in CommandSpec(find("files", "list")).help_text()
    )


def test_dry_run_lists_every_file_of_a_repeated_field(tmp_path: Any) -> None:
    for name in ("a.png", "b.png"):
        (tmp_path / name).write_bytes(b"\x89PNG\r\n\x1a\n")
    r = invoke(
        "api",
        "post",
        "/images/edits",
        "-F",
        f"image[]=@{tmp_path / 'a.png'}",
        "-F",
        f"image[]=@{tmp_path / 'b.png'}",
        "-F",
        "prompt=p",
        "--dry-run",
        env=api_env(),
    )
    assert r.code == 0, r
    assert json.loads(r.out)["multipart"]["files"] == [["image[]", "a.png"], ["image[]", "b.png"]]


def test_a_repeated_page_is_not_printed_again() -> None:
    page = {"data": [{"id": "j1"}, {"id": "j2"}], "has_more": True, "last_id": "j2"}
    with respx.mock(base_url=BASE, assert_all_called=True) as api:
        route = api.get("/fine_tuning/jobs")
        route.side_effect = [httpx.Response(200, json=page), httpx.Response(200, json=page)]
        r = invoke("fine-tuning", "jobs", "list", "--max-items", "5", "-o", "jsonl", env=api_env())
    assert r.code == 6, r
    assert "did not advance" in r.err
    assert [json.loads(line)["id"] for line in r.out.splitlines()] == ["j1", "j2"]
    assert route.calls[1].request.url.params["after"] == "j2"
