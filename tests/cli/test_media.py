"""Audio, images, videos, embeddings and moderations: requests built, files written."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.test_live import event, sse
from tests.helpers import BASE, api_env, invoke, temporaries


def form(route: respx.Route, n: int = -1) -> bytes:
    request: httpx.Request = route.calls[n].request
    return request.read()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- audio -------------------------------------------------------------------------------


def test_transcription_takes_the_file_as_an_argument(api: respx.MockRouter, workdir: Path) -> None:
    (workdir / "memo.mp3").write_bytes(b"ID3 audio")
    route = api.post("/audio/transcriptions").respond(200, json={"text": "hello"})
    r = invoke("audio", "transcriptions", "create", "memo.mp3", env=api_env())
    assert r.code == 0, r
    assert json.loads(r.out) == {"text": "hello"}
    content = form(route)
    assert b'filename="memo.mp3"' in content and b"ID3 audio" in content
    assert b'name="model"\r\n\r\ngpt-4o-mini-transcribe' in content


def test_transcription_file_given_twice_is_a_usage_error(
    unsent: respx.MockRouter, workdir: Path
) -> None:
    (workdir / "a.mp3").write_bytes(b"x")
    route = unsent.post("/audio/transcriptions").respond(200, json={})
    r = invoke("audio", "transcriptions", "create", "a.mp3", "--file", "a.mp3", env=api_env())
    assert r.code == 2
    assert "--file" in r.err
    assert not route.called


def test_streamed_transcript_prints_text_as_it_comes(api: respx.MockRouter, workdir: Path) -> None:
    (workdir / "memo.wav").write_bytes(b"RIFF")
    chunks = [
        event({"type": "transcript.text.delta", "delta": "Hello"}),
        event({"type": "transcript.text.delta", "delta": " world"}),
        event({"type": "transcript.text.done", "text": "Hello world", "usage": {"tokens": 3}}),
    ]
    route = api.post("/audio/transcriptions").mock(return_value=sse(chunks))
    r = invoke("audio", "transcriptions", "create", "memo.wav", "--stream", env=api_env())
    assert r.code == 0, r
    assert r.out == "Hello world\n"
    assert b'name="stream"\r\n\r\ntrue' in form(route)
    assert route.calls.last.request.headers["accept"] == "text/event-stream"


def test_translation_takes_the_file_as_an_argument(api: respx.MockRouter, workdir: Path) -> None:
    (workdir / "fr.mp3").write_bytes(b"audio")
    route = api.post("/audio/translations").respond(200, json={"text": "hi"})
    r = invoke("audio", "translations", "create", "fr.mp3", env=api_env())
    assert r.code == 0, r
    assert b'name="model"\r\n\r\nwhisper-1' in form(route)


def test_speech_streams_bytes_to_the_file_and_takes_the_format_from_it(
    api: respx.MockRouter, workdir: Path
) -> None:
    chunks = [b"RIFF", b"\x00\x01" * 1000, b"end"]
    route = api.post("/audio/speech").mock(
        return_value=httpx.Response(
            200, headers={"content-type": "audio/wav"}, content=iter(chunks)
        )
    )
    r = invoke(
        "audio", "speech", "create", "--input", "Hello", "--voice", "alloy", "-O", "hi.wav",
        env=api_env(),
    )  # fmt: skip
    assert r.code == 0, r
    assert (workdir / "hi.wav").read_bytes() == b"".join(chunks)
    assert temporaries(workdir) == []
    assert json.loads(route.calls.last.request.content) == {
        "model": "gpt-4o-mini-tts",
        "input": "Hello",
        "voice": "alloy",
        "response_format": "wav",
    }
    assert r.out == ""


def test_speech_format_flag_wins_over_the_extension(api: respx.MockRouter, workdir: Path) -> None:
    route = api.post("/audio/speech").respond(200, content=b"x")
    r = invoke(
        "audio", "speech", "create", "--input", "x", "--voice", "alloy",
        "--response-format", "flac", "--output-file", "a.mp3", env=api_env(),
    )  # fmt: skip
    assert r.code == 0, r
    assert json.loads(route.calls.last.request.content)["response_format"] == "flac"


def test_speech_input_from_stdin_and_an_unknown_extension(
    api: respx.MockRouter, workdir: Path
) -> None:
    route = api.post("/audio/speech").respond(200, content=b"x")
    r = invoke(
        "audio", "speech", "create", "--input", "-", "--voice", "alloy", "-O", "a.audio",
        input="Read this aloud.", env=api_env(),
    )  # fmt: skip
    assert r.code == 0, r
    body = json.loads(route.calls.last.request.content)
    assert body["input"] == "Read this aloud."
    assert "response_format" not in body


def test_speech_sse_audio_is_decoded_into_the_file(api: respx.MockRouter, workdir: Path) -> None:
    pieces = [b"\x00\x01\x02", b"\xff" * 5]
    chunks = [event({"type": "speech.audio.delta", "audio": b64(p)}) for p in pieces]
    chunks.append(event({"type": "speech.audio.done", "usage": {}}))
    route = api.post("/audio/speech").mock(return_value=sse(chunks))
    r = invoke(
        "audio", "speech", "create", "--input", "x", "--voice", "alloy",
        "--stream-format", "sse", "-O", "s.pcm", env=api_env(),
    )  # fmt: skip
    assert r.code == 0, r
    assert (workdir / "s.pcm").read_bytes() == b"".join(pieces)
    assert route.calls.last.request.headers["accept"] == "text/event-stream"


def test_speech_sse_cut_short_leaves_no_file(api: respx.MockRouter, workdir: Path) -> None:
    chunks = [event({"type": "speech.audio.delta", "audio": b64(b"abc")})]
    api.post("/audio/speech").mock(return_value=sse(chunks))
    r = invoke(
        "audio", "speech", "create", "--input", "x", "--voice", "alloy",
        "--stream-format", "sse", "-O", "s.pcm", env=api_env(),
    )  # fmt: skip
    assert r.code == 7, r
    assert not (workdir / "s.pcm").exists() and temporaries(workdir) == []


def test_speech_to_a_terminal_without_a_file_is_refused(unsent: respx.MockRouter) -> None:
    route = unsent.post("/audio/speech").respond(200, content=b"x")
    r = invoke(
        "audio", "speech", "create", "--input", "x", "--voice", "alloy",
        env=api_env(), stdout_tty=True,
    )  # fmt: skip
    assert r.code == 2
    assert not route.called


# -- images ------------------------------------------------------------------------------

PNG1 = b"\x89PNG first"
PNG2 = b"\x89PNG second"


def images_answer(*blobs: bytes, **extra: Any) -> dict[str, Any]:
    return {"created": 1700000000, "data": [{"b64_json": b64(b)} for b in blobs], **extra}


def test_generated_image_is_saved_and_its_path_printed(
    api: respx.MockRouter, workdir: Path
) -> None:
    route = api.post("/images/generations").respond(200, json=images_answer(PNG1))
    r = invoke(
        "images", "generate", "--prompt", "a fox", "--model", "gpt-image-1", "-O", "fox.webp",
        env=api_env(),
    )  # fmt: skip
    assert r.code == 0, r
    assert r.out == "fox.webp\n"
    assert (workdir / "fox.webp").read_bytes() == PNG1
    assert json.loads(route.calls.last.request.content) == {
        "prompt": "a fox",
        "model": "gpt-image-1",
        "output_format": "webp",
    }


def test_several_images_get_numbered_files(api: respx.MockRouter, workdir: Path) -> None:
    api.post("/images/generations").respond(200, json=images_answer(PNG1, PNG2))
    r = invoke("images", "generate", "--prompt", "x", "--n", "2", "-O", "out.png", env=api_env())
    assert r.code == 0, r
    assert r.out == "out-1.png\nout-2.png\n"
    assert (workdir / "out-1.png").read_bytes() == PNG1
    assert (workdir / "out-2.png").read_bytes() == PNG2


def test_output_dir_and_default_names(api: respx.MockRouter, workdir: Path) -> None:
    api.post("/images/generations").mock(
        side_effect=[
            httpx.Response(200, json=images_answer(PNG1, PNG2, output_format="jpeg")),
            httpx.Response(200, json=images_answer(PNG1)),
            httpx.Response(200, json=images_answer(PNG2)),
        ]
    )
    r = invoke("images", "generate", "--prompt", "x", "--output-dir", "shots", env=api_env())
    assert r.code == 0, r
    assert r.out.splitlines() == [
        os.path.join("shots", "image-1700000000-1.jpg"),
        os.path.join("shots", "image-1700000000-2.jpg"),
    ]
    assert (workdir / "shots" / "image-1700000000-2.jpg").read_bytes() == PNG2
    # Without a destination: the current directory, never overwriting.
    assert invoke("images", "generate", "--prompt", "x", env=api_env()).out == (
        "image-1700000000.png\n"
    )
    assert invoke("images", "generate", "--prompt", "x", env=api_env()).out == (
        "image-1700000000.2.png\n"
    )
    assert (workdir / "image-1700000000.png").read_bytes() == PNG1
    assert (workdir / "image-1700000000.2.png").read_bytes() == PNG2


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.one_of(
        st.sampled_from(["png\x00", "x" * 5000, "\x1b[31mpng", "../../x", "png/..", 7, None]),
        st.text(max_size=20),
    ),
    created=st.one_of(st.sampled_from(["../up", "\x1b]0;t\x07", True, -1, 1.5]), st.integers()),
)
def test_an_answer_cannot_choose_the_saved_file_name(fmt: Any, created: Any) -> None:
    # The image was paid for: whatever the answer says about it, it is saved, in the
    # folder asked for, under a name made of safe characters only.
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, respx.mock(base_url=BASE) as api:
        api.post("/images/generations").respond(
            200, json={"created": created, "output_format": fmt, "data": [{"b64_json": b64(PNG1)}]}
        )
        r = invoke("images", "generate", "--prompt", "x", "--output-dir", tmp, env=api_env())
        assert r.code == 0, r
        [saved] = os.listdir(tmp)
        assert (Path(tmp) / saved).read_bytes() == PNG1
        assert re.fullmatch(r"image-[0-9-]+(\.[0-9]+)?\.(png|jpg|webp|bin)", saved), saved
        assert "Traceback" not in r.err


def test_urls_are_listed_and_downloaded_with_a_destination(
    api: respx.MockRouter, workdir: Path
) -> None:
    url = "https://images.example.test/img.png?sig=abc"
    answer = {"created": 1, "data": [{"url": url}]}
    api.post("/images/generations").respond(200, json=answer)
    fetch = api.get(url).respond(200, content=PNG1)
    r = invoke("images", "generate", "--prompt", "x", env=api_env())
    assert (r.code, r.out) == (0, url + "\n"), r
    assert not fetch.called
    r = invoke("images", "generate", "--prompt", "x", "-O", "dl.png", env=api_env())
    assert (r.code, r.out) == (0, "dl.png\n"), r
    assert (workdir / "dl.png").read_bytes() == PNG1
    # The API key stays with the API.
    assert "authorization" not in fetch.calls.last.request.headers


def test_explicit_format_without_destination_prints_the_answer(
    api: respx.MockRouter, workdir: Path
) -> None:
    body = images_answer(PNG1)
    api.post("/images/generations").respond(200, json=body)
    r = invoke("images", "generate", "--prompt", "x", "-o", "json", env=api_env())
    assert r.code == 0, r
    assert json.loads(r.out) == body
    assert list(workdir.iterdir()) == []


def test_edit_sends_several_images_and_a_mask(api: respx.MockRouter, workdir: Path) -> None:
    for name in ("a.png", "b.png", "mask.png"):
        (workdir / name).write_bytes(b"\x89PNG " + name.encode())
    route = api.post("/images/edits").respond(200, json=images_answer(PNG1))
    r = invoke(
        "images", "edit", "a.png", "b.png", "--mask", "mask.png", "--prompt", "add a cat",
        "-O", "edited.png", env=api_env(),
    )  # fmt: skip
    assert r.code == 0, r
    assert r.out == "edited.png\n"
    content = form(route)
    assert content.count(b'name="image[]"; filename="a.png"') == 1
    assert content.count(b'name="image[]"; filename="b.png"') == 1
    assert b'name="mask"; filename="mask.png"' in content
    assert b"\x89PNG mask.png" in content


def test_variation_takes_the_image_as_an_argument(api: respx.MockRouter, workdir: Path) -> None:
    (workdir / "p.png").write_bytes(b"\x89PNG p")
    route = api.post("/images/variations").respond(200, json=images_answer(PNG2))
    r = invoke("images", "create-variation", "p.png", "-O", "v.png", env=api_env())
    assert r.code == 0, r
    assert (workdir / "v.png").read_bytes() == PNG2
    assert b'name="image"; filename="p.png"' in form(route)


def test_streamed_partial_images_are_saved_as_they_come(
    api: respx.MockRouter, workdir: Path
) -> None:
    chunks = [
        event(
            {
                "type": "image_generation.partial_image",
                "b64_json": b64(b"partial0"),
                "partial_image_index": 0,
                "output_format": "png",
            }
        ),
        event(
            {
                "type": "image_generation.partial_image",
                "b64_json": b64(b"partial1"),
                "partial_image_index": 1,
                "output_format": "png",
            }
        ),
        event(
            {
                "type": "image_generation.completed",
                "b64_json": b64(b"final"),
                "output_format": "png",
                "usage": {"total_tokens": 10},
            }
        ),
    ]
    route = api.post("/images/generations").mock(return_value=sse(chunks))
    r = invoke(
        "images", "generate", "--prompt", "x", "--stream", "--partial-images", "2",
        "-O", "fox.png", env=api_env(),
    )  # fmt: skip
    assert r.code == 0, r
    assert r.out.splitlines() == ["fox.partial-0.png", "fox.partial-1.png", "fox.png"]
    assert (workdir / "fox.partial-1.png").read_bytes() == b"partial1"
    assert (workdir / "fox.png").read_bytes() == b"final"
    assert json.loads(route.calls.last.request.content)["stream"] is True


def test_image_stream_error_event_exits_7(api: respx.MockRouter, workdir: Path) -> None:
    chunks = [event({"type": "error", "error": {"message": "moderation blocked"}})]
    api.post("/images/generations").mock(return_value=sse(chunks))
    r = invoke("images", "generate", "--prompt", "x", "--stream", "-O", "f.png", env=api_env())
    assert r.code == 7, r
    assert "moderation blocked" in r.err


# -- videos ------------------------------------------------------------------------------


def video(status: str, progress: int = 0, **extra: Any) -> dict[str, Any]:
    return {"id": "video_1", "object": "video", "status": status, "progress": progress, **extra}


@pytest.fixture
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAI_POLL_INTERVAL", "0.001")


def test_video_create_waits_and_downloads(
    api: respx.MockRouter, workdir: Path, fast_polls: None
) -> None:
    create = api.post("/videos").respond(200, json=video("queued"))
    poll = api.get("/videos/video_1").mock(
        side_effect=[
            httpx.Response(200, json=video("in_progress", 40)),
            httpx.Response(200, json=video("completed", 100)),
        ]
    )
    content = api.get("/videos/video_1/content").respond(
        200, content=b"MP4DATA", headers={"content-type": "video/mp4"}
    )
    r = invoke("videos", "create", "--prompt", "a cat", "-O", "cat.mp4", env=api_env())
    assert r.code == 0, r
    assert json.loads(r.out)["status"] == "completed"
    assert (workdir / "cat.mp4").read_bytes() == b"MP4DATA"
    assert len(poll.calls) == 2 and content.called
    assert json.loads(create.calls.last.request.content) == {"prompt": "a cat"}
    assert "video video_1: in_progress 40%" in r.err


def test_video_failure_exits_7(api: respx.MockRouter, fast_polls: None) -> None:
    api.post("/videos/video_0/remix").respond(200, json=video("queued"))
    api.get("/videos/video_1").respond(
        200, json=video("failed", error={"code": "x", "message": "policy violation"})
    )
    r = invoke("videos", "remix", "video_0", "--prompt", "x", "--wait", env=api_env())
    assert r.code == 7, r
    assert "policy violation" in r.err
    assert json.loads(r.out)["status"] == "failed"


def test_video_without_wait_is_the_plain_call(api: respx.MockRouter) -> None:
    api.post("/videos").respond(200, json=video("queued"))
    r = invoke("videos", "create", "--prompt", "x", env=api_env())
    assert r.code == 0, r
    assert json.loads(r.out)["status"] == "queued"


def test_video_wait_timeout_exits_124(api: respx.MockRouter, fast_polls: None) -> None:
    api.post("/videos").respond(200, json=video("queued"))
    api.get("/videos/video_1").respond(200, json=video("in_progress", 10))
    r = invoke("videos", "create", "--prompt", "x", "--wait", "--timeout", "0.05", env=api_env())
    assert r.code == 124, r
    assert "oai videos retrieve video_1 --wait" in r.err


def test_video_retrieve_resumes_waiting(
    api: respx.MockRouter, workdir: Path, fast_polls: None
) -> None:
    api.get("/videos/video_1").mock(
        side_effect=[
            httpx.Response(200, json=video("in_progress", 90)),
            httpx.Response(200, json=video("completed", 100)),
        ]
    )
    api.get("/videos/video_1/content").respond(200, content=b"V")
    r = invoke("videos", "retrieve", "video_1", "-O", "v.mp4", env=api_env())
    assert r.code == 0, r
    assert (workdir / "v.mp4").read_bytes() == b"V"


# -- embeddings and moderations ----------------------------------------------------------


def embedding_answer(request: httpx.Request) -> httpx.Response:
    """One vector per input, returned in reverse order, as the API may do."""
    inputs = json.loads(request.content)["input"]
    data = [
        {"object": "embedding", "index": i, "embedding": [float(len(text)), float(i)]}
        for i, text in enumerate(inputs)
    ]
    usage = {"prompt_tokens": len(inputs), "total_tokens": len(inputs)}
    return httpx.Response(
        200, json={"object": "list", "data": data[::-1], "model": "m", "usage": usage}
    )


def test_embeddings_from_arguments(api: respx.MockRouter) -> None:
    route = api.post("/embeddings").mock(side_effect=embedding_answer)
    r = invoke("embeddings", "create", "one", "three", env=api_env())
    assert r.code == 0, r
    assert [json.loads(line) for line in r.out.splitlines()] == [
        {"object": "embedding", "index": 0, "embedding": [3.0, 0.0]},
        {"object": "embedding", "index": 1, "embedding": [5.0, 1.0]},
    ]
    assert json.loads(route.calls.last.request.content) == {
        "input": ["one", "three"],
        "model": "text-embedding-3-small",
    }


def test_embeddings_batches_keep_the_order(api: respx.MockRouter, workdir: Path) -> None:
    texts = [f"text number {i}" * (i + 1) for i in range(5)]
    (workdir / "in.txt").write_text("\n".join(texts) + "\n")
    route = api.post("/embeddings").mock(side_effect=embedding_answer)
    r = invoke(
        "embeddings", "create", "--input-file", "in.txt", "--batch-size", "2", "-v",
        env=api_env(),
    )  # fmt: skip
    assert r.code == 0, r
    rows = [json.loads(line) for line in r.out.splitlines()]
    assert [row["index"] for row in rows] == [0, 1, 2, 3, 4]
    assert [row["embedding"][0] for row in rows] == [float(len(t)) for t in texts]
    assert [json.loads(c.request.content)["input"] for c in route.calls] == [
        texts[0:2],
        texts[2:4],
        texts[4:5],
    ]
    assert "5 inputs in 3 requests" in r.err and "total_tokens 5" in r.err


def test_embeddings_from_stdin_one_per_line(api: respx.MockRouter) -> None:
    route = api.post("/embeddings").mock(side_effect=embedding_answer)
    r = invoke("embeddings", "create", input="alpha\nbeta\n", env=api_env())
    assert r.code == 0, r
    assert len(r.out.splitlines()) == 2
    assert json.loads(route.calls.last.request.content)["input"] == ["alpha", "beta"]


def test_embeddings_json_output_is_one_answer(api: respx.MockRouter) -> None:
    api.post("/embeddings").mock(side_effect=embedding_answer)
    r = invoke("embeddings", "create", "a", "bb", "cc", "--batch-size", "2", "-o", "json",
               env=api_env())  # fmt: skip
    assert r.code == 0, r
    answer = json.loads(r.out)
    assert [d["index"] for d in answer["data"]] == [0, 1, 2]
    assert answer["usage"] == {"prompt_tokens": 3, "total_tokens": 3}


def test_embeddings_blank_line_is_refused(unsent: respx.MockRouter) -> None:
    route = unsent.post("/embeddings").mock(side_effect=embedding_answer)
    r = invoke("embeddings", "create", input="a\n\nb\n", env=api_env())
    assert r.code == 2
    assert "line 2 is blank" in r.err
    assert not route.called


def test_embeddings_answer_with_a_missing_vector_is_an_error(api: respx.MockRouter) -> None:
    api.post("/embeddings").respond(200, json={"data": [{"index": 0, "embedding": [1.0]}]})
    r = invoke("embeddings", "create", "a", "b", env=api_env())
    assert r.code == 6, r
    assert "the answer holds 1 result for 2 inputs" in r.err


def test_batches_respect_the_byte_budget() -> None:
    from openai_cli.commands.embeddings import batches

    texts = ["x" * 40, "y" * 40, "z" * 40, "w" * 100]
    assert [len(b) for b in batches(texts, 10, max_bytes=100)] == [2, 1, 1]
    assert list(batches(["é" * 30, "a"], 10, max_bytes=60)) == [["é" * 30], ["a"]]


def test_moderations_from_stdin(api: respx.MockRouter) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["input"]
        results = [{"flagged": "bad" in t, "categories": {}} for t in inputs]
        return httpx.Response(200, json={"id": "modr", "model": "m", "results": results})

    route = api.post("/moderations").mock(side_effect=answer)
    r = invoke("moderations", "create", "--batch-size", "1", input="fine\nbad\n", env=api_env())
    assert r.code == 0, r
    assert [json.loads(line) for line in r.out.splitlines()] == [
        {"index": 0, "flagged": False, "categories": {}},
        {"index": 1, "flagged": True, "categories": {}},
    ]
    assert len(route.calls) == 2
    assert "model" not in json.loads(route.calls.last.request.content)


def test_multimodal_moderation_input_goes_as_given(api: respx.MockRouter) -> None:
    body = {"id": "modr", "results": [{"flagged": False}]}
    parts = '[{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "u"}}]'
    route = api.post("/moderations").respond(200, json=body)
    r = invoke("moderations", "create", "--input", parts, env=api_env())
    assert r.code == 0, r
    assert json.loads(r.out) == body
    assert json.loads(route.calls.last.request.content)["input"] == json.loads(parts)
