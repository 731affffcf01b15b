"""One way to write a file (``openai_cli/writer.py``), seen through the commands.

Every output flag refuses what is not a file before anything is sent; a download
goes to a fresh private temporary file renamed over its destination, so nothing
found at any other name (a link, a pipe, another run's file) is written into, and
the destination keeps its mode or is created 0600. Signals and concurrent runs are
in ``tests/faults/test_writer.py``; the scan that keeps every write in the writer is
``tests/unit/test_writers.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import respx
import typer

from tests.helpers import Result, api_env, invoke, temporaries, walk_commands

BYTES = {"content-type": "application/octet-stream"}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


# -- every output flag, before anything is sent ----------------------------------------


def _inputs(work: Path) -> None:
    (work / "in.jsonl").write_text(
        json.dumps(
            {
                "custom_id": "a",
                "method": "POST",
                "url": "/v1/embeddings",
                "body": {"model": "m", "input": "x"},
            }
        )
        + "\n"
    )
    (work / "prompts.txt").write_text("hello\n")
    (work / "a.wav").write_bytes(b"RIFF....WAVE")
    (work / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n")


# Every command with an output flag, with the arguments it needs besides the flag.
OUTPUTS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("api",): ("get", "/files/file-1/content"),
    ("audio", "speech", "create"): ("--input", "hi", "--voice", "alloy"),
    ("audio", "transcriptions", "create"): ("a.wav",),
    ("batches", "run"): ("in.jsonl",),
    ("batches", "prepare"): ("prompts.txt", "--endpoint", "/v1/responses", "--model", "m"),
    ("beta", "responses", "create"): ("--model", "m", "--input", "hi"),
    ("chat", "completions", "create"): ("--model", "m", "-F", "messages[][content]=hi"),
    ("containers", "files", "content", "retrieve"): ("cntr_1", "cfile_1"),
    ("files", "content"): ("file-1",),
    ("images", "create-variation"): ("a.png",),
    ("images", "edit"): ("a.png", "--prompt", "x"),
    ("images", "generate"): ("--prompt", "x"),
    ("map",): ("in.jsonl", "--endpoint", "/v1/embeddings"),
    ("responses", "create"): ("--model", "m", "--input", "hi"),
    ("skills", "content", "retrieve"): ("skill_1",),
    ("skills", "versions", "content", "retrieve"): ("skill_1", "3"),
    ("vector-stores", "files", "content"): ("vs_1", "file-1"),
    ("videos", "create"): ("--prompt", "x"),
    ("videos", "download-content"): ("video_1",),
    ("videos", "edit"): ("--prompt", "x", "-F", "video[id]=video_1"),
    ("videos", "extend"): ("--prompt", "x", "-F", "video[id]=video_1", "--seconds", "4"),
    ("videos", "remix"): ("video_1", "--prompt", "x"),
    ("videos", "retrieve"): ("video_1",),
}
# Flags naming a file or a folder to write, besides -O/--output-file, by command.
EXTRA_FLAGS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("batches", "run"): ("--errors",),
    ("images", "generate"): ("--output-dir",),
}
FILE_FLAGS = {"-O", "--output-file", "--errors", "--output-dir"}


def test_the_table_lists_every_command_with_an_output_flag() -> None:
    from openai_cli.app import build

    root = build()
    found: dict[tuple[str, ...], set[str]] = {}
    for path, cmd, _ in walk_commands(root, typer.Context(root, info_name="oai")):
        if isinstance(cmd, typer.core.TyperGroup):
            continue
        flags = {o for p in cmd.params for o in getattr(p, "opts", ())} & FILE_FLAGS
        if flags:
            found[path] = flags
    assert sorted(found) == sorted(OUTPUTS)
    for path, flags in found.items():
        extra = flags - {"-O", "--output-file"}
        # --output-dir of edit and create-variation is the same code as generate's.
        if path not in (("images", "edit"), ("images", "create-variation")):
            assert extra == set(EXTRA_FLAGS.get(path, ())), path


TOO_LONG = "has a name too long for its file system"


def _not_files(where: Path) -> Iterator[tuple[str, Path]]:
    fifo = where / "pipe"
    os.mkfifo(fifo)
    yield "is a named pipe", fifo
    yield "is a directory", where / "folder"
    link = where / "link-to-folder"
    link.symlink_to(where / "folder")
    yield "is a directory", link
    yield "is a device", Path(os.devnull)
    sock = where / "sock"
    yield "is a socket", sock
    # Could never be created: without the check the answer was paid for, then lost.
    yield TOO_LONG, where / ("n" * 256 + ".png")


@pytest.fixture
def not_files(workdir: Path) -> Iterator[list[tuple[str, Path]]]:
    (workdir / "folder").mkdir()
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(workdir / "sock"))
    found = list(_not_files(workdir))
    # A reader on the pipe: a command that wrongly opened it would fail the test
    # rather than hang it.
    reader = os.open(workdir / "pipe", os.O_RDONLY | os.O_NONBLOCK)
    try:
        yield found
    finally:
        os.close(reader)
        server.close()


@pytest.mark.parametrize(
    ("command", "flag"),
    [(c, "-O") for c in OUTPUTS] + [(c, f) for c, fs in EXTRA_FLAGS.items() for f in fs],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else v,
)
def test_what_is_not_a_file_is_refused_before_sending(
    unsent: respx.MockRouter,
    workdir: Path,
    not_files: list[tuple[str, Path]],
    command: tuple[str, ...],
    flag: str,
) -> None:
    _inputs(workdir)
    sent = unsent.route().respond(500)
    for reason, target in not_files:
        if flag == "--output-dir" and reason == "is a directory":
            continue  # a folder is what it takes
        r = invoke(*command, *OUTPUTS[command], flag, str(target), env=api_env())
        assert r.code == 2, (target, r)
        first = r.err.splitlines()[0]
        if flag == "--output-dir" and reason == TOO_LONG:
            # It was made before the request: an internal error.
            assert first == f"oai: --output-dir: {target} {TOO_LONG}", r
        elif flag == "--output-dir":
            assert first == f"oai: --output-dir: {target} is a file, not a folder", r
        else:
            shown = "--output-file" if flag == "-O" else flag
            assert first.startswith(f"oai: {shown}: {target} {reason}"), r
        assert "Traceback" not in r.err
        assert not sent.called, (target, r)
    assert temporaries(workdir) == []


def test_each_of_several_images_is_checked_before_sending(
    unsent: respx.MockRouter, workdir: Path
) -> None:
    sent = unsent.route().respond(500)
    os.mkfifo(workdir / "fox-2.png")
    r = invoke("images", "generate", "--prompt", "fox", "--n", "3", "-O", "fox.png", env=api_env())
    assert r.code == 2, r
    assert r.err.splitlines()[0] == (
        "oai: --output-file: fox-2.png is a named pipe, not a regular file"
    ), r
    assert not sent.called


# -- what is at the destination, and around it ------------------------------------------


def download(api: respx.MockRouter, *args: str) -> Result:
    api.get("/files/file-1/content").respond(200, content=b"NEW BYTES", headers=BYTES)
    return invoke("files", "content", "file-1", *args, env=api_env())


@pytest.fixture
def victim(workdir: Path) -> Iterator[Path]:
    """A file that links point at: it must keep its bytes whatever is written."""
    path = workdir / "victim.txt"
    path.write_text("keep me\n")
    yield path
    assert path.read_text() == "keep me\n"


def test_a_link_at_the_old_part_name_is_never_written_through(
    api: respx.MockRouter, workdir: Path, victim: Path
) -> None:
    (workdir / "out.bin.part").symlink_to(victim)
    r = download(api, "-O", "out.bin")
    assert r.code == 0, r
    assert victim.read_text() == "keep me\n"
    out = workdir / "out.bin"
    assert not out.is_symlink() and out.read_bytes() == b"NEW BYTES"
    assert (workdir / "out.bin.part").is_symlink()
    assert temporaries(workdir) == []


def test_a_destination_that_is_a_link_is_replaced_not_written_through(
    api: respx.MockRouter, workdir: Path, victim: Path
) -> None:
    (workdir / "out.bin").symlink_to(victim)
    (workdir / "dangling.bin").symlink_to(workdir / "nowhere" / "x")
    (workdir / "hard.bin").hardlink_to(victim)
    for name in ("out.bin", "dangling.bin", "hard.bin"):
        r = download(api, "-O", name)
        assert r.code == 0, (name, r)
        out = workdir / name
        assert not out.is_symlink() and out.read_bytes() == b"NEW BYTES", name
    assert victim.read_text() == "keep me\n"
    assert not (workdir / "nowhere").exists()


def test_a_new_file_is_private_and_a_replaced_one_keeps_its_mode(
    api: respx.MockRouter, workdir: Path
) -> None:
    old = os.umask(0o022)
    try:
        r = download(api, "-O", "new.bin")
        assert r.code == 0, r
        assert mode(workdir / "new.bin") == 0o600
        for kept in (0o600, 0o640, 0o604, 0o755):
            target = workdir / f"old-{kept:o}.bin"
            target.write_bytes(b"old")
            target.chmod(kept)
            r = download(api, "-O", target.name)
            assert r.code == 0, r
            assert target.read_bytes() == b"NEW BYTES"
            assert mode(target) == kept, oct(mode(target))
    finally:
        os.umask(old)


def test_every_command_that_saves_writes_a_private_file(
    api: respx.MockRouter, workdir: Path
) -> None:
    import base64

    png = base64.b64encode(b"\x89PNG-ish").decode()
    api.post("/images/generations").respond(200, json={"created": 1, "data": [{"b64_json": png}]})
    api.post("/audio/speech").respond(200, content=b"ID3 audio", headers=BYTES)
    api.get("/files/file-1/content").respond(200, content=b"x", headers=BYTES)
    runs = [
        (("images", "generate", "--prompt", "fox", "-O", "fox.png"), "fox.png"),
        (("audio", "speech", "create", "--input", "hi", "--voice", "alloy", "-O", "hi.mp3"), None),
        (("api", "get", "/files/file-1/content", "-O", "api.bin"), "api.bin"),
    ]
    for args, name in runs:
        r = invoke(*args, env=api_env())
        assert r.code == 0, r
        assert mode(workdir / (name or "hi.mp3")) == 0o600, args
    assert temporaries(workdir) == []


# -- a folder that cannot be written ----------------------------------------------------


def _read_only(folder: Path) -> Callable[[], None]:
    """Make ``folder`` refuse new files, for root too (immutable); returns the undo."""
    if os.geteuid() != 0:
        folder.chmod(0o500)
        return lambda: folder.chmod(0o700)
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("root needs chattr to make a folder refuse new files")
    done = subprocess.run([chattr, "+i", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"chattr +i failed: {done.stderr.decode().strip()}")

    def undo() -> None:
        subprocess.run([chattr, "-i", str(folder)], check=True)

    return undo


def test_a_read_only_folder_is_refused_before_sending(
    unsent: respx.MockRouter, workdir: Path
) -> None:
    folder = workdir / "ro"
    folder.mkdir()
    sent = unsent.route().respond(500)
    undo = _read_only(folder)
    try:
        r = invoke("files", "content", "file-1", "-O", str(folder / "x.bin"), env=api_env())
    finally:
        undo()
    assert r.code == 2, r
    assert r.err.splitlines() == [
        f"oai: --output-file: {folder / 'x.bin'}: permission denied writing in {folder}"
    ]
    assert not sent.called
    assert list(folder.iterdir()) == []


def test_a_folder_that_turns_read_only_during_the_request_is_an_output_error(
    api: respx.MockRouter, workdir: Path
) -> None:
    folder = workdir / "ro"
    folder.mkdir()
    undo: list[Callable[[], None]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        undo.append(_read_only(folder))
        return httpx.Response(200, content=b"paid for", headers=BYTES)

    api.get("/files/file-1/content").mock(side_effect=answer)
    try:
        r = invoke("files", "content", "file-1", "-O", str(folder / "x.bin"), env=api_env())
    finally:
        for u in undo:
            u()
    assert r.code == 74, r
    [line] = r.err.splitlines()
    assert line.startswith(f"oai: cannot write {folder / 'x.bin'}: "), r
    assert "Traceback" not in r.err
    assert list(folder.iterdir()) == []


# -- map: results appended to the file itself ------------------------------------------


def _map_input(work: Path) -> Path:
    src = work / "in.jsonl"
    src.write_text('{"model": "m", "input": "a"}\n')
    return src


def test_map_results_are_never_appended_through_a_link(
    unsent: respx.MockRouter, workdir: Path
) -> None:
    src = _map_input(workdir)
    sent = unsent.route().respond(500)
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir()
    empty = elsewhere / "empty.jsonl"
    empty.write_text("")
    (workdir / "dangling.jsonl").symlink_to(elsewhere / "created.jsonl")
    (workdir / "empty-link.jsonl").symlink_to(empty)
    for name in ("dangling.jsonl", "empty-link.jsonl"):
        r = invoke("map", str(src), "--endpoint", "/v1/embeddings", "-O", name, env=api_env())
        assert r.code == 2, (name, r)
        assert r.err.splitlines()[0] == (
            f"oai: --output-file: {name} is a symbolic link; give the file it points to"
        ), r
    assert not sent.called
    assert sorted(p.name for p in elsewhere.iterdir()) == ["empty.jsonl"]
    assert empty.read_text() == ""


def test_map_results_are_created_private(api: respx.MockRouter, workdir: Path) -> None:
    src = _map_input(workdir)
    api.post("/embeddings").respond(200, json={"object": "list", "data": []})
    old = os.umask(0o022)
    try:
        r = invoke(
            "map", str(src), "--endpoint", "/v1/embeddings", "-O", "out.jsonl", env=api_env()
        )
    finally:
        os.umask(old)
    assert r.code == 0, r
    assert mode(workdir / "out.jsonl") == 0o600
    assert json.loads((workdir / "out.jsonl").read_text())["line"] == 1
