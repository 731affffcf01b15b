"""Time (and memory) to check a full-size batch file: 50,000 requests, about 200 MB.

The file is generated once: chat completion requests of about 4,190 bytes each
(a long user message), one endpoint, unique ids, so the whole file is read and
every check runs. Measures, medians of ``--runs``:

- ``jsonl.validate_batch`` in this process (the structural check alone), then with
  each body checked against the request schema (``operations/schemas``): the difference is
  what the schema check adds;
- ``oai files create --file F --purpose batch --dry-run`` and ``oai batches validate F``
  as processes: start-up, the check, with peak RSS (``os.wait4``); nothing is sent
  (no server needed).

``--compare`` also times the candidate validators on the same chat bodies (compiled
once, each body validated): jsonschema-rs (the one used), fastjsonschema and
jsonschema, where they are installed.

    python tests/bench/validate_batch.py            # --lines 50000 --runs 3 [--compare]
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from openai_cli.input import jsonl
from openai_cli.operations import schemas
from tests.scale.bench_support import measure, oai, oai_env

LINE_BYTES = (200 * 1024 * 1024) // 50_000


def generate(path: Path, lines: int) -> int:
    template = {
        "custom_id": "",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {
            "model": "gpt-4.1-mini",
            "messages": [{"role": "user", "content": ""}],
            "max_tokens": 100,
        },
    }
    pad = LINE_BYTES - len(json.dumps(template)) - len("req-00000") - 1
    with path.open("w") as fh:
        for i in range(lines):
            template["custom_id"] = f"req-{i:05d}"
            template["body"]["messages"][0]["content"] = "lorem ipsum " * (pad // 12)  # type: ignore[index]
            fh.write(json.dumps(template) + "\n")
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--compare", action="store_true", help="time other validators too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.jsonl"
        size = generate(path, args.lines)
        print(f"file: {args.lines:,} lines, {size:,} bytes ({size / 1024**2:.1f} MiB)\n")
        inproc: list[float] = []
        checked: list[float] = []
        for _ in range(args.runs):
            for times, bodies in ((inproc, None), (checked, schemas.line_check())):
                started = time.perf_counter()
                with path.open("rb") as fh:
                    summary = jsonl.validate_batch(fh, str(path), bodies=bodies)
                times.append(time.perf_counter() - started)
                assert summary.lines == args.lines
        env = oai_env("http://127.0.0.1:9/v1", OAI_STATE_DIR=tmp)
        runs = [
            measure(
                oai("files", "create", "--file", str(path), "--purpose", "batch", "--dry-run"),
                env,
            )
            for _ in range(args.runs)
        ]
        checks = [measure(oai("batches", "validate", str(path)), env) for _ in range(args.runs)]
        for r in [*runs, *checks]:
            if r.code != 0:
                sys.exit(f"oai failed ({r.code}): {r.err.decode()[-2000:]}")
        t = statistics.median(inproc)
        tc = statistics.median(checked)
        print("| measure | median |")
        print("|---|---|")
        print(f"| `validate_batch` in process | {t:.2f} s ({size / t / 1024**2:.0f} MiB/s) |")
        print(f"| the same with the schema check | {tc:.2f} s (+{tc - t:.2f} s) |")
        print(
            f"| `oai batches validate`, wall | {statistics.median(r.wall for r in checks):.2f} s |"
        )
        print(
            f"| the same, peak RSS | {statistics.median(r.max_rss_mib for r in checks):.1f} MiB |"
        )
        print(
            f"| `oai files create --purpose batch --dry-run`, wall | "
            f"{statistics.median(r.wall for r in runs):.2f} s |"
        )
        print(f"| the same, peak RSS | {statistics.median(r.max_rss_mib for r in runs):.1f} MiB |")
        if args.compare:
            compare(path, args.runs)


def compare(path: Path, runs: int) -> None:
    """Each candidate validator over the file's bodies: compile once, validate each."""
    bodies = [json.loads(raw)["body"] for raw in path.open("rb")]
    data = schemas._data()
    schema = {**data["operations"]["POST /chat/completions"], "$defs": data["$defs"]}
    candidates: dict[str, Callable[[Any], object]] = {}
    import jsonschema_rs

    rs = jsonschema_rs.validator_for(schema)
    candidates["jsonschema-rs"] = rs.is_valid
    try:
        fast = importlib.import_module("fastjsonschema").compile(schema)
        candidates["fastjsonschema"] = lambda body: fast(body) is not None
    except ImportError:
        print("fastjsonschema: not installed")
    try:
        slow = importlib.import_module("jsonschema").Draft202012Validator(schema)
        candidates["jsonschema"] = slow.is_valid
    except ImportError:
        print("jsonschema: not installed")
    print(f"\n{len(bodies):,} chat bodies, validated one by one:\n")
    print("| validator | median |")
    print("|---|---|")
    for name, check in candidates.items():
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            for body in bodies:
                check(body)
            times.append(time.perf_counter() - started)
        print(f"| {name} | {statistics.median(times):.2f} s |")


if __name__ == "__main__":
    main()
