"""`oai map`: concurrent calls, results in input order, rate limits, resume."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import respx

from openai_cli.operations import map as mapping
from tests.helpers import BASE, api_env, invoke, subprocess_env
from tests.scale.conftest import Oai
from tests.scale.server import RateLimit


def bodies(n: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"model": "e", "input": f"text {i}", **extra} for i in range(1, n + 1)]


def write(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in items))
    return path


def records(text: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in text.splitlines()]


def posts(oai: Oai) -> int:
    return oai.state.count("POST", "/embeddings")


def resume_in_full(oai: Oai, args: tuple[str, ...], out: Path, n: int) -> None:
    """With nothing held any more, ``--resume`` answers every one of ``n`` lines, in order."""
    oai.state.hold.clear()
    r = oai(*args, "--resume")
    assert r.code == 0, r
    got = records(out.read_text())
    assert [x["response"]["echo"]["input"] for x in got] == [f"text {i}" for i in range(1, n + 1)]


def test_results_keep_the_input_order(oai: Oai, tmp_path: Path) -> None:
    # Early lines take longest, so answers arrive backwards.
    items = [{"input": i, "sleep": 0.02 * (12 - i)} for i in range(1, 13)]
    src = write(tmp_path / "in.jsonl", items)
    r = oai("map", str(src), "--endpoint", "/v1/embeddings", "--concurrency", "6")
    assert r.code == 0, r
    got = records(r.out)
    assert [x["line"] for x in got] == list(range(1, 13))
    assert [x["response"]["echo"]["input"] for x in got] == list(range(1, 13))
    assert "all 12 lines answered" in r.err


def test_failures_are_kept_per_line(oai: Oai, tmp_path: Path) -> None:
    items = bodies(5)
    items[2]["fail"] = True
    src = write(tmp_path / "in.jsonl", items)
    out = tmp_path / "out.jsonl"
    r = oai("map", str(src), "--endpoint", "/embeddings", "-O", str(out))
    assert r.code == 7, r
    got = records(out.read_text())
    assert [("error" in x) for x in got] == [False, False, True, False, False]
    err = got[2]["error"]
    assert (err["status"], err["code"], err["message"]) == (
        400,
        "asked_to_fail",
        "this request was asked to fail",
    )
    assert err["request_id"].startswith("req_")
    assert "1 of 5 lines failed" in r.err


def test_a_one_line_input_is_counted_as_one_line(oai: Oai, tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", bodies(1, fail=True))
    out = tmp_path / "out.jsonl"
    args = ("map", str(src), "--endpoint", "/embeddings", "-O", str(out))
    r = oai(*args)
    assert r.code == 7, r
    assert "oai: 1 of 1 line failed, 0 succeeded; " in r.err
    r = oai(*args, "--resume")
    assert "oai: 1 of 1 line already answered, 1 of them failed; sending those again" in r.err


def test_batch_lines_keep_their_custom_id(oai: Oai, tmp_path: Path) -> None:
    items = [
        {"custom_id": f"c{i}", "method": "POST", "url": "/v1/embeddings", "body": {"input": i}}
        for i in range(3)
    ]
    src = write(tmp_path / "in.jsonl", items)
    r = oai("map", str(src))
    assert r.code == 0, r
    assert [(x["line"], x["custom_id"]) for x in records(r.out)] == [
        (1, "c0"),
        (2, "c1"),
        (3, "c2"),
    ]
    assert posts(oai) == 3


def test_resume_sends_only_the_lines_not_answered(oai: Oai, tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", bodies(20))
    out = tmp_path / "out.jsonl"
    assert oai("map", str(src), "--endpoint", "/v1/embeddings", "-O", str(out)).code == 0
    whole = out.read_text()
    # As if stopped after line 7, in the middle of writing line 8.
    kept = whole.splitlines(keepends=True)
    out.write_text("".join(kept[:7]) + kept[7][:10])
    before = posts(oai)
    r = oai("map", str(src), "--endpoint", "/v1/embeddings", "-O", str(out), "--resume")
    assert r.code == 0, r
    assert "7 of 20 lines already answered" in r.err
    assert posts(oai) - before == 13
    assert [x["line"] for x in records(out.read_text())] == list(range(1, 21))
    assert [x["response"]["echo"]["input"] for x in records(out.read_text())] == [
        f"text {i}" for i in range(1, 21)
    ]


def test_ctrl_c_then_resume_answers_every_line_once(
    oai: Oai, tmp_path: Path, fast_polls: Path
) -> None:
    src = write(tmp_path / "in.jsonl", bodies(12))
    out = tmp_path / "out.jsonl"
    args = ("map", str(src), "--endpoint", "/v1/embeddings", "-O", str(out), "-c", "1")
    oai.state.hold["POST /embeddings"] = 5
    code, err = oai.interrupted(*args)
    assert code == 130, err
    assert b"stopped after line 5" in err and b"--resume" in err
    assert len(out.read_text().splitlines()) == 5
    resume_in_full(oai, args, out, 12)
    # Twelve answered, plus the one held when Ctrl-C came.
    assert posts(oai) == 13


def test_rate_limits_are_obeyed(oai: Oai, tmp_path: Path) -> None:
    oai.state.rate = limit = RateLimit(10, 0.25)  # 40 a second, 10 at once
    src = write(tmp_path / "in.jsonl", bodies(60))
    started = time.monotonic()
    r = oai("map", str(src), "--endpoint", "/v1/embeddings", "-c", "8")
    elapsed = time.monotonic() - started
    assert r.code == 0, r
    assert len(records(r.out)) == 60
    assert limit.accepted == 60
    # Paced by the headers rather than by 429s: at most a stray few are refused, and
    # the run takes about what the limit allows ((60 - 10) / 40 = 1.25 s).
    assert limit.rejected <= 10, limit.rejected
    assert 1.0 < elapsed < 6, elapsed


def test_a_429_pauses_and_the_line_is_sent_again(oai: Oai, tmp_path: Path) -> None:
    oai.state.flaky["POST /embeddings"] = [429, 429]
    src = write(tmp_path / "in.jsonl", bodies(3))
    r = oai("--max-retries", "0", "map", str(src), "--endpoint", "/v1/embeddings", "-c", "1")
    assert r.code == 0, r
    assert [("response" in x) for x in records(r.out)] == [True, True, True]
    assert posts(oai) == 5


def test_a_rejected_key_stops_the_run(tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", bodies(30))
    out = tmp_path / "out.jsonl"
    with respx.mock(base_url=BASE, assert_all_called=True) as mock:
        route = mock.post("/embeddings").respond(
            401, json={"error": {"message": "Incorrect API key", "code": "invalid_api_key"}}
        )
        r = invoke("map", str(src), "--endpoint", "/v1/embeddings", "-O", str(out), "-c", "2",
                   env=api_env())  # fmt: skip
    assert r.code == 3, r
    assert "Incorrect API key" in r.err
    assert route.call_count <= 4
    assert out.read_text() == ""


def test_an_existing_output_is_not_overwritten(oai: Oai, tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", bodies(2))
    out = tmp_path / "out.jsonl"
    out.write_text('{"line": 1, "response": {}}\n')
    r = oai("map", str(src), "--endpoint", "/v1/embeddings", "-O", str(out))
    assert r.code == 2 and "--resume continues it" in r.err
    r = oai("map", str(src), "--endpoint", "/v1/embeddings", "--resume")
    assert r.code == 2 and "--resume: needs --output-file" in r.err
    other = write(tmp_path / "other.jsonl", [{"line": 3, "response": {}}])
    r = oai("map", str(src), "--endpoint", "/v1/embeddings", "-O", str(other), "--resume")
    assert r.code == 2 and "is it the output of this input?" in r.err
    assert oai.state.log == []


def test_bad_input_sends_nothing(oai: Oai, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"input": 1}\n[]\n')
    r = oai("map", str(src), "--endpoint", "/v1/embeddings")
    assert r.code == 2
    assert f"{src}:2: expected a JSON object, got an array" in r.err
    r = oai("map", str(write(tmp_path / "ok.jsonl", bodies(1))))
    assert r.code == 2 and "--endpoint: give the API path" in r.err
    assert oai.state.log == []


def test_dry_run(oai: Oai, tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", bodies(4))
    r = oai("map", str(src), "--endpoint", "/v1/embeddings", "--dry-run", "-o", "json")
    assert r.code == 0, r
    plan = json.loads(r.out)
    assert plan["url"] == oai.server.base_url + "/embeddings"
    assert plan["requests"] == 4
    assert oai.state.log == []


def test_stdin(oai: Oai) -> None:
    data = "".join(json.dumps(x) + "\n" for x in bodies(3))
    r = oai("map", "-", "--endpoint", "/v1/embeddings", input=data)
    assert r.code == 0, r
    assert len(records(r.out)) == 3


# -- the pieces -------------------------------------------------------------------------


def test_reset_durations() -> None:
    assert mapping.parse_reset("1s") == 1
    assert mapping.parse_reset("6m0s") == 360
    assert mapping.parse_reset("20ms") == 0.02
    assert mapping.parse_reset("1h2m3.5s") == 3723.5
    assert mapping.parse_reset("0.5") == 0.5
    assert mapping.parse_reset("soon") is None
    assert mapping.parse_reset(None) is None


def test_the_gate_spaces_requests_at_the_reported_rate() -> None:
    now = [0.0]
    gate = mapping.RateGate(clock=lambda: now[0])
    stop = threading.Event()
    gate.acquire(1, stop)  # nothing known yet: no wait
    # 10 a second, none left, the bucket full again in a second.
    gate.release(
        {
            "x-ratelimit-limit-requests": "10",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": "1s",
        }
    )
    assert gate.requests.delay(1) == 0.1
    now[0] = 0.1
    gate.acquire(1, stop)
    assert gate.inflight == 1


def test_token_estimate_counts_the_answer_budget() -> None:
    body = {"input": "x", "max_output_tokens": 100}
    assert mapping.estimate_tokens(body, b"x" * 40) == 110


# -- hardening --------------------------------------------------------------------------


def test_a_reader_that_goes_away_ends_the_run_quietly(oai: Oai, tmp_path: Path) -> None:
    # `oai map ... | head -1`: far more results than head reads.
    src = write(tmp_path / "in.jsonl", bodies(400))
    script = '"$PY" -m openai_cli map "$SRC" --endpoint /v1/embeddings -c 4 | head -n 1'
    proc = subprocess.Popen(
        ["bash", "-c", script],
        env=subprocess_env({**oai.env, "PY": sys.executable, "SRC": str(src)}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert json.loads(out)["line"] == 1
    assert proc.returncode == 0
    assert err == b"", err.decode()


def test_a_full_disk_stops_the_run_and_the_results_still_resume(oai: Oai, tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", bodies(40))
    out = tmp_path / "out.jsonl"
    args = ("map", str(src), "--endpoint", "/v1/embeddings", "-O", str(out), "-c", "4")

    def small_disk() -> None:
        # Writes past 2 KB fail with EFBIG, as on a disk that has just filled up.
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))

    proc = oai.spawn(*args, preexec_fn=small_disk)
    _, err = proc.communicate(timeout=30)
    text = err.decode()
    assert proc.returncode == 74, text
    assert f"cannot write {out}" in text and "--resume" in text, text
    assert "Traceback" not in text
    assert 0 < out.stat().st_size <= 2048

    r = oai(*args, "--resume")
    assert r.code == 0, r
    got = records(out.read_text())
    assert [x["response"]["echo"]["input"] for x in got] == [f"text {i}" for i in range(1, 41)]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_dev_full_is_a_device_refused_before_sending(oai: Oai, tmp_path: Path) -> None:
    # A device is no results file (a full disk is the RLIMIT_FSIZE test above); stdout
    # still takes it: `-O - > /dev/full` is exit 74.
    src = write(tmp_path / "in.jsonl", bodies(3))
    proc = oai.spawn("map", str(src), "--endpoint", "/v1/embeddings", "-O", "/dev/full")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2, err
    assert err.decode().splitlines()[0] == (
        "oai: --output-file: /dev/full is a device, not a regular file"
    )
    assert oai.state.log == []
    with open("/dev/full", "wb") as full:
        proc = oai.spawn("map", str(src), "--endpoint", "/v1/embeddings", stdout=full)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 74, err
    assert b"No space left on device" in err and b"Traceback" not in err


def test_a_second_run_on_the_same_results_is_refused_at_once(oai: Oai, tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", bodies(6))
    out = tmp_path / "out.jsonl"
    args = ("map", str(src), "--endpoint", "/v1/embeddings", "-O", str(out), "-c", "1")
    oai.state.hold["POST /embeddings"] = 2
    first = oai.spawn(*args)
    try:
        deadline = time.monotonic() + 30
        while not oai.state.held and time.monotonic() < deadline:
            time.sleep(0.01)
        assert oai.state.held
        sent = posts(oai)
        second = oai.spawn(*args, "--resume")
        _, err = second.communicate(timeout=30)
        assert second.returncode == 2, err
        assert f"--output-file: {out} is in use by another oai process".encode() in err
        assert posts(oai) == sent
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=30)
    oai.state.hold.clear()
    r = oai(*args, "--resume")
    assert r.code == 0, r
    assert [x["line"] for x in records(out.read_text())] == list(range(1, 7))
    assert not Path(f"{out}.lock").exists()


def test_resume_with_another_input_is_refused(oai: Oai, tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", bodies(5))
    out = tmp_path / "out.jsonl"
    assert oai("map", str(src), "--endpoint", "/v1/embeddings", "-O", str(out)).code == 0
    out.write_text("".join(out.read_text().splitlines(keepends=True)[:3]))
    other = write(tmp_path / "other.jsonl", bodies(6, model="x"))
    r = oai("map", str(other), "--endpoint", "/v1/embeddings", "-O", str(out), "--resume")
    assert r.code == 2, r
    assert f"--resume: {out} holds the results of another input than {other}" in r.err
    assert "(changed: size, modification time, first line, last line)" in r.err
    # Batch lines: the same size and ends, other custom_ids in the middle.
    items = [
        {"custom_id": f"c{i}", "method": "POST", "url": "/v1/embeddings", "body": {"input": i}}
        for i in range(3)
    ]
    src = write(tmp_path / "batch.jsonl", items)
    out = tmp_path / "batch-out.jsonl"
    assert oai("map", str(src), "-O", str(out)).code == 0
    out.write_text(out.read_text().splitlines(keepends=True)[0])
    before = posts(oai)
    stat = src.stat()
    items[1]["custom_id"] = "cX"
    write(src, items)
    os.utime(src, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    r = oai("map", str(src), "-O", str(out), "--resume")
    assert r.code == 2, r
    assert "(changed: custom_ids)" in r.err
    assert posts(oai) == before
    # The same input goes on.
    items[1]["custom_id"] = "c1"
    write(src, items)
    os.utime(src, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    r = oai("map", str(src), "-O", str(out), "--resume")
    assert r.code == 0, r


def test_output_paths_are_checked_before_anything_is_sent(
    oai: Oai, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = write(tmp_path / "in.jsonl", bodies(2))
    args = ("map", str(src), "--endpoint", "/v1/embeddings")
    r = oai(*args, "-O", str(tmp_path / "missing" / "out.jsonl"))
    assert r.code == 2, r
    missing = tmp_path / "missing"
    assert f"--output-file: {missing / 'out.jsonl'}: the folder {missing} does not exist" in r.err
    r = oai(*args, "-O", str(tmp_path))
    assert r.code == 2, r
    assert f"--output-file: {tmp_path} is a directory; give a file name" in r.err
    assert oai.state.log == []
    # `-O -` is stdout, not a file named "-".
    monkeypatch.chdir(tmp_path)
    r = oai(*args, "-O", "-")
    assert r.code == 0, r
    assert [x["line"] for x in records(r.out)] == [1, 2]
    assert not (tmp_path / "-").exists()


# -- failed lines on resume -------------------------------------------------------------


def _dead_url() -> str:
    """A local address where nothing listens: every connection is refused."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_resume_after_an_outage_sends_the_failed_lines_again(oai: Oai, tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", bodies(6))
    out = tmp_path / "out.jsonl"
    args = ("--max-retries", "0", "map", str(src), "--endpoint", "/v1/embeddings", "-O", str(out))
    r = oai(*args, OPENAI_BASE_URL=_dead_url())
    assert r.code == 7, r
    assert [x["error"]["type"] for x in records(out.read_text())] == ["network_error"] * 6
    assert "6 of 6 lines failed, 0 succeeded" in r.err
    assert "line 1: " in r.err and "the same command with --resume sends them again" in r.err
    assert posts(oai) == 0

    r = oai(*args, "--resume")
    assert r.code == 0, r
    assert "6 of 6 lines already answered, 6 of them failed; sending those again" in r.err
    assert "all 6 lines answered (6 sent, " in r.err
    assert posts(oai) == 6
    got = records(out.read_text())
    assert [x["line"] for x in got] == list(range(1, 7))
    assert [x["response"]["echo"]["input"] for x in got] == [f"text {i}" for i in range(1, 7)]
    assert not Path(f"{out}.part").exists()


