"""The everyday commands against Steady: every request they send must be valid.

Each test runs one command in-process against Steady and checks the operation it
reached and that Steady found nothing to say about the request. What Steady cannot
show (exact tokens, failures, Ctrl-C) is covered with respx in tests/cli.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.contract.steady import Steady
from tests.helpers import Result, api_env, invoke

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("OAI_STATE_DIR", str(tmp_path / "state"))
    (work / "speech.mp3").write_bytes(b"ID3" + b"\x00" * 32)
    (work / "a.png").write_bytes(PNG)
    (work / "b.png").write_bytes(PNG)
    (work / "mask.png").write_bytes(PNG)
    (work / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    (work / "doc.pdf").write_bytes(b"%PDF-1.4\n")
    (work / "notes.txt").write_text("some notes")
    (work / "lines.txt").write_text("first line\n")
    return work


def run(
    steady: Steady, *args: str, input: str = "", stdout_tty: bool = False
) -> tuple[Result, list[dict[str, Any]]]:
    mark = steady.mark()
    r = invoke(*args, input=input, env=api_env(steady.base_url), stdout_tty=stdout_tty)
    return r, steady.entries_since(mark)


def operations(entries: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [
        (e["request"]["method"], e["request"]["pathPattern"], e["response"]["status"])
        for e in entries
    ]


def check(
    r: Result, entries: list[dict[str, Any]], *expected: tuple[str, str], code: int = 0
) -> list[dict[str, Any]]:
    assert r.code == code, r
    assert operations(entries) == [(m, p, 200) for m, p in expected], r
    assert Steady.diagnostics(entries) == []
    return entries


def streamed(entries: list[dict[str, Any]]) -> bool:
    return all(e["response"].get("body") == "[streaming]" for e in entries)


# -- live text ---------------------------------------------------------------------------


def test_responses_create_stream_live_and_jsonl(steady: Steady) -> None:
    args = ("responses", "create", "--model", "gpt-4o-mini", "--input", "Hi", "--stream")
    r, entries = run(steady, *args)
    assert streamed(check(r, entries, ("POST", "/responses")))
    r, entries = run(steady, *args, "-o", "jsonl")
    check(r, entries, ("POST", "/responses"))
    events = [json.loads(line) for line in r.out.splitlines()]
    assert events and all("type" in e for e in events)


def test_chat_completions_create_stream(steady: Steady) -> None:
    r, entries = run(
        steady, "chat", "completions", "create", "--model", "gpt-4o-mini",
        "--messages", '[{"role": "user", "content": "Hi"}]', "--stream", "-v",
    )  # fmt: skip
    assert streamed(check(r, entries, ("POST", "/chat/completions")))


def test_completions_create_stream(steady: Steady) -> None:
    r, entries = run(
        steady, "completions", "create", "--model", "gpt-3.5-turbo-instruct", "--prompt", "Hi",
        "--stream",
    )  # fmt: skip
    check(r, entries, ("POST", "/completions"))
    assert r.out.strip()  # Steady answers whole; its text is printed


def test_assistants_run_stream(steady: Steady) -> None:
    r, entries = run(
        steady, "beta", "threads", "runs", "create", "thread_1", "--assistant-id", "asst_1",
        "--stream",
    )  # fmt: skip
    check(r, entries, ("POST", "/threads/{thread_id}/runs"))


def test_ask_whole_and_streamed(steady: Steady, workdir: Path) -> None:
    r, entries = run(
        steady, "ask", "-m", "gpt-4o-mini", "--system", "Be brief.", "-r", "low",
        "--max-output-tokens", "100", "--schema", '{"type": "object", "properties": {}}',
        "Say this is a test",
    )  # fmt: skip
    check(r, entries, ("POST", "/responses"))
    assert r.out.strip()
    r, entries = run(steady, "ask", "-c", "--stream", "and again", input="context from stdin")
    check(r, entries, ("POST", "/responses"))
    assert streamed(entries)
    assert entries[0]["request"]["body"]["previous_response_id"]


def test_ask_with_a_text_attachment(steady: Steady, workdir: Path) -> None:
    r, entries = run(steady, "ask", "-m", "gpt-4o-mini", "-a", "notes.txt", "summarise")
    check(r, entries, ("POST", "/responses"))


def test_ask_with_image_and_pdf_attachments(steady: Steady, workdir: Path) -> None:
    r, entries = run(
        steady, "ask", "-m", "gpt-4o-mini", "-a", "a.png", "-a", "doc.pdf", "describe these"
    )
    assert r.code == 0, r
    assert operations(entries) == [("POST", "/responses", 200)]
    # A user message whose content is a list of parts (the only way to send an image
    # or a file) matches both EasyInputMessage and InputMessage in the spec's oneOf,
    # so Steady reports it as ambiguous, for the official SDKs' requests too. That
    # warning, and nothing else, is expected here.
    found = [d for e in entries for d in e.get("diagnostics", [])]
    assert [(d["code"], d["severity"], d["category"], d["requestPath"]) for d in found] == [
        ("E3012", "warning", "ambiguous", "body.input")
    ]
    parts = entries[0]["request"]["body"]["input"][0]["content"]
    assert [p["type"] for p in parts] == ["input_image", "input_file", "input_text"]


def test_repl_turns(steady: Steady, workdir: Path) -> None:
    r, entries = run(steady, "repl", "-m", "gpt-4o-mini", input="hello\n/model gpt-4o\nmore\n")
    check(r, entries, ("POST", "/responses"), ("POST", "/responses"))
    assert [e["request"]["body"]["model"] for e in entries] == ["gpt-4o-mini", "gpt-4o"]


# -- audio -------------------------------------------------------------------------------


def test_audio_transcriptions(steady: Steady, workdir: Path) -> None:
    r, entries = run(steady, "audio", "transcriptions", "create", "speech.mp3")
    check(r, entries, ("POST", "/audio/transcriptions"))
    r, entries = run(steady, "audio", "transcriptions", "create", "speech.mp3", "--stream")
    assert streamed(check(r, entries, ("POST", "/audio/transcriptions")))
    assert r.out.strip()


def test_audio_translations(steady: Steady, workdir: Path) -> None:
    r, entries = run(steady, "audio", "translations", "create", "speech.mp3")
    check(r, entries, ("POST", "/audio/translations"))


def test_audio_speech(steady: Steady, workdir: Path) -> None:
    r, entries = run(
        steady, "audio", "speech", "create", "--input", "Hello", "--voice", "alloy",
        "-O", "hello.wav",
    )  # fmt: skip
    check(r, entries, ("POST", "/audio/speech"))
    assert entries[0]["request"]["body"]["response_format"] == "wav"
    assert (workdir / "hello.wav").stat().st_size > 0
    r, entries = run(
        steady, "audio", "speech", "create", "--input", "Hello", "--voice", "alloy",
        "--stream-format", "sse", "-O", "hello.mp3",
    )  # fmt: skip
    assert streamed(check(r, entries, ("POST", "/audio/speech")))
    assert (workdir / "hello.mp3").stat().st_size > 0


# -- images ------------------------------------------------------------------------------

# Steady generates the required fields only: its image answers hold no image, which a
# command asked to save one reports as exit 7 (the request is still checked in full).
NO_IMAGE = 7


def test_images_generate(steady: Steady, workdir: Path) -> None:
    r, entries = run(
        steady, "images", "generate", "--prompt", "a fox", "--model", "gpt-image-1",
        "-O", "fox.webp",
    )  # fmt: skip
    check(r, entries, ("POST", "/images/generations"), code=NO_IMAGE)
    assert "the answer holds no image; nothing was written to fox.webp" in r.err
    assert entries[0]["request"]["body"]["output_format"] == "webp"
    r, entries = run(
        steady, "images", "generate", "--prompt", "a fox", "--model", "gpt-image-1",
        "--stream", "--partial-images", "2", "--output-dir", "out",
    )  # fmt: skip
    # Steady's stream sends partial images only, never the finished one.
    assert streamed(check(r, entries, ("POST", "/images/generations"), code=NO_IMAGE))
    assert "the stream ended without an image" in r.err
    saved = r.out.splitlines()
    assert saved and all((workdir / p).is_file() for p in saved)


def test_images_edit_and_variation(steady: Steady, workdir: Path) -> None:
    r, entries = run(
        steady, "images", "edit", "a.png", "b.png", "--mask", "mask.png",
        "--prompt", "add a hat", "--model", "gpt-image-1", "-O", "edit.png",
    )  # fmt: skip
    check(r, entries, ("POST", "/images/edits"), code=NO_IMAGE)
    r, entries = run(steady, "images", "create-variation", "a.png", "-O", "var.png")
    check(r, entries, ("POST", "/images/variations"), code=NO_IMAGE)


# -- videos ------------------------------------------------------------------------------


def test_videos(steady: Steady, workdir: Path) -> None:
    r, entries = run(steady, "videos", "create", "--prompt", "a cat", "--model", "sora-2")
    check(r, entries, ("POST", "/videos"))
    r, entries = run(steady, "videos", "remix", "video_1", "--prompt", "at night")
    check(r, entries, ("POST", "/videos/{video_id}/remix"))
    r, entries = run(steady, "videos", "edit", "--video", "clip.mp4", "--prompt", "slower")
    check(r, entries, ("POST", "/videos/edits"))
    r, entries = run(
        steady, "videos", "extend", "--video", "clip.mp4", "--prompt", "more", "--seconds", "4"
    )
    check(r, entries, ("POST", "/videos/extensions"))
    r, entries = run(steady, "videos", "download-content", "video_1", "-O", "v.mp4")
    check(r, entries, ("GET", "/videos/{video_id}/content"))
    assert (workdir / "v.mp4").stat().st_size > 0


def test_video_wait_polls_validly(steady: Steady, monkeypatch: pytest.MonkeyPatch) -> None:
    # Steady's videos never finish, so waiting ends at --timeout (exit 124): what
    # this shows is that the create and every poll are valid requests.
    monkeypatch.setenv("OAI_POLL_INTERVAL", "0.02")
    r, entries = run(steady, "videos", "create", "--prompt", "a cat", "--wait", "--timeout", "0.3")
    assert r.code == 124, r
    assert "oai videos retrieve" in r.err
    ops = operations(entries)
    assert ops[0] == ("POST", "/videos", 200)
    assert len(ops) >= 3 and set(ops[1:]) == {("GET", "/videos/{video_id}", 200)}
    assert Steady.diagnostics(entries) == []


# -- embeddings and moderations ----------------------------------------------------------


def test_embeddings(steady: Steady, workdir: Path) -> None:
    r, entries = run(steady, "embeddings", "create", "--input-file", "lines.txt")
    check(r, entries, ("POST", "/embeddings"))
    assert entries[0]["request"]["body"]["input"] == ["first line"]
    assert "embedding" in json.loads(r.out)


def test_moderations(steady: Steady) -> None:
    r, entries = run(steady, "moderations", "create", input="some text\n")
    check(r, entries, ("POST", "/moderations"))
    assert json.loads(r.out)["index"] == 0
