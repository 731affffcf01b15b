"""``oai`` against llama.cpp's ``llama-server`` serving SmolLM2-135M-Instruct.

A real model's words are not fixed, even at temperature 0 across builds: these tests
hold exit codes, the shape of what came back and that some text did, never the text.
That a follow-up turn carried the earlier one is read from the server's own token
counts: its prompt holds the first prompt and answer, so it is longer than both.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import Any

from tests.helpers import Result, invoke, subprocess_env
from tests.real.conftest import PROFILE, use_server
from tests.real.llama import MODEL, N_PREDICT, LlamaServer

SHORT = ("-F", "temperature=0", "--max-output-tokens", "24")
# A turn that -c carries must end by itself: an answer cut at the token limit is
# partial, and a partial turn is not sent again as history. The first sentence ends it.
SENTENCE = ("-F", "temperature=0", "-F", "stop[]=.", "--max-output-tokens", "24")


def oai(*args: str, input: str = "") -> Result:
    r = invoke("--profile", PROFILE, *args, input=input)
    assert "Traceback" not in r.err, r
    return r


def last_conversation() -> dict[str, Any]:
    r = oai("logs", "-n", "1", "-o", "json")
    assert r.code == 0, r
    (conversation,) = json.loads(r.out)["data"]
    assert isinstance(conversation, dict)
    return conversation


def prompt_tokens(usage: dict[str, Any]) -> int:
    value = usage.get("input_tokens", usage.get("prompt_tokens"))
    assert isinstance(value, int), usage
    return value


def answer_tokens(usage: dict[str, Any]) -> int:
    value = usage.get("output_tokens", usage.get("completion_tokens"))
    assert isinstance(value, int), usage
    return value


def assert_follows_on(first: dict[str, Any], second: dict[str, Any]) -> None:
    """The second exchange's prompt held the first exchange's prompt and answer."""
    for turn in (first, second):
        assert turn["status"] == "complete", turn
        assert turn["answer"].strip(), turn
        assert turn["usage"], turn
    before = prompt_tokens(first["usage"]) + answer_tokens(first["usage"])
    assert prompt_tokens(second["usage"]) > before, (first, second)


def test_models_list_names_the_served_model(local: LlamaServer) -> None:
    r = oai("models", "list", "-o", "json")
    assert r.code == 0, r
    assert MODEL in [m["id"] for m in json.loads(r.out)["data"]]


def test_ask(local: LlamaServer) -> None:
    r = oai("ask", "-m", MODEL, *SHORT, "Name a colour.")
    assert r.code == 0, r
    assert r.out.strip(), r
    (turn,) = last_conversation()["exchanges"]
    assert turn["answer"].strip() == r.out.strip()
    assert turn["status"] == "complete"


def test_ask_continue_carries_the_first_turn(local: LlamaServer) -> None:
    r = oai("ask", "-m", MODEL, *SENTENCE, "My name is Ada. Say hello to me.")
    assert r.code == 0, r
    assert r.out.strip(), r
    r = oai("ask", "-c", *SENTENCE, "What is my name?")
    assert r.code == 0, r
    assert r.out.strip(), r
    # /responses here refuses previous_response_id: the history goes through chat.
    assert "this server keeps no responses to continue from" in r.err, r
    conversation = last_conversation()
    assert conversation["model"] == MODEL
    assert conversation["base_url"] == local.base_url
    first, second = conversation["exchanges"]
    assert_follows_on(first, second)


def test_ask_continue_through_chat_completions(local: LlamaServer) -> None:
    r = oai("ask", "--api", "chat", "-m", MODEL, *SENTENCE, "My name is Ada. Say hello to me.")
    assert r.code == 0, r
    # -v: the token counts on stderr.
    r = oai("ask", "--api", "chat", "-c", "--stream", "-v", *SENTENCE, "What is my name?")
    assert r.code == 0, r
    assert r.out.strip(), r
    assert "tokens" in r.err, r
    first, second = last_conversation()["exchanges"]
    assert [first["api"], second["api"]] == ["chat", "chat"]
    assert_follows_on(first, second)


class Terminal:
    """``oai ARGS`` with stdin, stdout and stderr on a pty, driven line by line."""

    def __init__(self, *args: str) -> None:
        import pty

        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 120, 0, 0))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "openai_cli", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=subprocess_env({"TERM": "xterm-256color", "NO_COLOR": "1"}),
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self.screen = b""

    def read_until(self, pattern: bytes, start: int, timeout: float = 90) -> None:
        """Read until ``pattern`` shows up at or after byte ``start`` of the screen."""
        end = time.monotonic() + timeout
        regex = re.compile(pattern, re.DOTALL)
        while not regex.search(self.screen, start):
            assert time.monotonic() < end, self.screen.decode("utf-8", "replace")
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the process closed the pty
                    chunk = b""
                assert chunk, self.screen.decode("utf-8", "replace")
                self.screen += chunk

    def type(self, line: str) -> int:
        """Type ``line`` and Enter; returns where the echo of it starts on the screen."""
        at = len(self.screen)
        os.write(self.master, line.encode() + b"\r")
        return at

    def close(self) -> int:
        try:
            return self.process.wait(timeout=30)
        finally:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            os.close(self.master)


PROMPT = rb"(^|\n)> $"


def test_repl_two_turns_on_a_terminal(local: LlamaServer) -> None:
    term = Terminal("--profile", PROFILE, "repl", "-v", "-m", MODEL)
    try:
        term.read_until(PROMPT, 0)
        answers = []
        for line in ("My name is Ada. Say hello to me.", "What is my name?"):
            at = term.type(line)
            term.read_until(re.escape(line.encode()) + rb".+" + PROMPT, at)
            answers.append(term.screen[at:])
        term.type("/exit")
    finally:
        code = term.close()
    screen = term.screen.decode("utf-8", "replace")
    assert code == 0, screen
    # No error between the turns; the one note is that follow-ups go through chat.
    notes = [line for line in screen.splitlines() if "oai:" in line]
    assert all("keeps no responses" in line for line in notes), screen
    first, second = last_conversation()["exchanges"]
    for shown, turn in zip(answers, (first, second), strict=True):
        # What the terminal showed is the logged answer (its lines end in CR LF there).
        assert turn["answer"].strip().splitlines()[0].encode() in shown, (turn, shown)
    assert_follows_on(first, second)


def test_chat_completions_stream(local: LlamaServer) -> None:
    messages = json.dumps([{"role": "user", "content": "Name three colours."}])
    create = ("chat", "completions", "create", "--model", MODEL, "--messages", messages)
    r = oai(*create, "--stream", "--temperature", "0")
    assert r.code == 0, r
    assert r.out.strip(), r

    r = oai(*create, "--stream", "--temperature", "0", "-o", "jsonl")
    assert r.code == 0, r
    chunks = [json.loads(line) for line in r.out.splitlines()]
    assert len(chunks) > 2, r
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    text = "".join(choice["delta"].get("content") or "" for c in chunks for choice in c["choices"])
    assert text.strip(), chunks
    finishes = [choice["finish_reason"] for c in chunks for choice in c["choices"]]
    assert finishes[-1] in ("stop", "length"), finishes


def test_embeddings(llama_embeddings: LlamaServer) -> None:
    use_server(llama_embeddings)
    r = oai("embeddings", "create", "--model", MODEL, "--input", "hello world", "-o", "json")
    assert r.code == 0, r
    answer = json.loads(r.out)
    (item,) = answer["data"]
    vector = item["embedding"]
    assert len(vector) > 100
    assert all(isinstance(x, float) for x in vector)
    assert any(x != 0 for x in vector)


def test_map_over_three_lines(local: LlamaServer, tmp_path: Path) -> None:
    questions = ("Name a fruit.", "Name a colour.", "Name an animal.")
    lines = tmp_path / "requests.jsonl"
    lines.write_text(
        "".join(
            json.dumps(
                {
                    "model": MODEL,
                    "messages": [{"role": "user", "content": q}],
                    "temperature": 0,
                    "max_tokens": N_PREDICT // 2,
                }
            )
            + "\n"
            for q in questions
        )
    )
    r = oai("map", str(lines), "--endpoint", "/v1/chat/completions", "-c", "2")
    assert r.code == 0, r
    results = [json.loads(line) for line in r.out.splitlines()]
    assert [x["line"] for x in results] == [1, 2, 3]
    for x in results:
        assert "error" not in x, x
        (choice,) = x["response"]["choices"]
        assert choice["message"]["content"].strip(), x
