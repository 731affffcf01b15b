"""One reader, with a limit per use: no input a user names is read without bound.

Each case runs the real ``oai`` as a process. A pipe is fed by a writer process
that would write more than the limit (and stops there, so nothing runs for ever);
the reader must stop at the limit plus one byte, exit 2 naming the flag and the
limit, and send nothing.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import helpers
from tests.faults.server import FaultServer, respond
from tests.faults.support import TRACEBACK, env_for, oai

pytestmark = pytest.mark.faults

MIB = 1024 * 1024
# A writer of N bytes of "y\n", as `yes` would write them, that stops after N (or of
# one line of N bytes).
YES = (
    "import sys\n"
    "n, out = int(sys.argv[1]), sys.stdout.buffer\n"
    "chunk = (b'y' * 2 if sys.argv[2:] == ['line'] else b'y\\n') * (1 << 19)\n"
    "try:\n"
    "    while n > 0:\n"
    "        out.write(chunk[:n]); n -= len(chunk)\n"
    "    out.flush()\n"
    "except BrokenPipeError:\n"
    "    pass\n"
)


# oai, reporting its peak resident set size (VmHWM) on stderr as it exits. Read from
# its own memory map: ru_maxrss would start from the peak of the process that
# spawned it (a test worker that held a large input), as vfork hands it on.
PEAK = (
    "import atexit, sys\n"
    "def peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            sys.stderr.write('\\n' + line)\n"
    "atexit.register(peak)\n"
    "sys.argv[0] = 'oai'\n"
    "from openai_cli.main import main\n"
    "main()\n"
)


@dataclass
class Piped:
    code: int
    err: str
    elapsed: float
    max_rss: int  # bytes, of the oai process

    def __repr__(self) -> str:
        return f"Piped(code={self.code}, elapsed={self.elapsed:.1f}, err={self.err[:2000]!r})"


def piped(nbytes: int, *args: str, env: dict[str, str], one_line: bool = False) -> Piped:
    """``writer | oai ARGS``: a real pipe from a process writing ``nbytes``."""
    shape = ["line"] if one_line else []
    writer = subprocess.Popen(
        [sys.executable, "-c", YES, str(nbytes), *shape],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert writer.stdout is not None
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", PEAK, *args],
        stdin=writer.stdout,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=helpers.subprocess_env(env),
        timeout=60,
    )
    elapsed = time.monotonic() - start
    writer.stdout.close()
    writer.kill()
    writer.wait()
    err, _, hwm = proc.stderr.decode("utf-8", "replace").rpartition("\nVmHWM:")
    return Piped(proc.returncode, err, elapsed, int(hwm.split()[0]) * 1024)


def refused(r: object, server: FaultServer, message: str) -> None:
    assert getattr(r, "code", None) == 2, r
    assert server.requests == [], "nothing may be sent"
    err = str(getattr(r, "err", ""))
    assert TRACEBACK not in err
    assert message in err, r
    assert len(err.strip().splitlines()) <= 2, "one line, and perhaps a hint"


def answer(text: str) -> dict[str, object]:
    """A completed Responses answer saying ``text``."""
    content = [{"type": "output_text", "text": text}]
    output = [{"type": "message", "role": "assistant", "content": content}]
    return {"id": "resp_1", "object": "response", "status": "completed", "output": output}


@pytest.fixture
def fifo_dir() -> Iterator[Path]:
    # Not under tmp_path: the canary reads every file there, and a FIFO would block it.
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def feed_fifo(path: Path, nbytes: int) -> threading.Thread:
    """A thread writing ``nbytes`` into the FIFO ``path``, or until its reader goes."""

    def write() -> None:
        try:
            with open(path, "wb") as fh:
                left = nbytes
                while left > 0:
                    fh.write(b"x" * min(MIB, left))
                    left -= MIB
        except BrokenPipeError:
            pass

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


# -- the cases of the report ------------------------------------------------------------


def test_yes_piped_into_ask_stops_at_the_limit(server: FaultServer) -> None:
    r = piped(64 * MIB, "ask", "--no-log", "hi", env=env_for(server.base_url))
    refused(r, server, "stdin: larger than 16 MiB, the most oai sends as prompt text")
    assert r.max_rss < 150 * MIB, f"peak RSS {r.max_rss / MIB:.0f} MiB"


def test_a_line_piped_into_repl_over_the_limit(server: FaultServer) -> None:
    r = piped(40 * MIB, "repl", "--no-log", env=env_for(server.base_url), one_line=True)
    refused(r, server, "stdin: larger than 16 MiB, the most oai sends as prompt text")
    assert r.max_rss < 250 * MIB, f"peak RSS {r.max_rss / MIB:.0f} MiB"


def test_messages_from_stdin_over_the_limit(server: FaultServer) -> None:
    r = piped(160 * MIB, "chat", "completions", "create", "--model", "m", "--messages", "@-",
              env=env_for(server.base_url))  # fmt: skip
    refused(r, server, "--messages (stdin): larger than 100 MiB, the most a request body may hold")
    assert r.max_rss < 400 * MIB, f"peak RSS {r.max_rss / MIB:.0f} MiB"


def test_schema_from_stdin_over_the_limit(server: FaultServer) -> None:
    r = piped(120 * MIB, "ask", "--no-log", "--schema", "@-", "hi", env=env_for(server.base_url))
    refused(r, server, "--schema (stdin): larger than 100 MiB")


def test_schema_from_stdin_is_not_also_the_context(server: FaultServer) -> None:
    server.plan(respond(200, json=answer("{}")))
    schema = b'{"type": "object", "properties": {}}'
    r = oai("ask", "--no-log", "--no-stream", "--schema", "@-", "hi",
            input=schema, env=env_for(server.base_url))  # fmt: skip
    assert r.code == 0, r
    body = server.requests[0].json()
    assert body["text"]["format"]["schema"] == {"type": "object", "properties": {}}
    assert "properties" not in str(body["input"]), "stdin went to --schema, not the prompt"


def test_an_attachment_from_a_fifo_is_read_only_up_to_its_limit(
    server: FaultServer, fifo_dir: Path
) -> None:
    fifo = fifo_dir / "notes.txt"
    os.mkfifo(fifo)
    writer = feed_fifo(fifo, 80 * MIB)
    r = oai("ask", "--no-log", "-a", str(fifo), "summarise", env=env_for(server.base_url))
    writer.join(10)
    refused(r, server, f"--file #1: {fifo} is larger than 50 MiB, the most a file attachment")


def test_speech_input_from_stdin_over_the_limit(server: FaultServer, tmp_path: Path) -> None:
    out = tmp_path / "speech.mp3"
    r = piped(8 * MIB, "audio", "speech", "create", "--input", "-", "-O", str(out),
              env=env_for(server.base_url))  # fmt: skip
    refused(r, server, "--input -: larger than 1 MiB, the most oai reads as text to speak")
    assert not out.exists()


@pytest.mark.parametrize("how", ["stdin", "--input-file -"])
def test_embeddings_from_stdin_over_the_limit(server: FaultServer, how: str) -> None:
    args = ["embeddings", "create"] + (["--input-file", "-"] if how != "stdin" else [])
    r = piped(120 * MIB, *args, env=env_for(server.base_url))
    refused(r, server, f"{how}: larger than 100 MiB, the most oai reads as lines of input")


def test_embeddings_input_file_that_is_a_device(server: FaultServer) -> None:
    r = oai("embeddings", "create", "--input-file", "/dev/zero", env=env_for(server.base_url))
    refused(r, server, "--input-file: /dev/zero is a character device, not a regular file")


WEBHOOK_ENV = {"OPENAI_WEBHOOK_SECRET": "whsec_" + "a" * 32}
SIGNED = ["-H", "webhook-id: msg_1", "-H", "webhook-timestamp: 1", "-H", "webhook-signature: v1,x"]


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero", "/dev/urandom"])
def test_webhook_payload_and_headers_that_are_devices(device: str) -> None:
    r = oai("webhooks", "verify", *SIGNED, device, env=WEBHOOK_ENV)
    assert r.code == 2, r
    assert f"PAYLOAD: {device} is a character device, not a regular file or a pipe" in r.err
    r = oai("webhooks", "verify", "--headers", device, "/dev/stdin", env=WEBHOOK_ENV)
    assert r.code == 2, r
    assert f"--headers: {device} is a character device" in r.err


def test_webhook_payload_and_headers_over_their_limits(tmp_path: Path) -> None:
    payload = tmp_path / "payload.json"
    with open(payload, "wb") as fh:  # sparse: no disk space, no time
        fh.truncate(16 * MIB + 1)
    r = oai("webhooks", "verify", *SIGNED, str(payload), env=WEBHOOK_ENV)
    assert r.code == 2, r
    assert f"PAYLOAD: {payload} is larger than 16 MiB" in r.err
    r = oai("webhooks", "verify", "--headers", "-", str(payload),
            input=b"x-pad: " + b"a" * MIB + b"\n", env=WEBHOOK_ENV)  # fmt: skip
    assert r.code == 2, r
    assert "--headers: larger than 1 MiB, the most oai reads as webhook headers" in r.err


# -- what else a path can be ------------------------------------------------------------


def test_a_directory_a_socket_and_a_link_to_a_device_are_refused(
    server: FaultServer, fifo_dir: Path
) -> None:
    link = fifo_dir / "innocent.json"
    link.symlink_to("/dev/zero")
    sock_path = fifo_dir / "s.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    try:
        for target, kind in (
            (fifo_dir, "is a directory, not a file"),
            (sock_path, "is a socket, not a regular file or a pipe"),
            (link, "is a character device, not a regular file or a pipe"),
        ):
            r = oai("api", "post", "/chat/completions", "--body", f"@{target}",
                    env=env_for(server.base_url), timeout=20)  # fmt: skip
            refused(r, server, f"--body: {target} {kind}")
    finally:
        sock.close()


def test_stdin_that_is_a_device_is_refused(server: FaultServer) -> None:
    env = helpers.subprocess_env(env_for(server.base_url))
    cmd = [sys.executable, "-m", "openai_cli", "ask", "--no-log", "hi"]
    with open("/dev/zero", "rb") as zero:
        r = subprocess.run(cmd, stdin=zero, capture_output=True, env=env, timeout=30)
    assert r.returncode == 2, r
    assert r.stderr.startswith(b"oai: stdin is a character device, not a regular file")
    assert server.requests == []


@pytest.mark.parametrize(
    "args",
    [
        ["files", "create", "-", "--purpose", "batch"],
        ["api", "post", "/files", "-F", "purpose=batch", "-F", "file=@-"],
        ["batches", "prepare", "-", "--model", "m", "--endpoint", "/v1/responses"],
    ],
    ids=["files-create", "file-part", "batches-prepare"],
)
def test_streamed_input_from_a_device_is_refused(server: FaultServer, args: list[str]) -> None:
    # Streamed to disk or to the server, never held: still, /dev/zero never ends.
    env = helpers.subprocess_env(env_for(server.base_url))
    with open("/dev/zero", "rb") as zero:
        r = subprocess.run([sys.executable, "-m", "openai_cli", *args], stdin=zero,
                           capture_output=True, env=env, timeout=30)  # fmt: skip
    assert r.returncode == 2, r
    assert b"stdin is a character device, not a regular file or a pipe" in r.stderr
    assert server.requests == []


def test_stdin_from_dev_null_or_closed_is_empty(server: FaultServer) -> None:
    server.plan(respond(200, json=answer("hello")), respond(200, json=answer("hello")))
    env = helpers.subprocess_env(env_for(server.base_url))
    cmd = [sys.executable, "-m", "openai_cli", "ask", "--no-log", "--no-stream", "hi"]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, env=env, timeout=30)
    assert (r.returncode, r.stdout) == (0, b"hello\n"), r
    closed = subprocess.run(
        ["/bin/sh", "-c", 'exec "$@" <&-', "sh", *cmd], capture_output=True, env=env, timeout=30
    )
    assert (closed.returncode, closed.stdout) == (0, b"hello\n"), closed
    assert [q.json()["input"] for q in server.requests] == ["hi", "hi"], "no context"


def test_a_proc_file_is_read_although_its_size_is_zero(server: FaultServer) -> None:
    server.plan(respond(200, json={"object": "list", "data": []}))
    r = oai("api", "post", "/embeddings", "-F", "model=m", "-F", "input=@/proc/version",
            env=env_for(server.base_url))  # fmt: skip
    assert r.code == 0, r
    assert server.requests[0].json()["input"].startswith("Linux version")


def test_json_files_with_a_byte_order_mark(server: FaultServer, tmp_path: Path) -> None:
    # UTF-8 with a BOM (as Notepad saves it) and UTF-16 (as PowerShell's > writes it).
    server.plan(respond(200, json={}), respond(200, json={}))
    for i, encoded in enumerate(
        [b"\xef\xbb\xbf" + '{"a": "é"}'.encode(), '\ufeff{"a": "é"}'.encode("utf-16-le")]
    ):
        f = tmp_path / f"meta{i}.json"
        f.write_bytes(encoded)
        r = oai("api", "post", "/x", "-F", f"metadata=@{f}", env=env_for(server.base_url))
        assert r.code == 0, r
    assert [q.json() for q in server.requests] == [{"metadata": {"a": "é"}}] * 2


def test_invalid_utf8_in_a_file_is_named(server: FaultServer, tmp_path: Path) -> None:
    f = tmp_path / "body.json"
    f.write_bytes(b'{"a": "\xff"}')
    r = oai("api", "post", "/x", "--body", f"@{f}", env=env_for(server.base_url))
    refused(r, server, f"--body: {f} is not UTF-8 text (invalid byte at offset 7)")


# -- answers ------------------------------------------------------------------------------


def test_an_answer_over_the_limit_says_to_stream_it_to_a_file(
    server: FaultServer, tmp_path: Path
) -> None:
    big = b'{"data": "' + b"x" * (64 * MIB) + b'"}'
    server.plan(respond(200, big, headers=[("content-type", "application/json")]))
    r = oai("api", "get", "/big", env=env_for(server.base_url))
    assert r.code == 6, r
    assert "the answer is larger than 64 MiB, the most oai reads into memory" in r.err
    assert "-O FILE" in r.err and r.out == ""
    assert TRACEBACK not in r.err
    # The same answer written to a file is complete.
    server.plan(respond(200, big, headers=[("content-type", "application/json")]))
    out = tmp_path / "big.json"
    r = oai("api", "get", "/big", "-O", str(out), env=env_for(server.base_url))
    assert r.code == 0, r
    assert out.stat().st_size == len(big)


# -- files oai keeps: config and state are read as regular files only --------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
@pytest.mark.parametrize("kind", ["fifo", "link to /dev/zero"])
def test_a_config_file_that_is_a_pipe_or_a_device_is_refused(kind: str) -> None:
    from openai_cli.config import config_path

    config = config_path(dict(os.environ))
    config.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if kind == "fifo":
        os.mkfifo(config)  # nobody writes it: reading it would wait forever
    else:
        config.symlink_to("/dev/zero")  # read whole, it would fill memory
    for args in (("models", "list"), ("profile", "set", "model", "m")):
        r = oai(*args, env=env_for("http://127.0.0.1:9/v1"), timeout=20)
        assert r.code == 2, r
        assert f"cannot read {config}: it is a " in r.err, r
        assert TRACEBACK not in r.err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_state_file_that_is_a_pipe_or_a_device_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "state.fifo"
    os.mkfifo(fifo)
    for state, kind in ((str(fifo), "a named pipe"), ("/dev/zero", "a character device")):
        r = oai("batches", "run", "--resume", state, env=env_for("http://127.0.0.1:9/v1"))
        assert r.code == 2, r
        assert f"--resume: cannot read the state file {state}: it is {kind}" in r.err, r


def test_a_state_file_over_its_limit_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with open(state, "wb") as fh:  # sparse: no disk space, no time
        fh.truncate(16 * MIB + 1)
    r = oai("batches", "run", "--resume", str(state), env=env_for("http://127.0.0.1:9/v1"))
    assert r.code == 2, r
    assert "larger than 16 MiB, the most oai reads as a file it keeps" in r.err, r


def test_a_line_of_stdin_that_is_not_utf8_is_named(server: FaultServer) -> None:
    # repl's lines were sent with their undecodable bytes and ended in "an argument
    # is not valid UTF-8 text", which names an argument nobody gave.
    # (realtime connect reads its lines the same way, once its socket is open.)
    r = oai("repl", "--no-log", input="café\n".encode("latin-1"), env=env_for(server.base_url))
    refused(r, server, "stdin: a line is not UTF-8 text (invalid byte at offset 3)")


def test_a_jsonl_line_is_read_only_up_to_its_limit(server: FaultServer, tmp_path: Path) -> None:
    # One 300 MB line (a file without a newline) was read whole: 650 MB of memory for
    # map, batches run and files create, and a bigger file, more.
    big = tmp_path / "one-line.jsonl"
    with open(big, "wb") as fh:
        fh.truncate(300 * MIB)
    for args in (
        ("map", str(big), "--endpoint", "/v1/embeddings"),
        ("batches", "run", str(big), "--endpoint", "/v1/embeddings"),
        ("files", "create", str(big), "--purpose", "fine-tune"),
    ):
        proc = subprocess.run(
            [sys.executable, "-c", PEAK, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=helpers.subprocess_env(env_for(server.base_url)),
            timeout=120,
        )
        err, _, hwm = proc.stderr.decode("utf-8", "replace").rpartition("\nVmHWM:")
        assert proc.returncode == 2, err
        assert f"{big}:1: longer than 100 MiB, the most oai reads as one line" in err
        assert TRACEBACK not in err and server.requests == []
        peak = int(hwm.split()[0]) * 1024
        assert peak < 250 * MIB, f"{args[0]}: peak RSS {peak / MIB:.0f} MiB"
