"""Issue 10 item 3: server text reaches a terminal shown, never obeyed; piped, byte-exact.

The real ``oai`` runs on a pseudo-terminal (stdout and stderr both on it) against a
local server whose stream, list and error carry OSC 52 (clipboard), CSI 2J (clear
screen), OSC 8 (link) and OSC 0 (window title).
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

import pytest

from tests.faults.server import FaultServer, respond, sse
from tests.faults.support import TRACEBACK, env_for, oai, process_env

pytestmark = pytest.mark.faults

CLIPBOARD = "\x1b]52;c;cHduZWQ=\x07"
CLEAR = "\x1b[2J"
LINK = "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"
TITLE = "\x1b]0;pwned\x07"
CSI_C1 = "\x9b2J"
EVIL = CLIPBOARD + CLEAR + LINK + TITLE + CSI_C1 + "over\rwrite"
# What each escape must look like on the screen instead.
SHOWN = ("^[]52;c;cHduZWQ=^G", "^[[2J", "^[]8;;http://evil.example/^[\\click", "^[]0;pwned^G")
OBEYED = (b"\x1b]52", b"\x1b[2J", b"\x1b]8;", b"\x1b]0;", b"\xc2\x9b", b"\x07")

FILES = {
    "object": "list",
    "data": [
        {"id": "file-evil", "object": "file", "filename": EVIL, "purpose": "batch", "bytes": 1},
        {"id": "file-link", "object": "file", "filename": "[link=http://x]y[/link]", "bytes": 2},
        {"id": "file-draft", "object": "file", "filename": "[draft] a.pdf", "bytes": 3},
        {"id": "file-notes", "object": "file", "filename": "notes[/] v2.txt", "bytes": 4},
    ],
    "has_more": False,
}
CHUNK = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": EVIL}}]}
STREAM = [
    b"data: %s\n\n" % json.dumps(CHUNK).encode(),
    b"data: [DONE]\n\n",
]
ERROR = {"error": {"message": "bad " + EVIL, "type": "invalid_request_error"}}
CHAT = ("chat", "completions", "create", "--model", "m", "--messages", "[]", "--stream")


def on_terminal(
    *args: str, env: dict[str, str], columns: int = 200, timeout: float = 30
) -> tuple[int, bytes]:
    """``oai ARGS`` with stdin, stdout and stderr on a pty: (exit, screen bytes).

    The width is the pty's own (no ``COLUMNS``), as in a real terminal.
    """
    import pty

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "openai_cli", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=process_env({**env, "TERM": "xterm-256color"}, ["NO_COLOR", "COLUMNS", "LINES"]),
        start_new_session=True,
    )
    os.close(slave)
    screen = b""
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the process closed the pty: all is read
                    break
                if not chunk:
                    break
                screen += chunk
            elif proc.poll() is not None:
                break
        return proc.wait(timeout=10), screen
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        os.close(master)


def assert_neutralised(screen: bytes) -> str:
    for raw in OBEYED:
        assert raw not in screen, (raw, screen)
    text = screen.decode("utf-8", "replace")
    for shown in SHOWN:
        assert shown in text, (shown, text)
    assert "\\x9b2J" in text and "over^Mwrite" in text
    return text


def test_stream_table_and_error_are_shown_not_obeyed_on_a_terminal(server: FaultServer) -> None:
    env = env_for(server.base_url)

    server.plan(sse(STREAM))
    code, screen = on_terminal(*CHAT, env=env)
    assert code == 0, screen
    assert_neutralised(screen)

    server.plan(respond(200, json=FILES))
    code, screen = on_terminal("files", "list", env=env)
    assert code == 0, screen
    text = assert_neutralised(screen)
    # Data, not markup: names shown as they are, no link, nothing lost, no crash.
    assert "[link=http://x]y[/link]" in text
    assert "[draft] a.pdf" in text
    assert "notes[/] v2.txt" in text
    assert TRACEBACK not in text and "internal error" not in text

    server.plan(respond(400, json=ERROR))
    code, screen = on_terminal("files", "list", env=env)
    assert code == 1, screen
    assert "bad " in assert_neutralised(screen)


def test_the_same_bytes_piped_are_unchanged(server: FaultServer) -> None:
    env = env_for(server.base_url)

    server.plan(sse(STREAM))
    r = oai(*CHAT, env=env)
    assert r.code == 0, r
    assert r.out_bytes == EVIL.encode() + b"\n"

    server.plan(respond(200, json=FILES))
    r = oai("files", "list", env=env)
    assert r.code == 0, r
    assert r.out_bytes == json.dumps(FILES, ensure_ascii=False).encode() + b"\n"

    server.plan(respond(400, json=ERROR))
    r = oai("files", "list", env=env)
    assert r.code == 1, r
    assert EVIL in r.err

    server.plan(respond(200, json=FILES))
    r = oai("files", "list", "-o", "table", env=env)
    assert r.code == 0, r
    for name in ("[link=http://x]y[/link]", "[draft] a.pdf", "notes[/] v2.txt", EVIL):
        assert name in r.out


def test_a_table_on_an_80_column_terminal(server: FaultServer) -> None:
    """Issue 12 item 11 on a real pty: whole ids and readable times in 80 columns."""
    batch = {
        "id": "batch_67226f5e3a9c8190ad3ba8a0e4fd8f1c",
        "object": "batch",
        "endpoint": "/v1/chat/completions",
        "status": "in_progress",
        "created_at": 1730000000,
        "request_counts": {"total": 100, "completed": 95, "failed": 1},
    }
    server.plan(respond(200, json={"object": "list", "data": [batch], "has_more": True}))
    code, screen = on_terminal("batches", "list", env=env_for(server.base_url), columns=80)
    assert code == 0, screen
    lines = re.sub(r"\x1b\[[0-9;]*m", "", screen.decode()).splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    created = time.strftime("%b %d  %Y", time.localtime(1730000000))
    assert lines[0].split() == ["id", "status", "ok/failed/all", "created_at"]
    assert lines[1] == f"{batch['id']}  in_progress  {'95/1/100':>13}  {created}"
    assert lines[2] == "more: --all or --max-items N"
