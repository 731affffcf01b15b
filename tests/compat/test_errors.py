"""Error answers shaped as servers other than the OpenAI API shape them.

Each case runs ``oai`` against a local server answering one error body and checks
the exit code and the whole of stderr: the server's own message on one line, the
request id on the next, and the key hint where the key was refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from openai_cli.config import mask_key
from tests.faults.server import Action, FaultServer, respond
from tests.faults.support import TRACEBACK, env_for
from tests.helpers import CANARY_KEY, invoke

RID = "req_compat_err"
RESPONSES = ("responses", "create", "--model", "m", "--input", "hi")
CHAT = (
    "chat", "completions", "create", "--model", "m",
    "--messages", '[{"role": "user", "content": "hi"}]',
)  # fmt: skip
MODELS = ("--max-retries", "0", "models", "list")
KEY_HINT = f"  the key {mask_key(CANARY_KEY)} came from env OPENAI_API_KEY\n"
LITELLM_MESSAGE = (
    "Authentication Error, Invalid proxy server token passed. Received API Key = "
    f"{CANARY_KEY}, Key Hash (Token) =e3b0c442. Unable to find token in cache or "
    "`LiteLLM_VerificationTokenTable`"
)


def json_error(status: int, body: object) -> Action:
    return respond(status, json=body, request_id=RID)


def text_error(status: int, body: str, ctype: str) -> Action:
    return respond(status, body, headers=[("Content-Type", ctype)], request_id=RID)


@dataclass
class Case:
    args: tuple[str, ...]
    action: Action
    code: int
    err: str


def rid() -> str:
    return f"  request id: {RID}\n"


CASES: dict[str, Case] = {
    "express-404": Case(
        RESPONSES,
        json_error(404, {"error": "Not Found", "message": "Cannot POST /v1/responses"}),
        4,
        "oai: HTTP 404: Not Found: Cannot POST /v1/responses\n" + rid(),
    ),
    "nestjs-400": Case(
        CHAT,
        json_error(
            400,
            {"statusCode": 400, "message": ["model must be a string"], "error": "Bad Request"},
        ),
        1,
        "oai: HTTP 400: Bad Request: model must be a string\n" + rid(),
    ),
    "fastapi-422": Case(
        CHAT,
        json_error(
            422,
            {
                "detail": [
                    {"loc": ["body", "model"], "msg": "Field required", "type": "missing"},
                    {"loc": ["body", "n"], "msg": "Input should be > 0", "type": "gt"},
                ]
            },
        ),
        1,
        "oai: HTTP 422: body.model: Field required; body.n: Input should be > 0\n" + rid(),
    ),
    "fastapi-detail": Case(
        MODELS,
        json_error(404, {"detail": "Not Found"}),
        4,
        "oai: HTTP 404: Not Found\n" + rid(),
    ),
    "message-only": Case(
        MODELS,
        json_error(400, {"message": "unsupported parameter: foo"}),
        1,
        "oai: HTTP 400: unsupported parameter: foo\n" + rid(),
    ),
    "errors-list": Case(
        MODELS,
        json_error(400, {"success": False, "errors": [{"code": 7003, "message": "No route"}]}),
        1,
        "oai: HTTP 400: No route\n" + rid(),
    ),
    "plain-text-404": Case(
        RESPONSES,
        text_error(404, "404 page not found\n", "text/plain; charset=utf-8"),
        4,
        "oai: HTTP 404: 404 page not found\n" + rid(),
    ),
    "html-502": Case(
        MODELS,
        text_error(
            502,
            "<html><head><title>502 Bad Gateway</title></head>\n<body>nginx</body></html>",
            "text/html",
        ),
        6,
        "oai: HTTP 502: Bad Gateway (text/html): <html><head><title>502 Bad Gateway</title>"
        "</head> <body>nginx</body></html>\n" + rid(),
    ),
    "litellm-bad-key-400": Case(
        MODELS,
        json_error(
            400,
            {
                "error": {
                    "message": LITELLM_MESSAGE,
                    "type": "auth_error",
                    "param": "None",
                    "code": "400",
                }
            },
        ),
        3,
        "oai: HTTP 400 (auth_error): Authentication Error, Invalid proxy server token passed."
        " Received API Key = sk-***, Key Hash (Token) =e3b0c442. Unable to find token in"
        " cache or `LiteLLM_VerificationTokenTable`\n" + rid() + KEY_HINT,
    ),
    "openai-401": Case(
        MODELS,
        json_error(
            401,
            {
                "error": {
                    "message": "Incorrect API key provided.",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                    "param": None,
                }
            },
        ),
        3,
        "oai: HTTP 401 (invalid_request_error, invalid_api_key): Incorrect API key provided.\n"
        + rid()
        + KEY_HINT,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_error_shape(server: FaultServer, name: str) -> None:
    case = CASES[name]
    server.plan(case.action)
    r = invoke(*case.args, env=env_for(server.base_url))
    assert (r.code, r.err) == (case.code, case.err), r
    assert r.out == ""
    assert TRACEBACK not in r.err
    assert len(server.requests) == 1
