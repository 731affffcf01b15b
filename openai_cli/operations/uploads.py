"""Large files through the Uploads API: parts in parallel, bounded memory, resumable.

``POST /uploads`` declares the file; each part is ``POST /uploads/{id}/parts`` with
up to 64 MB of it; ``POST /uploads/{id}/complete`` lists the part ids in file order
with the MD5 of the whole file and returns the File.

Memory stays small whatever the file size: a part is never read into memory but
sent from a :class:`RangeReader`, a file object over its byte range that httpx
reads 64 KiB at a time, so the cost is about ``concurrency`` x 64 KiB of buffers.
Each attempt at a part opens a fresh reader, which is what lets the client retry
a part on its own. The MD5 is computed by one more thread reading the file
sequentially while the parts go out.

Parts run on daemon threads: when the upload is abandoned (an error, Ctrl-C) a
part stuck waiting for an answer must not keep the process alive. On failure the
upload is cancelled, unless resuming was asked for: then a state file (see
:mod:`openai_cli.state`) records the parts already accepted, and the same
command run again sends only the others, within the upload's one-hour life.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openai_cli.errors import ApiError, JobFailed
from openai_cli.http.client import FilePart
from openai_cli.http.paths import fill
from openai_cli.io import IO
from openai_cli.operations.request import Request
from openai_cli.operations.send import answer_id, answer_object, send
from openai_cli.progress import Progress, human_bytes
from openai_cli.state import Maybe, read_json, remove, state_dir, write_json
from openai_cli.textfmt import count

if TYPE_CHECKING:
    from openai_cli.http.client import Client

MiB = 1024 * 1024
GiB = 1024 * MiB
PART_SIZE = 64 * MiB
MAX_PART_SIZE = 64 * MiB
MAX_UPLOAD_BYTES = 8 * GiB
# Above this the Files API refuses a file ("up to 512 MB"); decimal, to stay below
# the limit whichever unit it is counted in.
SIMPLE_LIMIT = 512 * 1000 * 1000
LIFETIME = 3600.0
# A resumed upload needs time left for its remaining parts and the completion.
LIFETIME_MARGIN = 120.0
DEFAULT_CONCURRENCY = 4
_READ_CHUNK = 1 * MiB
SEND_CHUNK = 1 * MiB


def _path(uid: str, action: str) -> str:
    # The id comes from the server's answer or a state file: encoded like any other.
    return fill("/uploads/{upload_id}/" + action, {"upload_id": uid}, {"upload_id": "upload id"})


# What a resumed upload reads back from its state file (state.read_json checks it).
_STATE: dict[str, Any] = {
    "upload_id": str,
    "part_size": int,
    "expires_at": Maybe((int, float), missing=True),
    "parts": Maybe({}, missing=True),
}


class _Stale(Exception):
    def __init__(self, error: ApiError) -> None:
        super().__init__(error.message)
        self.error = error


class Aborted(Exception):
    """Raised inside a part's body when the upload is being abandoned."""


class RangeReader:
    """Bytes ``[start, start + length)`` of a file, as a seekable file object.

    It has no ``fileno`` on purpose: httpx then takes the length from ``seek``/
    ``tell``, which give the range's length, not the whole file's.
    """

    def __init__(
        self,
        path: str,
        start: int,
        length: int,
        *,
        on_read: Callable[[int], None] | None = None,
        abort: threading.Event | None = None,
    ) -> None:
        self._fd: int | None = os.open(path, os.O_RDONLY)
        self._start = start
        self._length = length
        self._pos = 0
        self._counted = 0
        self._on_read = on_read
        self._abort = abort

    def read(self, n: int = -1) -> bytes:
        if self._abort is not None and self._abort.is_set():
            raise Aborted()
        if self._fd is None:
            raise ValueError("read of a closed RangeReader")
        left = self._length - self._pos
        # httpx asks for 64 KiB at a time; handing it 1 MiB halves the CPU per byte
        # on both ends of the connection, and it takes whatever a read returns.
        n = left if n is None or n < 0 else min(max(n, SEND_CHUNK), left)
        if n <= 0:
            return b""
        data = os.pread(self._fd, n, self._start + self._pos)
        self._pos += len(data)
        if self._pos > self._counted:
            if self._on_read is not None:
                self._on_read(self._pos - self._counted)
            self._counted = self._pos
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            pos = offset
        elif whence == os.SEEK_CUR:
            pos = self._pos + offset
        else:
            pos = self._length + offset
        self._pos = max(0, min(pos, self._length))
        if self._pos < self._counted:
            # Read again from an earlier point (a rewind before sending): count once.
            if self._on_read is not None:
                self._on_read(self._pos - self._counted)
            self._counted = self._pos
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        return self._fd is None

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> RangeReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def file_md5(path: str, abort: threading.Event | None = None) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        while chunk := fh.read(_READ_CHUNK):
            if abort is not None and abort.is_set():
                raise Aborted()
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class UploadSpec:
    path: str  # a regular file (stdin is spooled to one first)
    size: int
    filename: str
    purpose: str
    mime_type: str
    part_size: int = PART_SIZE
    concurrency: int = DEFAULT_CONCURRENCY
    expires_after: Any = None
    resume: bool = False
    stable: bool = True  # False for a spooled stdin: nothing to resume from