def test_resume_keeps_the_good_answers_and_sends_only_the_rest(oai: Oai, tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", bodies(8))
    out = tmp_path / "out.jsonl"
    args = ("--max-retries", "0", "map", str(src), "--endpoint", "/v1/embeddings", "-O", str(out))
    oai.state.flaky["POST /embeddings"] = [500, None, 503]
    r = oai(*args, "-c", "1")
    assert r.code == 7, r
    assert "2 of 8 lines failed, 6 succeeded" in r.err
    assert "line 1: HTTP 500: injected 500" in r.err and "line 3: HTTP 503" in r.err
    first = out.read_text().splitlines()
    # Cut short as by Ctrl-C: lines 7 and 8 were never written.
    out.write_text("".join(x + "\n" for x in first[:6]))
    before = posts(oai)

    r = oai(*args, "--resume")
    assert r.code == 0, r
    said = "6 of 8 lines already answered, 2 of them failed; sending those again and the 2 left"
    assert said in r.err
    assert posts(oai) - before == 4
    again = out.read_text().splitlines()
    assert [json.loads(x)["line"] for x in again] == list(range(1, 9))
    # The good answers are the very lines the first run wrote.
    assert [again[i] for i in (1, 3, 4, 5)] == [first[i] for i in (1, 3, 4, 5)]
    assert all("response" in json.loads(x) for x in again)

    # Nothing left: said so, rather than a rate of nothing.
    r = oai(*args, "--resume")
    assert r.code == 0, r
    assert "all 8 lines answered (nothing was left to send)" in r.err
    assert posts(oai) - before == 4


def test_keep_failed_leaves_the_errors_alone(oai: Oai, tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", bodies(3))
    out = tmp_path / "out.jsonl"
    args = ("--max-retries", "0", "map", str(src), "--endpoint", "/v1/embeddings", "-O", str(out))
    r = oai(*args, "--keep-failed")
    assert r.code == 2 and "--keep-failed: only with --resume" in r.err
    assert oai(*args, OPENAI_BASE_URL=_dead_url()).code == 7
    kept = out.read_text()
    r = oai(*args, "--resume", "--dry-run", "-o", "json")
    assert r.code == 0, r
    plan = json.loads(r.out)
    assert (plan["requests"], plan["already_answered"], plan["failed_sent_again"]) == (3, 3, 3)
    r = oai(*args, "--resume", "--keep-failed")
    assert r.code == 7, r
    assert "3 of 3 lines failed, 0 succeeded" in r.err
    assert "(nothing was left to send)" in r.err and "0.0 requests/s" not in r.err
    assert "without --keep-failed, sends them again" in r.err
    assert out.read_text() == kept
    assert posts(oai) == 0


def test_ctrl_c_while_failed_lines_are_sent_again_keeps_every_line(
    oai: Oai, tmp_path: Path
) -> None:
    src = write(tmp_path / "in.jsonl", bodies(6))
    out = tmp_path / "out.jsonl"
    args = ("--max-retries", "0", "map", str(src), "--endpoint", "/v1/embeddings", "-O", str(out))
    assert oai(*args, OPENAI_BASE_URL=_dead_url()).code == 7
    oai.state.hold["POST /embeddings"] = 2
    code, err = oai.interrupted(*args, "-c", "1", "--resume")
    assert code == 130, err
    # Two new answers, then the old errors of the lines not reached: one line each.
    got = records(out.read_text())
    assert [x["line"] for x in got] == list(range(1, 7))
    assert [("response" in x) for x in got] == [True, True, False, False, False, False]
    assert not Path(f"{out}.part").exists()
    resume_in_full(oai, args, out, 6)
    # Two answered, the one held when Ctrl-C came, and the four left.
    assert posts(oai) == 7


def test_errors_read_as_every_other_command_reports_them(tmp_path: Path) -> None:
    from tests.helpers import CANARY_KEY

    src = write(tmp_path / "in.jsonl", bodies(2))
    with respx.mock(base_url=BASE, assert_all_called=True) as mock:
        mock.post("/embeddings").respond(
            422, json={"detail": [{"loc": ["body", "input"], "msg": f"bad key {CANARY_KEY}"}]}
        )
        r = invoke("map", str(src), "--endpoint", "/v1/embeddings", "-c", "1", env=api_env())
    assert r.code == 7, r
    errors = [x["error"] for x in records(r.out)]
    # A gateway's shape is read, and the key never lands in the results.
    assert errors[0]["message"].startswith("body.input: bad key ")
    assert CANARY_KEY not in r.out and CANARY_KEY not in r.err
    with respx.mock(base_url=BASE, assert_all_called=True) as mock:
        mock.post("/embeddings").respond(
            400, json={"error": {"type": "auth_error", "message": "no"}}
        )
        r = invoke("map", str(src), "--endpoint", "/v1/embeddings", "-c", "1", env=api_env())
    # A key a gateway refuses with a 400 stops the run, naming where the key came from.
    assert r.code == 3, r
    assert "came from env OPENAI_API_KEY" in r.err
