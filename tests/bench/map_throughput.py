"""``oai map`` against a server that enforces a rate limit: share of the allowed rate used.

The server (``tests/scale/server.py --rate LIMIT/WINDOW``, its own process) keeps a
token bucket of LIMIT requests refilled over WINDOW seconds, reports it in
``x-ratelimit-limit/remaining/reset-requests`` as the API does and answers 429
when it is empty. ``oai map`` sends N embedding bodies at ``--concurrency 16``.
In T seconds the server allows at most ``LIMIT + T x LIMIT / WINDOW`` requests (a
full bucket, then the refill), so the share achieved is ``N / that``, T being the
run's wall time less that of the same command with ``--dry-run`` (start-up and the
check of the input, nothing sent). The 429s the server gave are counted too.
Medians of ``--runs``.

    python tests/bench/map_throughput.py                       # 50/s and 200/s, 20 s each
    python tests/bench/map_throughput.py --rates 100 --seconds 10 --runs 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.scale.bench_support import api_server, measure, oai, oai_env


def stats(base: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{base}/_stats") as resp:
        data: dict[str, int] = json.load(resp)
        return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", nargs="+", type=int, default=[50, 200], help="per second")
    parser.add_argument("--burst", type=float, default=0.2, help="bucket size, in seconds")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", default="16")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(
        "| limit | requests | wall (median) | sending (wall less start-up and check) "
        "| achieved | share of allowed | 429s |"
    )
    print("|---|---|---|---|---|---|---|")
    for rate in args.rates:
        limit = max(1, round(rate * args.burst))
        n = int(rate * args.seconds)
        shares: list[float] = []
        walls: list[float] = []
        sends: list[float] = []
        refused: list[int] = []
        for _ in range(args.runs):
            with (
                tempfile.TemporaryDirectory() as tmp,
                api_server("--rate", f"{limit}/{limit / rate}") as base,
            ):
                src = Path(tmp) / "bodies.jsonl"
                src.write_text(
                    "".join(
                        json.dumps({"model": "e", "input": f"text {i}"}) + "\n" for i in range(n)
                    )
                )
                out = Path(tmp) / "out.jsonl"
                m = measure(
                    oai(
                        "map",
                        str(src),
                        "--endpoint",
                        "/v1/embeddings",
                        "-O",
                        str(out),
                        "--concurrency",
                        args.concurrency,
                    ),
                    oai_env(base),
                )
                if m.code != 0:
                    sys.exit(f"oai map failed ({m.code}): {m.err.decode()[-2000:]}")
                counted = stats(base)
                assert counted["accepted"] == n, counted
                # The run includes start-up and the check of the input: the same
                # command with --dry-run (nothing sent) measures those.
                dry = measure(
                    oai("map", str(src), "--endpoint", "/v1/embeddings", "--dry-run"),
                    oai_env(base),
                )
                sending = m.wall - dry.wall
                shares.append(n / (limit + sending * rate))
                walls.append(m.wall)
                sends.append(sending)
                refused.append(counted["rejected"])
        wall = statistics.median(walls)
        sending = statistics.median(sends)
        print(
            f"| {rate}/s (bucket {limit}) | {n} | {wall:.2f} s | {sending:.2f} s "
            f"| {n / sending:.1f}/s | {statistics.median(shares):.1%} "
            f"| {statistics.median(refused):.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
