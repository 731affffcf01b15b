"""parse_error_body: every shape of error answer, read as one line."""

from __future__ import annotations

import json
from typing import Any

import pytest

from openai_cli.http.errorbody import ErrorBody, parse_error_body

J = "application/json"


def parse(body: Any, status: int = 400, ctype: str = J, reason: str = "Bad Request") -> ErrorBody:
    text = body if isinstance(body, str) else json.dumps(body)
    return parse_error_body(status, reason, ctype, text)


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        pytest.param(
            {"error": {"message": "bad model", "type": "invalid_request_error",
                       "code": "model_not_found", "param": "model"}},
            404,
            ErrorBody("bad model", "invalid_request_error", "model_not_found", "model"),
            id="openai",
        ),
        pytest.param(
            {"error": "Not Found", "message": "Cannot POST /v1/responses"},
            404,
            ErrorBody("Not Found: Cannot POST /v1/responses"),
            id="express",
        ),
        pytest.param(
            {"statusCode": 400, "message": ["model must be a string", "input is empty"],
             "error": "Bad Request"},
            400,
            ErrorBody("Bad Request: model must be a string; input is empty"),
            id="nestjs-validation",
        ),
        pytest.param(
            {"detail": [
                {"loc": ["body", "model"], "msg": "Field required", "type": "missing"},
                {"loc": ["body", "messages", 0, "role"], "msg": "Input should be 'user'",
                 "type": "literal_error"},
                {"loc": ["query", "n"], "msg": "not an int", "type": "int_parsing"},
                {"loc": ["query", "m"], "msg": "not an int", "type": "int_parsing"},
            ]},
            422,
            ErrorBody(
                "body.model: Field required; body.messages.0.role: Input should be 'user';"
                " query.n: not an int (and 1 more)"
            ),
            id="fastapi-validation",
        ),
        pytest.param({"detail": "Not Found"}, 404, ErrorBody("Not Found"), id="fastapi-detail"),
        pytest.param(
            {"message": "no such route"}, 404, ErrorBody("no such route"), id="message"
        ),
        pytest.param(
            {"errors": [{"code": 10000, "message": "Authentication error"},
                        {"message": "second"}]},
            400,
            ErrorBody("Authentication error; second"),
            id="errors-list",
        ),
        pytest.param({"error": "model 'x' not found"}, 404,
                     ErrorBody("model 'x' not found"), id="ollama"),
        pytest.param(
            {"object": "error", "message": "too long", "type": "BadRequestError",
             "param": None, "code": 400},
            400,
            ErrorBody("too long", "BadRequestError"),
            id="vllm-top-level",
        ),
        pytest.param(
            {"error": {"code": "404", "message": "Resource not found"}},
            404,
            ErrorBody("Resource not found"),
            id="azure-code-is-the-status",
        ),
        pytest.param(
            {"error": {"message": "Authentication Error, Invalid proxy server token passed.",
                       "type": "auth_error", "param": "None", "code": "400"}},
            400,
            ErrorBody("Authentication Error, Invalid proxy server token passed.", "auth_error"),
            id="litellm-auth",
        ),
        pytest.param(
            {"error": {"type": "server_error", "code": "boom"}},
            500,
            ErrorBody('{"type": "server_error", "code": "boom"}', "server_error", "boom"),
            id="openai-without-message",
        ),
        pytest.param([{"error": {"message": "first"}}], 400, ErrorBody("first"), id="list"),
        pytest.param({"weird": 1}, 400, ErrorBody('{"weird": 1}'), id="unknown-object"),
    ],
)  # fmt: skip
def test_json_shapes(body: Any, status: int, expected: ErrorBody) -> None:
    assert parse(body, status) == expected


def test_a_message_is_one_line_and_bounded() -> None:
    got = parse({"detail": "line one\n  line two\tthree " + "x" * 1000})
    assert got.message.startswith("line one line two\tthree xxx")
    assert "\n" not in got.message and len(got.message) == 500 and got.message.endswith("…")


def test_plain_text_is_its_own_message() -> None:
    got = parse("404 page not found\n", 404, "text/plain; charset=utf-8", "Not Found")
    assert got == ErrorBody("404 page not found")
    assert parse("upstream went away", 502, "", "Bad Gateway").message == "upstream went away"


def test_html_is_summarised_with_its_status_and_type() -> None:
    page = "<html>\n<head><title>502 Bad Gateway</title></head>\n" + "<p>x</p>" * 500
    got = parse(page, 502, "text/html", "Bad Gateway")
    assert got.message.startswith(
        "Bad Gateway (text/html): <html> <head><title>502 Bad Gateway</title></head>"
    )
    assert len(got.message) <= 240


def test_an_empty_body_is_the_reason() -> None:
    assert parse("", 503, "", "Service Unavailable") == ErrorBody("Service Unavailable")


def test_a_key_in_a_message_is_masked() -> None:
    got = parse({"error": {"message": "Received API Key = sk-proj-abcdefghijklmnop1234"}})
    assert "abcdefghijklmnop" not in got.message


@pytest.mark.parametrize(
    ("etype", "code", "rejects"),
    [
        ("auth_error", "400", True),
        ("authentication_error", None, True),
        ("AuthenticationError", None, True),
        ("invalid_request_error", "invalid_api_key", True),
        ("invalid_request_error", "model_not_found", False),
        (None, None, False),
    ],
)
def test_rejects_key(etype: str | None, code: str | None, rejects: bool) -> None:
    assert ErrorBody("m", etype, code).rejects_key is rejects


@pytest.mark.parametrize(
    ("body", "ctype", "from_api"),
    [
        ('{"error": {"message": "Not found"}}', J, True),
        ('{"error": "Not Found", "message": "Cannot POST /v1/responses"}', J, True),
        ('[{"error": {"message": "x"}}]', J, True),
        ("<html><body><h1>404 Not Found</h1></body></html>", "text/html", False),
        ("404 page not found", "text/plain", False),
        ('"just a string"', J, False),
        ("", J, False),
    ],
)
def test_from_api_tells_an_apis_answer_from_a_page(body: str, ctype: str, from_api: bool) -> None:
    assert parse_error_body(404, "Not Found", ctype, body).from_api is from_api
