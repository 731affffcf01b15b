"""The conversation log and what counts as an answer: scale, forgetting, credentials,
read-only files, migrations, cut answers and the remembered switch to Chat Completions.

Each test goes through ``oai`` itself: in-process with respx or a local server, or as
a process where another process (a second ``oai``, a lock holder, a read-only mount)
is part of the case.
"""

from __future__ import annotations

import gc
import json
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from tests.cli.test_conversations import (  # noqa: F401  (chat_only is a fixture)
    NOT_FOUND,
    ChatServer,
    chat_only,
    database_bytes,
    env_for,
    logs_json,
)
from tests.cli.test_live import chat_chunk, completed, created, delta, event, sse
from tests.helpers import BASE, api_env, invoke, subprocess_env
from tests.serving import QuietHandler, http_server

CHAT = ("ask", "--api", "chat", "-m", "M")


def the_exchange() -> dict[str, Any]:
    (conversation,) = logs_json()["data"]
    (turn,) = conversation["exchanges"]
    return dict(turn)


# -- saving a streamed answer ---------------------------------------------------------


def start_stream(handler: QuietHandler) -> None:
    """Read the request, answer 200 and begin a Responses stream."""
    handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.write(created())


@pytest.fixture
def paused_stream() -> Iterator[tuple[str, threading.Event, list[str]]]:
    """A Responses stream that sends two pieces 0.7 s apart, then waits to be released."""
    release = threading.Event()
    pieces = ["alpha bravo ", "charlie delta "]

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            start_stream(self)
            for piece in pieces:
                self.wfile.write(delta(piece))
                self.wfile.flush()
                time.sleep(0.7)  # past the log's interval between saves
            release.wait(30)
            self.wfile.write(delta("echo"))
            self.wfile.write(completed())

    with http_server(Handler) as origin:
        yield origin + "/v1", release, pieces


