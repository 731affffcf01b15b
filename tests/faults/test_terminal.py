"""Scenarios 17-20: closed pipes, Ctrl-C, odd locales and no terminal at all."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.server import FaultServer, respond, sse, stall
from tests.faults.support import (
    TRACEBACK,
    Spawned,
    env_for,
    oai,
    process_env,
    stalled_chunked_upload,
)

pytestmark = pytest.mark.faults

CHAT = ("api", "post", "/chat/completions", "--stream", "-F", "model=m", "-F", "messages=[]")
LOCALE_VARS = ("LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "PYTHONIOENCODING", "PYTHONUTF8")


def chunk(i: int) -> bytes:
    return b'data: {"choices": [{"delta": {"content": "%d"}}]}\n\n' % i


def big_list(n: int = 20_000) -> dict[str, object]:
    return {
        "object": "list",
        "data": [{"id": f"model-{i:05d}", "object": "model"} for i in range(n)],
    }


# -- 17: the reader goes away -------------------------------------------------------------


def test_17_pipe_into_head_ends_quietly(server: FaultServer) -> None:
    server.plan(respond(200, json=big_list()))  # far more than a pipe buffer holds
    env = process_env(env_for(server.base_url))
    script = (
        'set -o pipefail; "$PY" -m openai_cli api get /models -o jsonl | head -n 1; '
        'echo "status=${PIPESTATUS[0]}" >&2'
    )
    proc = subprocess.run(
        ["bash", "-c", script],
        env={**env, "PY": sys.executable},
        capture_output=True,
        timeout=30,
    )
    err = proc.stderr.decode()
    assert proc.stdout.decode().splitlines() == ['{"id": "model-00000", "object": "model"}']
    assert err.strip() == "status=0", err
    assert proc.returncode == 0, "set -o pipefail is not tripped"


def test_17_reader_gone_while_streaming(server: FaultServer, spawn: Callable[..., Spawned]) -> None:
    server.plan(sse([chunk(i) for i in range(200)], gap=0.05))  # 10 s if read to the end
    p = spawn(*CHAT, env=env_for(server.base_url))
    p.read_line()
    p.close_stdout()
    r = p.finish()
    assert r.code == 0, r
    assert r.err == ""
    assert r.elapsed < 6, "it stopped at the closed pipe, not at the end of the stream"
    assert server.wait_gone(), "the connection was closed"


# -- 18: Ctrl-C -------------------------------------------------------------------------


def test_18_ctrl_c_during_a_stream(server: FaultServer, spawn: Callable[..., Spawned]) -> None:
    server.plan(sse([chunk(0)], end="stall", request_id="req_int"))
    p = spawn(*CHAT, env=env_for(server.base_url))
    assert p.read_line() == chunk(0)[6:].strip()
    sent = time.monotonic()
    p.proc.send_signal(signal.SIGINT)
    r = p.finish()
    assert r.code == 130, r
    assert "interrupted" in r.err and TRACEBACK not in r.err
    assert server.wait_gone(), "the connection was closed"
    assert server.gone[0].at - sent < 3
    assert len(server.requests) == 1


def test_18_ctrl_c_while_waiting_for_an_answer(
    server: FaultServer, spawn: Callable[..., Spawned]
) -> None:
    server.plan(stall())
    p = spawn("api", "get", "/models", env=env_for(server.base_url))
    end = time.monotonic() + 10
    while not server.requests and time.monotonic() < end:
        time.sleep(0.02)
    assert server.requests, "the request never arrived"
    p.proc.send_signal(signal.SIGINT)
    r = p.finish()
    assert r.code == 130, r
    assert TRACEBACK not in r.err
    assert server.wait_gone()


@pytest.mark.parametrize("resume", [False, True], ids=["cancel", "resume"])
def test_18_ctrl_c_during_a_chunked_upload(
    server: FaultServer, spawn: Callable[..., Spawned], tmp_path: Path, resume: bool
) -> None:
    big = stalled_chunked_upload(server, tmp_path, "upload_fault")
    p = spawn(
        "files", "create", "--file", str(big), "--purpose", "assistants",
        "--resume" if resume else "--chunked", env=env_for(server.base_url),
    )  # fmt: skip
    end = time.monotonic() + 10
    while not server.to("/v1/uploads/upload_fault/parts") and time.monotonic() < end:
        if p.proc.poll() is not None:
            break
        time.sleep(0.02)
    assert server.to("/v1/uploads/upload_fault/parts"), p.finish()
    p.proc.send_signal(signal.SIGINT)
    r = p.finish()
    assert r.code == 130, r
    assert TRACEBACK not in r.err
    cancelled = server.to("/v1/uploads/upload_fault/cancel")
    if resume:
        assert not cancelled and "--resume" in r.err, "kept, and the way back is named"
    else:
        assert len(cancelled) == 1 and "cancelled" in r.err


# -- 19: locales ----------------------------------------------------------------------


EMOJI_ANSWER = {"id": "x", "object": "thing", "text": "héllo 😀 wörld", "data": "✓"}


# A true ASCII locale: Python's UTF-8 mode and its locale coercion both off.
ASCII = {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
LOCALES = {
    "LANG=C": {"LANG": "C"},
    "LC_ALL=C": {"LC_ALL": "C"},
    "posix-ascii": {**ASCII, "LC_ALL": "POSIX"},
    "ascii": ASCII,
}
# Every output format under the strictest locale, the default one under the others.
LOCALE_CASES = [("ascii", f) for f in ("auto", "json", "yaml", "table", "jsonl")] + [
    (name, "auto") for name in LOCALES if name != "ascii"
]


@pytest.mark.parametrize(("name", "fmt"), LOCALE_CASES, ids=[f"{n}-{f}" for n, f in LOCALE_CASES])
def test_19_emoji_output_under_a_non_utf8_locale(
    server: FaultServer, spawn: Callable[..., Spawned], name: str, fmt: str
) -> None:
    locale = LOCALES[name]
    server.plan(respond(200, json=EMOJI_ANSWER))
    p = spawn(
        "api", "get", "/things/x", "-o", fmt, env={**env_for(server.base_url), **locale},
        unset=[v for v in LOCALE_VARS if v not in locale],
    )  # fmt: skip
    r = p.finish()
    assert r.code == 0, r
    assert TRACEBACK not in r.err and r.err == ""
    text = r.out_bytes.decode("utf-8")  # stdout is UTF-8 whatever the locale
    assert "😀" in text and "✓" in text


@pytest.mark.parametrize("locale", [LOCALES["LC_ALL=C"], ASCII], ids=["LC_ALL=C", "ascii"])
def test_19_emoji_in_arguments_errors_and_streams(
    server: FaultServer, spawn: Callable[..., Spawned], locale: dict[str, str]
) -> None:
    unset = [v for v in LOCALE_VARS if v not in locale]
    env = {**env_for(server.base_url), **locale}
    server.plan(respond(400, json={"error": {"message": "nope 🙅 «quoted»"}}))
    r = spawn("api", "post", "/things", "-f", "note=ça 😀", env=env, unset=unset).finish()
    assert r.code == 1, r
    assert "nope 🙅 «quoted»" in r.err and TRACEBACK not in r.err
    assert server.requests[0].json() == {"note": "ça 😀"}, "arguments arrive as typed"

    server.plan(sse([b'data: {"t": "\xf0\x9f\x98', b'\x80"}\n\n', b"data: [DONE]\n\n"]))
    r = spawn(*CHAT, env=env, unset=unset).finish()
    assert r.code == 0, r
    assert json.loads(r.out_bytes.decode("utf-8")) == {"t": "😀"}


# -- 20: nobody to ask ----------------------------------------------------------------


def test_20_no_tty_and_no_key_fails_at_once_naming_the_variable(server: FaultServer) -> None:
    env = {"OPENAI_BASE_URL": server.base_url}
    proc = subprocess.run(
        [sys.executable, "-m", "openai_cli", "models", "list"],
        env=process_env(env, unset=["OPENAI_API_KEY"]),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=20,
    )
    err = proc.stderr.decode()
    assert proc.returncode == 3, err
    assert "OPENAI_API_KEY" in err and TRACEBACK not in err
    assert server.requests == []


def test_20_login_without_a_tty_does_not_prompt() -> None:
    r = oai("auth", "login")  # stdin is an empty pipe, not a terminal
    assert r.code == 2, r
    assert "cannot prompt" in r.err and "--with-key-stdin" in r.err
    assert r.elapsed < 10


# -- standard streams that are closed or full ---------------------------------------


def _shell(server: FaultServer, tmp_path: Path, command: str) -> tuple[int, str, str]:
    """Run ``oai`` through bash with the redirections in ``command`` ($OAI is oai)."""
    env = process_env(env_for(server.base_url))
    proc = subprocess.run(
        ["bash", "-c", command],
        env={**env, "OAI": f"{sys.executable} -m openai_cli"},
        capture_output=True,
        timeout=30,
        cwd=tmp_path,
    )
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def test_a_closed_stdout_is_an_output_error(server: FaultServer, tmp_path: Path) -> None:
    # `oai ... >&-`: there was no stdout at all, an internal error (exit 1).
    server.plan(respond(200, json={"object": "list", "data": []}))
    code, _, err = _shell(server, tmp_path, "$OAI api get /models >&-")
    assert code == 74, err
    assert err == "oai: cannot write the output: stdout is closed\n"


def test_a_closed_stdout_never_receives_a_file_written(server: FaultServer, tmp_path: Path) -> None:
    # A file opened while descriptor 1 is free would take its number, and whatever
    # went to stdout would land in it: the standard descriptors are held first.
    body = b'{"object": "list", "data": []}'
    server.plan(respond(200, body, headers=[("content-type", "application/json")]))
    code, _, err = _shell(server, tmp_path, "$OAI api get /models -O out.json >&-")
    assert code == 0, err
    assert (tmp_path / "out.json").read_bytes() == body


@pytest.mark.parametrize("redirect", ["2>&-", "2>/dev/full"])
def test_a_stderr_that_cannot_be_written_keeps_the_exit_code(
    server: FaultServer, tmp_path: Path, redirect: str
) -> None:
    # The message is lost, the code is not: it was 1 (closed) or 120 (full).
    code, out, _ = _shell(server, tmp_path, f"$OAI models lis {redirect}")
    assert code == 2
    assert out == ""
    server.plan(respond(404, json={"error": {"message": "no such model"}}))
    code, _, _ = _shell(server, tmp_path, f"$OAI models retrieve m-1 {redirect}")
    assert code == 4
