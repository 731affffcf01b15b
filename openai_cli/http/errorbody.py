"""What an error answer says, whatever server sent it, as one line.

The OpenAI API answers ``{"error": {"message", "type", "code", "param"}}``; servers
that speak its API (llama.cpp, vLLM, LiteLLM, Ollama, gateways, mocks) and the
proxies in front of them each have their own shape. :func:`parse_error_body` is
the one reader of all of them, and :func:`api_error` turns an error answer into
the :class:`~openai_cli.errors.ApiError` every command reports (the HTTP client's,
``map``'s per-line errors, the Realtime handshake's), with the hint that says
where a refused key came from. ``tests/unit/test_error_reader.py`` holds that no
other module reads an error body or a ``Retry-After`` itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from openai_cli.config.settings import mask_key
from openai_cli.config.settings_table import Sourced
from openai_cli.errors import ApiError
from openai_cli.http.redact import redact

# Enough of a message to act on; a server that puts a page in it is cut here.
MAX_MESSAGE = 500
EXCERPT = 200
_LINE_BREAK = re.compile(r"[ \t]*(?:\r?\n[ \t]*)+")
# A validation answer lists every problem; the first few say what to fix.
MAX_DETAILS = 3
# How gateways label a rejected key when they answer 400 instead of 401 (LiteLLM's
# "auth_error"), compared with case and underscores ignored.
_AUTH_TYPES = frozenset({"autherror", "authenticationerror", "invalidapikey"})


@dataclass(frozen=True)
class ErrorBody:
    message: str
    type: str | None = None
    code: str | None = None
    param: str | None = None
    from_api: bool = field(default=False, compare=False)
    """The body is a JSON object or list, as an API answers; not a page or plain text."""

    @property
    def rejects_key(self) -> bool:
        """The body says the key was refused, whatever the status."""
        return any(
            v is not None and v.replace("_", "").lower() in _AUTH_TYPES
            for v in (self.type, self.code)
        )


def parse_error_body(status: int, reason: str, content_type: str, text: str) -> ErrorBody:
    """The message of an error answer in one line, with the API's fields where given."""
    try:
        data = json.loads(text) if text.strip() else None
    except (ValueError, RecursionError):  # RecursionError: nested past the parser's limit
        data = None
    found = _from_json(data, status) if data is not None else None
    if found is None:
        found = ErrorBody(_from_text(reason, content_type, text))
    return ErrorBody(
        redact(_one_line(found.message, MAX_MESSAGE)),
        found.type,
        found.code,
        found.param,
        from_api=isinstance(data, (dict, list)),
    )


def api_error(
    status: int,
    reason: str,
    headers: Mapping[str, str],
    body: str | bytes,
    *,
    key: Callable[[], Sourced[str]] | None = None,
) -> ApiError:
    """The error an answer ``status`` with ``body`` reports; ``key`` finds the key that
    was sent, named in the hint when it was refused."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    found = parse_error_body(
        status, reason, headers.get("content-type", "").split(";")[0].strip(), text
    )
    # A gateway may refuse a key with a 400 (LiteLLM); its body says so.
    key_rejected = status in (401, 403) or found.rejects_key
    hint = None
    if key_rejected and key is not None:
        try:
            sent = key()
        except Exception:  # no key, or a keyring that fails: the message stands alone
            pass
        else:
            hint = f"the key {mask_key(sent.value)} came from {sent.source}"
    elif found.code == "insufficient_quota":
        hint = "the account is out of credit: check billing at platform.openai.com"
    return ApiError(
        status,
        found.message,
        type=found.type,
        code=found.code,
        param=found.param,
        request_id=headers.get("x-request-id"),
        hint=hint,
        key_rejected=key_rejected,
        from_api=found.from_api,
    )


def _one_line(text: str, limit: int) -> str:
    # Only line breaks go: any other character is the server's, made visible (not
    # obeyed) by the terminal guard and passed on unchanged when stderr is piped.
    flat = _LINE_BREAK.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _text(value: Any) -> str | None:
    """A field as text; absent for null, empty and the "None" some servers write."""
    if value is None or value == "" or value == "None":
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _from_json(data: Any, status: int) -> ErrorBody | None:
    if isinstance(data, str):
        return ErrorBody(data) if data.strip() else None
    if isinstance(data, list):
        # An answer that is a list of errors (Google's gateways): the first says it.
        return _from_json(data[0], status) if data else None
    if not isinstance(data, dict):
        return None
    err = data.get("error")
    if isinstance(err, dict):
        return _fields(err, status) or _fields(
            err, status, json.dumps(err, ensure_ascii=False)[:300]
        )
    message = _message(data)
    if isinstance(err, str) and err.strip():
        # Express and NestJS: {"error": "Not Found", "message": "Cannot POST /v1/x"}.
        if message and message != err:
            return ErrorBody(f"{err}: {message}")
        return ErrorBody(err)
    found = _fields(data, status)
    if found is not None:
        return found
    # A JSON object of a shape nobody here knows: the start of it, as sent.
    return ErrorBody(json.dumps(data, ensure_ascii=False)[:300])


def _fields(obj: dict[str, Any], status: int, fallback: str | None = None) -> ErrorBody | None:
    """The OpenAI shape's fields (vLLM writes them at the top level); None without a
    message unless there is a ``fallback`` to say instead."""
    message = _message(obj) or fallback
    if message is None:
        return None
    code = _text(obj.get("code"))
    if code == str(status):
        code = None  # "code": "400" (Azure, LiteLLM) only repeats the status
    return ErrorBody(message, _text(obj.get("type")), code, _text(obj.get("param")))


def _message(obj: dict[str, Any]) -> str | None:
    """The human part of an error object, from whichever field this server uses."""
    message = obj.get("message")
    if isinstance(message, list):
        # NestJS validation: a list of sentences.
        message = "; ".join(str(m) for m in message[:MAX_DETAILS])
    if isinstance(message, str) and message.strip():
        return message
    detail = obj.get("detail")
    if isinstance(detail, str) and detail.strip():
        return detail  # FastAPI's HTTPException
    if isinstance(detail, list) and detail:
        return _details(detail)  # FastAPI / pydantic validation
    errors = obj.get("errors")
    if isinstance(errors, list) and errors:
        texts = [_message(e) if isinstance(e, dict) else _text(e) for e in errors]
        shown = [t for t in texts if t][:MAX_DETAILS]
        if shown:
            return "; ".join(shown) + _more(len(errors) - len(shown))
    for key in ("error", "error_description", "msg", "title"):
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _details(details: list[Any]) -> str:
    """``loc: msg`` for the first validation problems, as FastAPI lists them."""
    parts = []
    for d in details[:MAX_DETAILS]:
        if not isinstance(d, dict):
            parts.append(str(d))
            continue
        loc = d.get("loc")
        where = ".".join(str(x) for x in loc) if isinstance(loc, list) else _text(loc)
        msg = _text(d.get("msg")) or _text(d.get("message")) or json.dumps(d)
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts) + _more(len(details) - len(parts))


def _more(n: int) -> str:
    return f" (and {n} more)" if n > 0 else ""


def _from_text(reason: str, content_type: str, text: str) -> str:
    excerpt = _one_line(" ".join(text.split()), EXCERPT)
    if not excerpt:
        return reason or "error"
    if content_type.startswith("text/plain") or not content_type:
        # A plain-text answer ("404 page not found") is its own message.
        return excerpt
    return f"{reason or 'error'} ({content_type}): {excerpt}"
