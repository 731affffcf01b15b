"""Time (and memory) to check a full-size batch file: 50,000 requests, about 200 MB.

The file is generated once: chat completion requests of about 4,190 bytes each
(a long user message), one endpoint, unique ids, so the whole file is read and
every check runs. Two measures, medians of ``--runs``:

- ``jsonl.validate_batch`` in this process (the check alone);
- ``oai files create --file F --purpose batch --dry-run`` as a process: start-up,
  the check and the printed request, with its peak RSS (``os.wait4``); nothing is
  sent (no server needed).

    python tests/bench/validate_batch.py            # --lines 50000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from openai_cli.input import jsonl
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.jsonl"
        size = generate(path, args.lines)
        print(f"file: {args.lines:,} lines, {size:,} bytes ({size / 1024**2:.1f} MiB)\n")
        inproc = []
        for _ in range(args.runs):
            started = time.perf_counter()
            with path.open("rb") as fh:
                summary = jsonl.validate_batch(fh, str(path))
            inproc.append(time.perf_counter() - started)
            assert summary.lines == args.lines
        env = oai_env("http://127.0.0.1:9/v1", OAI_STATE_DIR=tmp)
        runs = [
            measure(
                oai("files", "create", "--file", str(path), "--purpose", "batch", "--dry-run"),
                env,
            )
            for _ in range(args.runs)
        ]
        for r in runs:
            if r.code != 0:
                sys.exit(f"oai failed ({r.code}): {r.err.decode()[-2000:]}")
        t = statistics.median(inproc)
        print("| measure | median |")
        print("|---|---|")
        print(f"| `validate_batch` in process | {t:.2f} s ({size / t / 1024**2:.0f} MiB/s) |")
        print(
            f"| `oai files create --purpose batch --dry-run`, wall | "
            f"{statistics.median(r.wall for r in runs):.2f} s |"
        )
        print(f"| the same, peak RSS | {statistics.median(r.max_rss_mib for r in runs):.1f} MiB |")


if __name__ == "__main__":
    main()
