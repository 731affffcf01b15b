"""Start Steady, the spec-validating OpenAPI mock server, and read what it logged.

Steady (npm ``@stdy/cli``, pinned in ``package.json`` / ``package-lock.json`` beside this
file) is what the official OpenAI SDKs test against. It is installed into
``tests/contract/node_modules`` with ``npm ci`` the first time it is needed.

Log format
----------
Steady is started with ``--log-format json --log-level details --log-bodies`` and its
stdout goes to a file: one JSON object per line. ``--log-level details`` only adds the
``headers`` objects below; it is there so that a request can be recognised by a header
the test chose (:data:`TAG_HEADER`). Three kinds of line, told apart by ``type``:

``{"type": "startup", ...}``
    ``spec`` (``title``, ``version``, ``endpointCount``), ``server`` (``url``,
    ``rejectOnSdkError``), ``diagnostics`` (warnings about the spec itself, codes E1xxx),
    ``timing``.

``{"type": "request", ...}``, one per request, the fields relied on here:
    ``id`` (a UUID of Steady's own, not sent back to the client), ``timestamp``;
    ``request.method``;
    ``request.path``: the path as sent, without the query string;
    ``request.pathPattern``: the spec's path template (``/files/{file_id}/content``), with
    ``?beta=true`` kept for the operations whose spec path carries it; for a path the
    spec lacks it is the literal path, with a 404 and an ``E2001`` diagnostic;
    ``request.query``: the raw query string with its leading ``?``, absent when empty;
    ``request.headers``: header names lower-cased, values as sent (``authorization``
    included);
    ``request.body``: the parsed JSON or form body, absent when there is none; a file part
    of a multipart form is logged as the string ``"[File]"``, repeated ``key[]`` parts as
    a list;
    ``response.status``, ``response.statusText``, ``response.timing`` (milliseconds),
    ``response.headers``;
    ``response.body``: the generated answer, ``"[streaming]"`` for SSE, absent on a 400;
    ``diagnostics``: a list of ``code`` (``E2xxx`` routing, ``E3xxx`` request), ``severity``
    (``error``, ``warning``, ``info``), ``category`` (``sdk-issue``, ``spec-issue``,
    ``ambiguous``), ``requestPath`` (``body.purpose``, ``query.include.0``), ``specPointer``,
    ``message``, and sometimes ``expected``, ``actual``, ``suggestion``.
    An ``error`` makes Steady answer 400 ``{"error": "Validation failed", ...}``; ``info``
    diagnostics (such as ``E3015``, a query parameter the spec does not declare) still
    get a 200.

``{"type": "shutdown", ...}`` on SIGTERM
    ``session`` (request and failure counts), ``topIssues``, and ``coverage`` (``tested``,
    ``total``, ``untestedEndpoints`` as ``"METHOD /path"`` strings).

``GET /_x-steady/health`` is not logged.

Timing
------
The line for a request is written before its response is sent (for SSE, before the first
event), so by the time a client has an answer the line is in the file: over 300
back-to-back requests none was missing. Rather than rely on that, :meth:`Steady.mark` and
:meth:`Steady.entries_since` send a barrier request (a GET of a path unique to the call,
which Steady answers 404 and logs) and read up to its line, so whatever happened before
the call is surely in what they read. Starting takes about half a second (parsing the
spec), stopping a few milliseconds.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn, Self

import httpx
import pytest

from tools.spec_facts import FACTS_SPEC

CONTRACT_DIR = Path(__file__).resolve().parent
REPO_ROOT = CONTRACT_DIR.parent.parent
SPEC_ENV = "OAI_OPENAPI_SPEC"
# Set to 1 where Steady must be there (CI), so that a missing spec, npm or install fails the
# run instead of quietly skipping every test that needs them.
REQUIRE_ENV = "OAI_REQUIRE_STEADY"
# The facts-only copy kept in the repository, so that a clone needs nothing beside it.
DEFAULT_SPEC = FACTS_SPEC

# The official SDKs encode arrays and objects in queries and forms this way, and so must the
# CLI; Steady checks it only when told to.
VALIDATOR_FLAGS = (
    "--validator-query-array-format=brackets",
    "--validator-form-array-format=brackets",
    "--validator-query-object-format=brackets",
    "--validator-form-object-format=brackets",
)
LOG_FLAGS = ("--log-format", "json", "--log-level", "details", "--log-bodies")

# A request sent with this header can be picked out of the log with
# ``entries_since(mark, tag=...)``; Steady ignores headers the spec does not declare.
TAG_HEADER = "x-oai-test-tag"

BARRIER_PREFIX = "/_x-oai-harness/barrier/"

_PLATFORM_PACKAGES = {
    ("Linux", "x86_64"): "cli-linux-x64",
    ("Linux", "aarch64"): "cli-linux-arm64",
    ("Darwin", "x86_64"): "cli-darwin-x64",
    ("Darwin", "arm64"): "cli-darwin-arm64",
}

_START_TIMEOUT = 30.0
_BARRIER_TIMEOUT = 10.0
_INSTALL_TIMEOUT = 600.0


class SteadyUnavailable(Exception):
    """Steady cannot be had here: no spec, no npm, or the install failed."""


class SteadyError(Exception):
    """Steady was there but misbehaved: it did not start, or its log is not as expected."""


def unavailable(reason: str) -> NoReturn:
    """Skip the calling test for ``reason``, or fail it where Steady is required."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1)", pytrace=False)
    pytest.skip(reason)


