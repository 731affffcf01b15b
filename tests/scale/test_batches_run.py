"""`oai batches run` and `oai batches prepare` against the stateful local server."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from openai_cli.textfmt import dollars
from tests.scale.conftest import Oai
from tests.scale.server import BatchRec

URL = "/v1/chat/completions"


def lines(n: int, fail: tuple[int, ...] = ()) -> list[dict[str, Any]]:
    return [
        {
            "custom_id": f"req-{i}",
            "method": "POST",
            "url": URL,
            "body": {"model": "m", "messages": [{"role": "user", "content": f"q{i}"}]}
            | ({"fail": True} if i in fail else {}),
        }
        for i in range(1, n + 1)
    ]


def write(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in items))
    return path


def results(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def uploads_and_batches(oai: Oai) -> tuple[int, int]:
    return oai.state.count("POST", "/files"), oai.state.count("POST", "/batches")


def state_file(state_dir: Path) -> Path:
    (path,) = (state_dir / "batches").glob("run-*.json")
    return path


def test_from_a_file_results_come_in_input_order(oai: Oai, tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", lines(6))
    out = tmp_path / "out.jsonl"
    r = oai("batches", "run", str(src), "--endpoint", URL, "--wait", "-O", str(out))
    assert r.code == 0, r
    got = results(out)
    # The server writes its output file backwards; the results follow the input.
    assert [x["custom_id"] for x in got] == [f"req-{i}" for i in range(1, 7)]
    assert all(x["response"]["status_code"] == 200 for x in got)
    assert got[2]["response"]["body"]["echo"]["messages"][0]["content"] == "q3"
    assert uploads_and_batches(oai) == (1, 1)
    (batch,) = oai.state.batches.values()
    assert batch.endpoint == URL and batch.completion_window == "24h"
    assert "all 6 requests succeeded" in r.err
    assert r.out == ""


def test_after_the_run_the_tokens_and_cost_of_the_answers_are_said(
    oai: Oai, tmp_path: Path
) -> None:
    items = lines(4, fail=(2,))
    for item in items:
        item["body"]["model"] = "gpt-4o-mini"
    src = write(tmp_path / "in.jsonl", items)
    r = oai("batches", "run", str(src), "--wait", "-O", str(tmp_path / "out.jsonl"))
    assert r.code == 7, r
    # Three answers of 1000 input and 10 output tokens each, at half of gpt-4o-mini's price.
    cost = (3000 * 0.15 + 30 * 0.60) / 1_000_000 * 0.5
    assert (
        f"oai: 3,000 input tokens (0 cached), 30 output; cost {dollars(cost)} "
        "at the Batch API's price"
    ) in r.err


def test_from_stdin_to_stdout(oai: Oai, fast_polls: Path) -> None:
    data = "".join(json.dumps(x) + "\n" for x in lines(3))
    r = oai("batches", "run", "-", "--wait", input=data)
    assert r.code == 0, r
    assert [json.loads(x)["custom_id"] for x in r.out.splitlines()] == ["req-1", "req-2", "req-3"]
    (upload,) = [f for f in oai.state.files.values() if f.purpose == "batch"]
    assert upload.content == data.encode()
    # The copy of stdin kept for a resume is gone once the run is over.
    assert [p.suffix for p in (fast_polls / "batches").iterdir()] == [".json"]


def test_partial_failure_exits_7_with_the_failed_lines(oai: Oai, tmp_path: Path) -> None:
    items = lines(5, fail=(2, 5))
    src = write(tmp_path / "in.jsonl", items)
    out, errors = tmp_path / "out.jsonl", tmp_path / "failed.jsonl"
    r = oai(
        "batches", "run", str(src), "--wait", "-O", str(out), "--errors", str(errors),
    )  # fmt: skip
    assert r.code == 7, r
    got = results(out)
    assert [x["custom_id"] for x in got] == [f"req-{i}" for i in range(1, 6)]
    assert [x["response"]["status_code"] for x in got] == [200, 400, 200, 200, 400]
    # The failed input lines, verbatim, ready to run again.
    assert errors.read_text() == "".join(json.dumps(items[i]) + "\n" for i in (1, 4))
    assert "2 of 5 requests failed, 3 succeeded" in r.err
    assert "line 2 (req-2): HTTP 400: asked to fail" in r.err
    assert f"the failed input lines are in {errors}" in r.err


def test_over_the_limits_the_input_is_split(oai: Oai, tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", lines(7, fail=(6,)))
    out = tmp_path / "out.jsonl"
    r = oai("batches", "run", str(src), "--wait", "-O", str(out), "--max-requests", "3")
    assert r.code == 7, r
    assert uploads_and_batches(oai) == (3, 3)
    sizes = sorted(b.counts["total"] for b in oai.state.batches.values())
    assert sizes == [1, 3, 3]
    assert [x["custom_id"] for x in results(out)] == [f"req-{i}" for i in range(1, 8)]


def test_split_by_bytes(oai: Oai, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from openai_cli.input import jsonl

    items = lines(4)
    src = write(tmp_path / "in.jsonl", items)
    one = len(json.dumps(items[0])) + 1
    monkeypatch.setattr(jsonl, "MAX_BATCH_BYTES", 2 * one + 1)
    r = oai("batches", "run", str(src), "--dry-run")
    assert r.code == 0, r
    plan = json.loads(r.out)
    assert [b["lines"] for b in plan["batches"]] == ["1-2", "3-4"]
    assert oai.state.log == []


def test_a_failed_batch_fails_every_line(oai: Oai, tmp_path: Path) -> None:
    oai.state.batch_outcome = "failed"
    src = write(tmp_path / "in.jsonl", lines(2))
    out = tmp_path / "out.jsonl"
    r = oai("batches", "run", str(src), "--wait", "-O", str(out))
    assert r.code == 7, r
    got = results(out)
    assert [x["error"]["code"] for x in got] == ["batch_failed", "batch_failed"]
    assert "asked to fail (line 1)" in got[0]["error"]["message"]


def test_an_expired_batch_keeps_what_ran(oai: Oai, tmp_path: Path) -> None:
    oai.state.batch_outcome = "expired"
    oai.state.expire_after_lines = 2
    src = write(tmp_path / "in.jsonl", lines(3))
    out = tmp_path / "out.jsonl"
    r = oai("batches", "run", str(src), "--wait", "-O", str(out))
    assert r.code == 7, r
    got = results(out)
    assert [x["response"] and x["response"]["status_code"] for x in got[:2]] == [200, 200]
    assert got[2]["error"]["code"] == "batch_expired"
    assert "1 of 3 requests failed" in r.err


def test_without_wait_then_collect_with_resume(oai: Oai, tmp_path: Path, fast_polls: Path) -> None:
    src = write(tmp_path / "in.jsonl", lines(2))
    r = oai("batches", "run", str(src))
    assert r.code == 0, r
    listed = json.loads(r.out)
    (batch_id,) = oai.state.batches
    assert [b["id"] for b in listed["data"]] == [batch_id]
    state = state_file(fast_polls)
    assert listed["state"] == str(state)
    out = tmp_path / "out.jsonl"
    r = oai("batches", "run", "--resume", str(state), "--wait", "-O", str(out))
    assert r.code == 0, r
    assert len(results(out)) == 2
    assert uploads_and_batches(oai) == (1, 1)


def test_interrupted_after_the_upload_resumes_without_a_second_upload_or_batch(
    oai: Oai, tmp_path: Path, fast_polls: Path
) -> None:
    src = write(tmp_path / "in.jsonl", lines(3))
    out = tmp_path / "out.jsonl"
    oai.state.faults["POST /batches"] = [503]
    r = oai("batches", "run", str(src), "--wait", "-O", str(out))
    assert r.code == 6, r
    assert "oai batches run --resume" in r.err
    assert uploads_and_batches(oai) == (1, 1)  # the refused create
    assert oai.state.batches == {}
    r = oai("batches", "run", "--resume", str(state_file(fast_polls)), "--wait")
    assert r.code == 0, r
    assert uploads_and_batches(oai) == (1, 2)
    assert len(oai.state.batches) == 1
    assert len(results(out)) == 3


def test_a_create_whose_answer_was_lost_is_found_again(
    oai: Oai, tmp_path: Path, fast_polls: Path
) -> None:
    src = write(tmp_path / "in.jsonl", lines(2))
    # The batch is created but the answer never arrives, and no retry is allowed.
    oai.state.lose["POST /batches"] = 1
    r = oai("--max-retries", "0", "batches", "run", str(src), "--wait")
    assert r.code == 6, r
    assert len(oai.state.batches) == 1
    r = oai("batches", "run", "--resume", str(state_file(fast_polls)), "--wait")
    assert r.code == 0, r
    assert "was created before the interruption" in r.err
    assert len(oai.state.batches) == 1
    assert oai.state.count("POST", "/files") == 1


def test_an_upload_whose_answer_was_lost_is_found_again(
    oai: Oai, tmp_path: Path, fast_polls: Path
) -> None:
    src = write(tmp_path / "in.jsonl", lines(2))
    oai.state.lose["POST /files"] = 1
    r = oai("--max-retries", "0", "batches", "run", str(src), "--wait")
    assert r.code == 6, r
    r = oai("batches", "run", "--resume", str(state_file(fast_polls)), "--wait")
    assert r.code == 0, r
    assert "was uploaded before the interruption" in r.err
    assert len([f for f in oai.state.files.values() if f.purpose == "batch"]) == 1
    assert len(oai.state.batches) == 1


def test_ctrl_c_while_waiting_then_resume(oai: Oai, tmp_path: Path, fast_polls: Path) -> None:
    src = write(tmp_path / "in.jsonl", lines(4, fail=(3,)))
    out, errors = tmp_path / "out.jsonl", tmp_path / "failed.jsonl"
    # Polls are answered until the batch would end; that poll is held.
    oai.state.polls_to_finish = 3
    oai.state.hold["GET /batches/batch_"] = 2
    args = ("batches", "run", str(src), "--wait", "-O", str(out), "--errors", str(errors))
    code, err = oai.interrupted(*args, OAI_STATE_DIR=str(fast_polls))
    assert code == 130, err
    assert b"nothing is lost: oai batches run --resume" in err
    assert not out.exists()
    oai.state.hold.clear()

    r = oai("batches", "run", "--resume", str(state_file(fast_polls)), "--wait")
    assert r.code == 7, r
    assert uploads_and_batches(oai) == (1, 1)
    assert [x["custom_id"] for x in results(out)] == [f"req-{i}" for i in range(1, 5)]
    assert json.loads(errors.read_text())["custom_id"] == "req-3"


def test_timeout_exits_124_and_the_run_goes_on(oai: Oai, tmp_path: Path, fast_polls: Path) -> None:
    oai.state.polls_to_finish = 10**9
    src = write(tmp_path / "in.jsonl", lines(1))
    r = oai("batches", "run", str(src), "--wait", "--timeout", "0.2")
    assert r.code == 124, r
    assert "still running" in r.err and "--resume" in r.err
    oai.state.polls_to_finish = 0
    r = oai("batches", "run", "--resume", str(state_file(fast_polls)), "--wait")
    assert r.code == 0, r
    assert uploads_and_batches(oai) == (1, 1)


def test_bad_input_is_reported_and_nothing_is_sent(oai: Oai, tmp_path: Path) -> None:
    items = lines(3)
    items[1]["url"] = "/v1/embeddings"
    src = write(tmp_path / "in.jsonl", items)
    r = oai("batches", "run", str(src), "--wait")
    assert r.code == 2
    assert f"{src}:2: url /v1/embeddings differs from line 1's" in r.err
    assert oai.state.log == []


def test_dry_run_shows_the_plan_and_keeps_no_state(
    oai: Oai, tmp_path: Path, fast_polls: Path
) -> None:
    src = write(tmp_path / "in.jsonl", lines(5))
    r = oai("batches", "run", str(src), "--max-requests", "2", "--dry-run")
    assert r.code == 0, r
    plan = json.loads(r.out)
    assert plan["endpoint"] == URL and plan["requests"] == 5
    assert [b["requests"] for b in plan["batches"]] == [2, 2, 1]
    assert oai.state.log == []
    assert not list(fast_polls.rglob("run-*"))


def test_resume_refuses_a_changed_input(oai: Oai, tmp_path: Path, fast_polls: Path) -> None:
    src = write(tmp_path / "in.jsonl", lines(2))
    assert oai("batches", "run", str(src)).code == 0
    write(src, lines(3))
    r = oai("batches", "run", "--resume", str(state_file(fast_polls)), "--wait")
    assert r.code == 2
    assert "changed since the run started" in r.err


def test_prepare_builds_lines_that_run(oai: Oai, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("first\n\nsecond\n")
    r = oai(
        "batches", "prepare", str(prompts), "--endpoint", "/v1/chat/completions",
        "--model", "gpt-x", "--system", "be brief", "--body", '{"max_tokens": 5}',
    )  # fmt: skip
    assert r.code == 0, r
    made = [json.loads(x) for x in r.out.splitlines()]
    assert made[1] == {
        "custom_id": "prompt-3",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {
            "max_tokens": 5,
            "model": "gpt-x",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "second"},
            ],
        },
    }
    assert "1 empty line skipped" in r.err
    r = oai("batches", "run", "-", "--wait", input=r.out)
    assert r.code == 0, r
    assert [json.loads(x)["custom_id"] for x in r.out.splitlines()] == ["prompt-1", "prompt-3"]


def test_prepare_for_each_endpoint(oai: Oai) -> None:
    r = oai("batches", "prepare", "-", "--endpoint", "/v1/responses", "--model", "m", input="hi\n")
    assert json.loads(r.out)["body"] == {"model": "m", "input": "hi"}
    r = oai("batches", "prepare", "-", "--endpoint", "/v1/embeddings", "--model", "e", input="a\n")
    assert json.loads(r.out)["body"] == {"model": "e", "input": "a"}
    r = oai("batches", "prepare", "-", "--endpoint", "/v1/images/edits", "--model", "m", input="a")
    assert r.code == 2 and "does not take a plain prompt" in r.err
    r = oai("batches", "prepare", "-", "--endpoint", "/v1/responses", input="a\n")
    assert r.code == 2 and "every request needs a model" in r.err


# -- hardening --------------------------------------------------------------------------


def test_a_lost_create_is_found_behind_a_hundred_newer_batches(
    oai: Oai, tmp_path: Path, fast_polls: Path
) -> None:
    src = write(tmp_path / "in.jsonl", lines(2))
    oai.state.lose["POST /batches"] = 1
    r = oai("--max-retries", "0", "batches", "run", str(src), "--wait")
    assert r.code == 6, r
    (ours,) = oai.state.batches
    # Someone else creates 150 batches before the run is resumed.
    for _ in range(150):
        rec = BatchRec(oai.state.new_id("batch_"), "file-x", URL, "24h", {}, int(time.time()))
        oai.state.batches[rec.id] = rec
    r = oai("batches", "run", "--resume", str(state_file(fast_polls)), "--wait")
    assert r.code == 0, r
    assert f"batch {ours} was created before the interruption" in r.err
    assert oai.state.count("POST", "/batches") == 1


def test_output_paths_are_checked_before_anything_is_sent(
    oai: Oai, tmp_path: Path, fast_polls: Path
) -> None:
    src = write(tmp_path / "in.jsonl", lines(2))
    missing = tmp_path / "missing" / "out.jsonl"
    r = oai("batches", "run", str(src), "--wait", "-O", str(missing))
    assert r.code == 2, r
    assert f"--output-file: {missing}: the folder {missing.parent} does not exist" in r.err
    r = oai("batches", "run", str(src), "--wait", "--errors", str(tmp_path))
    assert r.code == 2, r
    assert f"--errors: {tmp_path} is a directory; give a file name" in r.err
    same = tmp_path / "both.jsonl"
    r = oai("batches", "run", str(src), "--wait", "-O", str(same), "--errors", str(same))
    assert r.code == 2, r
    assert f"--errors: {same} is also where --output-file goes; give another file" in r.err
    r = oai("batches", "run", str(src), "--wait", "--errors", "-")
    assert r.code == 2 and "--errors: - (stdout) is for --output-file; give a file" in r.err, r
    assert oai.state.log == []
    assert not (fast_polls / "batches").exists() or not list((fast_polls / "batches").iterdir())
    # A resumed run checks the paths it would write, from its state or its flags.
    r = oai("batches", "run", str(src))
    assert r.code == 0, r
    sent = len(oai.state.log)
    r = oai("batches", "run", "--resume", str(state_file(fast_polls)), "--wait", "-O", str(missing))
    assert r.code == 2 and f"--output-file: {missing}: the folder" in r.err, r
    assert len(oai.state.log) == sent


def test_dash_output_is_stdout(oai: Oai, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = write(tmp_path / "in.jsonl", lines(2))
    monkeypatch.chdir(tmp_path)
    r = oai("batches", "run", str(src), "--wait", "-O", "-")
    assert r.code == 0, r
    assert [json.loads(x)["custom_id"] for x in r.out.splitlines()] == ["req-1", "req-2"]
    assert not (tmp_path / "-").exists()


def test_a_second_resume_of_one_run_is_refused_at_once(
    oai: Oai, tmp_path: Path, fast_polls: Path
) -> None:
    src = write(tmp_path / "in.jsonl", lines(2))
    oai.state.lose["POST /batches"] = 1
    r = oai("--max-retries", "0", "batches", "run", str(src), "--wait")
    assert r.code == 6, r
    state = state_file(fast_polls)
    # The first resume waits on its batch; the second must not act on the same state.
    oai.state.polls_to_finish = 3
    oai.state.hold["GET /batches/batch_"] = 1
    first = oai.spawn("batches", "run", "--resume", str(state), "--wait")
    try:
        deadline = time.monotonic() + 30
        while not oai.state.held and time.monotonic() < deadline:
            time.sleep(0.01)
        assert oai.state.held, "the first resume never polled"
        sent = len(oai.state.log)
        second = oai.spawn("batches", "run", "--resume", str(state), "--wait")
        _, err = second.communicate(timeout=30)
        assert second.returncode == 2, err
        assert f"--resume: {state} is in use by another oai process".encode() in err
        assert len(oai.state.log) == sent
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=30)
    oai.state.hold.clear()
    r = oai("batches", "run", "--resume", str(state), "--wait")
    assert r.code == 0, r
    assert len(oai.state.batches) == 1


def test_a_state_file_that_is_a_dangling_link_is_replaced_not_written_through(
    oai: Oai, tmp_path: Path
) -> None:
    src = write(tmp_path / "in.jsonl", lines(2))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    state = tmp_path / "run.json"
    state.symlink_to(elsewhere / "state.json")
    r = oai("batches", "run", str(src), "--endpoint", URL, "--state", str(state), "--wait")
    assert r.code == 0, r
    assert list(elsewhere.iterdir()) == []
    assert not state.is_symlink() and json.loads(state.read_text())["finished"] is True
    assert state.stat().st_mode & 0o777 == 0o600


def test_an_input_that_is_not_a_file_is_named_for_what_it_is(oai: Oai, tmp_path: Path) -> None:
    # Each was "INPUT: file not found", and a file that fails as it is read
    # (/proc/self/mem gives EIO) was "cannot write the output", exit 74.
    import socket

    sock_path = tmp_path / "s.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    cases = {
        str(tmp_path): "is a directory",
        str(sock_path): "is a socket",
        "/dev/zero": "is a character device",
        str(loop): "Too many levels of symbolic links",
        str(tmp_path / "missing.jsonl"): "file not found",
    }
    if Path("/proc/self/mem").exists():
        cases["/proc/self/mem"] = "cannot read /proc/self/mem"
    try:
        for path, reason in cases.items():
            for command in ("batches run", "map"):
                r = oai(*command.split(), path, "--endpoint", "/v1/embeddings")
                assert r.code == 2, (command, path, r)
                assert reason in r.err and path in r.err, (command, r.err)
                assert len(r.err.strip().splitlines()) == 1, r.err
    finally:
        sock.close()
    assert oai.state.log == []


def test_the_input_is_never_an_output(oai: Oai, tmp_path: Path, fast_polls: Path) -> None:
    # -O INPUT replaced the input with the results before --errors copied the failed
    # lines out of it: the errors file held results, the input was gone.
    items = lines(3, fail=(2,))
    src = write(tmp_path / "in.jsonl", items)
    link = tmp_path / "link.jsonl"
    link.symlink_to(src)
    for flag, path in (("--output-file", src), ("--output-file", link), ("--errors", src)):
        r = oai("batches", "run", str(src), "--wait", flag, str(path))
        assert r.code == 2, r
        assert f"{flag}: {path} is the input, which the run reads; give another file" in r.err
    assert oai.state.log == []
    assert src.read_text() == "".join(json.dumps(i) + "\n" for i in items)
    # A resumed run reads the input its state names.
    r = oai("batches", "run", str(src))
    assert r.code == 0, r
    sent = len(oai.state.log)
    r = oai("batches", "run", "--resume", str(state_file(fast_polls)), "--wait", "-O", str(src))
    assert r.code == 2 and "is the input, which the run reads" in r.err, r
    assert len(oai.state.log) == sent


def _kinds_other_than(value: Any) -> list[Any]:
    """A value of every JSON kind but ``value``'s."""
    samples: list[Any] = [None, True, 7, 2.5, "x", [1], {"k": "v"}]
    same = {type(value)} | ({int, float} if type(value) in (int, float) else set())
    return [s for s in samples if type(s) not in same]


