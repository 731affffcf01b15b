"""Scenarios 15 and 16: bad input is refused before anything is sent."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.server import FaultServer, respond
from tests.faults.support import TRACEBACK, env_for, oai

pytestmark = pytest.mark.faults


def batch_line(custom_id: str) -> str:
    return json.dumps(
        {
            "custom_id": custom_id,
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        }
    )


def refused(r: object, server: FaultServer) -> None:
    assert getattr(r, "code", None) == 2, r
    assert server.requests == [], "nothing may be sent"
    err = str(getattr(r, "err", ""))
    assert TRACEBACK not in err
    assert len(err.strip().splitlines()) <= 3, "a short, clear message"


# -- 15: malformed input --------------------------------------------------------------


def test_15_malformed_json_body(server: FaultServer) -> None:
    r = oai(
        "api", "post", "/chat/completions", "--body", '{"model": ', env=env_for(server.base_url)
    )
    refused(r, server)
    assert "--body: invalid JSON at line 1 column 11" in r.err


def test_15_malformed_json_body_file(server: FaultServer, tmp_path: Path) -> None:
    body = tmp_path / "req.json"
    body.write_text('{\n  "model": "m",\n  "messages": [,]\n}\n')
    r = oai("api", "post", "/chat/completions", "--body", f"@{body}", env=env_for(server.base_url))
    refused(r, server)
    assert str(body) in r.err and "line 3" in r.err


def test_15_malformed_typed_field(server: FaultServer) -> None:
    r = oai("api", "post", "/chat/completions", "-F", "messages=[{]", env=env_for(server.base_url))
    refused(r, server)
    assert "-F 'messages=[{]'" in r.err and "-f" in r.err


def test_15_jsonl_with_a_bad_line_3(server: FaultServer, tmp_path: Path) -> None:
    f = tmp_path / "batch.jsonl"
    f.write_text(batch_line("a") + "\n" + batch_line("b") + "\n" + '{"custom_id": "c", \n')
    r = oai("files", "create", "--file", str(f), "--purpose", "batch", env=env_for(server.base_url))
    refused(r, server)
    assert f"{f}:3: invalid JSON" in r.err  # FILE:LINE, as editors and grep -n show it


def test_15_jsonl_with_a_duplicate_custom_id(server: FaultServer, tmp_path: Path) -> None:
    f = tmp_path / "batch.jsonl"
    f.write_text("\n".join(batch_line(c) for c in ("a", "b", "a")) + "\n")
    r = oai("files", "create", "--file", str(f), "--purpose", "batch", env=env_for(server.base_url))
    refused(r, server)
    assert f"{f}:3: duplicate custom_id 'a' (first on line 1)" in r.err


def _directory(tmp_path: Path) -> tuple[str, str]:
    d = tmp_path / "adir"
    d.mkdir()
    return str(d), "is a directory"


def _missing(tmp_path: Path) -> tuple[str, str]:
    return str(tmp_path / "nope.jsonl"), "file not found"


def _empty(tmp_path: Path) -> tuple[str, str]:
    f = tmp_path / "empty.jsonl"
    f.write_bytes(b"")
    return str(f), "empty (0 bytes)"


def _unreadable(tmp_path: Path) -> tuple[str, str]:
    f = tmp_path / "secret.jsonl"
    f.write_text(batch_line("a") + "\n")
    f.chmod(0)
    return str(f), "permission denied"


BAD_FILES: dict[str, Callable[[Path], tuple[str, str]]] = {
    "directory": _directory,
    "missing": _missing,
    "empty": _empty,
    "unreadable": pytest.param(  # type: ignore[dict-item]
        _unreadable,
        marks=pytest.mark.skipif(
            os.geteuid() == 0, reason="root reads any file; permissions cannot make it fail"
        ),
    ),
}


@pytest.mark.parametrize("make", list(BAD_FILES.values()), ids=list(BAD_FILES))
@pytest.mark.parametrize("how", ["files-create", "api-form"])
def test_15_bad_upload_files(
    server: FaultServer, tmp_path: Path, make: Callable[[Path], tuple[str, str]], how: str
) -> None:
    path, words = make(tmp_path)
    if how == "files-create":
        args = ["files", "create", "--file", path, "--purpose", "batch"]
    else:
        args = ["api", "post", "/files", "-F", "purpose=batch", "-F", f"file=@{path}"]
    r = oai(*args, env=env_for(server.base_url))
    refused(r, server)
    assert words in r.err and path in r.err


# -- 16: too big ----------------------------------------------------------------------


def test_16_file_above_the_limit_is_refused_before_upload(
    server: FaultServer, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    with open(big, "wb") as fh:  # sparse: no disk space, no time
        fh.truncate(512 * 1024 * 1024 + 1)
    r = oai(
        "files", "create", "--file", str(big), "--purpose", "user_data",
        env=env_for(server.base_url),
    )  # fmt: skip
    refused(r, server)
    assert "512 MB" in r.err and "--chunked" in r.err
    assert r.elapsed < 10


def test_15_body_nested_too_deeply(server: FaultServer) -> None:
    deep = "[" * 5000 + "]" * 5000
    r = oai("api", "post", "/embeddings", "--body", '{"input": ' + deep + "}",
            env=env_for(server.base_url))  # fmt: skip
    refused(r, server)
    assert "--body" in r.err and "nested too deeply" in r.err


# -- 16: unbounded reads ------------------------------------------------------------------

MIB = 1024 * 1024


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["api", "post", "/chat/completions", "--body", "@/dev/zero"], "--body"),
        (["api", "post", "/chat/completions", "-F", "messages=@/dev/zero"], "-F @/dev/zero"),
        (["api", "post", "/files", "-F", "purpose=batch", "-F", "file=@/dev/zero"], "-F file"),
        (["files", "create", "--purpose", "batch", "--file", "/dev/zero"], "--file"),
    ],
    ids=["body", "json-field", "form-file", "files-create"],
)
def test_16_a_device_is_refused_as_a_file(server: FaultServer, args: list[str], named: str) -> None:
    r = oai(*args, env=env_for(server.base_url), timeout=20)
    refused(r, server)
    assert f"{named}: /dev/zero is a character device, not a regular file or a pipe" in r.err


@pytest.mark.parametrize("how", ["--body", "-F"])
def test_16_a_body_file_above_100_mib_is_refused(
    server: FaultServer, tmp_path: Path, how: str
) -> None:
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:  # sparse: no disk space, no time
        fh.truncate(100 * MIB + 1)
    arg = ["--body", f"@{big}"] if how == "--body" else ["-F", f"input=@{big}"]
    r = oai("api", "post", "/embeddings", *arg, env=env_for(server.base_url))
    refused(r, server)
    assert f"{big} is larger than 100 MiB, the most a request body may hold" in r.err
    assert r.elapsed < 10


def test_16_a_body_from_stdin_above_100_mib_is_refused(server: FaultServer) -> None:
    r = oai("api", "post", "/embeddings", "--body", "-", input=b" " * (100 * MIB + 1),
            env=env_for(server.base_url))  # fmt: skip
    refused(r, server)
    assert "--body (stdin): larger than 100 MiB" in r.err


def test_16_a_body_from_a_named_pipe_is_read(server: FaultServer) -> None:
    import tempfile
    import threading

    # Not under tmp_path: the canary reads every file there, and a pipe would block it.
    folder = tempfile.TemporaryDirectory()
    fifo = Path(folder.name) / "body.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "w") as fh:
            fh.write('{"model": "m", "input": "hi"}')

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    server.plan(respond(200, json={"object": "list", "data": []}))
    r = oai("api", "post", "/embeddings", "--body", f"@{fifo}", env=env_for(server.base_url))
    writer.join(5)
    folder.cleanup()
    assert r.code == 0, r
    assert server.requests[0].json() == {"model": "m", "input": "hi"}


def test_16_an_error_body_is_read_only_up_to_a_cap(server: FaultServer) -> None:
    # 64 MiB of error page: the CLI reads the start and hangs up on the rest.
    server.plan(
        respond(500, b"<html>" + b"x" * (64 * MIB), headers=[("content-type", "text/html")])
    )
    r = oai("--max-retries", "0", "api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 6, r
    assert "HTTP 500" in r.err and "(text/html): <html>xxx" in r.err
    assert server.wait_gone(), "the client hung up before the body was sent"


def _fifo_feeding(data: bytes) -> tuple[Path, Callable[[], None]]:
    """A named pipe a thread writes ``data`` into, and what to call when done with it."""
    import tempfile
    import threading

    # Not under tmp_path: the canary reads every file there, and a pipe would block it.
    folder = tempfile.TemporaryDirectory()
    fifo = Path(folder.name) / "part.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "wb") as fh:
            fh.write(data)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()

    def done() -> None:
        writer.join(5)
        folder.cleanup()

    return fifo, done


@pytest.mark.parametrize("source", ["stdin", "fifo"])
def test_16_a_file_part_from_a_pipe_is_sent_whole(server: FaultServer, source: str) -> None:
    # A pipe has no size: its part was declared empty, then its bytes overflowed the
    # declared length (an internal error, exit 1). It goes out with chunked framing.
    data = b"hello from a pipe\n" * 1000
    server.plan(respond(200, json={"id": "file-1", "object": "file"}))
    args = ["api", "post", "/files", "-F", "purpose=assistants"]
    if source == "stdin":
        r = oai(*args, "-F", "file=@-", env=env_for(server.base_url), input=data)
    else:
        fifo, done = _fifo_feeding(data)
        r = oai(*args, "-F", f"file=@{fifo}", env=env_for(server.base_url))
        done()
    assert r.code == 0, r
    (req,) = server.requests
    assert data in req.body


def test_16_a_file_whose_size_lies_is_an_input_error(server: FaultServer, tmp_path: Path) -> None:
    # A file that says it holds more than it gives (a sysfs file, or one cut short
    # while it is sent): one line naming it, exit 2, never an internal error.
    sysfs = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    if not sysfs.exists() or sysfs.stat().st_size <= len(sysfs.read_bytes()):
        pytest.skip("needs a file whose size is more than its bytes")
    server.plan(respond(200, json={"id": "file-1", "object": "file"}))
    r = oai("files", "create", str(sysfs), "--purpose", "assistants", env=env_for(server.base_url))
    assert r.code == 2, r
    assert TRACEBACK not in r.err and "internal error" not in r.err
    assert str(sysfs) in r.err and "changed while it was sent" in r.err