def find_spec() -> Path:
    override = os.environ.get(SPEC_ENV)
    spec = Path(override) if override else DEFAULT_SPEC
    if not spec.is_file():
        origin = f"${SPEC_ENV}" if override else f"default; set {SPEC_ENV}"
        raise SteadyUnavailable(f"spec not found at {spec} ({origin})")
    return spec


def _platform_package() -> str:
    key = (platform.system(), platform.machine())
    try:
        return _PLATFORM_PACKAGES[key]
    except KeyError:
        raise SteadyUnavailable(f"no Steady binary is published for {key[0]} {key[1]}") from None


def binary_path() -> Path:
    return CONTRACT_DIR / "node_modules" / "@stdy" / _platform_package() / "bin" / "steady"


def _locked_version() -> str:
    lock = json.loads((CONTRACT_DIR / "package-lock.json").read_text())
    version: str = lock["packages"]["node_modules/@stdy/cli"]["version"]
    return version


def _installed_version() -> str | None:
    manifest = binary_path().parent.parent / "package.json"
    if not (binary_path().is_file() and os.access(binary_path(), os.X_OK)):
        return None
    try:
        version = json.loads(manifest.read_text()).get("version")
    except (OSError, ValueError):
        return None
    return version if isinstance(version, str) else None


@contextlib.contextmanager
def _install_lock() -> Iterator[None]:
    # The lock lives outside the checkout because ``npm ci`` deletes node_modules wholesale,
    # which would unlink a lock file kept there while another worker holds it.
    digest = hashlib.sha256(str(CONTRACT_DIR).encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"oai-steady-install-{digest}.lock"
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_installed() -> Path:
    """Return the Steady binary, running ``npm ci`` first if the locked version is missing."""
    wanted = _locked_version()
    if _installed_version() == wanted:
        return binary_path()
    with _install_lock():
        # Another pytest-xdist worker may have installed it while this one waited.
        if _installed_version() == wanted:
            return binary_path()
        npm = shutil.which("npm")
        if npm is None:
            raise SteadyUnavailable(
                f"{binary_path()} is missing and npm is not on PATH to install @stdy/cli"
            )
        command = [npm, "ci", "--prefix", str(CONTRACT_DIR), "--no-audit", "--no-fund"]
        try:
            done = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=_INSTALL_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SteadyUnavailable(
                f"{' '.join(command)} took over {_INSTALL_TIMEOUT:.0f} s"
            ) from None
        if done.returncode != 0:
            output = (done.stdout + done.stderr).strip()[-2000:]
            raise SteadyUnavailable(f"{' '.join(command)} failed ({done.returncode}): {output}")
        if _installed_version() != wanted:
            raise SteadyUnavailable(f"npm ci did not leave Steady {wanted} at {binary_path()}")
    return binary_path()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _format_value(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def format_diagnostic(entry: dict[str, Any], diagnostic: dict[str, Any]) -> str:
    request = entry.get("request", {})
    response = entry.get("response", {})
    text = (
        f"{request.get('method', '?')} {request.get('pathPattern', request.get('path', '?'))}"
        f" -> {response.get('status', '?')}: {diagnostic.get('severity', '?')}"
        f" {diagnostic.get('code', '?')} at {diagnostic.get('requestPath') or '?'}:"
        f" {diagnostic.get('message', '')}"
    )
    details = []
    if "expected" in diagnostic:
        details.append(f"expected {_format_value(diagnostic['expected'])}")
    if "actual" in diagnostic:
        details.append(f"got {_format_value(diagnostic['actual'])}")
    if details:
        text += f" ({', '.join(details)})"
    return text


class Steady:
    """One running Steady server on a free 127.0.0.1 port, logging to ``log_path``."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._client = httpx.Client(base_url=self.base_url, timeout=10.0)

    @classmethod
    def start(cls, log_dir: Path, spec: Path | None = None, attempts: int = 3) -> Self:
        """Install if needed, then start Steady and wait until it answers its health check.

        Raises :class:`SteadyUnavailable` when the spec or Steady cannot be had, and
        :class:`SteadyError` when Steady is there but does not come up.
        """
        spec = spec or find_spec()
        binary = ensure_installed()
        log_dir.mkdir(parents=True, exist_ok=True)
        failure = ""
        for attempt in range(attempts):
            # The port is only reserved until it is probed, so another process may take it
            # before Steady binds; Steady then exits and a new port is tried.
            port = _free_port()
            log_path = log_dir / f"steady-{port}-{attempt}.log"
            stderr_path = log_path.with_suffix(".stderr")
            with log_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
                process = subprocess.Popen(
                    [
                        str(binary),
                        "--host",
                        "127.0.0.1",
                        "-p",
                        str(port),
                        *LOG_FLAGS,
                        *VALIDATOR_FLAGS,
                        str(spec),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=stdout,
                    stderr=stderr,
                    start_new_session=True,
                    env={**os.environ, "NO_COLOR": "1"},
                )
            server = cls(process, port, log_path)
            try:
                if server._wait_healthy():
                    return server
            except BaseException:
                server.stop()
                raise
            server.stop()
            failure = (
                stderr_path.read_text(errors="replace") + log_path.read_text(errors="replace")
            )[-2000:]
        raise SteadyError(f"Steady did not start after {attempts} attempts: {failure.strip()}")

    def _wait_healthy(self) -> bool:
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if self._client.get("/_x-steady/health").status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        self._client.close()
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _barrier(self) -> int:
        """Send a request only this call makes and return the log offset just past its line."""
        token = uuid.uuid4().hex
        start = self.log_path.stat().st_size
        self._client.get(BARRIER_PREFIX + token)
        needle = f'"path":"{BARRIER_PREFIX}{token}"'.encode()
        deadline = time.monotonic() + _BARRIER_TIMEOUT
        while True:
            with self.log_path.open("rb") as log:
                log.seek(start)
                data = log.read()
            found = data.find(needle)
            if found >= 0:
                end = data.find(b"\n", found)
                if end >= 0:
                    return start + end + 1
            if self.process.poll() is not None:
                raise SteadyError(
                    f"Steady exited ({self.process.returncode}); log: {self.log_path}"
                )
            if time.monotonic() > deadline:
                raise SteadyError(
                    f"Steady did not log request {BARRIER_PREFIX}{token} within "
                    f"{_BARRIER_TIMEOUT:.0f} s; log: {self.log_path}"
                )
            time.sleep(0.005)

    def mark(self) -> int:
        """Return the current position in the log, past every request answered so far."""
        return self._barrier()

    def entries_since(self, mark: int, tag: str | None = None) -> list[dict[str, Any]]:
        """Return the request lines logged after ``mark``, in order.

        Barrier requests are left out. With ``tag``, only requests that carried
        ``TAG_HEADER: tag`` are returned.
        """
        end = self._barrier()
        with self.log_path.open("rb") as log:
            log.seek(mark)
            data = log.read(end - mark)
        entries = []
        for line in data.splitlines():
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                raise SteadyError(
                    f"not a JSON log line in {self.log_path}: {line[:200]!r}"
                ) from None
            if not isinstance(entry, dict) or entry.get("type") != "request":
                continue
            request = entry.get("request", {})
            if str(request.get("path", "")).startswith(BARRIER_PREFIX):
                continue
            if tag is not None and request.get("headers", {}).get(TAG_HEADER) != tag:
                continue
            entries.append(entry)
        return entries

    @staticmethod
    def diagnostics(entries: Sequence[dict[str, Any]]) -> list[str]:
        """One readable line per diagnostic, of every severity, in log order."""
        return [
            format_diagnostic(entry, diagnostic)
            for entry in entries
            for diagnostic in entry.get("diagnostics", [])
        ]
