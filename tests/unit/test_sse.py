"""The event-stream decoder: WHATWG parsing rules, chunking and limits."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openai_cli.errors import ExitCode, ProtocolError
from openai_cli.http.sse import ServerSentEvent, SSEDecoder, iter_events

BOM = b"\xef\xbb\xbf"


def ev(
    data: str, event: str | None = None, id: str | None = None, retry: int | None = None
) -> ServerSentEvent:
    return ServerSentEvent(event=event, data=data, id=id, retry=retry)


def decode(*chunks: bytes, max_event_bytes: int = 1 << 20) -> list[ServerSentEvent]:
    return list(iter_events(chunks, max_event_bytes=max_event_bytes))


def bytewise(body: bytes) -> list[bytes]:
    return [body[i : i + 1] for i in range(len(body))]


# --- basic fields -----------------------------------------------------------


def test_single_event() -> None:
    assert decode(b"data: hello\n\n") == [ev("hello")]


def test_event_is_returned_by_the_feed_that_completes_it() -> None:
    d = SSEDecoder()
    assert d.feed(b"data: a\n") == []
    assert d.feed(b"\n") == [ev("a")]
    assert d.feed(b"data: b\n\ndata: c\n\nda") == [ev("b"), ev("c")]
    assert d.close() == []
    assert d.incomplete is True


def test_event_type_id_and_retry() -> None:
    body = b"event: delta\nid: 7\nretry: 1500\ndata: x\n\n"
    assert decode(body) == [ev("x", event="delta", id="7", retry=1500)]


def test_empty_event_field_means_default_type() -> None:
    assert decode(b"event:\ndata: x\n\n") == [ev("x", event=None)]


def test_event_type_does_not_carry_over() -> None:
    assert decode(b"event: a\ndata: 1\n\ndata: 2\n\n") == [ev("1", event="a"), ev("2")]


def test_no_space_after_colon() -> None:
    assert decode(b"data:hello\n\n") == [ev("hello")]


def test_only_one_leading_space_is_removed() -> None:
    assert decode(b"data:  two\n\n") == [ev(" two")]


def test_trailing_spaces_are_kept() -> None:
    assert decode(b"data: x  \n\n") == [ev("x  ")]


def test_colon_inside_value_is_kept() -> None:
    assert decode(b'data: {"a": "b:c"}\n\n') == [ev('{"a": "b:c"}')]


def test_line_without_colon_is_field_with_empty_value() -> None:
    assert decode(b"data\n\n") == [ev("")]
    assert decode(b"data\ndata\n\n") == [ev("\n")]


def test_empty_data_value_still_dispatches() -> None:
    assert decode(b"data:\n\n") == [ev("")]


def test_multi_line_data_is_joined_with_lf() -> None:
    assert decode(b"data: a\ndata: b\ndata:\ndata: c\n\n") == [ev("a\nb\n\nc")]


def test_field_names_are_case_sensitive_and_unknown_ones_ignored() -> None:
    assert decode(b"Data: no\nfoo: bar\ndata: yes\n\n") == [ev("yes")]


def test_done_sentinel_is_an_ordinary_event() -> None:
    assert decode(b"data: [DONE]\n\n") == [ev("[DONE]")]
    assert decode(b"data:[DONE]\n\n") == [ev("[DONE]")]


def test_blank_lines_without_fields_dispatch_nothing() -> None:
    assert decode(b"\n\n\n\r\n\r") == []


# --- comments -----------------------------------------------------------------


def test_comments_are_ignored() -> None:
    body = b": keepalive\n\n:\ndata: a\n: inside an event\ndata: b\n\n"
    assert decode(body) == [ev("a\nb")]


def test_comment_only_stream_is_complete() -> None:
    d = SSEDecoder()
    assert d.feed(b": ping\n\n: ping\n") == []
    d.close()
    assert d.incomplete is False


# --- id -------------------------------------------------------------------------


def test_id_carries_over_to_later_events() -> None:
    body = b"id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n"
    assert decode(body) == [ev("a", id="1"), ev("b", id="1"), ev("c", id="2")]


def test_empty_id_resets_the_last_event_id() -> None:
    assert decode(b"id: 1\ndata: a\n\nid\ndata: b\n\n") == [ev("a", id="1"), ev("b", id="")]


def test_id_with_nul_is_ignored() -> None:
    body = b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n"
    assert decode(body) == [ev("a", id="1"), ev("b", id="1")]


def test_id_from_an_undispatched_block_still_counts() -> None:
    d = SSEDecoder()
    assert d.feed(b"id: 5\n\ndata: x\n\n") == [ev("x", id="5")]
    assert d.last_event_id == "5"


# --- retry ----------------------------------------------------------------------


def test_retry_only_block_is_not_dispatched_but_updates_state() -> None:
    d = SSEDecoder()
    assert d.retry is None
    assert d.feed(b"retry: 3000\n\n") == []
    assert d.retry == 3000
    assert d.feed(b"data: x\n\n") == [ev("x")]
    assert d.retry == 3000
    d.close()
    assert d.incomplete is False


@pytest.mark.parametrize("value", [b"", b"12a", b"-5", b" 5", b"1.5", "\u0661\u0662".encode()])
def test_retry_must_be_ascii_digits(value: bytes) -> None:
    d = SSEDecoder()
    assert d.feed(b"retry: 100\n\nretry: " + value + b"\ndata: x\n\n") == [ev("x")]
    assert d.retry == 100


def test_retry_with_absurd_number_of_digits_is_ignored() -> None:
    d = SSEDecoder()
    assert d.feed(b"retry: " + b"9" * 10_000 + b"\ndata: x\n\n") == [ev("x")]
    assert d.retry is None


# --- line endings ---------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_each_line_ending(eol: bytes) -> None:
    body = eol.join([b"event: e", b"data: a", b"data: b", b"", b"data: c", b"", b""])
    assert decode(body) == [ev("a\nb", event="e"), ev("c")]


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_each_line_ending_fed_bytewise(eol: bytes) -> None:
    body = eol.join([b"event: e", b"data: a", b"data: b", b"", b"data: c", b"", b""])
    assert decode(*bytewise(body)) == [ev("a\nb", event="e"), ev("c")]


def test_mixed_line_endings() -> None:
    assert decode(b"data: a\rdata: b\r\ndata: c\n\r\n") == [ev("a\nb\nc")]


def test_crlf_split_across_chunks_is_one_line_ending() -> None:
    # Were the LF a second ending, it would be a blank line dispatching "a" alone.
    d = SSEDecoder()
    assert d.feed(b"data: a\r") == []
    assert d.feed(b"\ndata: b\r") == []
    assert d.feed(b"\n\r") == [ev("a\nb")]
    assert d.feed(b"\n") == []
    d.close()
    assert d.incomplete is False


def test_cr_at_chunk_end_followed_by_other_bytes() -> None:
    d = SSEDecoder()
    assert d.feed(b"data: a\r") == []
    assert d.feed(b"data: b\r") == []
    assert d.feed(b"\r") == [ev("a\nb")]


def test_cr_blank_line_dispatches_without_waiting_for_a_possible_lf() -> None:
    d = SSEDecoder()
    assert d.feed(b"data: a\r\r") == [ev("a")]


def test_lf_after_cr_is_swallowed_only_once() -> None:
    d = SSEDecoder()
    assert d.feed(b"data: a\r") == []
    assert d.feed(b"\n") == []
    assert d.feed(b"\n") == [ev("a")]


def test_empty_chunks_do_not_disturb_pending_cr() -> None:
    d = SSEDecoder()
    assert d.feed(b"data: a\r") == []
    assert d.feed(b"") == []
    assert d.feed(b"\n") == []
    assert d.feed(b"\r\n") == [ev("a")]


# --- UTF-8 ----------------------------------------------------------------------


def test_multibyte_characters_split_at_every_position() -> None:
    text = "h\u00e9llo \u4e16\u754c \U0001f600 \u20ac"
    body = f"event: \u00e9v\ndata: {text}\n\n".encode()
    for cut in range(len(body) + 1):
        assert decode(body[:cut], body[cut:]) == [ev(text, event="\u00e9v")], cut
    assert decode(*bytewise(body)) == [ev(text, event="\u00e9v")]


def test_bom_is_stripped() -> None:
    assert decode(BOM + b"data: x\n\n") == [ev("x")]


def test_bom_split_across_chunks_is_stripped() -> None:
    assert decode(*bytewise(BOM + b"data: x\n\n")) == [ev("x")]
    assert decode(BOM[:2], BOM[2:] + b"data: x\n\n") == [ev("x")]


def test_only_the_initial_bom_is_stripped() -> None:
    # A second BOM is an ordinary U+FEFF: here it makes the field name unknown.
    assert decode(BOM + BOM + b"data: x\n\ndata: y\n\n") == [ev("y")]
    assert decode(b"data: " + BOM + b"x\n\n") == [ev("\ufeffx")]


def test_short_first_chunk_that_is_not_a_bom() -> None:
    assert decode(b"d", b"ata: x\n\n") == [ev("x")]
    assert decode(b"\n", b"data: x\n\n") == [ev("x")]


def test_stream_of_only_a_bom() -> None:
    d = SSEDecoder()
    assert d.feed(BOM) == []
    d.close()
    assert d.incomplete is False


@pytest.mark.parametrize(
    "body",
    [
        b"data: \xff\n\n",
        b"data: caf\xc3\n\n",
        b"event: \xc3\x28\ndata: x\n\n",
        b": comment \xfe\n\n",
        b"id: \xed\xa0\x80\ndata: x\n\n",  # an encoded surrogate
        b"\xef\xbbdata: x\n\n",  # a truncated BOM
        b"unknown\x80: x\n\n",
    ],
)
def test_invalid_utf8_is_a_protocol_error(body: bytes) -> None:
    with pytest.raises(ProtocolError, match=r"^invalid UTF-8 in event stream"):
        decode(body)
    with pytest.raises(ProtocolError, match=r"^invalid UTF-8 in event stream"):
        decode(*bytewise(body))


def test_protocol_error_exit_code() -> None:
    with pytest.raises(ProtocolError) as info:
        decode(b"data: \xff\n\n")
    assert info.value.exit_code == ExitCode.SERVER


# --- limits ---------------------------------------------------------------------


def test_event_over_the_limit_across_many_lines() -> None:
    body = b"".join(b"data: 0123456789\n" for _ in range(10)) + b"\n"
    with pytest.raises(ProtocolError, match=r"100-byte limit"):
        decode(body, max_event_bytes=100)


def test_event_at_the_limit_is_accepted() -> None:
    # Each data line is charged its value plus the LF that joins it.
    body = b"data: " + b"x" * 9 + b"\n" + b"data: " + b"y" * 9 + b"\n\n"
    assert decode(body, max_event_bytes=20) == [ev("x" * 9 + "\n" + "y" * 9)]
    with pytest.raises(ProtocolError):
        decode(body, max_event_bytes=19)


def test_limit_is_per_event() -> None:
    body = b"data: 0123456789\n\n" * 50
    assert len(decode(body, max_event_bytes=20)) == 50


def test_single_long_line_in_one_chunk() -> None:
    with pytest.raises(ProtocolError, match=r"1000-byte limit"):
        decode(b": " + b"x" * 2000 + b"\n\n", max_event_bytes=1000)


def test_unterminated_line_is_rejected_before_it_ends() -> None:
    d = SSEDecoder(max_event_bytes=1000)
    d.feed(b"data: ")
    with pytest.raises(ProtocolError, match=r"1000-byte limit"):
        for _ in range(100):
            d.feed(b"x" * 100)


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        SSEDecoder(max_event_bytes=0)


def test_default_limit_is_16_mib() -> None:
    assert SSEDecoder().max_event_bytes == 16 * 1024 * 1024


# --- end of stream --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "incomplete"),
    [
        (b"", False),
        (b"data: a\n\n", False),
        (b"data: a\n\n: bye\n", False),
        (b"data: a\n\n\n", False),
        (b"data: a\r\n\r", False),
        (b"data: a\n", True),  # no closing blank line
        (b"data: a", True),  # cut mid-line
        (b"data: a\n\ndata: b\ndata: c\n", True),
        (b"event: x\n", True),
        (b"retry: 5\n", True),
        (b"data: a\n\n: ke", True),
    ],
)
def test_incomplete_flag(body: bytes, incomplete: bool) -> None:
    d = SSEDecoder()
    events = d.feed(body)
    assert d.close() == []
    assert d.incomplete is incomplete
    # The half-built event is discarded, never dispatched.
    assert all(e.data != "b\nc" for e in events)


@pytest.mark.parametrize(
    ("body", "unterminated"),
    [
        (b"data: a\n\n", None),
        (b"data: [DONE]\n", ev("[DONE]")),  # no closing blank line
        (b"data: [DONE]", ev("[DONE]")),  # no line ending at all
        (b"data:[DONE]\r\n", ev("[DONE]")),
        (b"data: a\n\nevent: done\ndata: x", ev("x", event="done")),
        (b"data: a\n\ndata: b\ndata: c", ev("b\nc")),
        (b"data: a\n\n: ke", None),  # half a comment held no data
        (b"event: x\n", None),
        (b"data: \xff", None),  # undecodable: nothing to offer
    ],
)
def test_unterminated_event_is_kept_aside_not_dispatched(
    body: bytes, unterminated: ServerSentEvent | None
) -> None:
    d = SSEDecoder()
    d.feed(body)
    assert d.close() == []
    assert d.unterminated == unterminated


def test_incomplete_is_false_before_close() -> None:
    d = SSEDecoder()
    d.feed(b"data: a\n")
    assert d.incomplete is False
    d.close()
    assert d.incomplete is True


def test_close_is_idempotent_and_feed_after_close_fails() -> None:
    d = SSEDecoder()
    d.feed(b"data: a")
    d.close()
    assert d.close() == []
    assert d.incomplete is True
    with pytest.raises(RuntimeError):
        d.feed(b"\n\n")


def test_iter_events_is_lazy() -> None:
    seen: list[bytes] = []

    def chunks() -> Iterator[bytes]:
        for c in (b"data: 1\n\n", b"data: 2\n\n"):
            seen.append(c)
            yield c

    it = iter_events(chunks())
    assert next(it) == ev("1")
    assert len(seen) == 1


def test_many_small_events() -> None:
    body = b"".join(b'data: {"i": %d}\n\n' % i for i in range(100_000))
    chunks = [body[i : i + 4096] for i in range(0, len(body), 4096)]
    events = decode(*chunks)
    assert len(events) == 100_000
    assert events[-1] == ev('{"i": 99999}')


# --- properties -----------------------------------------------------------------

# codec="utf-8" keeps out lone surrogates, which no UTF-8 stream can carry.
line_text = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"))
field_text = st.text(st.characters(codec="utf-8", exclude_characters="\r\n\x00"), min_size=1)


@st.composite
def event_specs(draw: st.DrawFn) -> tuple[str | None, list[str], str | None, int | None]:
    return (
        draw(st.none() | field_text),
        draw(st.lists(line_text, min_size=1, max_size=4)),
        draw(
            st.none()
            | st.text(st.characters(codec="utf-8", exclude_characters="\r\n\x00"), max_size=5)
        ),
        draw(st.none() | st.integers(min_value=0, max_value=10**12)),
    )


def serialize(
    specs: Sequence[tuple[str | None, list[str], str | None, int | None]],
    choices: st.DataObject,
) -> bytes:
    draw = choices.draw
    lines: list[str] = []
    for event, data, id_, retry in specs:
        if draw(st.booleans()):
            lines.append(":" + draw(line_text))
        if event is not None:
            lines.append("event: " + event)
        if id_ is not None:
            lines.append("id: " + id_ if id_ or draw(st.booleans()) else "id")
        if retry is not None:
            lines.append(f"retry:{retry}")
        for value in data:
            if value.startswith(" ") or draw(st.booleans()):
                lines.append("data: " + value)
            else:
                lines.append("data:" + value)
        lines.append("")
    out: list[str] = []
    prev = ""
    for line in lines:
        eol = draw(st.sampled_from(["\n", "\r", "\r\n"]))
        # A real server cannot send a blank line as LF straight after a CR either:
        # the pair would be read as one CRLF.
        if prev == "\r" and not line and eol == "\n":
            eol = "\r\n"
        out.append(line + eol)
        prev = eol
    return "".join(out).encode()


def split_at(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(body)) for c in cuts})
    pieces: list[bytes] = []
    start = 0
    for p in [*points, len(body)]:
        pieces.append(body[start:p])
        start = p
    return pieces


def expected_events(
    specs: Sequence[tuple[str | None, list[str], str | None, int | None]],
) -> list[ServerSentEvent]:
    out: list[ServerSentEvent] = []
    last_id: str | None = None
    for event, data, id_, retry in specs:
        if id_ is not None:
            last_id = id_
        out.append(ev("\n".join(data), event=event, id=last_id, retry=retry))
    return out


def decode_pieces(pieces: list[bytes]) -> tuple[list[ServerSentEvent], bool]:
    d = SSEDecoder()
    got: list[ServerSentEvent] = []
    for piece in pieces:
        got.extend(d.feed(piece))
    got.extend(d.close())
    return got, d.incomplete


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=st.lists(event_specs(), max_size=6), bom=st.booleans(), data=st.data())
def test_round_trip_with_random_endings_and_chunking(
    specs: list[tuple[str | None, list[str], str | None, int | None]],
    bom: bool,
    data: st.DataObject,
) -> None:
    body = (BOM if bom else b"") + serialize(specs, data)
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(body)), max_size=12))
    expected = (expected_events(specs), False)
    assert decode_pieces([body]) == expected
    assert decode_pieces(split_at(body, cuts)) == expected
    # Every boundary at once, CR|LF and mid-character splits included.
    assert decode_pieces(bytewise(body)) == expected


FRAGMENTS = [
    b"data:",
    b"data: ",
    b"event:",
    b"id:",
    b"retry:",
    b"retry: 12",
    b":",
    b" ",
    b"x",
    b"\xc3\xa9",
    b"\xc3",
    b"\xa9",
    b"\xff",
    b"\x00",
    b"\r",
    b"\n",
    b"\r\n",
    b"\n\n",
    BOM,
    b"[DONE]",
]

noisy_bytes = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map(b"".join) | st.binary(
    max_size=200
)


def outcome(pieces: list[bytes], limit: int) -> tuple[str, object]:
    d = SSEDecoder(max_event_bytes=limit)
    events: list[ServerSentEvent] = []
    try:
        for piece in pieces:
            events.extend(d.feed(piece))
        events.extend(d.close())
    except ProtocolError:
        return ("error", None)
    for e in events:
        assert isinstance(e, ServerSentEvent)
        assert isinstance(e.data, str)
    return ("ok", (events, d.incomplete, d.retry, d.last_event_id))


@settings(max_examples=200, deadline=None)
@given(
    body=noisy_bytes,
    cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=10),
    limit=st.sampled_from([8, 32, 1 << 20]),
)
def test_arbitrary_bytes_give_events_or_protocol_error_whatever_the_chunking(
    body: bytes, cuts: list[int], limit: int
) -> None:
    # Any exception other than ProtocolError escapes outcome() and fails the test.
    whole = outcome([body], limit)
    assert outcome(split_at(body, cuts), limit) == whole
    assert outcome(bytewise(body), limit) == whole
