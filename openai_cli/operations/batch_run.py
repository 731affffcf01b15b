"""The engine behind ``oai batches run``: split, upload, create, wait, merge.

Every step is recorded in a state file before and after it happens, so a resumed
run neither uploads nor creates anything twice: a step that was sent but whose
answer was lost is found again by the file name or batch metadata it was given.
Results and error files are streamed, never held whole in memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openai_cli import writer
from openai_cli.errors import ExitCode, UsageError
from openai_cli.http.client import FilePart
from openai_cli.http.paths import fill
from openai_cli.input import jsonl
from openai_cli.input.body import parse_json_text
from openai_cli.input.local import check_input_file, spool_stdin
from openai_cli.input.numbers import positive
from openai_cli.input.outputs import STDOUT
from openai_cli.input.reader import utf8_copy
from openai_cli.operations import catalogue
from openai_cli.operations.cost import estimate, spent
from openai_cli.operations.missing import naming_missing
from openai_cli.operations.request import Request
from openai_cli.operations.runner import download
from openai_cli.operations.schemas import batch_check
from openai_cli.operations.send import answer_id, answer_object, open_response, send
from openai_cli.operations.uploads import RangeReader
from openai_cli.operations.wait import WaitTimedOut, error_text, intervals
from openai_cli.progress import Progress
from openai_cli.state import Maybe, check_shape, read_json, state_dir, write_json
from openai_cli.textfmt import count

if TYPE_CHECKING:
    from openai_cli.http.client import Client
    from openai_cli.input.estimate import Spent
    from openai_cli.input.jsonl import Line
    from openai_cli.operations.deps import Deps

TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
RUN_TAG = "oai_run"  # metadata key that finds a batch again after a lost answer
# What a server without the Batch API can do with the same input.
MAP_INSTEAD = "`oai map` sends the same JSONL to the endpoint directly, one request a line"
# Ids read back from the state file or the batch's answer: how a refused one is named.
_STATE_ID = {"id": "an id in the run's state"}


def batch_endpoints() -> tuple[str, ...]:
    """The endpoints ``POST /batches`` accepts, as the spec lists them."""
    for op in catalogue.load("batches"):
        if op.command == ("batches", "create"):
            for p in op.body:
                if p.name == "endpoint" and p.enum:
                    return tuple(p.enum)
    return ()


class BatchRun:
    def __init__(self, factory: Deps, path: Path, state: dict[str, Any]) -> None:
        self.factory = factory
        self.io = factory.io
        self.path = path
        self.state = state

    # -- setting up --------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        factory: Deps,
        input: str,
        *,
        endpoint: str | None,
        state_path: Path,
        run_id: str,
        max_requests: int | None,
        completion_window: str,
        metadata: str | None,
        output_file: str | None,
        errors_file: str | None,
        no_validate: bool = False,
        max_cost: float | None = None,
    ) -> BatchRun | None:
        io = factory.io
        limit = positive(max_requests, "--max-requests", jsonl.MAX_BATCH_LINES)
        if limit > jsonl.MAX_BATCH_LINES:
            raise UsageError(f"--max-requests: a batch holds at most {jsonl.MAX_BATCH_LINES:,}")
        meta = _metadata(metadata)
        if state_path.exists():
            raise UsageError(f"--state: {state_path} exists; continue it with --resume")
        spooled = input == "-"
        if spooled:
            state_path.parent.mkdir(parents=True, exist_ok=True)
            path = spool_stdin(io, directory=str(state_path.parent))
            shown = "<stdin>"
        else:
            check_input_file(input, what="INPUT")
            path, shown = os.path.abspath(input), input
            state_path.parent.mkdir(parents=True, exist_ok=True)
            # Text in another encoding is sent as a UTF-8 copy, kept (as stdin's
            # is) until the run ends, for --resume.
            copy = utf8_copy(path, what="INPUT", shown=shown, directory=str(state_path.parent))
            if copy is not None:
                path, spooled = copy, True
        try:
            chunks: list[dict[str, Any]] = []

            def plan(line: Line) -> None:
                weight = line.weight if line.url == "/v1/embeddings" else 0
                size = line.end - line.start
                cur = chunks[-1] if chunks else None
                if (
                    cur is None
                    or cur["lines"] >= limit
                    or cur["end"] - cur["start"] + size > jsonl.MAX_BATCH_BYTES
                    or cur["weight"] + weight > jsonl.MAX_BATCH_EMBEDDING_INPUTS
                ):
                    cur = {"first_line": line.number, "lines": 0, "start": line.start, "weight": 0}
                    chunks.append(cur)
                cur["lines"] += 1
                cur["end"] = line.end
                cur["weight"] += weight

            cost = estimate(factory, batch=True)

            def read(line: Line) -> None:
                plan(line)
                cost(line)

            with open(path, "rb") as fh:
                summary = jsonl.validate_batch(
                    fh,
                    shown,
                    endpoint=endpoint,
                    endpoints=batch_endpoints(),
                    enforce_limits=False,
                    on_line=read,
                    consequence="nothing was uploaded",
                    bodies=batch_check(factory, no_validate),
                )
            for said in cost.report():
                io.message(f"oai: {said}")
            cost.cap(max_cost, "--max-cost")
            if factory.shared.dry_run:
                _show_plan(factory, summary.endpoint, summary.lines, chunks)
                if spooled:
                    os.unlink(path)
                return None
            st = os.stat(path)
            stem = Path(input).stem if input != "-" else "stdin"
            data: dict[str, Any] = {
                "version": 1,
                "run_id": run_id,
                "created_at": time.time(),
                "base_url": factory.settings().base_url.value,
                "input": {
                    "path": path,
                    "name": shown,
                    "size": st.st_size,
                    "mtime_ns": st.st_mtime_ns,
                    "spooled": spooled,
                },
                "endpoint": summary.endpoint,
                "completion_window": completion_window,
                "metadata": meta,
                "output_file": _stored(output_file),
                "errors_file": _stored(errors_file),
                "requests": summary.lines,
                "finished": False,
                "chunks": [
                    {
                        **c,
                        "index": i,
                        "filename": f"{stem}-{run_id}-{i + 1}of{len(chunks)}.jsonl",
                        "file_id": None,
                        "batch_id": None,
                        "status": None,
                    }
                    for i, c in enumerate(chunks)
                ],
            }
        except BaseException:
            if spooled:
                with contextlib.suppress(OSError):
                    os.unlink(path)
            raise
        run = cls(factory, state_path, data)
        run.save()
        n = len(chunks)
        io.message(
            f"oai: {_n(summary.lines, 'request')} to {summary.endpoint} in "
            f"{_n(n, 'batch', 'batches')}; state in {state_path} "
            f"(after an interruption: oai batches run --resume {state_path})"
        )
        return run

    @staticmethod
    def new_state(factory: Deps, state: str | None) -> tuple[Path, str]:
        """``(state file, run id)`` of a new run; ``state`` is ``--state``, if given."""
        run_id = uuid.uuid4().hex[:12]
        if state:
            return Path(state), run_id
        return state_dir(factory.io.env, "batches") / f"run-{run_id}.json", run_id

    @classmethod
    def load(cls, factory: Deps, path: Path) -> BatchRun:
        data = read_json(path, what="--resume")
        if data.get("version") != 1 or "chunks" not in data:
            raise UsageError(f"--resume: {path} is not the state of a batch run")
        check_shape(data, _STATE, what="--resume", path=path)
        if not data["chunks"]:
            raise UsageError(f"--resume: {path} is not a state oai can resume: it lists no batch")
        inp = data["input"]
        if data.get("finished") and inp.get("spooled"):
            raise UsageError(
                "--resume: this run has finished "
                f"({count(int(data.get('succeeded') or 0), 'request')} succeeded, "
                f"{data.get('failed')} failed; results in {data.get('output_file') or 'stdout'})"
            )
        try:
            st = os.stat(inp["path"])
        except OSError:
            raise UsageError(f"--resume: the input {inp['name']} is gone ({inp['path']})") from None
        if (st.st_size, st.st_mtime_ns) != (inp["size"], inp["mtime_ns"]):
            raise UsageError(f"--resume: the input {inp['name']} changed since the run started")
        base = factory.settings().base_url.value
        if data.get("base_url") and data["base_url"] != base:
            raise UsageError(
                f"--resume: the run was started against {data['base_url']}, not {base}"
            )
        return cls(factory, path, data)

    def retarget(self, output_file: str | None, errors_file: str | None) -> None:
        if output_file is not None:
            self.state["output_file"] = _stored(output_file)
        if errors_file is not None:
            self.state["errors_file"] = _stored(errors_file)
        self.save()

    @property
    def input_path(self) -> str:
        """The file the run's requests are read from (a copy of stdin, if spooled)."""
        return str(self.state["input"]["path"])

    @property
    def outputs(self) -> tuple[str | None, str | None]:
        """``(results, failed lines)``; ``-`` is stdout, ``None`` the default (stdout for
        the results, nowhere for the failed lines)."""
        return self.state.get("output_file"), self.state.get("errors_file")

    def save(self) -> None:
        write_json(self.path, self.state)

    @property
    def chunks(self) -> list[dict[str, Any]]:
        chunks: list[dict[str, Any]] = self.state["chunks"]
        return chunks

    # -- running -----------------------------------------------------------------------

    def go(self, *, wait: bool, timeout: float | None) -> int:
        client = self.factory.client()
        try:
            for chunk in self.chunks:
                if chunk["file_id"] is None:
                    self._upload(client, chunk)
                if chunk["batch_id"] is None:
                    self._create(client, chunk)
            if not wait:
                self._print_batches()
                self.io.message(
                    f"oai: collect the results with: oai batches run --resume {self.path} --wait"
                )
                return 0
            self._wait(client, timeout)
            self._download(client)
        except KeyboardInterrupt:
            self.io.message(
                f"oai: stopped; nothing is lost: oai batches run --resume {self.path}"
                + (" --wait" if wait else "")
            )
            raise
        return self._merge()

    def _tag(self, chunk: dict[str, Any]) -> str:
        return f"{self.state['run_id']}-{chunk['index'] + 1}"

    def _upload(self, client: Client, chunk: dict[str, Any]) -> None:
        name = chunk["filename"]
        if chunk.get("upload_sent"):
            found = self._find_file(client, chunk)
            if found is not None:
                self.io.message(f"oai: {name} was uploaded before the interruption: {found}")
                chunk["file_id"] = found
                self.save()
                return
        chunk["upload_sent"] = True
        chunk["upload_sent_at"] = time.time()
        self.save()
        size = chunk["end"] - chunk["start"]
        with Progress(self.io, f"uploading {name}", total=size) as bar:

            def opener() -> Any:
                bar.update(completed=0)
                return RangeReader(
                    self.state["input"]["path"], chunk["start"], size, on_read=bar.advance
                )

            req = Request(
                "POST",
                "/files",
                body={"purpose": "batch"},
                files=[FilePart("file", name, opener, "application/jsonl")],
                multipart=True,
            )
            with naming_missing(self.factory, "POST", "/files", MAP_INSTEAD):
                resp = send(client, req)
        chunk["file_id"] = answer_id(answer_object(resp, "files create"), "files create")
        self.save()
        self.io.message(
            f"oai: uploaded {name} ({_n(chunk['lines'], 'request')}): {chunk['file_id']}"
        )

    def _create(self, client: Client, chunk: dict[str, Any]) -> None:
        tag = self._tag(chunk)
        if chunk.get("create_sent"):
            found = self._find_batch(client, chunk)
            if found is not None:
                self.io.message(f"oai: batch {found['id']} was created before the interruption")
                self._update(chunk, found)
                self.save()
                return
        chunk["create_sent"] = True
        chunk["create_sent_at"] = time.time()
        self.save()
        body = {
            "input_file_id": chunk["file_id"],
            "endpoint": self.state["endpoint"],
            "completion_window": self.state["completion_window"],
            "metadata": {**(self.state.get("metadata") or {}), RUN_TAG: tag},
        }
        with naming_missing(self.factory, "POST", "/batches", MAP_INSTEAD):
            resp = send(client, Request("POST", "/batches", body=body))
        batch = answer_object(resp, "batches create")
        self._update(chunk, batch)
        self.save()
        self.io.message(f"oai: created batch {batch['id']} ({_n(chunk['lines'], 'request')})")

    def _find_file(self, client: Client, chunk: dict[str, Any]) -> str | None:
        name = chunk["filename"]
        query = {"purpose": "batch", "order": "desc"}
        for f in _listed(client, "/files", query, since=chunk.get("upload_sent_at")):
            if f.get("filename") == name and f.get("id"):
                return str(f["id"])
        return None

    def _find_batch(self, client: Client, chunk: dict[str, Any]) -> dict[str, Any] | None:
        tag = self._tag(chunk)
        for b in _listed(client, "/batches", {}, since=chunk.get("create_sent_at")):
            if (b.get("metadata") or {}).get(RUN_TAG) == tag:
                return b
        return None

    @staticmethod
    def _update(chunk: dict[str, Any], batch: dict[str, Any]) -> None:
        chunk["batch_id"] = answer_id(batch, "batches")
        for key in ("status", "output_file_id", "error_file_id", "request_counts", "errors"):
            chunk[key] = batch.get(key)

    def _print_batches(self) -> None:
        self.factory.renderer().answer(
            {
                "object": "list",
                "state": str(self.path),
                "data": [
                    {
                        "id": c["batch_id"],
                        "status": c["status"],
                        "input_file_id": c["file_id"],
                        "first_line": c["first_line"],
                        "requests": c["lines"],
                    }
                    for c in self.chunks
                ],
            }
        )

    def _describe(self) -> str:
        n = len(self.chunks)
        ended = sum(1 for c in self.chunks if c["status"] in TERMINAL)
        done = failed = 0
        for c in self.chunks:
            counts = c.get("request_counts") or {}
            done += int(counts.get("completed") or 0)
            failed += int(counts.get("failed") or 0)
        total = self.state["requests"]
        return (
            f"{ended} of {count(n, 'batch', 'batches')} ended; "
            f"{done + failed} of {count(total, 'request')} done ({failed} failed)"
        )

    def _wait(self, client: Client, timeout: float | None) -> None:
        start = time.monotonic()
        ticks = intervals(self.io.env)
        last = ""
        with Progress(self.io, "batches", unit="status") as bar:
            while True:
                for c in self.chunks:
                    if c["status"] in TERMINAL:
                        continue
                    resp = send(
                        client,
                        Request("GET", fill("/batches/{id}", {"id": c["batch_id"]}, _STATE_ID)),
                    )
                    self._update(c, answer_object(resp, "batches retrieve"))
                self.save()
                line = self._describe()
                if bar.shown:
                    bar.update(description=line)
                elif line != last:
                    self.io.message(f"oai: {line}")
                last = line
                if all(c["status"] in TERMINAL for c in self.chunks):
                    return
                elapsed = time.monotonic() - start
                if timeout is not None and elapsed >= timeout:
                    raise WaitTimedOut(
                        f"the batches are still running after {elapsed:.0f} s",
                        last={},
                        hint=f"they go on; continue with: oai batches run --resume {self.path} "
                        "--wait",
                    )
                delay = next(ticks)
                if timeout is not None:
                    delay = max(0.0, min(delay, timeout - elapsed))
                time.sleep(delay)

    def _local(self, chunk: dict[str, Any], kind: str) -> Path:
        return self.path.parent / f"{self.path.stem}.{chunk['index'] + 1}.{kind}.jsonl"

    def _download(self, client: Client) -> None:
        for c in self.chunks:
            for kind in ("output", "error"):
                file_id = c.get(f"{kind}_file_id")
                target = self._local(c, kind)
                if not file_id or target.exists():
                    continue
                with open_response(
                    client, Request("GET", fill("/files/{id}/content", {"id": file_id}, _STATE_ID))
                ) as resp:
                    download(self.io, resp, target, target.name)

    # -- results -----------------------------------------------------------------------

    def _merge(self) -> int:
        index: dict[str, tuple[int, int, int, bool]] = {}  # id -> (file, offset, length, ok)
        files: list[Any] = []
        paid = spent(self.factory, batch=True)
        try:
            for c in self.chunks:
                for kind in ("output", "error"):
                    local = self._local(c, kind)
                    if not local.exists():
                        continue
                    fh = open(local, "rb")  # noqa: SIM115 - closed below, kept for reads
                    files.append(fh)
                    for _, offset, raw in jsonl.raw_lines(fh):
                        if not raw.strip():
                            continue
                        try:
                            rec = json.loads(raw)
                        except ValueError:
                            continue
                        cid = rec.get("custom_id") if isinstance(rec, dict) else None
                        if isinstance(cid, str):
                            index[cid] = (len(files) - 1, offset, len(raw), _succeeded(rec))
                            _add_usage(paid, rec)
            code = self._write_results(files, index)
            if paid.answers:
                self.io.message(f"oai: {paid.report()} at the Batch API's price")
            return code
        finally:
            for fh in files:
                fh.close()

    def _write_results(self, files: list[Any], index: dict[str, tuple[int, int, int, bool]]) -> int:
        out_path = self.state.get("output_file")
        err_path = self.state.get("errors_file")
        ok = failed = 0
        firsts: list[str] = []
        chunk_of = self._chunk_of_line()
        with (
            Sink(self.io, out_path) as out,
            Sink(self.io, err_path, optional=True) as errors,
            open(self.state["input"]["path"], "rb") as inp,
        ):
            for number, _, raw in jsonl.raw_lines(inp):
                cid = json.loads(raw)["custom_id"]
                found = index.get(cid)
                if found is not None:
                    f, offset, length, good = found
                    record = os.pread(files[f].fileno(), length, offset)
                else:
                    good = False
                    record = json.dumps(_missing(cid, chunk_of(number))).encode()
                out.write(record if record.endswith(b"\n") else record + b"\n")
                if good:
                    ok += 1
                    continue
                failed += 1
                errors.write(raw if raw.endswith(b"\n") else raw + b"\n")
                if len(firsts) < 3:
                    firsts.append(f"line {number} ({cid}): {_reason(record)}")
        self.state["finished"] = True
        self.state["succeeded"] = ok
        self.state["failed"] = failed
        self.save()
        if self.state["input"].get("spooled"):
            # A copy of stdin kept only so that an interrupted run could go on.
            with contextlib.suppress(OSError):
                os.unlink(self.state["input"]["path"])
        for c in self.chunks:
            for kind in ("output", "error"):
                with contextlib.suppress(OSError):
                    self._local(c, kind).unlink()
        total = ok + failed
        where = f" to {out_path}" if out_path and out_path != STDOUT else ""
        if not failed:
            self.io.message(f"oai: all {count(total, 'request')} succeeded; results written{where}")
            return 0
        self.io.message(f"oai: {failed} of {count(total, 'request')} failed, {ok} succeeded{where}")
        for first in firsts:
            self.io.message(f"  {first}")
        if err_path and err_path != STDOUT:
            self.io.message(f"  the failed input lines are in {err_path}")
        return int(ExitCode.FAILED)

    def _chunk_of_line(self) -> Any:
        chunks = self.chunks

        def find(number: int) -> dict[str, Any]:
            for c in chunks:
                if c["first_line"] <= number < c["first_line"] + c["lines"]:
                    return c
            return chunks[-1]

        return find