def parts_of(size: int, part_size: int) -> list[tuple[int, int]]:
    """``(start, length)`` of each part; one empty part for an empty file."""
    if size == 0:
        return [(0, 0)]
    return [(s, min(part_size, size - s)) for s in range(0, size, part_size)]


def _state_path(env: Any, spec: UploadSpec, base_url: str) -> Path:
    st = os.stat(spec.path)
    key = "\0".join(
        [
            os.path.abspath(spec.path),
            str(st.st_size),
            str(st.st_mtime_ns),
            spec.purpose,
            spec.filename,
            base_url,
        ]
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return state_dir(env, "uploads") / f"{digest}.json"


def create_body(spec: UploadSpec) -> dict[str, Any]:
    """The body of ``POST /uploads`` for a planned upload (also shown by ``--dry-run``)."""
    body: dict[str, Any] = {
        "filename": spec.filename,
        "purpose": spec.purpose,
        "bytes": spec.size,
        "mime_type": spec.mime_type,
    }
    if spec.expires_after is not None:
        body["expires_after"] = spec.expires_after
    return body


class ChunkedUpload:
    def __init__(self, client: Client, io: IO, spec: UploadSpec) -> None:
        self.client = client
        self.io = io
        self.spec = spec
        self.abort = threading.Event()
        self._lock = threading.Lock()
        self.state_path = (
            _state_path(io.env, spec, client.base_url) if spec.resume and spec.stable else None
        )
        self.state: dict[str, Any] = {}

    # -- state -----------------------------------------------------------------------

    def _save(self) -> None:
        if self.state_path is not None:
            with self._lock:
                snapshot = json.loads(json.dumps(self.state))
            write_json(self.state_path, snapshot)

    def _load(self) -> dict[str, Any] | None:
        if self.state_path is None or not self.state_path.exists():
            return None
        state = read_json(self.state_path, what="--resume", shape=_STATE)
        expires = float(state.get("expires_at") or 0)
        if expires - LIFETIME_MARGIN < time.time():
            self.io.message(
                f"oai: upload {state.get('upload_id')} from an earlier run has expired "
                "(uploads live one hour); starting a new one"
            )
            remove(self.state_path)
            return None
        return state

    # -- the upload ------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Upload the file; return the File object the completed upload made."""
        state = self._load()
        if state is not None:
            try:
                return self._run(state)
            except _Stale as stale:
                exc = stale.error
                self.io.message(
                    f"oai: upload {state.get('upload_id')} from an earlier run is no longer "
                    f"usable (HTTP {exc.status}: {exc.message}); starting a new one"
                )
                if self.state_path is not None:
                    remove(self.state_path)
                self.abort = threading.Event()
        return self._run(None)

    def _create(self) -> dict[str, Any]:
        s = self.spec
        body = create_body(s)
        upload = answer_object(send(self.client, Request("POST", "/uploads", body=body)), "uploads")
        uid = answer_id(upload, "POST /uploads")
        created = time.time()
        expires = upload.get("expires_at")
        if not isinstance(expires, (int, float)):
            expires = created + LIFETIME
        return {
            "version": 1,
            "upload_id": uid,
            "path": os.path.abspath(s.path),
            "size": s.size,
            "part_size": s.part_size,
            "purpose": s.purpose,
            "created_at": created,
            "expires_at": float(expires),
            "parts": {},
        }

    def _run(self, resumed: dict[str, Any] | None) -> dict[str, Any]:
        s = self.spec
        if resumed is not None:
            state = resumed
            if int(state.get("part_size") or 0) != s.part_size:
                self.io.message(
                    f"oai: continuing with the earlier run's part size, "
                    f"{human_bytes(int(state['part_size']))}"
                )
        else:
            state = self._create()
        self.state = state
        uid = str(state["upload_id"])
        parts = parts_of(s.size, int(state["part_size"]))
        done: dict[str, str] = state.setdefault("parts", {})
        todo = [i for i in range(len(parts)) if str(i) not in done]
        if resumed is not None:
            self.io.message(
                f"oai: resuming upload {uid}: "
                f"{len(parts) - len(todo)} of {count(len(parts), 'part')} already sent"
            )
        self._save()
        already = sum(parts[int(i)][1] for i in done)
        md5_box: dict[str, Any] = {}
        md5_thread = threading.Thread(target=self._md5, args=(md5_box,), daemon=True)
        md5_thread.start()
        started = time.monotonic()
        try:
            with Progress(self.io, f"uploading {s.filename}", total=s.size) as bar:
                bar.advance(already)
                self._send_parts(uid, parts, todo, done, bar)
                while md5_thread.is_alive():
                    md5_thread.join(0.2)
            if "error" in md5_box:
                raise md5_box["error"]
            body = {"part_ids": [done[str(i)] for i in range(len(parts))], "md5": md5_box["md5"]}
            resp = send(self.client, Request("POST", _path(uid, "complete"), body=body))
            upload = answer_object(resp, "uploads complete")
        except BaseException as exc:
            self.abort.set()
            if resumed is not None and isinstance(exc, ApiError) and exc.status in (400, 404):
                # The server has forgotten the upload (expired early, cancelled elsewhere).
                raise _Stale(exc) from exc
            self._abandon(uid, len(parts), len(done))
            raise
        if self.state_path is not None:
            remove(self.state_path)
        status = upload.get("status")
        if status not in ("completed", None):
            raise JobFailed(f"upload {uid} ended {status}")
        seconds = max(time.monotonic() - started, 1e-6)
        sent = s.size - already
        self.io.message(
            f"oai: uploaded {human_bytes(s.size)} in {count(len(parts), 'part')} "
            f"({human_bytes(sent / seconds)}/s)"
        )
        file = upload.get("file")
        return file if isinstance(file, dict) else upload

    def _md5(self, box: dict[str, Any]) -> None:
        try:
            box["md5"] = file_md5(self.spec.path, self.abort)
        except BaseException as exc:  # handed to the main thread
            box["error"] = exc

    def _send_parts(
        self,
        uid: str,
        parts: list[tuple[int, int]],
        todo: list[int],
        done: dict[str, str],
        bar: Progress,
    ) -> None:
        if not todo:
            return
        work: queue.SimpleQueue[int] = queue.SimpleQueue()
        for i in todo:
            work.put(i)
        # Workers record each accepted part themselves: the main thread may be
        # interrupted (Ctrl-C) between taking a result and keeping it, and a part the
        # server accepted must never be sent again by a resumed run.
        results: queue.SimpleQueue[BaseException | None] = queue.SimpleQueue()

        def worker() -> None:
            while not self.abort.is_set():
                try:
                    i = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    part_id = self._send_part(uid, i, parts[i], bar)
                except BaseException as exc:
                    results.put(exc)
                    return
                with self._lock:
                    done[str(i)] = part_id
                results.put(None)

        for _ in range(min(self.spec.concurrency, len(todo))):
            threading.Thread(target=worker, daemon=True).start()
        remaining = len(todo)
        try:
            while remaining:
                try:
                    exc = results.get(timeout=0.2)
                except queue.Empty:
                    continue
                remaining -= 1
                if exc is not None:
                    raise exc
                self._save()
        except BaseException:
            self.abort.set()
            self._save()
            raise

    def _send_part(self, uid: str, index: int, span: tuple[int, int], bar: Progress) -> str:
        start, length = span
        counted = [0]

        def on_read(n: int) -> None:
            counted[0] += n
            bar.advance(n)

        def opener() -> Any:
            # A retried attempt starts the part again: take back what it had counted.
            if counted[0]:
                bar.advance(-counted[0])
                counted[0] = 0
            return RangeReader(self.spec.path, start, length, on_read=on_read, abort=self.abort)

        data = FilePart("data", self.spec.filename, opener, "application/octet-stream")
        req = Request("POST", _path(uid, "parts"), files=[data], multipart=True)
        part = answer_object(send(self.client, req), f"part {index + 1}")
        pid = answer_id(part, f"part {index + 1}")
        return pid

    def _abandon(self, uid: str, total: int, sent: int) -> None:
        if self.state_path is not None:
            until = time.strftime("%H:%M", time.localtime(float(self.state["expires_at"])))
            self.io.message(
                f"oai: upload {uid} kept ({sent} of {count(total, 'part')} sent); "
                f"run the same command again with --resume before {until} to send the rest"
            )
            return
        try:
            send(self.client, Request("POST", _path(uid, "cancel")))
        except Exception as exc:
            self.io.message(f"oai: could not cancel upload {uid}: {exc}")
        else:
            self.io.message(f"oai: upload {uid} cancelled")
