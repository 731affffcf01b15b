"""Uploads, batch runs, waiters, map and downloads, checked by Steady against the spec.

Steady keeps no state and makes its answers up (a batch is ``finalizing`` forever, a
completed upload may say ``cancelled``), so these tests do not judge outcomes; the
local server in ``tests/scale`` does that. What they prove is that every request the
hand-written commands send, in every step of their flows, is one the spec allows:
not a single diagnostic, of any severity.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.contract.steady import Steady
from tests.helpers import Result, api_env, invoke

LINE = {
    "custom_id": "a",
    "method": "POST",
    "url": "/v1/chat/completions",
    "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
}


@pytest.fixture
def run(steady: Steady, tmp_path: Path) -> Any:
    env = {
        **api_env(steady.base_url),
        "OAI_POLL_INTERVAL": "0.01",
        "OAI_STATE_DIR": str(tmp_path / "state"),
    }

    def go(*args: str, input: str | bytes = "") -> Result:
        return invoke(*args, input=input, env=env)

    return go


def requests_checked(steady: Steady, mark: int) -> list[str]:
    """``METHOD /path -> status`` of each request since ``mark``; fails on any diagnostic."""
    entries = steady.entries_since(mark)
    assert steady.diagnostics(entries) == []
    return [
        f"{e['request']['method']} {e['request']['pathPattern']} -> {e['response']['status']}"
        for e in entries
    ]


def batch_file(tmp_path: Path, n: int = 3) -> Path:
    path = tmp_path / "requests.jsonl"
    path.write_text("".join(json.dumps({**LINE, "custom_id": f"r{i}"}) + "\n" for i in range(n)))
    return path


def test_simple_upload_and_stdin(steady: Steady, run: Any, tmp_path: Path) -> None:
    path = batch_file(tmp_path)
    mark = steady.mark()
    assert run("files", "create", "--file", str(path), "--purpose", "batch").code == 0
    r = run("files", "create", "--file", "-", "--purpose", "batch", input=path.read_bytes())
    assert r.code == 0, r
    assert requests_checked(steady, mark) == ["POST /files -> 200"] * 2


def test_chunked_upload_through_the_uploads_api(steady: Steady, run: Any, tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(os.urandom(2500))
    mark = steady.mark()
    r = run(
        "files", "create", "--file", str(path), "--purpose", "assistants", "--chunked",
        "--part-size", "1000", "--concurrency", "2",
    )  # fmt: skip
    # Steady's made-up upload may come back "cancelled"; the requests are what count.
    assert r.code in (0, 7), r
    assert requests_checked(steady, mark) == [
        "POST /uploads -> 200",
        *["POST /uploads/{upload_id}/parts -> 200"] * 3,
        "POST /uploads/{upload_id}/complete -> 200",
    ]


def test_an_interrupted_chunked_upload_is_cancelled(
    steady: Steady, run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openai_cli.operations import uploads

    def interrupted(*args: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(uploads.ChunkedUpload, "_send_part", interrupted)
    path = tmp_path / "data.bin"
    path.write_bytes(os.urandom(1500))
    mark = steady.mark()
    r = run(
        "files", "create", "--file", str(path), "--purpose", "assistants", "--chunked",
        "--part-size", "1000",
    )  # fmt: skip
    assert r.code == 130, r
    assert "cancelled" in r.err
    assert requests_checked(steady, mark) == [
        "POST /uploads -> 200",
        "POST /uploads/{upload_id}/cancel -> 200",
    ]


def test_batches_run_from_a_file_and_from_stdin(steady: Steady, run: Any, tmp_path: Path) -> None:
    path = batch_file(tmp_path, 5)
    mark = steady.mark()
    r = run("batches", "run", str(path), "--max-requests", "3")
    assert r.code == 0, r
    assert requests_checked(steady, mark) == ["POST /files -> 200", "POST /batches -> 200"] * 2
    mark = steady.mark()
    r = run("batches", "run", "-", "--wait", "--timeout", "0.2", input=path.read_bytes())
    # Steady's batch never ends: the wait times out after a few polls.
    assert r.code == 124, r
    calls = requests_checked(steady, mark)
    assert calls[:2] == ["POST /files -> 200", "POST /batches -> 200"]
    assert set(calls[2:]) == {"GET /batches/{batch_id} -> 200"}


def test_batches_run_resume_finds_lost_steps(steady: Steady, run: Any, tmp_path: Path) -> None:
    path = batch_file(tmp_path)
    state = tmp_path / "run.json"
    assert run("batches", "run", str(path), "--state", str(state)).code == 0
    # As if the upload and the create had been sent and their answers lost.
    saved = json.loads(state.read_text())
    for chunk in saved["chunks"]:
        chunk.update(file_id=None, batch_id=None, upload_sent=True, create_sent=True)
    state.write_text(json.dumps(saved))
    mark = steady.mark()
    r = run("batches", "run", "--resume", str(state))
    assert r.code == 0, r
    calls = requests_checked(steady, mark)
    assert calls[0] == "GET /files -> 200"
    assert "GET /batches -> 200" in calls


def test_waiters(steady: Steady, run: Any) -> None:
    mark = steady.mark()
    commands = [
        ("batches", "create", "--input-file-id", "file-1", "--endpoint", "/v1/chat/completions",
         "--completion-window", "24h"),
        ("batches", "retrieve", "batch_1"),
        ("fine-tuning", "jobs", "create", "--model", "gpt-4o-mini", "--training-file", "file-1"),
        ("fine-tuning", "jobs", "retrieve", "ftjob-1"),
        ("vector-stores", "files", "create", "vs_1", "--file-id", "file-1"),
        ("vector-stores", "file-batches", "create", "vs_1", "--file-ids", "file-1"),
        ("evals", "runs", "create", "eval_1", "--data-source",
         '{"type": "jsonl", "source": {"type": "file_id", "id": "file-1"}}'),
        ("evals", "runs", "retrieve", "eval_1", "run_1"),
    ]  # fmt: skip
    for command in commands:
        r = run(*command, "--wait", "--timeout", "0.1")
        assert r.code in (0, 7, 124), r
    assert len(requests_checked(steady, mark)) >= len(commands)


def test_map(steady: Steady, run: Any, tmp_path: Path) -> None:
    path = tmp_path / "bodies.jsonl"
    path.write_text(
        "".join(
            json.dumps({"model": "text-embedding-3-small", "input": f"t{i}"}) + "\n"
            for i in range(4)
        )
    )
    mark = steady.mark()
    r = run("map", str(path), "--endpoint", "/v1/embeddings", "-c", "2")
    assert r.code == 0, r
    assert [json.loads(x)["line"] for x in r.out.splitlines()] == [1, 2, 3, 4]
    assert requests_checked(steady, mark) == ["POST /embeddings -> 200"] * 4


def test_downloads(steady: Steady, run: Any, tmp_path: Path) -> None:
    mark = steady.mark()
    target = tmp_path / "content.bin"
    r = run("files", "content", "file-1", "--output-file", str(target))
    assert r.code == 0, r
    assert target.exists()
    r = run("containers", "files", "content", "retrieve", "cntr_1", "cfile_1")
    assert r.code == 0, r
    assert requests_checked(steady, mark) == [
        "GET /files/{file_id}/content -> 200",
        "GET /containers/{container_id}/files/{file_id}/content -> 200",
    ]
