"""`--wait` on the commands that start asynchronous work, and the poller behind it."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from openai_cli.errors import ConfigError, ExitCode, UsageError
from openai_cli.io import IO
from openai_cli.operations import wait
from tests.helpers import BASE, api_env, invoke
from tests.scale.conftest import Oai


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=True, assert_all_mocked=True) as router:
        yield router


def answers(*objs: dict[str, Any]) -> list[httpx.Response]:
    return [httpx.Response(200, json=o) for o in objs]


# -- against the stateful server --------------------------------------------------------


def uploaded(oai: Oai) -> str:
    line = {"custom_id": "a", "method": "POST", "url": "/v1/embeddings", "body": {"input": "x"}}
    r = oai("files", "create", "--file", "-", "--purpose", "batch", input=json.dumps(line) + "\n")
    assert r.code == 0, r
    return str(json.loads(r.out)["id"])


def create_batch(oai: Oai, *extra: str) -> Any:
    file_id = uploaded(oai)
    return oai(
        "batches", "create", "--input-file-id", file_id, "--endpoint", "/v1/embeddings",
        "--completion-window", "24h", *extra,
    )  # fmt: skip


def test_batches_create_wait_prints_the_final_state(oai: Oai) -> None:
    oai.state.polls_to_finish = 3
    r = create_batch(oai, "--wait")
    assert r.code == 0, r
    final = json.loads(r.out)
    assert final["status"] == "completed"
    assert final["output_file_id"]
    # One status line per change on a piped stderr, not one per poll.
    assert r.err.splitlines() == [
        "oai: batch batch_000002: validating",
        "oai: batch batch_000002: in_progress",
        "oai: batch batch_000002: completed (1 completed, 0 failed of 1)",
    ]
    assert oai.state.count("GET", "/batches/batch_000002") == 3


def test_a_failed_batch_exits_7_after_printing_it(oai: Oai) -> None:
    oai.state.batch_outcome = "failed"
    r = create_batch(oai, "--wait")
    assert r.code == ExitCode.FAILED, r
    assert json.loads(r.out)["status"] == "failed"
    assert "oai: batch batch_000002 ended failed: asked to fail (line 1)" in r.err


def test_timeout_exits_124_with_the_last_state(oai: Oai) -> None:
    oai.state.polls_to_finish = 10**9
    r = create_batch(oai, "--wait", "--timeout", "0.1s")
    assert r.code == ExitCode.TIMED_OUT, r
    assert json.loads(r.out)["status"] == "in_progress"
    assert "batch batch_000002 is still in_progress after 0s" in r.err
    assert "wait again with `oai batches retrieve batch_000002 --wait`" in r.err
    oai.state.polls_to_finish = 0
    r = oai("batches", "retrieve", "batch_000002", "--wait", "--wait-timeout", "5m")
    assert r.code == 0, r
    assert json.loads(r.out)["status"] == "completed"


def test_without_wait_nothing_changes(oai: Oai) -> None:
    r = create_batch(oai)
    assert r.code == 0, r
    assert json.loads(r.out)["status"] == "validating"
    assert oai.state.count("GET", "/batches") == 0


def test_timeout_alone_is_a_usage_error(oai: Oai) -> None:
    r = oai("batches", "retrieve", "batch_1", "--timeout", "30")
    assert r.code == 2
    assert "--timeout: only applies with --wait" in r.err
    assert "oai --timeout SECONDS" in r.err
    r = oai("batches", "retrieve", "batch_1", "--wait", "--timeout", "soon")
    assert r.code == 2 and "is not a duration" in r.err
    assert oai.state.log == []


def test_dry_run_with_wait_sends_nothing(oai: Oai) -> None:
    r = oai("batches", "retrieve", "batch_1", "--wait", "--dry-run")
    assert r.code == 0, r
    assert json.loads(r.out)["method"] == "GET"
    assert oai.state.log == []


def test_vector_store_upload_then_wait(oai: Oai, tmp_path: Path) -> None:
    doc = tmp_path / "notes.md"
    doc.write_text("# notes\n")
    oai.state.polls_to_finish = 2
    r = oai(
        "vector-stores", "files", "upload", "vs_1", str(doc), "--attributes", '{"k": "v"}',
        "--wait",
    )  # fmt: skip
    assert r.code == 0, r
    final = json.loads(r.out)
    assert (final["status"], final["vector_store_id"], final["attributes"]) == (
        "completed",
        "vs_1",
        {"k": "v"},
    )
    (stored,) = oai.state.files.values()
    assert (stored.filename, stored.purpose, stored.content) == (
        "notes.md",
        "assistants",
        b"# notes\n",
    )
    assert final["id"] == stored.id
    assert f"oai: uploaded notes.md: {stored.id}" in r.err


def test_vector_store_upload_chunked_without_waiting(oai: Oai) -> None:
    r = oai(
        "vector-stores", "files", "upload", "vs_1", "-", "--filename", "big.txt", "--chunked",
        input=b"x" * 5000,
    )  # fmt: skip
    assert r.code == 0, r
    assert json.loads(r.out)["status"] == "in_progress"
    assert oai.state.count("POST", "/uploads") >= 2
    r = oai("vector-stores", "files", "upload", "vs_1", "-", input=b"")
    assert r.code == 2 and "is empty" in r.err


# -- the other kinds, mocked ------------------------------------------------------------


def test_fine_tuning_job(mock: respx.MockRouter) -> None:
    mock.post("/fine_tuning/jobs").respond(200, json={"id": "ftjob-1", "status": "queued"})
    get = mock.get("/fine_tuning/jobs/ftjob-1")
    get.side_effect = answers(
        {"id": "ftjob-1", "status": "running"}, {"id": "ftjob-1", "status": "succeeded"}
    )
    r = invoke(
        "fine-tuning", "jobs", "create", "--model", "m", "--training-file", "file-1", "--wait",
        env={**api_env(), "OAI_POLL_INTERVAL": "0"},
    )  # fmt: skip
    assert r.code == 0, r
    assert json.loads(r.out)["status"] == "succeeded"
    assert get.call_count == 2


def test_fine_tuning_job_failure_names_the_error(mock: respx.MockRouter) -> None:
    mock.post("/fine_tuning/jobs").respond(200, json={"id": "ftjob-1", "status": "queued"})
    failed = {"id": "ftjob-1", "status": "failed", "error": {"message": "bad data", "code": "x"}}
    mock.get("/fine_tuning/jobs/ftjob-1").respond(200, json=failed)
    r = invoke(
        "fine-tuning", "jobs", "create", "--model", "m", "--training-file", "file-1", "--wait",
        env={**api_env(), "OAI_POLL_INTERVAL": "0"},
    )  # fmt: skip
    assert r.code == 7, r
    assert "fine-tuning job ftjob-1 ended failed: bad data" in r.err


def test_vector_store_file(mock: respx.MockRouter) -> None:
    mock.post("/vector_stores/vs_1/files").respond(
        200, json={"id": "file-9", "status": "in_progress", "vector_store_id": "vs_1"}
    )
    mock.get("/vector_stores/vs_1/files/file-9").respond(
        200, json={"id": "file-9", "status": "completed", "vector_store_id": "vs_1"}
    )
    r = invoke(
        "vector-stores", "files", "create", "vs_1", "--file-id", "file-9", "--wait",
        env={**api_env(), "OAI_POLL_INTERVAL": "0"},
    )  # fmt: skip
    assert r.code == 0, r
    assert json.loads(r.out)["status"] == "completed"


def test_vector_store_file_batch_cancelled(mock: respx.MockRouter) -> None:
    counts = {"in_progress": 0, "completed": 1, "failed": 0, "cancelled": 1, "total": 2}
    mock.post("/vector_stores/vs_1/file_batches").respond(
        200, json={"id": "vsfb_1", "status": "in_progress"}
    )
    mock.get("/vector_stores/vs_1/file_batches/vsfb_1").respond(
        200, json={"id": "vsfb_1", "status": "cancelled", "file_counts": counts}
    )
    r = invoke(
        "vector-stores", "file-batches", "create", "vs_1", "--file-ids", "f1", "--wait",
        env={**api_env(), "OAI_POLL_INTERVAL": "0"},
    )  # fmt: skip
    assert r.code == 7, r
    assert "file batch vsfb_1: cancelled (1 completed, 0 failed of 2)" in r.err
    assert "vector-stores file-batches retrieve" not in r.err


def test_eval_run_canceled(mock: respx.MockRouter) -> None:
    mock.post("/evals/ev_1/runs").respond(200, json={"id": "run_1", "status": "queued"})
    mock.get("/evals/ev_1/runs/run_1").respond(200, json={"id": "run_1", "status": "canceled"})
    r = invoke(
        "evals", "runs", "create", "ev_1", "--data-source", '{"type": "jsonl"}', "--wait",
        env={**api_env(), "OAI_POLL_INTERVAL": "0"},
    )  # fmt: skip
    assert r.code == 7, r
    assert "eval run run_1 ended canceled" in r.err


def test_ctrl_c_stops_waiting_and_says_how_to_wait_again() -> None:
    def interrupt(request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt

    # respx does not count a call whose side effect raises KeyboardInterrupt.
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.post("/evals/ev_1/runs").respond(200, json={"id": "run_1", "status": "queued"})
        mock.get("/evals/ev_1/runs/run_1").mock(side_effect=interrupt)
        r = invoke(
            "evals", "runs", "create", "ev_1", "--data-source", "{}", "--wait",
            env={**api_env(), "OAI_POLL_INTERVAL": "0"},
        )  # fmt: skip
    assert r.code == 130, r
    assert (
        "oai: stopped waiting; eval run run_1 goes on; wait again with "
        "`oai evals runs retrieve ev_1 run_1 --wait`"
    ) in r.err


# -- the poller -------------------------------------------------------------------------


def test_backoff_doubles_to_thirty_seconds() -> None:
    ticks = wait.intervals({})
    assert [next(ticks) for _ in range(8)] == [1, 2, 4, 8, 16, 30, 30, 30]
    fixed = wait.intervals({"OAI_POLL_INTERVAL": "0.5"})
    assert [next(fixed) for _ in range(3)] == [0.5, 0.5, 0.5]
    # A bad value is refused as any variable's is: exit 2, naming it.
    with pytest.raises(ConfigError, match="OAI_POLL_INTERVAL must be a number of seconds"):
        next(wait.intervals({"OAI_POLL_INTERVAL": "x"}))
    with pytest.raises(ConfigError, match="OAI_POLL_INTERVAL"):
        next(wait.intervals({"OAI_POLL_INTERVAL": "-1"}))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("1.5", 1.5), ("90s", 90), ("10m", 600), ("1h30m", 5400), ("2h", 7200)],
)
def test_durations(text: str, seconds: float) -> None:
    assert wait.parse_duration(text, flag="--timeout") == seconds


@pytest.mark.parametrize("text", ["", "soon", "0", "-5", "10x", "m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError):
        wait.parse_duration(text, flag="--timeout")


def test_wait_for_sleeps_the_backoff_and_stops_at_the_timeout() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    err = io.StringIO()
    the_io = IO(stdin=io.StringIO(), stdout=io.StringIO(), stderr=err, env={})
    with pytest.raises(wait.WaitTimedOut) as info:
        wait.wait_for(
            lambda: {"id": "j", "status": "running"},
            done={"ok"},
            failed={"bad"},
            io=the_io,
            timeout=10,
            sleep=sleep,
            clock=lambda: now[0],
        )
    assert slept == [1, 2, 4, 3]
    assert info.value.exit_code == ExitCode.TIMED_OUT
    assert info.value.last == {"id": "j", "status": "running"}
    assert err.getvalue() == "oai: job j: running\n"


def test_progress_is_a_status_line_on_a_terminal() -> None:
    err = io.StringIO()
    the_io = IO(stdin=io.StringIO(), stdout=io.StringIO(), stderr=err, env={}, stderr_tty=True)
    states = iter([{"id": "j", "status": "a"}, {"id": "j", "status": "ok"}])
    final = wait.wait_for(
        lambda: next(states), done={"ok"}, failed=set(), io=the_io, sleep=lambda s: None
    )
    assert final["status"] == "ok"
    # Drawn (and cleared) in place on stderr, never written as log lines.
    assert "oai: job j" not in err.getvalue()
    assert the_io.stdout.getvalue() == ""  # type: ignore[attr-defined]
