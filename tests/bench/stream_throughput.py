"""Token throughput: CPU time per streamed event, oai against the official SDK.

A local server streams N ``response.output_text.delta`` events (between a
``response.created`` and a ``response.completed``, as the Responses API does) and
each client reads the whole stream, printing the text to /dev/null:

- ``oai responses create --stream`` (live text, the default when piped);
- a script iterating ``client.responses.create(stream=True)`` with the official
  ``openai`` package and writing each delta (buffered, no flush per event, which
  favours the SDK).

The CPU time (user + system) of each client process comes from ``os.wait4``. A
run with no delta events measures start-up, so the per-event figure is
``(cpu(N) - cpu(0)) / N``. Each figure is the median of ``--runs`` runs.

Run it with the project's Python; the SDK needs its own environment::

    python3 -m venv /tmp/sdkvenv && /tmp/sdkvenv/bin/pip install openai
    python tests/bench/stream_throughput.py --sdk-python /tmp/sdkvenv/bin/python

Before timing, both clients stream a smaller body into a pipe and must print
exactly the text that was sent, so a broken client cannot win by doing nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOKENS = ("Hello", ",", " wor", "ld", "!", " é", "🙂", " the", " quick", " brown", " fox", "\n")
EVENTS_PER_WRITE = 16  # the server writes a few events at a time, as a busy API does

SDK_SCRIPT = """
import sys
from openai import OpenAI

client = OpenAI(base_url=sys.argv[1], api_key="sk-bench", max_retries=0)
write = sys.stdout.write
for event in client.responses.create(model="bench-model", input="hi", stream=True):
    if event.type == "response.output_text.delta":
        write(event.delta)
sys.stdout.flush()
"""


def sse(name: str, payload: dict[str, object]) -> bytes:
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return f"event: {name}\ndata: {data}\n\n".encode()


def response_object(status: str, text: str) -> dict[str, object]:
    output = []
    if status == "completed":
        output = [
            {
                "type": "message",
                "id": "msg_bench",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ]
    return {
        "id": "resp_bench",
        "object": "response",
        "created_at": 1700000000,
        "status": status,
        "model": "bench-model",
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}
        if status == "completed"
        else None,
    }


def stream_body(events: int) -> tuple[list[bytes], str]:
    """The body in the pieces the server writes, and the text it carries."""
    pieces: list[bytes] = []
    text: list[str] = []
    seq = 0
    batch = [
        sse(
            "response.created",
            {
                "type": "response.created",
                "sequence_number": seq,
                "response": response_object("in_progress", ""),
            },
        )
    ]
    for i in range(events):
        seq += 1
        token = TOKENS[i % len(TOKENS)]
        text.append(token)
        batch.append(
            sse(
                "response.output_text.delta",
                {
                    "type": "response.output_text.delta",
                    "sequence_number": seq,
                    "item_id": "msg_bench",
                    "output_index": 0,
                    "content_index": 0,
                    "delta": token,
                    "logprobs": [],
                },
            )
        )
        if len(batch) >= EVENTS_PER_WRITE:
            pieces.append(b"".join(batch))
            batch = []
    whole = "".join(text)
    seq += 1
    batch.append(
        sse(
            "response.completed",
            {
                "type": "response.completed",
                "sequence_number": seq,
                "response": response_object("completed", whole),
            },
        )
    )
    pieces.append(b"".join(batch))
    return pieces, whole


class Server:
    """Answers every POST with the current body, as server-sent events, then closes."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            head, _, rest = buf.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(rest) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                rest += chunk
            conn.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"x-request-id: req_bench\r\nconnection: close\r\n\r\n"
            )
            try:
                for piece in self.pieces:
                    conn.sendall(piece)
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()


def bench_env(base_url: str) -> dict[str, str]:
    """The environment of a client under test: this checkout's oai, the local server."""
    env = {
        **os.environ,
        "OPENAI_API_KEY": "sk-bench",
        "OPENAI_BASE_URL": base_url,
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "NO_PROXY": "*",
    }
    env.pop("OAI_PROFILE", None)
    return env


@dataclass
class Sample:
    cpu: float
    wall: float


def run_once(argv: list[str], env: dict[str, str], *, capture: bool = False) -> tuple[Sample, str]:
    """Run a client; CPU time from its own rusage, and its stdout when ``capture``."""
    start = time.perf_counter()
    out = subprocess.PIPE if capture else subprocess.DEVNULL
    proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.PIPE)
    data = b""
    if capture:
        assert proc.stdout is not None
        data = proc.stdout.read()
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return Sample(usage.ru_utime + usage.ru_stime, wall), data.decode("utf-8")


@dataclass
class Client:
    name: str
    argv: list[str]


def clients(base_url: str, sdk_python: str | None) -> list[Client]:
    out = [
        Client(
            "oai responses create --stream",
            [
                sys.executable,
                "-m",
                "openai_cli",
                "responses",
                "create",
                "--model",
                "bench-model",
                "--input",
                "hi",
                "--stream",
            ],
        )
    ]
    if sdk_python:
        out.append(Client("openai SDK (Python)", [sdk_python, "-c", SDK_SCRIPT, base_url]))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sdk-python", help="a Python with the openai package installed")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    server = Server()
    env = bench_env(server.base_url)
    todo = clients(server.base_url, args.sdk_python)

    # Every client must print exactly the text that was streamed.
    server.pieces, expected = stream_body(1000)
    for c in todo:
        _, got = run_once(c.argv, env, capture=True)
        if got.rstrip("\n") != expected.rstrip("\n"):
            raise SystemExit(f"{c.name}: printed {len(got)} chars, expected {len(expected)}")

    results = []
    bodies = {0: stream_body(0)[0], args.events: stream_body(args.events)[0]}
    for c in todo:
        medians: dict[int, Sample] = {}
        for n, pieces in bodies.items():
            server.pieces = pieces
            samples = [run_once(c.argv, env)[0] for _ in range(args.runs)]
            medians[n] = Sample(
                statistics.median(s.cpu for s in samples),
                statistics.median(s.wall for s in samples),
            )
        start, full = medians[0], medians[args.events]
        results.append(
            {
                "client": c.name,
                "events": args.events,
                "runs": args.runs,
                "cpu_total_s": round(full.cpu, 3),
                "cpu_startup_s": round(start.cpu, 3),
                "wall_s": round(full.wall, 3),
                "cpu_per_event_us": round((full.cpu - start.cpu) / args.events * 1e6, 2),
                "events_per_cpu_s": round(args.events / max(full.cpu - start.cpu, 1e-9)),
            }
        )
    server.close()
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{args.events} events, median of {args.runs} runs, Python {sys.version.split()[0]}")
    print(f"{'client':32} {'CPU total':>10} {'start-up':>9} {'wall':>7} {'CPU/event':>10}")
    for r in results:
        print(
            f"{r['client']:32} {r['cpu_total_s']:>9.3f}s {r['cpu_startup_s']:>8.3f}s "
            f"{r['wall_s']:>6.2f}s {r['cpu_per_event_us']:>8.2f}µs"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
