"""SIGINT, SIGTERM and SIGHUP in the middle of a rewrite: ``oai map --resume``
rewriting its results, ``oai batches run`` merging them. Each is a real process
and a real signal; afterwards the file is the one before or the whole new one,
no temporary file is left, and the run goes on with ``--resume``."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.scale.conftest import Oai
from tests.scale.test_batches_run import URL, lines, results, state_file
from tests.scale.test_batches_run import write as write_lines
from tests.scale.test_map import _dead_url, bodies, posts, records, resume_in_full, write

SIGNALS: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("sig", sorted(SIGNALS), ids=lambda s: signal.Signals(s).name)
def test_a_signal_while_map_resume_rewrites_keeps_every_line(
    oai: Oai, tmp_path: Path, sig: int
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    src = write(work / "in.jsonl", bodies(6))
    out = work / "out.jsonl"
    args = ("--max-retries", "0", "map", str(src), "--endpoint", "/v1/embeddings", "-O", str(out))
    assert oai(*args, OPENAI_BASE_URL=_dead_url()).code == 7
    before = out.read_bytes()
    oai.state.hold["POST /embeddings"] = 2
    proc = oai.spawn(*args, "-c", "1", "--resume")
    deadline = time.monotonic() + 30
    while not oai.state.held and time.monotonic() < deadline:
        time.sleep(0.01)
    assert oai.state.held, "the rewrite never sent a request"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == SIGNALS[sig], err
    assert b"Traceback" not in err
    # The whole new file (two new answers, then the old errors), or the old one.
    got = records(out.read_text())
    assert [x["line"] for x in got] == list(range(1, 7))
    assert (
        out.read_bytes() == before or [("response" in x) for x in got] == [True] * 2 + [False] * 4
    )
    assert names(work) == ["in.jsonl", "out.jsonl"]
    resume_in_full(oai, args, out, 6)
    assert posts(oai) == 7


@pytest.mark.parametrize("sig", sorted(SIGNALS), ids=lambda s: signal.Signals(s).name)
def test_a_signal_while_batches_run_merges_leaves_no_half_file(
    oai: Oai, fast_polls: Path, tmp_path: Path, sig: int
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    n = 3000  # results well past what a pipe holds
    src = write_lines(work / "in.jsonl", lines(n, fail=(1, 2)))
    errors = work / "errors.jsonl"
    # The results go to a pipe nobody reads yet: the merge stops there, its errors
    # file half written, and the signal comes then.
    proc = oai.spawn("batches", "run", str(src), "--endpoint", URL, "--wait", "-O", "-",
                     "--errors", str(errors))  # fmt: skip
    deadline = time.monotonic() + 60
    while names(work) == ["in.jsonl"] and time.monotonic() < deadline:
        time.sleep(0.01)
    partial = [x for x in names(work) if x != "in.jsonl"]
    assert partial and "errors.jsonl" not in partial, partial
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == SIGNALS[sig], err
    assert b"Traceback" not in err
    assert names(work) == ["in.jsonl"]
    # The run goes on from its state and writes both files whole.
    out = work / "out.jsonl"
    r = oai("batches", "run", "--resume", str(state_file(fast_polls)), "--wait", "-O", str(out))
    assert r.code == 7, r
    assert [x["custom_id"] for x in results(out)] == [f"req-{i}" for i in range(1, n + 1)]
    assert [x["custom_id"] for x in results(errors)] == ["req-1", "req-2"]
    assert names(work) == ["errors.jsonl", "in.jsonl", "out.jsonl"]
