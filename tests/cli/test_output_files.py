"""Files written by commands: ``-O/--output-file`` everywhere, ``-O -`` as stdout,
``PATH.part`` until complete, output paths checked before the first request, and
helpers that saved nothing failing."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from tests.helpers import api_env, invoke


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- -O on every command that writes a file ------------------------------------------------

# Every operation whose answer is bytes, with the arguments it needs.
BINARY = [
    (("files", "content", "file-1"), "/files/file-1/content"),
    (
        ("containers", "files", "content", "retrieve", "cntr_1", "cfile_1"),
        "/containers/cntr_1/files/cfile_1/content",
    ),
    (("skills", "content", "retrieve", "skill_1"), "/skills/skill_1/content"),
    (
        ("skills", "versions", "content", "retrieve", "skill_1", "3"),
        "/skills/skill_1/versions/3/content",
    ),
    (
        ("vector-stores", "files", "content", "vs_1", "file-1"),
        "/vector_stores/vs_1/files/file-1/content",
    ),
    (("videos", "download-content", "video_1"), "/videos/video_1/content"),
]


@pytest.mark.parametrize(("args", "path"), BINARY, ids=lambda v: " ".join(v[:2]))
def test_every_binary_operation_takes_dash_o(
    api: respx.MockRouter, workdir: Path, args: tuple[str, ...], path: str
) -> None:
    api.get(path).respond(200, content=b"BYTES", headers={"content-type": "application/zip"})
    r = invoke(*args, "-O", "out.bin", env=api_env())
    assert r.code == 0, r
    assert (workdir / "out.bin").read_bytes() == b"BYTES"
    assert r.out == ""


def test_every_command_whose_answer_is_bytes_has_dash_o() -> None:
    from openai_cli.builder import build_command
    from openai_cli.operations.catalogue import GROUPS, load

    missing = []
    for group in GROUPS:
        for op in load(group):
            if not op.binary:
                continue
            flags = {o for p in build_command(op).params for o in p.opts}
            if "-O" not in flags or "--output-file" not in flags:
                missing.append(" ".join(op.command))
    assert missing == []


def test_dash_o_dash_is_stdout_for_a_download(api: respx.MockRouter, workdir: Path) -> None:
    api.get("/files/file-1/content").respond(200, content=b"\x00RAW")
    r = invoke("files", "content", "file-1", "-O", "-", env=api_env())
    assert r.code == 0, r
    assert r.out_bytes == b"\x00RAW"
    assert list(workdir.iterdir()) == []


def test_dash_o_dash_on_a_terminal_is_refused_before_sending(
    unsent: respx.MockRouter, workdir: Path
) -> None:
    route = unsent.get("/files/file-1/content").respond(200, content=b"x")
    r = invoke("files", "content", "file-1", "--output-file", "-", env=api_env(), stdout_tty=True)
    assert r.code == 2, r
    assert "--output-file" in r.err
    assert not route.called


def test_oai_api_takes_dash_o(api: respx.MockRouter, workdir: Path) -> None:
    api.get("/files/file-1/content").respond(200, content=b"API")
    r = invoke("api", "GET", "/files/file-1/content", "-O", "a.bin", env=api_env())
    assert r.code == 0, r
    assert (workdir / "a.bin").read_bytes() == b"API"


def test_image_dash_o_dash_writes_the_image_to_stdout(api: respx.MockRouter, workdir: Path) -> None:
    answer = {"created": 1, "data": [{"b64_json": b64(b"\x89PNG one")}]}
    api.post("/images/generations").respond(200, json=answer)
    r = invoke("images", "generate", "--prompt", "x", "-O", "-", env=api_env())
    assert r.code == 0, r
    assert r.out_bytes == b"\x89PNG one"
    assert list(workdir.iterdir()) == []


def test_batches_prepare_dash_o_dash_is_stdout(workdir: Path) -> None:
    (workdir / "p.txt").write_text("hello\n")
    r = invoke(
        "batches", "prepare", "p.txt", "--endpoint", "/v1/embeddings", "--model", "m",
        "-O", "-", env=api_env(),
    )  # fmt: skip
    assert r.code == 0, r
    assert json.loads(r.out)["body"] == {"model": "m", "input": "hello"}
    assert list(workdir.iterdir()) == [workdir / "p.txt"]


def test_map_dash_o_dash_is_stdout(api: respx.MockRouter, workdir: Path) -> None:
    (workdir / "in.jsonl").write_text('{"model": "m", "input": "a"}\n')
    api.post("/embeddings").respond(200, json={"object": "list", "data": []})
    r = invoke("map", "in.jsonl", "--endpoint", "/v1/embeddings", "-O", "-", env=api_env())
    assert r.code == 0, r
    assert json.loads(r.out) == {"line": 1, "response": {"object": "list", "data": []}}
    assert list(workdir.iterdir()) == [workdir / "in.jsonl"]


def test_a_failed_download_keeps_the_old_file(api: respx.MockRouter, workdir: Path) -> None:
    (workdir / "keep.bin").write_bytes(b"OLD")

    def cut() -> Iterator[bytes]:
        yield b"NEW PART"
        raise httpx.ReadError("connection reset")

    api.get("/files/file-1/content").mock(
        return_value=httpx.Response(200, content=cut(), headers={"content-type": "text/x"})
    )
    r = invoke("files", "content", "file-1", "-O", "keep.bin", "--max-retries", "0", env=api_env())
    assert r.code == 6, r
    assert (workdir / "keep.bin").read_bytes() == b"OLD"
    assert sorted(p.name for p in workdir.iterdir()) == ["keep.bin"]


# -- output paths checked before the first request -----------------------------------------


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_a_missing_folder_is_refused_before_sending(
    unsent: respx.MockRouter, workdir: Path
) -> None:
    route = unsent.get("/files/file-1/content").respond(200, content=b"x")
    r = invoke("files", "content", "file-1", "-O", "nowhere/out.bin", env=api_env())
    assert r.code == 2, r
    line = one_line(r.err)
    assert "--output-file" in line and "nowhere/out.bin" in line and "does not exist" in line
    assert not route.called


def test_a_directory_as_the_output_file_is_refused(unsent: respx.MockRouter, workdir: Path) -> None:
    (workdir / "out").mkdir()
    route = unsent.post("/audio/speech").respond(200, content=b"x")
    r = invoke(
        "audio", "speech", "create", "--input", "x", "--voice", "alloy", "-O", "out",
        env=api_env(),
    )  # fmt: skip
    assert r.code == 2, r
    assert "--output-file: out is a directory" in one_line(r.err)
    assert not route.called


def test_a_folder_that_is_a_file_is_refused(unsent: respx.MockRouter, workdir: Path) -> None:
    (workdir / "notes.txt").write_text("x")
    route = unsent.post("/images/generations").respond(200, json={"data": []})
    r = invoke("images", "generate", "--prompt", "x", "-O", "notes.txt/fox.png", env=api_env())
    assert r.code == 2, r
    assert "--output-file: notes.txt/fox.png" in one_line(r.err)
    assert not route.called


def test_an_output_dir_that_is_a_file_is_refused(unsent: respx.MockRouter, workdir: Path) -> None:
    (workdir / "shots").write_text("x")
    route = unsent.post("/images/generations").respond(200, json={"data": []})
    r = invoke("images", "generate", "--prompt", "x", "--output-dir", "shots", env=api_env())
    assert r.code == 2, r
    assert "--output-dir: shots is a file, not a folder" in one_line(r.err)
    assert not route.called


def test_speech_events_to_a_missing_folder_are_refused_before_sending(
    unsent: respx.MockRouter, workdir: Path
) -> None:
    route = unsent.post("/audio/speech").respond(200, content=b"x")
    r = invoke(
        "audio", "speech", "create", "--input", "x", "--voice", "alloy",
        "--stream-format", "sse", "-O", "gone/s.pcm", env=api_env(),
    )  # fmt: skip
    assert r.code == 2, r
    assert "--output-file: gone/s.pcm" in one_line(r.err)
    assert not route.called


def test_a_video_to_a_missing_folder_is_refused_before_it_is_created(
    unsent: respx.MockRouter, workdir: Path
) -> None:
    route = unsent.post("/videos").respond(200, json={"id": "video_1", "status": "queued"})
    r = invoke("videos", "create", "--prompt", "x", "-O", "gone/cat.mp4", env=api_env())
    assert r.code == 2, r
    assert "--output-file: gone/cat.mp4" in one_line(r.err)
    assert not route.called


def test_batches_run_to_a_missing_folder_is_refused_before_the_upload(
    unsent: respx.MockRouter, workdir: Path
) -> None:
    line = {"custom_id": "a", "method": "POST", "url": "/v1/embeddings", "body": {"input": "x"}}
    (workdir / "in.jsonl").write_text(json.dumps(line) + "\n")
    route = unsent.post("/files").respond(200, json={"id": "file-1"})
    # A folder under the test's own, so that nothing else on the machine can create it.
    r = invoke("batches", "run", "in.jsonl", "--wait", "-O", "gone/out.jsonl", env=api_env())
    assert r.code == 2, r
    assert "--output-file: gone/out.jsonl" in one_line(r.err)
    assert not route.called


def test_the_same_path_for_output_and_errors_is_refused(
    unsent: respx.MockRouter, workdir: Path
) -> None:
    line = {"custom_id": "a", "method": "POST", "url": "/v1/embeddings", "body": {"input": "x"}}
    (workdir / "in.jsonl").write_text(json.dumps(line) + "\n")
    (workdir / "res.jsonl").write_text("")
    route = unsent.post("/files").respond(200, json={"id": "file-1"})
    r = invoke(
        "batches", "run", "in.jsonl", "--wait", "-O", "res.jsonl", "--errors", "./res.jsonl",
        env=api_env(),
    )  # fmt: skip
    assert r.code == 2, r
    assert "--errors: ./res.jsonl is also where --output-file goes" in one_line(r.err)
    assert not route.called


def test_map_to_a_directory_is_refused(unsent: respx.MockRouter, workdir: Path) -> None:
    (workdir / "in.jsonl").write_text('{"input": "a"}\n')
    route = unsent.post("/embeddings").respond(200, json={})
    r = invoke("map", "in.jsonl", "--endpoint", "/v1/embeddings", "-O", ".", env=api_env())
    assert r.code == 2, r
    assert "--output-file: . is a directory" in one_line(r.err)
    assert not route.called


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere; permissions cannot refuse")
def test_a_folder_without_write_permission_is_refused(
    unsent: respx.MockRouter, workdir: Path
) -> None:
    locked = workdir / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    route = unsent.get("/files/file-1/content").respond(200, content=b"x")
    try:
        r = invoke("files", "content", "file-1", "-O", "locked/out.bin", env=api_env())
    finally:
        locked.chmod(0o755)
    assert r.code == 2, r
    assert "--output-file: locked/out.bin: permission denied" in one_line(r.err)
    assert not route.called


def test_a_folder_the_user_cannot_write_in_is_refused(
    unsent: respx.MockRouter, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same as above where the suite runs as root (which writes anywhere): the
    # system's answer for that one folder is made "no".
    locked = str(workdir / "locked")
    os.mkdir(locked)
    real = os.access

    def access(path: object, mode: int, **kw: object) -> bool:
        if mode & os.W_OK and os.path.abspath(str(path)) == locked:
            return False
        return real(path, mode, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)
    route = unsent.post("/images/generations").respond(200, json={"data": []})
    r = invoke("images", "generate", "--prompt", "x", "--output-dir", "locked", env=api_env())
    assert r.code == 2, r
    assert "--output-dir: locked: permission denied" in one_line(r.err)
    assert not route.called


# -- oai files create FILE --------------------------------------------------------------


def test_files_create_takes_the_file_as_an_argument(api: respx.MockRouter, workdir: Path) -> None:
    (workdir / "notes.txt").write_text("hello")
    route = api.post("/files").respond(200, json={"id": "file-1", "object": "file"})
    r = invoke("files", "create", "notes.txt", "--purpose", "assistants", env=api_env())
    assert r.code == 0, r
    assert json.loads(r.out)["id"] == "file-1"
    content = route.calls.last.request.read()
    assert b'filename="notes.txt"' in content and b"hello" in content
    assert b'name="purpose"\r\n\r\nassistants' in content


def test_files_create_with_the_file_twice_is_a_usage_error(
    unsent: respx.MockRouter, workdir: Path
) -> None:
    (workdir / "a.txt").write_text("x")
    route = unsent.post("/files").respond(200, json={"id": "file-1"})
    r = invoke(
        "files", "create", "a.txt", "--file", "a.txt", "--purpose", "assistants", env=api_env()
    )
    assert r.code == 2, r
    assert "--file" in one_line(r.err)
    assert not route.called


# -- a helper asked to save something that saved nothing exits 7 ---------------------------


def test_an_image_answer_without_images_exits_7(api: respx.MockRouter, workdir: Path) -> None:
    api.post("/images/generations").respond(200, json={"created": 1, "data": []})
    r = invoke("images", "generate", "--prompt", "x", "-O", "fox.png", env=api_env())
    assert r.code == 7, r
    assert "the answer holds no image; nothing was written to fox.png" in r.err
    assert list(workdir.iterdir()) == []


def test_an_image_entry_without_data_exits_7_after_saving_the_others(
    api: respx.MockRouter, workdir: Path
) -> None:
    answer = {"created": 1, "data": [{"b64_json": b64(b"one")}, {"revised_prompt": "y"}]}
    api.post("/images/generations").respond(200, json=answer)
    r = invoke("images", "generate", "--prompt", "x", "--n", "2", "-O", "o.png", env=api_env())
    assert r.code == 7, r
    assert "1 of the 2 images in the answer held no image data" in r.err
    assert r.out == "o-1.png\n"
    assert (workdir / "o-1.png").read_bytes() == b"one"


def test_an_image_stream_without_a_finished_image_exits_7(
    api: respx.MockRouter, workdir: Path
) -> None:
    from tests.cli.test_live import event, sse

    partial = {
        "type": "image_generation.partial_image",
        "b64_json": b64(b"p0"),
        "partial_image_index": 0,
    }
    api.post("/images/generations").mock(return_value=sse([event(partial), event("[DONE]")]))
    r = invoke("images", "generate", "--prompt", "x", "--stream", "-O", "f.png", env=api_env())
    assert r.code == 7, r
    assert "without an image" in r.err
    assert not (workdir / "f.png").exists()


def test_speech_with_an_empty_body_exits_7_and_keeps_the_old_file(
    api: respx.MockRouter, workdir: Path
) -> None:
    (workdir / "hi.mp3").write_bytes(b"OLD AUDIO")
    api.post("/audio/speech").respond(200, content=b"", headers={"content-type": "audio/mpeg"})
    r = invoke(
        "audio", "speech", "create", "--input", "x", "--voice", "alloy", "-O", "hi.mp3",
        env=api_env(),
    )  # fmt: skip
    assert r.code == 7, r
    assert "the answer holds no audio; nothing was written to hi.mp3" in r.err
    assert (workdir / "hi.mp3").read_bytes() == b"OLD AUDIO"
    assert sorted(p.name for p in workdir.iterdir()) == ["hi.mp3"]


def test_speech_to_stdout_with_an_empty_body_exits_7(api: respx.MockRouter) -> None:
    api.post("/audio/speech").respond(200, content=b"", headers={"content-type": "audio/mpeg"})
    r = invoke("audio", "speech", "create", "--input", "x", "--voice", "alloy", env=api_env())
    assert r.code == 7, r
    assert "nothing was written to stdout" in r.err


def test_speech_events_without_audio_exit_7(api: respx.MockRouter, workdir: Path) -> None:
    from tests.cli.test_live import event, sse

    done = event({"type": "speech.audio.done", "usage": {}})
    api.post("/audio/speech").mock(return_value=sse([done]))
    r = invoke(
        "audio", "speech", "create", "--input", "x", "--voice", "alloy",
        "--stream-format", "sse", "-O", "s.pcm", env=api_env(),
    )  # fmt: skip
    assert r.code == 7, r
    assert "the stream held no audio" in r.err
    assert list(workdir.iterdir()) == []


def test_a_video_with_empty_content_exits_7(
    api: respx.MockRouter, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAI_POLL_INTERVAL", "0.001")
    done = {"id": "video_1", "object": "video", "status": "completed", "progress": 100}
    api.post("/videos").respond(200, json=done)
    api.get("/videos/video_1/content").respond(200, content=b"")
    r = invoke("videos", "create", "--prompt", "x", "-O", "cat.mp4", env=api_env())
    assert r.code == 7, r
    assert "the answer holds no video; nothing was written to cat.mp4" in r.err
    assert list(workdir.iterdir()) == []


def test_a_video_answer_without_a_status_exits_7_with_dash_o(
    api: respx.MockRouter, workdir: Path
) -> None:
    api.post("/videos").respond(200, json={"id": "video_1", "object": "video"})
    r = invoke("videos", "create", "--prompt", "x", "-O", "cat.mp4", env=api_env())
    assert r.code == 7, r
    assert "nothing was written to cat.mp4" in r.err
    assert json.loads(r.out)["id"] == "video_1"


@pytest.mark.parametrize(
    "args",
    [
        ("batches", "run", "in.jsonl", "--endpoint", "/v1/embeddings"),
        ("map", "in.jsonl", "--endpoint", "/v1/embeddings", "-O", "out.jsonl"),
        ("files", "create", "in.jsonl", "--purpose", "batch", "--chunked", "--resume"),
    ],
    ids=["batches-run", "map", "chunked-upload"],
)
def test_a_state_folder_that_cannot_be_made_is_named_before_sending(
    unsent: respx.MockRouter, workdir: Path, args: tuple[str, ...]
) -> None:
    # OAI_STATE_DIR under a file (or a file where the folder of runs goes) was an
    # internal error, NotADirectoryError or FileExistsError.
    line = {"custom_id": "a", "method": "POST", "url": "/v1/embeddings",
            "body": {"model": "text-embedding-3-small", "input": "x"}}  # fmt: skip
    body = line["body"] if args[0] == "map" else line
    (workdir / "in.jsonl").write_text(json.dumps(body) + "\n")
    (workdir / "a-file").write_text("")
    route = unsent.route().respond(200, json={})
    r = invoke(*args, env={**api_env(), "OAI_STATE_DIR": str(workdir / "a-file" / "state")})
    assert r.code == 2, r
    assert f"cannot write {workdir / 'a-file' / 'state'}" in r.err
    assert len(r.err.strip().splitlines()) == 1, r.err
    assert not route.called
