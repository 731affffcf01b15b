"""Peak memory of reading a large JSON answer, held in memory or streamed to a file.

A local server (its own process) answers ``GET /big`` with a JSON list page of the
given size (objects like a file listing, as the API lays them out). Each run is
``oai api get /big`` with stdout to /dev/null (the answer read into memory, parsed
and printed) and ``oai api get /big -O FILE`` (streamed to disk). The peak resident set
size of the ``oai`` process comes from ``os.wait4``.

    python tests/bench/answer_memory.py                     # 150 MB and 60 MB, median of 3
    python tests/bench/answer_memory.py --source /tmp/old   # the same, with an older tree
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.scale.bench_support import oai, oai_env, size_of

SERVER = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

size = int(sys.argv[1])
item = {"id": "file-0000000000000000000000", "object": "file", "bytes": 123456,
        "created_at": 1700000000, "filename": "notes.jsonl", "purpose": "batch",
        "status": "processed"}
one = len(json.dumps({"data": [item]}, indent=2)) - len(json.dumps({"data": []}, indent=2))
page = {"object": "list", "data": [item] * max(1, size // (one + 2)), "has_more": False}
body = json.dumps(page, indent=2).encode()

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"http://127.0.0.1:{server.server_port}/v1 {len(body)}", flush=True)
server.serve_forever()
"""


@dataclass
class Run:
    code: int
    wall: float
    max_rss_mib: float
    err: bytes


def measure(argv: list[str], env: dict[str, str]) -> Run:
    """``argv`` with stdout to /dev/null; its peak RSS from ``os.wait4``.

    Nothing of the answer is read back into this process: a child started with
    vfork inherits its parent's peak RSS as its own starting value, so a parent
    that had held a large output would inflate every later measurement.
    """
    with tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err,
                                stdin=subprocess.DEVNULL)  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
        err.seek(0)
        return Run(os.waitstatus_to_exitcode(status), wall, usage.ru_maxrss / 1024, err.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["150MB", "60MB"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--verbose", action="store_true", help="show oai's last message")
    parser.add_argument("--source", help="a source tree to run oai from instead of this one")
    args = parser.parse_args()
    print("| answer | how | exit | peak RSS (median) | wall (median) |")
    print("|---|---|---|---|---|")
    for text in args.sizes:
        size = int(text[:-2]) * 1000**2 if text.endswith("MB") else size_of(text)
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(size)], stdout=subprocess.PIPE)
        try:
            assert server.stdout is not None
            base, length = server.stdout.readline().decode().split()
            with tempfile.TemporaryDirectory() as tmp:
                env = oai_env(base, OAI_STATE_DIR=tmp)
                if args.source:
                    env["PYTHONPATH"] = args.source
                saved = str(Path(tmp) / "big.json")
                for how, extra in (("printed", []), ("-O FILE", ["-O", saved])):
                    argv = oai("api", "get", "/big", *extra)
                    if args.source:  # -P: not the current directory first on the path
                        argv.insert(1, "-P")
                    runs = [measure(argv, env) for _ in range(args.runs)]
                    codes = sorted({r.code for r in runs})
                    if args.verbose:
                        print(runs[-1].err.decode()[-600:], file=sys.stderr)
                    rss = statistics.median(r.max_rss_mib for r in runs)
                    wall = statistics.median(r.wall for r in runs)
                    print(
                        f"| {int(length) / 1e6:.0f} MB | {how} | {codes} | {rss:.0f} MiB "
                        f"| {wall:.2f} s |",
                        flush=True,
                    )
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
