"""Any input gives a result or a clear error, never a crash: the three input parsers.

The event-stream decoder reads what a server sends, the ``-F`` parser what a user
types and the JSONL validator what a user's file holds; none of them may raise
anything but the CLI's own errors (which main.py turns into one line and an exit
code), whatever the bytes.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from openai_cli.errors import ExitCode, OaiError, ProtocolError, UsageError
from openai_cli.http.sse import ServerSentEvent, SSEDecoder
from openai_cli.input import jsonl
from openai_cli.input.fields import FieldArg, coerce_typed, parse_fields

DEEP = b"[" * 5_000  # past the JSON parser's recursion limit
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Bytes with the interesting ones over-represented: line endings, field names, the
# colon, a BOM, and the pieces of multi-byte UTF-8.
SSE_TOKENS = st.sampled_from(
    [
        b"\n", b"\r", b"\r\n", b":", b" ", b"data", b"event", b"id", b"retry", b"data: ",
        b"[DONE]", b"\xef\xbb\xbf", b"\xc3", b"\xa9", b"\xf0\x9f\x98\x80", b"\xff", b"\x00",
        b"{", b"}", b'"', b"123", b"x",
    ]
)  # fmt: skip
SSE_BODIES = st.one_of(
    st.binary(max_size=400),
    st.lists(SSE_TOKENS, max_size=80).map(b"".join),
)


def decode_all(chunks: list[bytes], limit: int) -> list[ServerSentEvent] | str:
    """The events, or the kind of error, so two chunkings can be compared."""
    decoder = SSEDecoder(max_event_bytes=limit)
    events: list[ServerSentEvent] = []
    try:
        for c in chunks:
            events += decoder.feed(c)
        events += decoder.close()
    except ProtocolError as exc:
        assert exc.exit_code == ExitCode.SERVER
        assert exc.message and "\n" not in exc.message
        return "utf-8" if "UTF-8" in exc.message else "too big"
    return events


def split(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(body) + 1) for c in cuts})
    return [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]


@SETTINGS
@given(body=SSE_BODIES, cuts=st.lists(st.integers(min_value=0), max_size=12))
@example(body=b"data: \xf0\x9f\x98\x80\r\n\r\n", cuts=[7, 8, 9, 14])
@example(body=b"\xef\xbb\xbfdata:x\r\r", cuts=[1, 2])
def test_sse_decoder_never_crashes_and_ignores_chunking(body: bytes, cuts: list[int]) -> None:
    whole = decode_all([body], 1 << 20)
    assert decode_all(split(body, cuts), 1 << 20) == whole  # same events, or same error
    if isinstance(whole, list):
        for ev in whole:
            assert isinstance(ev.data, str) and "\r" not in ev.data
            assert ev.event is None or "\n" not in ev.event


@SETTINGS
@given(body=SSE_BODIES, limit=st.integers(min_value=1, max_value=64))
def test_sse_decoder_limit_is_a_protocol_error_never_a_crash(body: bytes, limit: int) -> None:
    result = decode_all([body], limit)
    if isinstance(result, list):
        assert all(len(ev.data.encode()) <= limit for ev in result)


@SETTINGS
@given(
    events=st.lists(
        st.tuples(
            st.text(
                alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"),
                max_size=30,
            ),
            st.sampled_from([b"\n", b"\r", b"\r\n"]),
        ),
        min_size=1,
        max_size=8,
    ),
    cuts=st.lists(st.integers(min_value=0), max_size=10),
)
def test_sse_decoder_round_trips_any_text(events: list[tuple[str, bytes]], cuts: list[int]) -> None:
    body = b"".join(b"data: " + d.encode() + nl + nl for d, nl in events)
    assert [ev.data for ev in decode_all(split(body, cuts), 1 << 20)] == [  # type: ignore[union-attr]
        d for d, _ in events
    ]


# -- the -F / -f field parser ------------------------------------------------------------


KEY_TOKENS = st.sampled_from(["a", "b", "x_y", "-", ".", "[", "]", "[]", "=", "@", "é", " ", "0"])
FIELD_TEXT = st.one_of(
    st.text(max_size=40),
    st.lists(KEY_TOKENS, max_size=12).map("".join),
    st.builds(
        lambda k, v: f"{k}={v}",
        st.lists(KEY_TOKENS, max_size=8).map("".join),
        st.one_of(
            st.text(max_size=20),
            st.sampled_from(["true", "null", "1e999", "-0", "[1,", "{}", "@-", "@", "@f", "NaN"]),
        ),
    ),
)


def _read_file(path: str) -> str:
    if path == "f":
        return "file text"
    raise FileNotFoundError(path)


@SETTINGS
@given(args=st.lists(st.tuples(FIELD_TEXT, st.booleans()), max_size=6), stdin=st.text(max_size=10))
@example(args=[("a=" + "[" * 5000, True)], stdin="")
@example(args=[("a.b=1", True), ("a=2", True)], stdin="")
@example(args=[("a=@-", True), ("b=@-", True)], stdin="x")
def test_field_parser_gives_a_body_or_a_usage_error(
    args: list[tuple[str, bool]], stdin: str
) -> None:
    parsed = [FieldArg(raw=a, typed=t, flag="-F" if t else "-f") for a, t in args]
    try:
        body = parse_fields(parsed, read_file=_read_file, read_stdin=lambda: stdin)
    except UsageError as exc:
        assert exc.exit_code == ExitCode.USAGE
        assert exc.message.startswith(("-F ", "-f ")), exc.message
        return
    assert isinstance(body, dict)
    json.dumps(body, allow_nan=False)  # whatever came in, the body can be sent


@SETTINGS
@given(text=st.text(max_size=60))
@example(text="[" * 10_000)
@example(text="1" * 5000)
@example(text="1e999")
@example(text='{"a": NaN}')
def test_typed_values_are_json_or_a_usage_error(text: str) -> None:
    try:
        value = coerce_typed(text)
    except UsageError:
        assert text[:1] in ("{", "[")
        return
    json.dumps(value, allow_nan=False)


# -- the JSONL validator -----------------------------------------------------------------


def batch_line(custom_id: Any, url: Any = "/v1/chat/completions", **extra: Any) -> bytes:
    obj = {"custom_id": custom_id, "method": "POST", "url": url, "body": {"model": "m"}, **extra}
    return json.dumps(obj).encode()


JSONL_LINES = st.one_of(
    st.binary(max_size=40),
    st.sampled_from(
        [
            b"",
            b" ",
            b"{}",
            b"[]",
            b"null",
            b"\xef\xbb\xbf{}",
            b"\xff\xfe",
            DEEP,
            b'{"custom_id": 1}',
            b'{"messages": []}',
            b'{"messages": [{"role": "user", "content": "hi"}]}',
            b'{"prompt": "a", "completion": "b"}',
            batch_line("a"),
            batch_line("b"),
            batch_line("a", url="/v1/embeddings"),
            batch_line("c", method="GET"),
            batch_line(None),
            batch_line("d", url=5),
        ]
    ),
    st.builds(batch_line, st.text(max_size=8)),
)
JSONL_FILES = st.lists(
    st.tuples(JSONL_LINES, st.sampled_from([b"\n", b"\r\n", b"\r", b""])), max_size=8
).map(lambda pairs: b"".join(line + nl for line, nl in pairs))

VALIDATORS: dict[str, Callable[[io.BytesIO, str], object]] = {
    "batch": jsonl.validate_batch,
    "fine-tune": jsonl.validate_fine_tune,
    "requests": jsonl.validate_requests,
}


@pytest.mark.parametrize("kind", sorted(VALIDATORS))
@SETTINGS
@given(data=JSONL_FILES)
@example(data=DEEP + b"\n")
@example(data=batch_line("a") + b"\n" + batch_line("a") + b"\n")
@example(data=b"")
def test_jsonl_validators_give_a_summary_or_a_usage_error(kind: str, data: bytes) -> None:
    try:
        summary = VALIDATORS[kind](io.BytesIO(data), "in.jsonl")
    except UsageError as exc:
        assert exc.exit_code == ExitCode.USAGE
        first, *rest = exc.message.splitlines()
        assert first.startswith("in.jsonl") or first.startswith("--endpoint")
        assert all(line.startswith(("in.jsonl", "... and ")) for line in rest), exc.message
        assert len(rest) <= jsonl.MAX_REPORTED + 1
        return
    except OaiError as exc:  # pragma: no cover - shown in full if it ever happens
        pytest.fail(f"{type(exc).__name__} instead of a usage error: {exc.lines()}")
    assert isinstance(summary, jsonl.Summary)
    assert summary.bytes == len(data)
