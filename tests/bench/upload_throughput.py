"""Upload throughput on loopback: ``oai files create`` against ``curl -F`` on the same file.

The server is ``tests/scale/server.py`` in its own process, counting bytes only
(``--discard``) and taking any size through ``/files`` (``--no-limits``), so both
clients send the same multipart body to the same parser. Files are sparse.

- one multipart request: ``oai files create --file F`` (a file under 512 MB) and
  ``curl -F purpose=assistants -F file=@F URL/files``;
- the Uploads API: ``oai files create --file F --chunked`` (64 MiB parts, 4 at a
  time, plus the MD5 of the file), against ``curl`` sending F in one request.

    python tests/bench/upload_throughput.py                 # 400 MiB and 2 GiB, 3 runs
    python tests/bench/upload_throughput.py --simple 100MiB --chunked 1GiB --runs 1
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.scale.bench_support import (
    Measured,
    api_server,
    measure,
    oai_env,
    size_of,
    sparse_file,
    upload,
)


def best(runs: list[Measured], what: str) -> tuple[float, float]:
    for r in runs:
        if r.code != 0:
            sys.exit(f"{what} failed ({r.code}): {(r.err or r.out).decode()[-2000:]}")
    return statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simple", default="400MiB")
    parser.add_argument("--chunked", default="2GiB")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    curl = shutil.which("curl")
    if curl is None:
        sys.exit("curl is not on PATH")
    print("| file | client | wall (median) | client CPU (median) | throughput |")
    print("|---|---|---|---|---|")
    with (
        tempfile.TemporaryDirectory() as tmp,
        api_server("--discard", "--no-limits") as base,
    ):
        env = oai_env(base, OAI_STATE_DIR=tmp)
        for text, chunked in ((args.simple, False), (args.chunked, True)):
            size = size_of(text)
            path = sparse_file(Path(tmp) / f"file-{text}.bin", size)
            clients = {
                "oai files create" + (" --chunked" if chunked else ""): upload(
                    path, *(["--chunked"] if chunked else [])
                ),
                "curl -F": [
                    curl,
                    "-sS",
                    "--fail",
                    "-o",
                    "/dev/null",
                    "-H",
                    "Authorization: Bearer x",
                    "-F",
                    "purpose=assistants",
                    "-F",
                    f"file=@{path}",
                    f"{base}/files",
                ],
            }
            for name, argv in clients.items():
                wall, cpu = best([measure(argv, env) for _ in range(args.runs)], name)
                print(
                    f"| {text} | `{name}` | {wall:.2f} s | {cpu:.2f} s "
                    f"| {size / wall / 1024**2:.0f} MiB/s |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
