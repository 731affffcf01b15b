"""`ask` and `repl` on a server with only Chat Completions, and the local log (`oai logs`).

The server here answers ``POST /v1/responses`` with 404 (as Express-based mocks,
llama.cpp and many gateways do) and speaks ``/v1/chat/completions``, streamed or
not, like a real one.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from openai_cli.textfmt import dollars
from tests.canary import find_leak
from tests.helpers import CANARY_KEY, Result, api_env, invoke
from tests.serving import QuietHandler, http_server

NOT_FOUND = {"error": "Not Found", "message": "Cannot POST /v1/responses"}


@dataclass
class ChatServer:
    base: str
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    cut_after: int | None = None
    """Stream only this many pieces of the answer, then close the connection."""
    refuse_stream_options: bool = False
    """Answer 400 to a request with stream_options, as some servers do."""

    def to(self, path: str) -> list[dict[str, Any]]:
        return [body for p, body in self.requests if p == path]

    @property
    def chats(self) -> list[dict[str, Any]]:
        return self.to("/v1/chat/completions")


@pytest.fixture
def chat_only() -> Iterator[ChatServer]:
    state = ChatServer("")

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.split("?")[0] != "/v1/chat/completions":
                state.requests.append((self.path, {}))
                self._json(404, NOT_FOUND)
                return
            body = json.loads(raw)
            state.requests.append((self.path.split("?")[0], body))
            if state.refuse_stream_options and "stream_options" in body:
                message = "Unrecognized request argument supplied: stream_options"
                self._json(400, {"error": {"message": message, "type": "invalid_request_error"}})
                return
            text = state.answers.pop(0) if state.answers else "ok"
            if body.get("stream"):
                self._stream(text, body)
            else:
                self._json(
                    200,
                    {
                        "id": f"chatcmpl-{len(state.requests)}",
                        "object": "chat.completion",
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": text},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
                    },
                )

        def _json(self, status: int, value: Any) -> None:
            data = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, text: str, body: dict[str, Any]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            cid = f"chatcmpl-{len(state.requests)}"

            def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> None:
                payload = {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "model": body["model"],
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    **extra,
                }
                self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
                self.wfile.flush()

            chunk({"role": "assistant", "content": ""})
            pieces = text.split(" ")
            for i, piece in enumerate(pieces):
                if state.cut_after is not None and i == state.cut_after:
                    return  # the connection closes mid-answer
                chunk({"content": piece if i == 0 else " " + piece})
            chunk({}, "stop")
            if (body.get("stream_options") or {}).get("include_usage"):
                usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
                self.wfile.write(
                    b"data: "
                    + json.dumps(
                        {
                            "id": cid,
                            "object": "chat.completion.chunk",
                            "choices": [],
                            "usage": usage,
                        }
                    ).encode()
                    + b"\n\n"
                )
            self.wfile.write(b"data: [DONE]\n\n")

    with http_server(Handler) as origin:
        state.base = origin + "/v1"
        yield state


def env_for(server: ChatServer) -> dict[str, str]:
    return api_env(server.base)


def logs_json(*args: str) -> Any:
    r = invoke("logs", *args, "-o", "json")
    assert r.code == 0, r
    return json.loads(r.out)


def database_bytes(data_dir: Path) -> bytes:
    """The log file and its write-ahead files, as they are on disk."""
    return b"".join(p.read_bytes() for p in sorted(data_dir.glob("logs.db*")))


# -- the engine -----------------------------------------------------------------------------


def test_ask_then_continue_on_a_chat_only_server(chat_only: ChatServer, isolated: Path) -> None:
    chat_only.answers = ["Hello there.", "Then we part."]
    env = env_for(chat_only)
    r = invoke("ask", "-m", "M", "hi", env=env)
    assert r.code == 0, r
    assert r.out == "Hello there.\n"
    assert "this server has no POST /v1/responses (HTTP 404)" in r.err
    assert "using /v1/chat/completions" in r.err
    r = invoke("ask", "-c", "and then?", env=env)
    assert r.code == 0, r
    assert r.out == "Then we part.\n"
    assert r.err == ""  # found out once, remembered
    # /responses was tried once; the second turn went straight to chat with the first.
    assert [p for p, _ in chat_only.requests] == [
        "/v1/responses",
        "/v1/chat/completions",
        "/v1/chat/completions",
    ]
    assert chat_only.chats[1] == {
        "model": "M",
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "Hello there."},
            {"role": "user", "content": "and then?"},
        ],
    }
    (conversation,) = logs_json("-n", "1")["data"]
    assert conversation["model"] == "M"
    assert conversation["base_url"] == chat_only.base
    turns = conversation["exchanges"]
    assert [(t["prompt"], t["answer"], t["status"], t["api"]) for t in turns] == [
        ("hi", "Hello there.", "complete", "chat"),
        ("and then?", "Then we part.", "complete", "chat"),
    ]
    assert turns[0]["usage"] == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    assert turns[0]["response_id"] == "chatcmpl-2"
    assert turns[0]["duration_ms"] is not None
    data = database_bytes(isolated / "data")
    assert b"Then we part." in data
    assert find_leak(data) is None
    assert CANARY_KEY.encode() not in data


def test_repl_second_turn_sends_the_first_without_previous_response_id(
    chat_only: ChatServer,
) -> None:
    chat_only.answers = ["One.", "Two."]
    r = invoke(
        "repl", "-m", "M", "-s", "Be brief.", input="first\nsecond\n", env=env_for(chat_only)
    )
    assert r.code == 0, r
    assert r.out == "One.\nTwo.\n"
    second = chat_only.chats[1]
    assert "previous_response_id" not in second
    assert second["stream"] is True
    assert second["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "One."},
        {"role": "user", "content": "second"},
    ]
    # `ask -c` carries on where the session left off.
    chat_only.answers = ["Three."]
    r = invoke("ask", "-c", "third", env=env_for(chat_only))
    assert r.code == 0, r
    assert [m["content"] for m in chat_only.chats[2]["messages"]] == [
        "first",
        "One.",
        "second",
        "Two.",
        "third",
    ]


def test_explicit_responses_names_what_is_missing_and_the_way_around(
    chat_only: ChatServer,
) -> None:
    r = invoke("ask", "--api", "responses", "-m", "M", "hi", env=env_for(chat_only))
    assert r.code == 4, r
    assert (
        "this server has no POST /v1/responses; --api chat uses /v1/chat/completions instead"
        in r.err
    )
    assert chat_only.chats == []


def test_profile_api_chat_goes_straight_to_chat(chat_only: ChatServer) -> None:
    for key, value in (("base_url", chat_only.base), ("api", "chat"), ("model", "local")):
        assert invoke("profile", "set", "--profile", "local", key, value).code == 0
    r = invoke("--profile", "local", "ask", "hi", env={"OPENAI_API_KEY": CANARY_KEY})
    assert r.code == 0, r
    assert [p for p, _ in chat_only.requests] == ["/v1/chat/completions"]
    assert chat_only.chats[0]["model"] == "local"
    bad = invoke("profile", "set", "--profile", "local", "api", "soap")
    assert bad.code == 2
    assert "api must be one of responses, chat" in bad.err


def test_bad_api_flag_is_exit_2_and_nothing_is_sent(chat_only: ChatServer) -> None:
    r = invoke("ask", "--api", "soap", "-m", "M", "hi", env=env_for(chat_only))
    assert r.code == 2
    assert "--api: expected responses or chat, got 'soap'" in r.err
    assert chat_only.requests == []


def test_chat_engine_maps_attachments_schema_and_system(
    chat_only: ChatServer, tmp_path: Path
) -> None:
    png = tmp_path / "chart.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\nDATA")
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(b"%PDF-1.4 ...")
    notes = tmp_path / "notes.txt"
    notes.write_text("remember the milk")
    chat_only.answers = ['{"n": 1}']
    r = invoke(
        "ask", "--api", "chat", "-m", "M", "-s", "Be terse.", "-a", str(png), "-a", str(pdf),
        "-a", str(notes), "--schema", '{"type": "object"}', "--max-output-tokens", "9",
        "-r", "low", "what are these?", env=env_for(chat_only),
    )  # fmt: skip
    assert r.code == 0, r
    assert r.out == '{"n": 1}\n'
    assert chat_only.chats[0] == {
        "model": "M",
        "messages": [
            {"role": "system", "content": "Be terse."},
            {
                "role": "user",
                "content": [
                    {
                        "type": "image_url",
                        "image_url": {
                            "url": "data:image/png;base64,"
                            + base64.b64encode(png.read_bytes()).decode(),
                            "detail": "auto",
                        },
                    },
                    {
                        "type": "file",
                        "file": {
                            "filename": "paper.pdf",
                            "file_data": "data:application/pdf;base64,"
                            + base64.b64encode(pdf.read_bytes()).decode(),
                        },
                    },
                    {"type": "text", "text": "File notes.txt:\n\nremember the milk"},
                    {"type": "text", "text": "what are these?"},
                ],
            },
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "output", "schema": {"type": "object"}},
        },
        "max_completion_tokens": 9,
        "reasoning_effort": "low",
    }
    (conversation,) = logs_json()["data"]
    assert conversation["exchanges"][0]["attachments"] == [
        {"name": "chart.png", "bytes": png.stat().st_size},
        {"name": "paper.pdf", "bytes": pdf.stat().st_size},
        {"name": "notes.txt", "bytes": notes.stat().st_size},
    ]
    assert conversation["exchanges"][0]["system"] == "Be terse."


def test_chat_stream_with_verbose_asks_for_usage_and_shows_it(chat_only: ChatServer) -> None:
    chat_only.answers = ["Streamed answer."]
    r = invoke(
        "ask", "--api", "chat", "-m", "M", "-v", "hi",
        env=env_for(chat_only), stdout_tty=True, stdin_tty=True,
    )  # fmt: skip
    assert r.code == 0, r
    assert r.out == "Streamed answer.\n"
    assert chat_only.chats[0]["stream"] is True
    assert chat_only.chats[0]["stream_options"] == {"include_usage": True}
    assert "usage: prompt_tokens 5, completion_tokens 2, total_tokens 7" in r.err


def test_a_cut_stream_is_kept_marked_partial_and_left_out_of_history(
    chat_only: ChatServer,
) -> None:
    chat_only.answers = ["one two three four"]
    chat_only.cut_after = 2
    env = env_for(chat_only)
    r = invoke("ask", "--api", "chat", "-m", "M", "--stream", "count", env=env)
    assert r.code == 7, r
    assert r.out == "one two\n"
    (conversation,) = logs_json()["data"]
    (turn,) = conversation["exchanges"]
    assert (turn["status"], turn["answer"]) == ("partial", "one two")
    # --cid continues it, without the partial turn in the history.
    chat_only.cut_after = None
    r = invoke("ask", "--api", "chat", "--cid", conversation["id"], "again", env=env)
    assert r.code == 2, r
    assert "nothing to continue from" in r.err


def test_no_log_and_profile_log_false_keep_nothing(chat_only: ChatServer, isolated: Path) -> None:
    env = env_for(chat_only)
    assert invoke("ask", "--api", "chat", "-m", "M", "--no-log", "hi", env=env).code == 0
    assert not (isolated / "data" / "logs.db").exists()
    assert invoke("profile", "set", "--profile", "quiet", "log", "false").code == 0
    assert invoke("profile", "set", "--profile", "quiet", "base_url", chat_only.base).code == 0
    r = invoke("--profile", "quiet", "ask", "--api", "chat", "-m", "M", "hi", env=env)
    assert r.code == 0, r
    assert not (isolated / "data" / "logs.db").exists()
    assert len(chat_only.chats) == 2
    r = invoke("--profile", "quiet", "ask", "--api", "chat", "-c", "more", env=env)
    assert r.code == 2
    assert "--continue: no earlier answer" in r.err


# -- oai logs --------------------------------------------------------------------------------


@pytest.fixture
def two_conversations(chat_only: ChatServer) -> list[str]:
    env = env_for(chat_only)
    chat_only.answers = ["Paris is the capital.", "Bonjour.", "Blue whales."]
    assert invoke("ask", "--api", "chat", "-m", "M", "capital of France?", env=env).code == 0
    assert invoke("ask", "--api", "chat", "-c", "say hello in French", env=env).code == 0
    assert invoke("ask", "--api", "chat", "-m", "M", "largest animal?", env=env).code == 0
    return [c["id"] for c in logs_json()["data"]]


def test_logs_list_show_search(two_conversations: list[str]) -> None:
    newest, older = two_conversations
    listed = logs_json("list", "-n", "1")["data"]
    assert [c["id"] for c in listed] == [newest]
    table = invoke("logs", "-o", "table")
    assert table.code == 0, table
    assert newest in table.out and "capital of France?" in table.out
    shown = logs_json("show", older)
    assert [e["answer"] for e in shown["exchanges"]] == ["Paris is the capital.", "Bonjour."]
    md = invoke("logs", "show", older, stdout_tty=True)
    assert md.code == 0, md
    assert "capital of France?" in md.out and "Bonjour." in md.out
    found = logs_json("search", "bonjour")["data"]
    assert [(e["conversation_id"], e["answer"]) for e in found] == [(older, "Bonjour.")]
    assert logs_json("search", "nothing-like-this")["data"] == []
    missing = invoke("logs", "show", "nope")
    assert missing.code == 2
    assert "no conversation 'nope' in the log" in missing.err


def test_search_without_fts5_falls_back_to_like(
    two_conversations: list[str], env: dict[str, str]
) -> None:
    from openai_cli.logs import Log

    log = Log.open(env)
    assert log is not None and log.fts
    log.fts = False
    assert [e["answer"] for e in log.search("WHALES", 5)] == ["Blue whales."]
    assert log.search("100%", 5) == []
    log.close()


def test_logs_path_and_delete(two_conversations: list[str], isolated: Path) -> None:
    newest, older = two_conversations
    path = invoke("logs", "path")
    assert path.out == f"{isolated / 'data' / 'logs.db'}\n"
    refused = invoke("logs", "delete", older)
    assert refused.code == 2
    assert "refusing to delete without confirmation" in refused.err
    asked = invoke("logs", "delete", older, input="n\n", stdin_tty=True)
    assert asked.code == 1
    assert len(logs_json()["data"]) == 2
    r = invoke("logs", "delete", older, input="y\n", stdin_tty=True)
    assert r.code == 0, r
    assert [c["id"] for c in logs_json()["data"]] == [newest]
    assert invoke("logs", "delete", "--all", "--yes").code == 0
    assert logs_json()["data"] == []
    assert logs_json("search", "whales")["data"] == []
    assert b"Blue whales" not in database_bytes(isolated / "data")
    both = invoke("logs", "delete", newest, "--all", "--yes")
    assert both.code == 2


def test_logs_delete_counts_one_exchange_and_one_conversation(
    two_conversations: list[str],
) -> None:
    newest, older = two_conversations
    asked = invoke("logs", "delete", newest, input="n\n", stdin_tty=True)
    assert asked.err.startswith(f"Delete conversation {newest} (1 exchange)? [y/N] ")
    one = invoke("logs", "delete", older, input="n\n", stdin_tty=True)
    assert one.err.startswith(f"Delete conversation {older} (2 exchanges)? [y/N] ")
    r = invoke("logs", "delete", older, "--yes")
    assert r.code == 0, r
    r = invoke("logs", "delete", "--all", "--yes")
    assert r.code == 0, r
    assert r.err == "Deleted 1 conversation.\n"


def test_the_log_is_private(two_conversations: list[str], isolated: Path) -> None:
    data = isolated / "data"
    assert data.stat().st_mode & 0o777 == 0o700
    assert (data / "logs.db").stat().st_mode & 0o777 == 0o600
    db = sqlite3.connect(data / "logs.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 4
    assert [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY rowid")] == [
        "m001_initial",
        "m002_answer_pieces",
        "m003_tokens_and_cost",
        "m004_answers_in_pieces",
    ]
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_batches_run_on_a_server_without_files_points_to_map(
    chat_only: ChatServer, tmp_path: Path
) -> None:
    requests = tmp_path / "requests.jsonl"
    line = {
        "custom_id": "a",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "M", "messages": [{"role": "user", "content": "hi"}]},
    }
    requests.write_text(json.dumps(line) + "\n")
    r = invoke("batches", "run", str(requests), env=env_for(chat_only))
    assert r.code == 4, r
    assert "HTTP 404: Not Found" in r.err
    assert (
        "this server has no POST /v1/files; `oai map` sends the same JSONL to the endpoint "
        "directly, one request a line" in r.err
    )


# -- tokens and cost of every turn ----------------------------------------------------


def test_a_streamed_chat_turn_logs_its_usage_and_cost_without_verbose(
    chat_only: ChatServer,
) -> None:
    r = invoke(
        "ask", "--api", "chat", "-m", "gpt-4o-mini", "hi",
        env=env_for(chat_only), stdout_tty=True, stdin_tty=True,
    )  # fmt: skip
    assert r.code == 0, r
    assert chat_only.chats[0]["stream"] is True
    assert chat_only.chats[0]["stream_options"] == {"include_usage": True}
    (conversation,) = logs_json()["data"]
    exchange = conversation["exchanges"][0]
    assert exchange["usage"] == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    # gpt-4o-mini: $0.15 and $0.60 per million tokens in the shipped table.
    assert exchange["cost"] == pytest.approx((5 * 0.15 + 2 * 0.60) / 1_000_000)


def test_ask_verbose_shows_the_cost_or_that_there_is_no_price(chat_only: ChatServer) -> None:
    r = invoke("ask", "--api", "chat", "-m", "gpt-4o-mini", "-v", "hi", env=env_for(chat_only))
    assert r.code == 0, r
    assert f"cost: {dollars((5 * 0.15 + 2 * 0.60) / 1_000_000)}\n" in r.err
    r = invoke("ask", "--api", "chat", "-m", "local-llm", "-v", "hi", env=env_for(chat_only))
    assert r.code == 0, r
    assert "cost: no price for local-llm\n" in r.err


def test_a_server_refusing_stream_options_is_asked_again_without_and_remembered(
    chat_only: ChatServer,
) -> None:
    chat_only.refuse_stream_options = True
    chat_only.answers = ["first", "second"]

    def ask(text: str) -> Result:
        return invoke(
            "ask", "--api", "chat", "-m", "M", text,
            env=env_for(chat_only), stdout_tty=True, stdin_tty=True,
        )  # fmt: skip

    r = ask("hi")
    assert r.code == 0, r
    assert r.out == "first\n"
    assert "the server refuses stream_options (HTTP 400)" in r.err
    assert ["stream_options" in c for c in chat_only.chats] == [True, False]
    r = ask("again")
    assert r.code == 0, r
    assert r.out == "second\n"
    assert "stream_options" not in r.err
    assert ["stream_options" in c for c in chat_only.chats] == [True, False, False]
    (conversation, _) = logs_json()["data"]
    assert conversation["exchanges"][0]["usage"] is None


def test_logs_usage_totals_by_model_and_day(chat_only: ChatServer) -> None:
    env = env_for(chat_only)
    for model in ("gpt-4o-mini", "gpt-4o-mini", "local-llm"):
        assert invoke("ask", "--api", "chat", "-m", model, "hi", env=env).code == 0
    rows = logs_json("usage", "--by", "model")["data"]
    assert rows == [
        {
            "model": "gpt-4o-mini",
            "turns": 2,
            "input_tokens": 10,
            "cached_tokens": 0,
            "output_tokens": 4,
            "cost": round(2 * (5 * 0.15 + 2 * 0.60) / 1_000_000, 6),
            "without_usage": 0,
            "without_price": 0,
        },
        {
            "model": "local-llm",
            "turns": 1,
            "input_tokens": 5,
            "cached_tokens": 0,
            "output_tokens": 2,
            "cost": 0,
            "without_usage": 0,
            "without_price": 1,
        },
    ]
    (day,) = logs_json("usage")["data"]
    assert (day["turns"], day["input_tokens"], day["output_tokens"]) == (3, 15, 6)
    r = invoke("logs", "usage", "--by", "week")
    assert (r.code, r.err) == (2, "oai: --by: one of day, model, profile, got 'week'\n")