# A list page's size when looking for what a lost answer created, and how far the
# server's clock may be behind ours.
_FIND_PAGE = 100
_CLOCK_SKEW = 600.0


def _listed(
    client: Client, path: str, query: dict[str, str], *, since: float | None
) -> Iterator[dict[str, Any]]:
    """The items of a newest-first list, page after page, down to ``since``.

    Anything created after the request that was sent at ``since`` is newer, so the
    search stops at the first item older than that (less a margin for the clocks);
    without ``since`` (a state from before it was kept) it reads the whole list.
    """
    after: str | None = None
    while True:
        page_query = {**query, "limit": str(_FIND_PAGE)} | ({"after": after} if after else {})
        page = answer_object(send(client, Request("GET", path, query=page_query)), f"GET {path}")
        items = [x for x in page.get("data") or [] if isinstance(x, dict)]
        for item in items:
            yield item
            created = item.get("created_at")
            old = isinstance(created, int | float) and created < (since or 0) - _CLOCK_SKEW
            if since is not None and old:
                return
        last = items[-1].get("id") if items else None
        if not page.get("has_more") or not isinstance(last, str) or last == after:
            return
        after = last


_n = count


def _succeeded(rec: dict[str, Any]) -> bool:
    if rec.get("error"):
        return False
    resp = rec.get("response")
    if not isinstance(resp, dict):
        return False
    code = resp.get("status_code")
    return isinstance(code, int) and 200 <= code < 300


