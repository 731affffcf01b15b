"""The cost of keeping a long streamed answer in the conversation log.

A local server streams one answer of ``--mb`` megabytes (Responses API events,
``--delta`` characters each) and ``oai ask`` reads it twice over, piped to
/dev/null: once as usual (the answer saved in ``logs.db`` as it streams) and once
with ``--no-log``. Each figure is the median (and the least) wall and CPU time of
``--runs`` runs, each with a fresh data directory; the ratio of the two is what
saving costs. Saving must stay linear in the answer's length, so the ratio stays
flat as ``--mb`` grows.

Run it with the project's Python::

    python tests/bench/log_stream.py --mb 20 --runs 5

Before timing, a logged run must keep exactly the text that was sent.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.stream_throughput import Server, bench_env, response_object, sse  # noqa: E402

WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india")


def answer_body(total: int, delta: int) -> tuple[list[bytes], str]:
    """A Responses stream whose text is ``total`` characters, in deltas of ``delta``."""
    words = " ".join(WORDS[i % len(WORDS)] + str(i % 97) for i in range(delta)) + "\n"
    piece = words[:delta]
    count = max(1, total // delta)
    created = sse(
        "response.created",
        {"type": "response.created", "response": response_object("in_progress", "")},
    )
    event = sse(
        "response.output_text.delta",
        {
            "type": "response.output_text.delta",
            "item_id": "msg_bench",
            "output_index": 0,
            "content_index": 0,
            "delta": piece,
        },
    )
    text = piece * count
    done = sse(
        "response.completed",
        {"type": "response.completed", "response": response_object("completed", "")},
    )
    pieces = [created] + [event * 8] * (count // 8) + [event] * (count % 8) + [done]
    return pieces, text


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """The wall time and the CPU time (user and system) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[3:]} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=20.0, help="size of the answer, in MB")
    parser.add_argument("--delta", type=int, default=2000, help="characters per text event")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    server = Server()
    server.pieces, expected = answer_body(int(args.mb * 1_000_000), args.delta)
    base_env = bench_env(server.base_url)
    argv = [sys.executable, "-m", "openai_cli", "ask", "--stream", "-m", "bench-model", "hi"]

    with tempfile.TemporaryDirectory() as tmp:

        def env_for(run: str) -> dict[str, str]:
            home = Path(tmp, run)
            return {
                **base_env,
                "OAI_CONFIG_DIR": str(home / "config"),
                "OAI_DATA_DIR": str(home / "data"),
                "OAI_STATE_DIR": str(home / "state"),
            }

        check = env_for("check")
        run_once(argv, check)
        db = sqlite3.connect(Path(check["OAI_DATA_DIR"], "logs.db"))
        ((row, kept, status),) = db.execute("SELECT id, answer, status FROM exchanges").fetchall()
        # The answer is its column followed by the pieces it was saved in.
        kept += "".join(
            r[0]
            for r in db.execute(
                "SELECT text FROM answer_pieces WHERE exchange_id = ? ORDER BY seq", (row,)
            )
        )
        db.close()
        if (kept, status) != (expected, "complete"):
            raise SystemExit(f"the log kept {len(kept)} chars ({status}), expected {len(expected)}")

        runs: dict[str, list[tuple[float, float]]] = {"logged": [], "no-log": []}
        for i in range(args.runs):
            runs["logged"].append(run_once(argv, env_for(f"logged-{i}")))
            runs["no-log"].append(run_once([*argv, "--no-log"], env_for(f"nolog-{i}")))
    server.close()

    # On a shared machine the least time is the one least disturbed by others, and
    # CPU time (the process's own work) is less disturbed than wall time.
    figures: dict[str, dict[str, float]] = {}
    for kind, index in (("wall", 0), ("cpu", 1)):
        for how, pick in (("median", statistics.median), ("least", min)):
            logged = pick(t[index] for t in runs["logged"])
            unlogged = pick(t[index] for t in runs["no-log"])
            figures[f"{kind}_{how}"] = {
                "logged_s": round(logged, 3),
                "no_log_s": round(unlogged, 3),
                "ratio": round(logged / unlogged, 2),
            }
    result = {
        "answer_mb": args.mb,
        "delta_chars": args.delta,
        "runs": args.runs,
        **figures,
        "load_average": round(os.getloadavg()[0], 2),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{args.mb:g} MB answer in {args.delta}-character deltas, {args.runs} runs")
    print(f"  {'':<18} {'wall median':>12} {'wall least':>11} {'CPU median':>11} {'CPU least':>10}")
    for label, key in (
        ("oai ask", "logged_s"),
        ("oai ask --no-log", "no_log_s"),
        ("ratio", "ratio"),
    ):
        cells = [figures[f] for f in ("wall_median", "wall_least", "cpu_median", "cpu_least")]
        unit = "" if key == "ratio" else " s"
        print(f"  {label:<18}" + "".join(f"{c[key]:>10.2f}{unit or '  '}" for c in cells))
    print(f"  load average {result['load_average']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