def test_a_state_file_with_a_field_of_another_kind_is_a_usage_error(
    oai: Oai, tmp_path: Path, fast_polls: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A state edited by hand or left by another version: a list where an object was,
    # a number where an id was. Each ended in an internal error (a KeyError, a
    # TypeError, exit 1) somewhere inside the run.
    # A string where a path was ("x" as the results file) is written where it says.
    monkeypatch.chdir(tmp_path)
    src = write(tmp_path / "in.jsonl", lines(2))
    r = oai("batches", "run", str(src))
    assert r.code == 0, r
    path = state_file(fast_polls)
    good = json.loads(path.read_text())
    bad = tmp_path / "bad.json"
    places: list[tuple[str, ...]] = [(k,) for k in good if k != "version"]
    places += [("input", k) for k in good["input"]]
    places += [("chunks", "0", k) for k in good["chunks"][0]]
    tried = 0
    for place in places:
        holder: Any = good
        for step in place[:-1]:
            holder = holder[int(step)] if isinstance(holder, list) else holder[step]
        empty: list[Any] = [[]] if isinstance(holder[place[-1]], list) else []
        for other in [*_kinds_other_than(holder[place[-1]]), *empty, "missing"]:
            state = json.loads(json.dumps(good))
            target: Any = state
            for step in place[:-1]:
                target = target[int(step)] if isinstance(target, list) else target[step]
            if other == "missing":
                del target[place[-1]]
            else:
                target[place[-1]] = other
            bad.write_text(json.dumps(state))
            r = oai("batches", "run", "--resume", str(bad), "--wait", "--wait-timeout", "5")
            tried += 1
            assert r.code != 1 and "internal error" not in r.err, (place, other, r)
            if r.code == 2:
                assert len(r.err.strip().splitlines()) == 1, r.err
    assert tried > 100
