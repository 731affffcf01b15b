"""Live tokens from `--stream`: exact text, chunk boundaries, every way a stream fails."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest
import respx

from openai_cli.errors import StreamError
from openai_cli.io import IO
from openai_cli.operations.streams import Sink, StreamEvent, consume
from openai_cli.render.live import LiveText
from tests.helpers import api_env, invoke

RESPONSES = ("responses", "create", "--model", "m", "--input", "hi", "--stream")
CHAT = (
    "chat",
    "completions",
    "create",
    "--model",
    "m",
    "--messages",
    '[{"role": "user", "content": "hi"}]',
    "--stream",
)


def event(payload: Any, name: str | None = None) -> bytes:
    head = f"event: {name}\n" if name else ""
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"{head}data: {data}\n\n".encode()


def delta(text: str) -> bytes:
    return event(
        {"type": "response.output_text.delta", "delta": text}, "response.output_text.delta"
    )


def created(rid: str = "resp_1") -> bytes:
    return event({"type": "response.created", "response": {"id": rid, "status": "in_progress"}})


def completed(rid: str = "resp_1", usage: dict[str, Any] | None = None) -> bytes:
    response = {"id": rid, "status": "completed", "usage": usage}
    return event({"type": "response.completed", "response": response}, "response.completed")


def chat_chunk(text: str, **extra: Any) -> bytes:
    return event(
        {
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": text}}],
            **extra,
        }
    )


def sse(chunks: Iterable[bytes], *, rid: str = "req_123", cut: bool = False) -> httpx.Response:
    """A streamed answer delivered in exactly these chunks; ``cut`` breaks the connection."""

    def body() -> Iterator[bytes]:
        yield from chunks
        if cut:
            raise httpx.RemoteProtocolError("peer closed connection")

    return httpx.Response(
        200,
        headers={"content-type": "text/event-stream", "x-request-id": rid},
        content=body(),
    )


def test_responses_stream_prints_exact_text_when_piped(api: respx.MockRouter) -> None:
    route = api.post("/responses").mock(
        return_value=sse([created(), delta("Hel"), delta("lo, "), delta("wörld"), completed()])
    )
    r = invoke(*RESPONSES, env=api_env())
    assert r.code == 0, r
    assert r.out == "Hello, wörld\n"
    assert r.err == ""
    sent = route.calls.last.request
    assert sent.headers["accept"] == "text/event-stream"
    assert json.loads(sent.content) == {"model": "m", "input": "hi", "stream": True}


def test_text_ending_in_a_newline_gets_no_extra_one(api: respx.MockRouter) -> None:
    api.post("/responses").mock(return_value=sse([delta("line\n"), completed()]))
    r = invoke(*RESPONSES, env=api_env())
    assert (r.code, r.out) == (0, "line\n")


def test_o_jsonl_prints_the_raw_events(api: respx.MockRouter) -> None:
    events = [created(), delta("Hi"), completed()]
    api.post("/responses").mock(return_value=sse(events))
    r = invoke(*RESPONSES, "-o", "jsonl", env=api_env())
    assert r.code == 0, r
    assert r.out.splitlines() == [e.decode().split("data: ", 1)[1].strip() for e in events]


def test_verbose_reports_request_id_and_usage_on_stderr(api: respx.MockRouter) -> None:
    usage = {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5, "output_tokens_details": {}}
    api.post("/responses").mock(return_value=sse([created(), delta("ok"), completed(usage=usage)]))
    r = invoke(*RESPONSES, "-v", env=api_env())
    assert r.code == 0, r
    assert r.out == "ok\n"
    assert "request id: req_123" in r.err
    assert "response id: resp_1" in r.err
    assert "usage: input_tokens 3, output_tokens 2, total_tokens 5" in r.err


def test_multibyte_characters_split_across_chunks(api: respx.MockRouter) -> None:
    whole = delta("é🙂ü") + completed()
    cut_e = whole.index("é".encode()) + 1  # inside the two bytes of é
    cut_emoji = whole.index("🙂".encode()) + 2  # inside the four bytes of the emoji
    chunks = [whole[:cut_e], whole[cut_e:cut_emoji], whole[cut_emoji:]]
    api.post("/responses").mock(return_value=sse(chunks))
    r = invoke(*RESPONSES, env=api_env())
    assert r.code == 0, r
    assert r.out_bytes == "é🙂ü\n".encode()


def test_surrogate_pair_split_across_events_prints_the_character(api: respx.MockRouter) -> None:
    # JSON escapes let a server split one character over two events.
    first = b'data: {"type": "response.output_text.delta", "delta": "a\\ud83d"}\n\n'
    second = b'data: {"type": "response.output_text.delta", "delta": "\\ude00b"}\n\n'
    api.post("/responses").mock(return_value=sse([first, second, completed()]))
    r = invoke(*RESPONSES, env=api_env())
    assert r.code == 0, r
    assert r.out_bytes == "a😀b\n".encode()


def test_chat_stream_prints_first_choice_text(api: respx.MockRouter) -> None:
    chunks = [chat_chunk("Hel"), chat_chunk("lo"), chat_chunk("", usage=None), b"data: [DONE]\n\n"]
    api.post("/chat/completions").mock(return_value=sse(chunks))
    r = invoke(*CHAT, env=api_env())
    assert (r.code, r.out) == (0, "Hello\n"), r


def test_legacy_completions_stream(api: respx.MockRouter) -> None:
    def chunk(text: str) -> bytes:
        return event({"object": "text_completion", "choices": [{"index": 0, "text": text}]})

    route = api.post("/completions").mock(
        return_value=sse([chunk("Once"), chunk(" upon"), b"data: [DONE]\n\n"])
    )
    r = invoke("completions", "create", "--model", "m", "--prompt", "x", "--stream", env=api_env())
    assert (r.code, r.out) == (0, "Once upon\n"), r
    assert json.loads(route.calls.last.request.content)["stream"] is True


def test_assistants_run_stream(api: respx.MockRouter) -> None:
    def message_delta(text: str) -> bytes:
        payload = {
            "id": "msg_1",
            "object": "thread.message.delta",
            "delta": {"content": [{"index": 0, "type": "text", "text": {"value": text}}]},
        }
        return event(payload, "thread.message.delta")

    chunks = [
        event({"id": "run_1", "object": "thread.run"}, "thread.run.created"),
        message_delta("Ahoy"),
        message_delta(" there"),
        event(
            {"id": "run_1", "object": "thread.run", "usage": {"total_tokens": 9}},
            "thread.run.completed",
        ),
        b"event: done\ndata: [DONE]\n\n",
    ]
    api.post("/threads/thread_1/runs").mock(return_value=sse(chunks))
    r = invoke(
        "beta", "threads", "runs", "create", "thread_1", "--assistant-id", "asst_1", "--stream",
        "-v", env=api_env(),
    )  # fmt: skip
    assert r.code == 0, r
    assert r.out == "Ahoy there\n"
    assert "usage: total_tokens 9" in r.err


def test_assistants_run_failure_event_exits_7(api: respx.MockRouter) -> None:
    run = {"id": "run_1", "object": "thread.run", "last_error": {"message": "rate limited"}}
    chunks = [event(run, "thread.run.failed"), b"event: done\ndata: [DONE]\n\n"]
    api.post("/threads/thread_1/runs").mock(return_value=sse(chunks))
    r = invoke(
        "beta", "threads", "runs", "create", "thread_1", "--assistant-id", "asst_1", "--stream",
        env=api_env(),
    )  # fmt: skip
    assert r.code == 7, r
    assert "rate limited" in r.err and "req_123" in r.err


FAILURES: dict[str, tuple[bytes, str]] = {
    "error event": (
        event({"type": "error", "code": "server_error", "message": "boom"}, "error"),
        "the stream reported an error: boom",
    ),
    "response.failed": (
        event(
            {
                "type": "response.failed",
                "response": {"id": "resp_1", "error": {"code": "x", "message": "model crashed"}},
            },
            "response.failed",
        ),
        "the stream reported an error: model crashed",
    ),
    "response.incomplete": (
        event(
            {
                "type": "response.incomplete",
                "response": {"id": "resp_1", "incomplete_details": {"reason": "max_output_tokens"}},
            },
            "response.incomplete",
        ),
        "the answer is incomplete: it reached the output token limit (max_output_tokens)",
    ),
}


@pytest.mark.parametrize("name", list(FAILURES))
def test_failure_events_keep_the_text_and_exit_7(api: respx.MockRouter, name: str) -> None:
    failure, message = FAILURES[name]
    api.post("/responses").mock(return_value=sse([created(), delta("partial"), failure]))
    r = invoke(*RESPONSES, env=api_env())
    assert r.code == 7, r
    assert r.out == "partial\n"
    assert f"oai: {message} (request id req_123)" in r.err


def test_error_event_message_is_reported(api: respx.MockRouter) -> None:
    failure = event({"type": "error", "error": {"message": "context too long"}}, "error")
    api.post("/responses").mock(return_value=sse([delta("x"), failure]))
    r = invoke(*RESPONSES, env=api_env())
    assert r.code == 7
    assert "context too long" in r.err


def test_chat_error_chunk_exits_7(api: respx.MockRouter) -> None:
    chunks = [chat_chunk("so far"), event({"error": {"message": "overloaded"}})]
    api.post("/chat/completions").mock(return_value=sse(chunks))
    r = invoke(*CHAT, env=api_env())
    assert r.code == 7, r
    assert r.out == "so far\n"
    assert "overloaded" in r.err and "req_123" in r.err


def test_stream_ending_without_its_final_event_exits_7(api: respx.MockRouter) -> None:
    api.post("/responses").mock(return_value=sse([created(), delta("half")]))
    r = invoke(*RESPONSES, env=api_env())
    assert r.code == 7, r
    assert r.out == "half\n"
    assert "the stream ended before its final event" in r.err and "req_123" in r.err


def test_chat_stream_without_done_exits_7(api: respx.MockRouter) -> None:
    api.post("/chat/completions").mock(return_value=sse([chat_chunk("a")]))
    r = invoke(*CHAT, env=api_env())
    assert (r.code, r.out) == (7, "a\n"), r


def test_cut_connection_keeps_the_text_and_exits_7(api: respx.MockRouter) -> None:
    api.post("/responses").mock(return_value=sse([created(), delta("cut h")], cut=True))
    r = invoke(*RESPONSES, env=api_env())
    assert r.code == 7, r
    assert r.out == "cut h\n"
    assert "stream interrupted (RemoteProtocolError)" in r.err and "req_123" in r.err


def test_server_that_does_not_stream_still_prints_the_text(api: respx.MockRouter) -> None:
    answer = {
        "id": "resp_9",
        "object": "response",
        "status": "completed",
        "output": [
            {"type": "message", "content": [{"type": "output_text", "text": "whole answer"}]}
        ],
    }
    api.post("/responses").respond(200, json=answer)
    r = invoke(*RESPONSES, env=api_env())
    assert (r.code, r.out) == (0, "whole answer\n"), r


def test_markdown_on_a_terminal_is_rendered(api: respx.MockRouter) -> None:
    api.post("/responses").mock(
        return_value=sse([delta("Some **bold"), delta("** text"), completed()])
    )
    r = invoke(*RESPONSES, "--markdown", env={**api_env(), "NO_COLOR": "1"}, stdout_tty=True)
    assert r.code == 0, r
    # The view is redrawn in place; what stays on screen is the last frame.
    last = r.out.rsplit("\x1b[2K", 1)[-1]
    assert "\x1b[1mbold\x1b[0m" in last
    assert re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", last).strip() == "Some bold text"


def test_markdown_is_ignored_when_piped(api: respx.MockRouter) -> None:
    api.post("/responses").mock(return_value=sse([delta("**bold**"), completed()]))
    r = invoke(*RESPONSES, "--markdown", env=api_env())
    assert (r.code, r.out) == (0, "**bold**\n")


def test_model_defaults_to_the_default_model(api: respx.MockRouter) -> None:
    route = api.post("/responses").mock(return_value=sse([delta("x"), completed()]))
    r = invoke(
        "--default-model", "gpt-test", "responses", "create", "--input", "hi", "--stream",
        env=api_env(),
    )  # fmt: skip
    assert r.code == 0, r
    assert json.loads(route.calls.last.request.content)["model"] == "gpt-test"


def test_model_from_body_is_not_overruled_by_the_default(api: respx.MockRouter) -> None:
    route = api.post("/responses").mock(return_value=sse([delta("x"), completed()]))
    r = invoke(
        "--default-model", "gpt-test", "responses", "create", "--stream",
        "--body", '{"model": "from-body", "input": "hi"}', env=api_env(),
    )  # fmt: skip
    assert r.code == 0, r
    assert json.loads(route.calls.last.request.content)["model"] == "from-body"


def test_without_stream_the_answer_is_printed_as_sent(api: respx.MockRouter) -> None:
    body = '{"id":"resp_1","object":"response","output":[]}'
    api.post("/responses").respond(200, text=body, headers={"content-type": "application/json"})
    r = invoke("responses", "create", "--model", "m", "--input", "hi", env=api_env())
    assert (r.code, r.out) == (0, body + "\n")


# -- the sink itself ---------------------------------------------------------------------


class _Recorder(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushes: list[str] = []

    def flush(self) -> None:
        self.flushes.append(self.getvalue())


def _live(out: io.StringIO) -> LiveText:
    return LiveText(IO(stdin=io.StringIO(), stdout=out, stderr=io.StringIO(), env={}))


def test_text_is_flushed_once_per_chunk_as_it_arrives() -> None:
    out = _Recorder()
    chunks = [delta("a") + delta("b"), delta("c"), b": keepalive\n\n", completed()]
    consume(chunks, _live(out), request_id=None)
    # After each chunk that carried text, and once at the end with the newline.
    assert out.flushes == ["ab", "abc", "abc\n"]


def test_events_reach_a_sink_before_a_failure_is_raised() -> None:
    seen: list[str | None] = []

    class Kinds(Sink):
        def event(self, ev: StreamEvent) -> None:
            seen.append(ev.kind)

        def close(self, ok: bool) -> None:
            seen.append(f"closed ok={ok}")

    failed = event({"type": "response.failed", "response": {}})
    with pytest.raises(StreamError):
        consume([delta("a"), failed, delta("never")], Kinds(), request_id="r")
    assert seen == ["response.output_text.delta", "response.failed", "closed ok=False"]


@pytest.mark.parametrize(
    ("chunks", "ends"),
    [
        ([b"data: [DONE]\n\n"], True),
        ([b"event: done\ndata: {}\n\n"], True),
        ([event({"type": "transcript.text.done", "text": "x"})], True),
        ([event({"type": "image_generation.completed", "b64_json": ""})], True),
        ([event({"type": "response.output_text.done", "text": "x"})], False),
    ],
)
def test_what_counts_as_a_normal_end(chunks: list[bytes], ends: bool) -> None:
    run: Callable[[], None] = lambda: consume(chunks, Sink(), request_id=None)  # noqa: E731
    if ends:
        run()
    else:
        with pytest.raises(StreamError, match="ended before its final event"):
            run()


# -- text known by its shape, whatever the chunks are labelled ------------------------


def choice_chunk(choice: dict[str, Any], **top: Any) -> bytes:
    return event({**top, "choices": [{"index": 0, **choice}]})


@pytest.mark.parametrize(
    "label",
    [{}, {"object": "chat.completions.chunk"}],
    ids=["no-object", "plural-object"],
)
def test_chat_text_is_read_whatever_the_object_label(api: respx.MockRouter, label: Any) -> None:
    chunks = [
        choice_chunk({"delta": {"role": "assistant", "content": "Hel"}}, **label),
        choice_chunk({"delta": {"content": "lo"}}, **label),
        choice_chunk({"delta": {}, "finish_reason": "stop"}, **label),
        b"data: [DONE]\n\n",
    ]
    api.post("/chat/completions").mock(return_value=sse(chunks))
    r = invoke(*CHAT, env=api_env())
    assert (r.code, r.out, r.err) == (0, "Hello\n", ""), r


def test_completions_text_without_an_object_label(api: respx.MockRouter) -> None:
    chunks = [choice_chunk({"text": "Once"}), choice_chunk({"text": " upon"}), b"data: [DONE]\n\n"]
    api.post("/completions").mock(return_value=sse(chunks))
    r = invoke("completions", "create", "--model", "m", "--prompt", "x", "--stream", env=api_env())
    assert (r.code, r.out, r.err) == (0, "Once upon\n", ""), r


def test_content_given_as_a_list_of_parts(api: respx.MockRouter) -> None:
    parts = [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]
    chunks = [choice_chunk({"delta": {"content": parts}}), b"data: [DONE]\n\n"]
    api.post("/chat/completions").mock(return_value=sse(chunks))
    r = invoke(*CHAT, env=api_env())
    assert (r.code, r.out) == (0, "Hi there\n"), r


def test_an_answer_without_text_says_so_and_exits_0(api: respx.MockRouter) -> None:
    chunks = [
        choice_chunk({"delta": {"role": "assistant", "content": ""}}),
        choice_chunk({"delta": {}, "finish_reason": "length"}),
        b"data: [DONE]\n\n",
    ]
    api.post("/chat/completions").mock(return_value=sse(chunks))
    r = invoke(*CHAT, env=api_env())
    assert (r.code, r.out) == (0, ""), r
    assert r.err == "oai: the answer has no text (finish_reason: length)\n"


def test_a_tool_call_is_an_answer_without_a_note(api: respx.MockRouter) -> None:
    call = {"index": 0, "id": "call_1", "function": {"name": "f", "arguments": "{}"}}
    chunks = [
        choice_chunk({"delta": {"tool_calls": [call]}}),
        choice_chunk({"delta": {}, "finish_reason": "tool_calls"}),
        b"data: [DONE]\n\n",
    ]
    api.post("/chat/completions").mock(return_value=sse(chunks))
    r = invoke(*CHAT, env=api_env())
    assert (r.code, r.out, r.err) == (0, "", ""), r


def test_a_responses_function_call_is_an_answer_without_a_note(api: respx.MockRouter) -> None:
    item = {"type": "function_call", "name": "f", "arguments": "{}", "call_id": "c"}
    added = event({"type": "response.output_item.added", "output_index": 0, "item": item})
    api.post("/responses").mock(return_value=sse([created(), added, completed()]))
    r = invoke(*RESPONSES, env=api_env())
    assert (r.code, r.out, r.err) == (0, "", ""), r


def test_events_with_no_answer_in_them_are_a_failure(api: respx.MockRouter) -> None:
    chunks = [event({"token": "a"}), event({"token": "b"}), b"data: [DONE]\n\n"]
    api.post("/chat/completions").mock(return_value=sse(chunks))
    r = invoke(*CHAT, env=api_env())
    assert (r.code, r.out) == (7, ""), r
    assert r.err == (
        "oai: the stream carried 2 events but no answer text this command can read;"
        " -o jsonl prints them as they are (request id req_123)\n"
    )


def test_a_stream_without_any_event_is_a_failure(api: respx.MockRouter) -> None:
    api.post("/chat/completions").mock(return_value=sse([b": ping\n\n", b"data: [DONE]\n\n"]))
    r = invoke(*CHAT, env=api_env())
    assert (r.code, r.out) == (7, ""), r
    assert r.err == (
        "oai: the stream ended without a single event: no answer came (request id req_123)\n"
    )


# -- when a stream is complete --------------------------------------------------------

FINISHED = [
    choice_chunk({"delta": {"content": "Hello"}}),
    choice_chunk({"delta": {"content": " world"}}),
    choice_chunk({"delta": {}, "finish_reason": "stop"}),
]
USAGE = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


@pytest.mark.parametrize(
    "tail",
    [
        [],
        [event({"choices": [], "usage": USAGE})],
        [event({"choices": [{"index": 0, "delta": {}}], "usage": USAGE})],
        [b"data: [DONE]\n"],  # no closing blank line
        [b"data: [DONE]"],  # not even a line ending
        [b"data:[DONE]\r\n"],
    ],
    ids=[
        "no-done",
        "usage-empty-choices",
        "usage-empty-delta",
        "done-no-blank",
        "done-bare",
        "crlf",
    ],
)
def test_chat_stream_that_ended_cleanly_after_finishing_is_complete(
    api: respx.MockRouter, tail: list[bytes]
) -> None:
    api.post("/chat/completions").mock(return_value=sse([*FINISHED, *tail]))
    r = invoke(*CHAT, env=api_env())
    assert (r.code, r.out, r.err) == (0, "Hello world\n", ""), r


def test_last_chunk_without_its_blank_line_is_still_read(api: respx.MockRouter) -> None:
    last = choice_chunk({"delta": {"content": "!"}, "finish_reason": "stop"}).rstrip(b"\n")
    api.post("/chat/completions").mock(return_value=sse([*FINISHED[:2], last]))
    r = invoke(*CHAT, env=api_env())
    assert (r.code, r.out, r.err) == (0, "Hello world!\n", ""), r


def test_legacy_completions_finished_without_done(api: respx.MockRouter) -> None:
    chunks = [choice_chunk({"text": "Once"}), choice_chunk({"text": "!", "finish_reason": "stop"})]
    api.post("/completions").mock(return_value=sse(chunks))
    r = invoke("completions", "create", "--model", "m", "--prompt", "x", "--stream", env=api_env())
    assert (r.code, r.out) == (0, "Once!\n"), r


def test_a_choice_still_open_means_partial(api: respx.MockRouter) -> None:
    chunks = [
        event({"choices": [{"index": 0, "delta": {"content": "a"}}]}),
        event({"choices": [{"index": 1, "delta": {"content": "b"}}]}),
        event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    ]
    api.post("/chat/completions").mock(return_value=sse(chunks))
    r = invoke(*CHAT, env=api_env())
    assert (r.code, r.out) == (7, "a\n"), r
    assert "the stream ended before its final event" in r.err


def test_a_body_that_stops_inside_an_event_is_partial(api: respx.MockRouter) -> None:
    api.post("/chat/completions").mock(return_value=sse([*FINISHED, b'data: {"choices": [], "usa']))
    r = invoke(*CHAT, env=api_env())
    assert (r.code, r.out) == (7, "Hello world\n"), r
    assert "oai: the stream ended in the middle of an event; the output above is partial" in r.err


def test_a_cut_after_the_finish_reason_is_still_partial(api: respx.MockRouter) -> None:
    api.post("/chat/completions").mock(return_value=sse(FINISHED, cut=True))
    r = invoke(*CHAT, env=api_env())
    assert (r.code, r.out) == (7, "Hello world\n"), r
    assert "stream interrupted (RemoteProtocolError)" in r.err


def test_a_path_the_catalogue_does_not_know_ends_with_its_body(api: respx.MockRouter) -> None:
    api.post("/some/unknown").mock(return_value=sse([event({"token": "a"}), event({"n": 1})]))
    r = invoke("api", "post", "/some/unknown", "--stream", env=api_env())
    assert (r.code, r.err) == (0, ""), r
    assert r.out == '{"token": "a"}\n{"n": 1}\n'


def test_a_known_path_still_needs_its_final_event(api: respx.MockRouter) -> None:
    api.post("/audio/speech").mock(
        return_value=sse([event({"type": "speech.audio.delta", "audio": ""})])
    )
    r = invoke("api", "post", "/audio/speech", "--stream", env=api_env())
    assert r.code == 7, r
    assert "the stream ended before its final event" in r.err


def _then_stuck(chunks: list[bytes]) -> Iterator[bytes]:
    yield from chunks
    # A server that keeps the connection open: the next read would wait for the timeout.
    raise httpx.ReadTimeout("timed out")


@pytest.mark.parametrize(
    ("args", "path", "chunks", "text"),
    [
        (CHAT, "/chat/completions", [*FINISHED, b"data: [DONE]\n\n"], "Hello world\n"),
        (RESPONSES, "/responses", [created(), delta("Hi"), completed()], "Hi\n"),
    ],
    ids=["done", "response.completed"],
)
def test_reading_stops_at_the_terminal_event(
    api: respx.MockRouter, args: tuple[str, ...], path: str, chunks: list[bytes], text: str
) -> None:
    response = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=_then_stuck(chunks)
    )
    api.post(path).mock(return_value=response)
    r = invoke(*args, env=api_env())
    assert (r.code, r.out, r.err) == (0, text, ""), r


def test_nothing_is_read_past_done() -> None:
    pulled: list[bytes] = []

    def chunks() -> Iterator[bytes]:
        for c in [chat_chunk("a"), b"data: [DONE]\n\n", chat_chunk("never")]:
            pulled.append(c)
            yield c

    out = io.StringIO()
    consume(chunks(), _live(out), request_id=None)
    assert out.getvalue() == "a\n"
    assert len(pulled) == 2


# -- compressed streams -----------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_stream_is_decoded(api: respx.MockRouter, encoding: str) -> None:
    import gzip
    import zlib

    body = b"".join([created(), delta("squeezed"), completed()])
    packed = gzip.compress(body) if encoding == "gzip" else zlib.compress(body)
    # In pieces, as a server flushing its compressor per event would send them.
    pieces = [packed[i : i + 9] for i in range(0, len(packed), 9)]
    headers = {"content-type": "text/event-stream", "content-encoding": encoding}
    api.post("/responses").mock(
        return_value=httpx.Response(200, headers=headers, content=iter(pieces))
    )
    r = invoke(*RESPONSES, env=api_env())
    assert (r.code, r.out, r.err) == (0, "squeezed\n", ""), r


def test_a_stream_that_does_not_decompress_is_a_clear_failure(api: respx.MockRouter) -> None:
    headers = {
        "content-type": "text/event-stream",
        "content-encoding": "gzip",
        "x-request-id": "req_z",
    }
    api.post("/responses").mock(
        return_value=httpx.Response(200, headers=headers, content=iter([b"not gzip"]))
    )
    r = invoke(*RESPONSES, env=api_env())
    assert r.code == 7, r
    assert "content encoding does not decode" in r.err and "req_z" in r.err


# -- -v and token usage on chat streams --------------------------------------------------


def test_verbose_asks_a_chat_stream_for_its_usage_and_shows_it(api: respx.MockRouter) -> None:
    chunks = [*FINISHED, event({"choices": [], "usage": USAGE}), b"data: [DONE]\n\n"]
    route = api.post("/chat/completions").mock(return_value=sse(chunks))
    r = invoke(*CHAT, "-v", env=api_env())
    assert (r.code, r.out) == (0, "Hello world\n"), r
    assert json.loads(route.calls.last.request.content)["stream_options"] == {"include_usage": True}
    assert r.err == (
        "request id: req_123\nusage: prompt_tokens 3, completion_tokens 2, total_tokens 5\n"
    )


def test_verbose_asks_a_completions_stream_for_its_usage(api: respx.MockRouter) -> None:
    chunks = [choice_chunk({"text": "x", "finish_reason": "stop"}), b"data: [DONE]\n\n"]
    route = api.post("/completions").mock(return_value=sse(chunks))
    r = invoke(
        "completions", "create", "--model", "m", "--prompt", "x", "--stream", "-v", env=api_env()
    )
    assert r.code == 0, r
    assert json.loads(route.calls.last.request.content)["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(
    ("extra", "sent"),
    [
        ((), None),  # without -v nothing is added
        (("-v", "--stream-options", '{"include_usage": false}'), {"include_usage": False}),
        (
            ("-v", "--stream-options", '{"include_obfuscation": false}'),
            {"include_obfuscation": False, "include_usage": True},
        ),
    ],
    ids=["not-verbose", "user-said-no", "other-options-kept"],
)
def test_the_users_stream_options_stand(
    api: respx.MockRouter, extra: tuple[str, ...], sent: Any
) -> None:
    route = api.post("/chat/completions").mock(return_value=sse([*FINISHED, b"data: [DONE]\n\n"]))
    r = invoke(*CHAT, *extra, env=api_env())
    assert r.code == 0, r
    assert json.loads(route.calls.last.request.content).get("stream_options") == sent


def test_dry_run_with_verbose_shows_the_usage_request(unsent: respx.MockRouter) -> None:
    r = invoke(*CHAT, "-v", "--dry-run", env=api_env())
    assert r.code == 0, r
    assert json.loads(r.out)["body"]["stream_options"] == {"include_usage": True}