def test_a_streaming_answer_is_appended_never_rewritten(
    paused_stream: tuple[str, threading.Event, list[str]], isolated: Path
) -> None:
    base, release, pieces = paused_stream
    env = subprocess_env(api_env(base))
    proc = subprocess.Popen(
        [sys.executable, "-m", "openai_cli", "ask", "--stream", "-m", "m", "go"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        db_file = isolated / "data" / "logs.db"
        deadline = time.monotonic() + 20
        saved: list[str] = []
        while time.monotonic() < deadline:
            if db_file.exists():
                db = sqlite3.connect(db_file)
                try:
                    saved = [
                        r[0] for r in db.execute("SELECT text FROM answer_pieces ORDER BY seq")
                    ]
                    answer = db.execute("SELECT answer FROM exchanges").fetchone()
                except sqlite3.OperationalError:
                    saved, answer = [], None
                finally:
                    db.close()
                if "".join(saved) == "".join(pieces):
                    break
            time.sleep(0.05)
        # Each save appended only what came since the last one; the answer itself is
        # written once, at the end.
        assert saved == pieces
        assert answer == ("",)
        # Meanwhile the answer so far is readable.
        so_far = the_exchange()
        assert (so_far["status"], so_far["answer"]) == ("partial", "".join(pieces))
    finally:
        release.set()
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.decode() == "alpha bravo charlie delta echo\n"
    done = the_exchange()
    assert (done["status"], done["answer"]) == ("complete", "alpha bravo charlie delta echo")
    # The pieces saved while it streamed are the stored answer: the end appended
    # only the rest, and the whole text was never written again.
    db = sqlite3.connect(isolated / "data" / "logs.db")
    stored = [r[0] for r in db.execute("SELECT text FROM answer_pieces ORDER BY seq")]
    assert stored == [*pieces, "echo"]
    assert db.execute("SELECT answer FROM exchanges").fetchall() == [("",)]
    db.close()
    assert [e["answer"] for e in logs_json("search", "charlie")["data"]] == [done["answer"]]
    assert [e["answer"] for e in logs_json("search", "echo")["data"]] == [done["answer"]]


@pytest.fixture
def slow_stream() -> Iterator[str]:
    """A Responses stream of six pieces 0.15 s apart: several saves per answer."""

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            start_stream(self)
            for i in range(6):
                self.wfile.write(delta(f"piece{i} "))
                self.wfile.flush()
                time.sleep(0.15)
            self.wfile.write(completed())

    with http_server(Handler) as origin:
        yield origin + "/v1"


def test_processes_logging_at_once_all_land(slow_stream: str, isolated: Path) -> None:
    # A fresh data folder: the processes also race to create the file and migrate it.
    env = subprocess_env(api_env(slow_stream))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "openai_cli", "ask", "--stream", "-m", "m", f"question {i}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert (proc.returncode, err) == (0, b""), err
    answer = "".join(f"piece{i} " for i in range(6))
    turns = [c["exchanges"][0] for c in logs_json("-n", "10")["data"]]
    assert sorted(t["prompt"] for t in turns) == [f"question {i}" for i in range(4)]
    assert {(t["status"], t["answer"]) for t in turns} == {("complete", answer)}
    assert len(logs_json("search", "piece3", "-n", "10")["data"]) == 4


# -- forgetting -----------------------------------------------------------------------

CANARY_WORD = "zebracanaryquokka"


def _words_left(data_dir: Path) -> list[str]:
    raw = database_bytes(data_dir).lower()
    return [w for w in (CANARY_WORD, "secretprompt") if w.encode() in raw]


@pytest.mark.parametrize("how", ["one", "all"])
def test_deleted_words_are_gone_from_the_files(
    chat_only: ChatServer,  # noqa: F811
    isolated: Path,
    how: str,
) -> None:
    env = env_for(chat_only)
    chat_only.answers = [f"The word is {CANARY_WORD.upper()} indeed.", "Keep this one."]
    assert invoke(*CHAT, f"secretprompt {CANARY_WORD}", env=env).code == 0
    assert invoke(*CHAT, "unrelated", env=env).code == 0
    data = isolated / "data"
    assert _words_left(data) == [CANARY_WORD, "secretprompt"]  # the check can see them
    victim = logs_json("search", CANARY_WORD)["data"][0]["conversation_id"]
    args = (
        ("logs", "delete", "--all", "--yes") if how == "all" else ("logs", "delete", victim, "-y")
    )
    r = invoke(*args)
    assert r.code == 0, r
    assert _words_left(data) == []
    assert logs_json("search", CANARY_WORD)["data"] == []
    if how == "one":
        assert [e["answer"] for e in logs_json("search", "keep")["data"]] == ["Keep this one."]


# -- no credentials stored ------------------------------------------------------------

SECRETS = ("BASEPASSWORD", "AMZSIGVALUE", "AMZCREDVALUE", "URLPASSWORD", "SIGVALUE")


def test_no_password_or_signed_query_is_stored(
    chat_only: ChatServer,  # noqa: F811
    isolated: Path,
) -> None:
    base = chat_only.base.replace("http://", "http://me:BASEPASSWORD@")
    attachment = (
        "https://u:URLPASSWORD@bucket.example/chart.png"
        "?X-Amz-Credential=AMZCREDVALUE&X-Amz-Signature=AMZSIGVALUE"
    )
    others = "https://files.example/a.png?sig=SIGVALUE&sv=2024"
    r = invoke(
        "ask",
        "-m",
        "M",
        "-a",
        attachment,
        "-a",
        others,
        "hi",
        env=env_for(chat_only) | {"OPENAI_BASE_URL": base},
    )
    assert r.code == 0, r
    # The switch to Chat Completions was remembered, and the conversation logged.
    state = isolated / "state"
    assert json.loads((state / "engines.json").read_text()) == {chat_only.base: "chat"}
    assert (state / "last-response.json").exists()
    turn = the_exchange()
    assert [a["name"] for a in turn["attachments"]] == [
        "https://bucket.example/chart.png",
        "https://files.example/a.png",
    ]
    stored = database_bytes(isolated / "data") + b"".join(
        p.read_bytes() for p in state.iterdir() if p.is_file()
    )
    assert [s for s in SECRETS if s.encode() in stored] == []


def test_an_old_last_response_key_with_a_password_is_dropped(
    api: respx.MockRouter, isolated: Path
) -> None:
    state = isolated / "state"
    state.mkdir(parents=True)
    (state / "last-response.json").write_text(
        json.dumps({"@https://me:OLDPASSWORD@gw.example/v1": {"id": "resp_old", "cid": None}})
    )
    api.post("/responses").mock(return_value=sse([created("resp_new"), delta("ok"), completed()]))
    r = invoke("ask", "--stream", "-m", "m", "hi", env=api_env())
    assert r.code == 0, r
    text = (state / "last-response.json").read_text()
    assert "OLDPASSWORD" not in text and "resp_new" in text


# -- a read-only file system ----------------------------------------------------------


def _can_mount_read_only() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount --bind /tmp /tmp && mount -o remount,bind,ro /tmp"],
        capture_output=True,
    )
    return probe.returncode == 0


read_only_mounts = pytest.mark.skipif(
    not _can_mount_read_only(), reason="needs root and mount namespaces (unshare -m)"
)


def read_only_oai(home: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``oai ARGS`` in its own mount namespace, where ``home`` is a read-only file system."""
    script = f'mount --bind "{home}" "{home}" && mount -o remount,bind,ro "{home}" && exec "$@"'
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", sys.executable, "-m", "openai_cli", *args],
        env=subprocess_env(env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@read_only_mounts
def test_on_a_read_only_file_system_the_log_is_still_read(
    chat_only: ChatServer,  # noqa: F811
    isolated: Path,
) -> None:
    env = env_for(chat_only)
    chat_only.answers = ["First answer.", "Second answer."]
    assert invoke(*CHAT, "first question", env=env).code == 0
    gc.collect()  # the log of the run above is closed, as at the end of a process
    assert sorted(p.name for p in (isolated / "data").iterdir()) == ["logs.db"]
    listed = read_only_oai(isolated, "logs", "-o", "json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["data"][0]["exchanges"][0]["answer"] == "First answer."
    found = read_only_oai(isolated, "logs", "search", "first", "-o", "json", env=env)
    assert found.returncode == 0, found.stderr
    assert len(json.loads(found.stdout)["data"]) == 1
    asked = read_only_oai(isolated, "ask", "--api", "chat", "-c", "and then?", env=env)
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout == "Second answer.\n"
    assert "the conversation log is not kept" in asked.stderr
    assert "Read-only file system" in asked.stderr
    assert "internal error" not in asked.stderr
    # The history came from the log that could only be read.
    assert [m["content"] for m in chat_only.chats[-1]["messages"]] == [
        "first question",
        "First answer.",
        "and then?",
    ]


@read_only_mounts
@pytest.mark.parametrize("args", [("delete", "CID", "-y"), ("delete", "--all", "--yes")])
def test_logs_delete_on_a_read_only_file_system_is_exit_74(
    chat_only: ChatServer,  # noqa: F811
    isolated: Path,
    args: tuple[str, ...],
) -> None:
    chat_only.answers = ["Kept answer."]
    assert invoke(*CHAT, "kept question", env=env_for(chat_only)).code == 0
    gc.collect()
    (conversation,) = logs_json()["data"]
    argv = [conversation["id"] if a == "CID" else a for a in args]
    r = read_only_oai(isolated, "logs", *argv, env={})
    db = isolated / "data" / "logs.db"
    assert (r.returncode, r.stderr) == (74, f"oai: cannot write {db}: Read-only file system\n")
    # Nothing was deleted, and the log is read as before.
    listed = read_only_oai(isolated, "logs", "-o", "json", env={})
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["data"][0]["exchanges"][0]["answer"] == "Kept answer."


@read_only_mounts
def test_a_log_to_upgrade_on_a_read_only_file_system_is_exit_74(
    chat_only: ChatServer,  # noqa: F811
    isolated: Path,
) -> None:
    data = old_log(isolated, VERSION_1)
    for args in (("logs",), ("logs", "search", "walruses"), (*CHAT, "-c", "more?")):
        r = read_only_oai(isolated, *args, env=env_for(chat_only))
        assert r.returncode == 74, (args, r.stderr)
        # ask warns first that this turn is not kept; the error is one line.
        *_, error = r.stderr.splitlines()
        assert "Traceback" not in r.stderr
        assert f"cannot read {data / 'logs.db'}: it needs an upgrade (m001_initial)" in error
        assert error.endswith("and it cannot be written: Read-only file system")
    assert chat_only.chats == []


@read_only_mounts
def test_profile_set_on_a_read_only_file_system_is_one_clear_line(isolated: Path) -> None:
    assert invoke("profile", "set", "model", "m1").code == 0
    r = read_only_oai(isolated, "profile", "set", "model", "m2", env={})
    assert r.returncode == 74, r.stderr
    config = isolated / "config" / "config.toml"
    assert r.stderr == f"oai: cannot write {config}: Read-only file system\n"


# -- migrations -----------------------------------------------------------------------


def old_log(home: Path, script: str) -> Path:
    """A log made by ``script`` (an older schema and its rows); its folder."""
    data = home / "data"
    data.mkdir(mode=0o700)
    db = sqlite3.connect(data / "logs.db")
    db.executescript(script)
    db.close()
    return data


# The schema as the first version wrote it (user_version 1, no record of migrations).
VERSION_1 = """
CREATE TABLE conversations (
    id TEXT PRIMARY KEY, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    title TEXT, model TEXT, profile TEXT, base_url TEXT
);
CREATE TABLE exchanges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    started_at REAL NOT NULL, first_text_ms INTEGER, duration_ms INTEGER,
    status TEXT NOT NULL, api TEXT NOT NULL, model TEXT, system TEXT, prompt TEXT NOT NULL,
    attachments TEXT, answer TEXT NOT NULL DEFAULT '', usage TEXT, request_id TEXT,
    response_id TEXT, stored INTEGER NOT NULL DEFAULT 1, error TEXT, profile TEXT,
    base_url TEXT
);
CREATE INDEX exchanges_by_conversation ON exchanges(conversation_id, id);
CREATE VIRTUAL TABLE exchanges_fts
    USING fts5(prompt, answer, content='exchanges', content_rowid='id');
CREATE TRIGGER exchanges_ai AFTER INSERT ON exchanges BEGIN
    INSERT INTO exchanges_fts(rowid, prompt, answer) VALUES (new.id, new.prompt, new.answer);
END;
CREATE TRIGGER exchanges_ad AFTER DELETE ON exchanges BEGIN
    INSERT INTO exchanges_fts(exchanges_fts, rowid, prompt, answer)
        VALUES ('delete', old.id, old.prompt, old.answer);
END;
CREATE TRIGGER exchanges_au AFTER UPDATE OF prompt, answer ON exchanges BEGIN
    INSERT INTO exchanges_fts(exchanges_fts, rowid, prompt, answer)
        VALUES ('delete', old.id, old.prompt, old.answer);
    INSERT INTO exchanges_fts(rowid, prompt, answer) VALUES (new.id, new.prompt, new.answer);
END;
PRAGMA user_version = 1;
INSERT INTO conversations VALUES ('c0ffee000001', 1700000000, 1700000000, 'old question',
    'M', NULL, 'https://api.example/v1');
INSERT INTO exchanges(conversation_id, started_at, status, api, model, prompt, answer, usage)
    VALUES ('c0ffee000001', 1700000000, 'complete', 'chat', 'M', 'old question',
    'An old answer about walruses.', '{"prompt_tokens": 11, "completion_tokens": 4}');
"""


def test_a_version_1_log_is_migrated_and_keeps_its_rows(
    chat_only: ChatServer,  # noqa: F811
    isolated: Path,
) -> None:
    data = old_log(isolated, VERSION_1)
    (old,) = logs_json()["data"]
    assert old["exchanges"][0]["answer"] == "An old answer about walruses."
    assert [e["prompt"] for e in logs_json("search", "walruses")["data"]] == ["old question"]
    db = sqlite3.connect(data / "logs.db")
    assert [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY rowid")] == [
        "m001_initial",
        "m002_answer_pieces",
        "m003_tokens_and_cost",
        "m004_answers_in_pieces",
    ]
    assert db.execute("PRAGMA user_version").fetchone()[0] == 4
    db.close()
    # The tokens of the old turn, read from its usage, count in the totals.
    (totals,) = logs_json("usage", "--by", "model")["data"]
    assert (totals["model"], totals["input_tokens"], totals["output_tokens"]) == ("M", 11, 4)
    assert totals["without_price"] == 1
    # The migrated log goes on: a new turn in the old conversation sends its history.
    chat_only.answers = ["More walruses."]
    r = invoke(*CHAT, "--cid", "c0ffee000001", "more?", env=env_for(chat_only))
    assert r.code == 0, r
    assert [m["content"] for m in chat_only.chats[0]["messages"]] == [
        "old question",
        "An old answer about walruses.",
        "more?",
    ]


# The schema of version 3, with an answer a crash left in pieces (its prompt was
# indexed, its pieces never were) and the index's triggers on the answer column.
VERSION_3 = (
    VERSION_1.replace("PRAGMA user_version = 1;", "")
    + f"""
CREATE TABLE answer_pieces (
    exchange_id INTEGER NOT NULL REFERENCES exchanges(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (exchange_id, seq)
);
ALTER TABLE exchanges ADD COLUMN input_tokens INTEGER;
ALTER TABLE exchanges ADD COLUMN cached_tokens INTEGER;
ALTER TABLE exchanges ADD COLUMN output_tokens INTEGER;
ALTER TABLE exchanges ADD COLUMN cost REAL;
CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL);
INSERT INTO _migrations VALUES ('m001_initial', 0), ('m002_answer_pieces', 0),
    ('m003_tokens_and_cost', 0);
PRAGMA user_version = 3;
INSERT INTO conversations VALUES ('c0ffee000002', 1700000100, 1700000100, 'cut',
    'M', NULL, 'https://api.example/v1');
INSERT INTO exchanges(id, conversation_id, started_at, status, api, model, prompt)
    VALUES (2, 'c0ffee000002', 1700000100, 'partial', 'chat', 'M', 'secretprompt');
INSERT INTO answer_pieces VALUES (2, 3, 'The {CANARY_WORD} narw'), (2, 9, 'hals swim.');
"""
)


def test_a_version_3_log_is_upgraded_and_its_pieces_searched_and_wiped(isolated: Path) -> None:
    data = old_log(isolated, VERSION_3)
    cut = logs_json("show", "c0ffee000002")
    assert cut["exchanges"][0]["answer"] == f"The {CANARY_WORD} narwhals swim."
    # The pieces a crash left are searched as one text, a word across two of them too.
    assert [e["id"] for e in logs_json("search", "narwhals")["data"]] == [2]
    assert [e["id"] for e in logs_json("search", CANARY_WORD, "swim")["data"]] == [2]
    assert [e["id"] for e in logs_json("search", "walruses")["data"]] == [1]
    assert invoke("logs", "delete", "c0ffee000002", "-y").code == 0
    assert _words_left(data) == []
    assert logs_json("search", "narwhals")["data"] == []
    # The index still answers for what is left.
    assert [e["id"] for e in logs_json("search", "walruses")["data"]] == [1]
    db = sqlite3.connect(data / "logs.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 4
    db.close()


def test_a_log_from_a_newer_oai_is_refused_by_name(isolated: Path) -> None:
    assert invoke("logs", "path").code == 0
    data = isolated / "data"
    data.mkdir(mode=0o700)
    db = sqlite3.connect(data / "logs.db")
    db.executescript(VERSION_1)
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
    db.execute("INSERT INTO _migrations VALUES ('m999_from_the_future', 0)")
    db.commit()
    db.close()
    r = invoke("logs")
    assert r.code == 2, r
    assert "written by a newer oai" in r.err and "m999_from_the_future" in r.err


# -- answers cut short ----------------------------------------------------------------


def chat_answer(text: str, finish: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish,
            }
        ],
    }


REASONS = {
    "length": "the answer is incomplete: it reached the output token limit (finish_reason",
    "content_filter": "the answer is incomplete: a content filter stopped it (content_filter)",
}


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
@pytest.mark.parametrize("finish", list(REASONS))
def test_a_chat_answer_cut_short_is_printed_logged_partial_and_exits_7(
    api: respx.MockRouter, stream: bool, finish: str
) -> None:
    if stream:
        chunks = [
            chat_chunk("Once upon"),
            event({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}),
            b"data: [DONE]\n\n",
        ]
        response = sse(chunks, rid="req_cut")
    else:
        response = httpx.Response(
            200, json=chat_answer("Once upon", finish), headers={"x-request-id": "req_cut"}
        )
    api.post("/chat/completions").mock(return_value=response)
    flag = "--stream" if stream else "--no-stream"
    r = invoke(*CHAT, flag, "tell a story", env=api_env())
    assert r.code == 7, r
    assert r.out == "Once upon\n"
    assert "oai: " + REASONS[finish].replace("(finish_reason", f"({finish}") in r.err
    assert "req_cut" in r.err
    turn = the_exchange()
    assert (turn["status"], turn["answer"]) == ("partial", "Once upon")
    assert turn["error"].startswith("the answer is incomplete")


def test_a_cut_answer_is_not_sent_again_as_history(api: respx.MockRouter) -> None:
    route = api.post("/chat/completions")
    route.side_effect = [
        httpx.Response(200, json=chat_answer("Complete one.", "stop")),
        httpx.Response(200, json=chat_answer("Cut sh", "length")),
        httpx.Response(200, json=chat_answer("Fine.", "stop")),
    ]
    assert invoke(*CHAT, "--no-stream", "one", env=api_env()).code == 0
    assert invoke(*CHAT, "--no-stream", "-c", "two", env=api_env()).code == 7
    cid = logs_json()["data"][0]["id"]
    assert invoke(*CHAT, "--no-stream", "--cid", cid, "three", env=api_env()).code == 0
    sent = json.loads(route.calls[2].request.content)
    assert [m["content"] for m in sent["messages"]] == ["one", "Complete one.", "three"]


def test_responses_incomplete_and_chat_length_say_the_same(api: respx.MockRouter) -> None:
    incomplete = event(
        {
            "type": "response.incomplete",
            "response": {"id": "r", "incomplete_details": {"reason": "max_output_tokens"}},
        },
        "response.incomplete",
    )
    api.post("/responses").mock(return_value=sse([created(), delta("Once upon"), incomplete]))
    r = invoke("ask", "--stream", "-m", "m", "story", env=api_env())
    assert r.code == 7, r
    assert r.out == "Once upon\n"
    assert "the answer is incomplete: it reached the output token limit (max_output_tokens)" in (
        r.err
    )
    assert the_exchange()["status"] == "partial"


def test_a_page_instead_of_an_answer_is_exit_6(api: respx.MockRouter) -> None:
    portal = "<html><head><title>Hotel Wi-Fi</title></head><body>Log in first</body></html>"
    api.post("/responses").respond(
        200, text=portal, headers={"content-type": "text/html", "x-request-id": "req_p"}
    )
    r = invoke("ask", "--no-stream", "-m", "m", "hi", env=api_env())
    assert r.code == 6, r
    assert r.out == ""
    assert "HTTP 200 (text/html) with a body that is not valid JSON" in r.err
    assert "Hotel Wi-Fi" in r.err and "req_p" in r.err


# -- the remembered switch to Chat Completions ----------------------------------------


@pytest.fixture
def proxy_404() -> Iterator[tuple[str, list[str]]]:
    """A proxy that answers every POST with its own HTML 404 page."""
    paths: list[str] = []

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            paths.append(self.path)
            page = b"<html><body><h1>404 Not Found</h1><hr>nginx</body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

    with http_server(Handler) as origin:
        yield origin + "/v1", paths


def test_an_html_404_from_a_proxy_switches_nothing(
    proxy_404: tuple[str, list[str]], isolated: Path
) -> None:
    base, paths = proxy_404
    r = invoke("ask", "-m", "M", "hi", env=api_env(base))
    assert r.code == 4, r
    assert "if this server has only /v1/chat/completions, --api chat uses it" in r.err
    assert paths == ["/v1/responses"]
    assert not (isolated / "state" / "engines.json").exists()


def test_a_json_404_or_405_switches(chat_only: ChatServer, isolated: Path) -> None:  # noqa: F811
    assert NOT_FOUND["error"] == "Not Found"  # the server's 404 is an API's JSON
    r = invoke("ask", "-m", "M", "hi", env=env_for(chat_only))
    assert r.code == 0, r
    assert json.loads((isolated / "state" / "engines.json").read_text()) == {chat_only.base: "chat"}


def test_a_responses_success_clears_the_remembered_switch(
    api: respx.MockRouter, isolated: Path
) -> None:
    state = isolated / "state"
    state.mkdir(parents=True)
    other = "https://other.example/v1"
    (state / "engines.json").write_text(json.dumps({BASE: "chat", other: "chat"}))
    api.post("/responses").mock(return_value=sse([created(), delta("yes"), completed()]))
    r = invoke("ask", "--api", "responses", "--stream", "-m", "m", "hi", env=api_env())
    assert r.code == 0, r
    assert json.loads((state / "engines.json").read_text()) == {other: "chat"}
    # The next turn without --api goes to the Responses API again.
    api.post("/responses").mock(return_value=sse([created(), delta("again"), completed()]))
    r = invoke("ask", "--stream", "-m", "m", "hi", env=api_env())
    assert (r.code, r.out) == (0, "again\n"), r


def test_engine_memory_is_keyed_by_the_query_without_secrets(
    chat_only: ChatServer,  # noqa: F811
    isolated: Path,
) -> None:
    env = env_for(chat_only)
    for version in ("2024-01-01", "2025-01-01"):
        assert invoke("profile", "set", "--profile", version, "base_url", chat_only.base).code == 0
        assert (
            invoke("profile", "set", "--profile", version, "query.api-version", version).code == 0
        )
    assert (
        invoke("profile", "set", "--profile", "2025-01-01", "query.api-key", "QKEY1234567").code
        == 0
    )
    r = invoke("--profile", "2024-01-01", "ask", "-m", "M", "hi", env=env)
    assert r.code == 0, r
    memory = json.loads((isolated / "state" / "engines.json").read_text())
    assert memory == {f"{chat_only.base}?api-version=2024-01-01": "chat"}
    # Another api-version is another API: found out afresh.
    r = invoke("--profile", "2025-01-01", "ask", "-m", "M", "hi", env=env)
    assert r.code == 0, r
    assert "using /v1/chat/completions" in r.err
    memory = json.loads((isolated / "state" / "engines.json").read_text())
    assert set(memory) == {
        f"{chat_only.base}?api-version=2024-01-01",
        f"{chat_only.base}?api-version=2025-01-01",
    }
    assert "QKEY1234567" not in (isolated / "state" / "engines.json").read_text()


def test_engine_memory_is_written_under_the_lock(
    chat_only: ChatServer,  # noqa: F811
    isolated: Path,
) -> None:
    from openai_cli.config.lock import exclusive

    path = isolated / "state" / "engines.json"
    path.parent.mkdir(parents=True)
    with exclusive(path):
        proc = subprocess.Popen(
            [sys.executable, "-m", "openai_cli", "ask", "-m", "M", "--no-log", "hi"],
            env=subprocess_env(env_for(chat_only)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while not chat_only.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        # The 404 came; the switch waits for the lock before it writes, and goes on.
        assert [p for p, _ in chat_only.requests] == ["/v1/responses"]
        assert not path.exists()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert path.exists(), err
    assert json.loads(path.read_text()) == {chat_only.base: "chat"}


# -- oai logs show on a terminal ------------------------------------------------------


def test_logs_show_styles_for_real_and_shows_the_servers_escapes(
    chat_only: ChatServer,  # noqa: F811
) -> None:
    chat_only.answers = ["Look \x1b]52;c;aGk=\x07 here"]
    assert invoke(*CHAT, "hi", env=env_for(chat_only)).code == 0
    cid = logs_json()["data"][0]["id"]
    r = invoke("logs", "show", cid, stdout_tty=True, env={"FORCE_COLOR": "1", "TERM": "xterm"})
    assert r.code == 0, r
    assert "\x1b[1" in r.out  # rich's styling, as escapes the terminal obeys
    assert "^[[" not in r.out  # ...not shown as text
    assert "^[]52" in r.out  # the server's escape, shown
    assert "\x1b]52" not in r.out  # ...never obeyed


def test_a_generic_chat_stream_prints_its_chunks_whatever_the_finish_reason(
    api: respx.MockRouter,
) -> None:
    from tests.cli.test_live import CHAT as CHAT_STREAM

    chunks = [
        chat_chunk("Once"),
        event({"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]}),
        b"data: [DONE]\n\n",
    ]
    api.post("/chat/completions").mock(return_value=sse(chunks))
    r = invoke(*CHAT_STREAM, env=api_env())
    assert (r.code, r.out, r.err) == (0, "Once\n", ""), r


@pytest.mark.parametrize("value", [["chat"], {"api": "chat"}])
def test_engine_memory_of_another_kind_is_ignored(
    api: respx.MockRouter, isolated: Path, value: object
) -> None:
    # A list or an object where the API's name was: an internal error (unhashable
    # type) on every ask and repl against that server.
    state = isolated / "state"
    state.mkdir(parents=True)
    (state / "engines.json").write_text(json.dumps({BASE: value, f"stream_options {BASE}": value}))
    api.post("/responses").mock(return_value=sse([created(), delta("yes"), completed()]))
    r = invoke("ask", "--stream", "-m", "m", "hi", env=api_env())
    assert (r.code, r.out) == (0, "yes\n"), r