def _missing(cid: str, chunk: dict[str, Any]) -> dict[str, Any]:
    status = chunk.get("status")
    reason = error_text(chunk) or f"batch {chunk.get('batch_id')} ended {status}"
    return {
        "id": None,
        "custom_id": cid,
        "response": None,
        "error": {"code": f"batch_{status}", "message": f"no result for this request: {reason}"},
    }


def _reason(record: bytes) -> str:
    try:
        rec = json.loads(record)
    except ValueError:
        return "unreadable result"
    err = rec.get("error") if isinstance(rec, dict) else None
    if isinstance(err, dict):
        return str(err.get("message") or err.get("code") or err)
    resp = rec.get("response") if isinstance(rec, dict) else None
    if isinstance(resp, dict):
        body = resp.get("body")
        detail = ""
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            detail = f": {body['error'].get('message') or body['error'].get('code')}"
        return f"HTTP {resp.get('status_code')}{detail}"
    return "no result"


class Sink:
    """A results file written whole or not at all, or stdout; or nothing."""

    def __init__(self, io: Any, path: str | None, *, optional: bool = False) -> None:
        self.io = io
        self.path = path
        self.optional = optional
        self._fh: Any = None
        self._file: writer.Replacement | None = None

    def __enter__(self) -> Sink:
        if self.path == STDOUT:
            self._fh = self.io.stdout_bytes
        elif self.path:
            self._file = writer.replace(self.path)
            self._fh = self._file.file
        elif not self.optional:
            self._fh = self.io.stdout_bytes
        return self

    def write(self, data: bytes) -> None:
        if self._fh is not None:
            self._fh.write(data)

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if self._file is None:
            if self._fh is not None:
                self._fh.flush()
            return
        self._file.__exit__(exc_type)


