"""Peak memory of a chunked upload, for two file sizes: it must not grow with the file.

Each run is ``oai files create --file F --purpose assistants --chunked`` (64 MiB parts,
4 at a time) to the local server of ``tests/scale/server.py`` in its own process,
counting bytes only (``--discard``). F is a sparse file (no disk used). The peak
resident set size of the ``oai`` process comes from ``os.wait4``; the baseline is
``oai files create`` of a one-byte file through the same path.

    python tests/bench/upload_memory.py            # 256 MiB and 2 GiB, median of 3
    python tests/bench/upload_memory.py --sizes 256MiB 2GiB 6GiB --runs 1
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.scale.bench_support import api_server, measure, oai_env, size_of, sparse_file, upload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1", "256MiB", "2GiB"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", default="4")
    args = parser.parse_args()
    print("| file | peak RSS (median) | wall (median) | CPU of oai (median) | throughput |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp, api_server("--discard") as base:
        env = oai_env(base, OAI_STATE_DIR=tmp)
        for text in args.sizes:
            size = size_of(text)
            path = sparse_file(Path(tmp) / f"file-{text}.bin", size)
            runs = []
            for _ in range(args.runs):
                m = measure(upload(path, "--chunked", "--concurrency", args.concurrency), env)
                if m.code != 0:
                    sys.exit(f"oai failed ({m.code}): {m.err.decode()[-2000:]}")
                runs.append(m)
            rss = statistics.median(r.max_rss_mib for r in runs)
            wall = statistics.median(r.wall for r in runs)
            cpu = statistics.median(r.cpu for r in runs)
            print(
                f"| {text} | {rss:.1f} MiB | {wall:.2f} s | {cpu:.2f} s "
                f"| {size / wall / 1024**2:.0f} MiB/s |",
                flush=True,
            )


if __name__ == "__main__":
    main()
