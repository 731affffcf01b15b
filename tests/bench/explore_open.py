"""How fast the ``-o explore`` viewer opens and answers on a large answer.

A files listing of 100,000 items (about 10 MB of JSON) is written once; then, in a
real pseudo-terminal, ``oai explore FILE`` is timed from the start of the process
to the first screen that shows the list, and each key from the press to the screen
that shows its effect: G (the last item), a search for an item in the middle, and
folding the list again. Medians of ``--runs``.

    python tests/bench/explore_open.py            # --items 100000 --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.helpers import subprocess_env
from tests.pty_screen import Screen


def generate(path: Path, items: int) -> int:
    data = [
        {
            "id": f"file-{i:08d}",
            "bytes": i * 37,
            "created_at": 1_700_000_000 + i,
            "filename": f"part-{i:06d}.jsonl",
            "purpose": "batch",
        }
        for i in range(items)
    ]
    path.write_text(json.dumps({"object": "list", "data": data, "has_more": False}))
    return path.stat().st_size


def timed(screen: Screen, keys: str, done: Callable[[str], bool]) -> float:
    start = time.perf_counter()
    screen.send(keys)
    screen.wait_for(done, timeout=120)
    return time.perf_counter() - start


def one_run(path: Path, items: int) -> dict[str, float]:
    middle = items // 2
    start = time.perf_counter()
    screen = Screen(
        [sys.executable, "-m", "openai_cli", "explore", str(path)],
        subprocess_env(),
        path.parent,
    )
    try:
        screen.wait_for(lambda s: f"[…] {items} items" in s, timeout=120)
        times = {"open": time.perf_counter() - start}
        screen.send("jjl")
        screen.wait_for(lambda s: "[1]: {…} 5 keys" in s, timeout=120)
        times["G (last item)"] = timed(screen, "G", lambda s: f"[{items - 1}]:" in s)
        times["/ search, middle"] = timed(
            screen,
            f"/file-{middle:08d}\r",
            lambda s: s.splitlines()[-1].startswith(f".data[{middle}].id "),
        )
        times["fold the list"] = timed(screen, "gjjh", lambda s: f"[…] {items} items" in s)
        screen.send("q")
        screen.wait_exit()
    finally:
        screen.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "files.json"
        size = generate(path, args.items)
        runs = [one_run(path, args.items) for _ in range(args.runs)]
    print(
        f"{args.items} items, {size / 1e6:.1f} MB, {args.runs} runs, load {os.getloadavg()[0]:.1f}"
    )
    for name in runs[0]:
        values = [r[name] for r in runs]
        print(
            f"  {name:<18} median {statistics.median(values) * 1000:7.0f} ms"
            f"  min {min(values) * 1000:7.0f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