def _stored(path: str | None) -> str | None:
    """An output path as the state keeps it: absolute, as a resume may run in another
    folder; ``-`` (stdout) as it is."""
    if path is None or path == STDOUT:
        return path
    return os.path.abspath(path)


# What a run reads back from its state file (state.read_json checks it).
_ID = Maybe(str)
_LATER = Maybe(bool, missing=True)
_WHEN = Maybe((int, float), missing=True)
_COUNT = Maybe(int, missing=True)
_STATE: dict[str, Any] = {
    "input": {
        "path": str,
        "name": str,
        "size": int,
        "mtime_ns": int,
        "spooled": _LATER,
    },
    "endpoint": str,
    "completion_window": str,
    "metadata": Maybe(dict, missing=True),
    "output_file": Maybe(str),
    "errors_file": Maybe(str),
    "requests": int,
    "finished": bool,
    "succeeded": _COUNT,
    "failed": _COUNT,
    "base_url": Maybe(str, missing=True),
    "chunks": [
        {
            "index": int,
            "filename": str,
            "start": int,
            "end": int,
            "lines": int,
            "first_line": int,
            "file_id": _ID,
            "batch_id": _ID,
            "status": _ID,
            "output_file_id": Maybe(str, missing=True),
            "error_file_id": Maybe(str, missing=True),
            "request_counts": Maybe({"completed": _COUNT, "failed": _COUNT}, missing=True),
            "upload_sent": _LATER,
            "upload_sent_at": _WHEN,
            "create_sent": _LATER,
            "create_sent_at": _WHEN,
        }
    ],
}


def _metadata(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    data = parse_json_text(text, what="--metadata")
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise UsageError("--metadata: expected a JSON object of strings")
    if len(data) > 15:
        raise UsageError(f"--metadata: at most 15 keys (the run adds {RUN_TAG})")
    return {str(k): v for k, v in data.items()}


def _show_plan(
    factory: Deps, endpoint: str | None, requests: int, chunks: list[dict[str, Any]]
) -> None:
    factory.renderer().answer(
        {
            "endpoint": endpoint,
            "requests": requests,
            "batches": [
                {
                    "lines": f"{c['first_line']}-{c['first_line'] + c['lines'] - 1}",
                    "requests": c["lines"],
                    "bytes": c["end"] - c["start"],
                }
                for c in chunks
            ],
        }
    )


def _add_usage(paid: Spent, rec: Any) -> None:
    """The usage of one output line (``response.body``), if it has one."""
    response = rec.get("response") if isinstance(rec, dict) else None
    body = response.get("body") if isinstance(response, dict) else None
    if isinstance(body, dict):
        model = body.get("model")
        paid.add(model if isinstance(model, str) else None, body.get("usage"))
