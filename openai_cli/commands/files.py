"""``oai files create``: any file size, checked before it is sent, with progress.

The generated command already streams a file through one multipart request. This
override keeps all its flags and adds: a check of batch and fine-tuning JSONL
before a byte is sent; stdin copied to a temporary file first (so it can be
checked, sized, and resent on a retry); a progress bar on a terminal; and files
over 512 MB (or ``--chunked``) sent through the Uploads API in parallel parts,
cancelled on failure or kept for ``--resume``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import typer

from openai_cli.builder import Fields, Prepared
from openai_cli.commands.audio import FILE_ARGUMENT, moved_argument
from openai_cli.errors import UsageError
from openai_cli.options import argument, command, option, reuse
from openai_cli.textfmt import count

if TYPE_CHECKING:
    from typer.core import TyperCommand

    from openai_cli.builder import CommandSpec
    from openai_cli.context import Factory
    from openai_cli.http.client import FilePart
    from openai_cli.operations.request import Call, Request
    from openai_cli.progress import Progress

_PANEL = "Large files"
# Purposes the Uploads API takes (``POST /uploads``); the Files API takes more.
UPLOAD_PURPOSES = ("assistants", "batch", "fine-tune", "vision")


@dataclass(frozen=True, kw_only=True)
class CreateOptions:
    """``files create``: FILE as an argument, and how a large file is sent."""

    file_arg: str | None = reuse(FILE_ARGUMENT)
    chunked: bool = option(
        "--chunked",
        default=False,
        help="Send through the Uploads API in parts (automatic above 512 MB).",
        panel=_PANEL,
    )
    concurrency: int | None = option(
        "--concurrency", metavar="N", help="Parts sent at once (default 4).", panel=_PANEL
    )
    part_size: str | None = option(
        "--part-size",
        metavar="SIZE",
        help="Bytes per part, e.g. 16MiB (default and most 64 MiB).",
        panel=_PANEL,
    )
    resume: bool = option(
        "--resume",
        default=False,
        help="Keep a failed or interrupted upload (implies --chunked); the same "
        "command run again sends only the missing parts, within the hour.",
        panel=_PANEL,
    )
    mime_type: str | None = option(
        "--mime-type",
        metavar="TYPE",
        help="MIME type declared to the Uploads API (default from the file name).",
        panel=_PANEL,
    )
    # Respells the runner's --no-validate, which skips the schema check as well.
    no_validate: bool = option(
        "--no-validate",
        default=False,
        help="Skip the check of batch and fine-tuning JSONL before sending.",
        panel=_PANEL,
    )
    # No flag: the path to upload, FILE or --file (the request keeps only an opener).
    source: str | None = None


def create(spec: CommandSpec) -> TyperCommand:
    def prepare(factory: Factory, opts: CreateOptions, fields: Fields) -> Prepared[CreateOptions]:
        moved = moved_argument(fields, "file", opts.file_arg)
        source = moved.get("file", fields.get("file"))
        return Prepared(moved, replace(opts, source=source))

    return spec.command(
        _handler,
        options=CreateOptions,
        prepare=prepare,
        help_prefix="Upload FILE (or --file FILE): oai files create data.jsonl --purpose batch. "
        "JSONL for purpose batch or fine-tune is checked first; "
        "files over 512 MB go through the Uploads API in parallel parts (--chunked forces "
        "it, --resume continues an interrupted one). FILE - reads stdin.",
    )


def _handler(factory: Factory, call: Call, opts: CreateOptions) -> int:
    from openai_cli.input.body import guess_type
    from openai_cli.input.local import jsonl_input
    from openai_cli.input.numbers import positive
    from openai_cli.operations import uploads

    concurrency = positive(opts.concurrency, "--concurrency", 4)
    part_size = _part_size(opts.part_size)
    request = call.request
    body = request.body or {}
    purpose = str(body.get("purpose", ""))
    source, part = _source(opts, request)
    io = factory.io
    # Checked JSONL is sent as it was read: UTF-8, whatever the file's encoding.
    jsonl = not opts.no_validate and purpose in ("batch", "fine-tune")
    with jsonl_input(io, source, what="--file", transcode=jsonl) as (path, shown, copied):
        filename = part.filename
        if source == "-" and filename == "stdin" and purpose in ("batch", "fine-tune"):
            filename = "stdin.jsonl"
        size = os.path.getsize(path)
        if not opts.no_validate:
            _validate(path, shown, purpose)
        if factory.shared.dry_run and copied and source != "-":
            # The request shown names the file; what oai would send is its UTF-8 copy.
            io.message(
                f"note: {shown} has a byte-order mark; oai sends it as UTF-8 without one, "
                "and the curl command shown sends it as it is"
            )
        if not _chunked(opts.chunked or opts.resume, size, shown, purpose):
            return _simple(factory, call, path, filename)
        spec = uploads.UploadSpec(
            path=path,
            size=size,
            filename=filename,
            purpose=purpose,
            mime_type=opts.mime_type or _upload_mime(filename, guess_type(filename)),
            part_size=part_size,
            concurrency=concurrency,
            expires_after=body.get("expires_after"),
            resume=opts.resume,
            stable=not copied,
        )
        if factory.shared.dry_run:
            return _dry_run_chunked(factory, spec)
        file = uploads.ChunkedUpload(factory.client(), io, spec).run()
        factory.renderer().answer(file)
        return 0


def _part_size(text: str | None) -> int:
    from openai_cli.input.numbers import parse_size
    from openai_cli.operations import uploads

    size = uploads.PART_SIZE if text is None else parse_size(text, flag="--part-size")
    if size > uploads.MAX_PART_SIZE:
        raise UsageError("--part-size: the Uploads API takes parts of at most 64 MiB")
    return size


def _source(opts: CreateOptions, request: Request) -> tuple[str, FilePart]:
    """The path to upload (- for stdin) and the request's part for it."""
    part = next((f for f in request.files if f.field == "file"), None)
    if not isinstance(opts.source, str) or part is None:
        raise UsageError("--file: give the path of the file to upload, or - for stdin")
    if opts.source == "-" and opts.resume:
        raise UsageError(
            "--resume needs a file path: stdin cannot be read again by the next run",
            hint="save the input to a file first",
        )
    return opts.source, part


def _chunked(asked: bool, size: int, shown: str, purpose: str) -> bool:
    """Whether the file goes through the Uploads API in parts; checks that it can."""
    from openai_cli.operations import uploads

    if size > uploads.MAX_UPLOAD_BYTES:
        raise UsageError(
            f"--file: {shown} is {count(size, 'byte', sep=True)}; "
            "the Uploads API takes at most 8 GiB"
        )
    chunked = asked or size > uploads.SIMPLE_LIMIT
    if chunked and purpose not in UPLOAD_PURPOSES:
        raise UsageError(
            f"--purpose {purpose}: files over 512 MB (and --chunked) go through the "
            f"Uploads API, which takes purpose {', '.join(UPLOAD_PURPOSES)}"
        )
    return chunked


def _upload_mime(filename: str, guessed: str) -> str:
    # The Uploads API documents JSONL as text/jsonl.
    return "text/jsonl" if filename.endswith(".jsonl") else guessed


def _validate(path: str, shown: str, purpose: str) -> None:
    from openai_cli.input import jsonl
    from openai_cli.operations.batch_run import batch_endpoints
    from openai_cli.operations.schemas import fine_tune_problems

    with open(path, "rb") as fh:
        if purpose == "batch":
            jsonl.validate_batch(fh, shown, endpoints=batch_endpoints())
        elif purpose == "fine-tune":
            jsonl.validate_fine_tune(fh, shown, examples=fine_tune_problems)


def _simple(factory: Factory, call: Call, path: str, filename: str) -> int:
    from openai_cli.operations.runner import execute
    from openai_cli.progress import Progress

    bar = Progress(factory.io, f"uploading {filename}", total=os.path.getsize(path))

    def opener() -> Any:
        bar.update(completed=0)
        return _Counting(open(path, "rb"), bar)

    files = [
        replace(f, filename=filename, opener=opener) if f.field == "file" else f
        for f in call.request.files
    ]
    try:
        return execute(factory, replace(call, request=replace(call.request, files=files)))
    finally:
        bar.close()


class _Counting:
    """A file whose reads move a progress bar; the bar goes once the file is read."""

    def __init__(self, fh: Any, bar: Progress) -> None:
        self._fh = fh
        self._bar = bar

    def read(self, n: int = -1) -> bytes:
        from openai_cli.operations.uploads import SEND_CHUNK

        # Bigger reads than httpx asks for: see RangeReader.read.
        data: bytes = self._fh.read(n if n < 0 else max(n, SEND_CHUNK))
        if data:
            self._bar.advance(len(data))
        else:
            # Sent in full: the answer is printed next and must not meet a live bar.
            self._bar.close()
        return data

    def fileno(self) -> int:
        fd: int = self._fh.fileno()
        return fd

    def seek(self, offset: int, whence: int = 0) -> int:
        pos: int = self._fh.seek(offset, whence)
        return pos

    def tell(self) -> int:
        pos: int = self._fh.tell()
        return pos

    def close(self) -> None:
        self._fh.close()


def _dry_run_chunked(factory: Factory, spec: Any) -> int:
    from openai_cli.operations.uploads import create_body, parts_of

    n = len(parts_of(spec.size, spec.part_size))
    create = create_body(spec)
    base = factory.settings().base_url.value.rstrip("/")
    factory.renderer().answer(
        {
            "method": "POST",
            "url": f"{base}/uploads",
            "body": create,
            "then": [
                f"POST {base}/uploads/{{upload_id}}/parts x {n} "
                f"(parts of {count(spec.part_size, 'byte')}, {spec.concurrency} at a time)",
                f"POST {base}/uploads/{{upload_id}}/complete (part_ids in order, md5)",
            ],
        }
    )
    return 0


# -- oai vector-stores files upload ---------------------------------------------------


def upload_path(
    factory: Factory,
    path: str,
    *,
    filename: str,
    purpose: str,
    chunked: bool,
    concurrency: int,
) -> dict[str, Any]:
    """Upload a local file as ``files create`` would; return the File object."""
    from openai_cli.http.client import FilePart
    from openai_cli.input.body import guess_type
    from openai_cli.operations import uploads
    from openai_cli.operations.request import Request
    from openai_cli.operations.send import answer_object, send
    from openai_cli.progress import Progress

    size = os.path.getsize(path)
    if chunked or size > uploads.SIMPLE_LIMIT:
        spec = uploads.UploadSpec(
            path=path,
            size=size,
            filename=filename,
            purpose=purpose,
            mime_type=_upload_mime(filename, guess_type(filename)),
            concurrency=concurrency,
        )
        return uploads.ChunkedUpload(factory.client(), factory.io, spec).run()
    with Progress(factory.io, f"uploading {filename}", total=size) as bar:

        def opener() -> Any:
            bar.update(completed=0)
            return _Counting(open(path, "rb"), bar)

        req = Request(
            "POST",
            "/files",
            body={"purpose": purpose},
            files=[FilePart("file", filename, opener, guess_type(filename))],
            multipart=True,
        )
        resp = send(factory.client(), req)
    return answer_object(resp, "files create")


@dataclass(frozen=True, kw_only=True)
class VectorStoreUploadOptions:
    vector_store_id: str = argument(metavar="VECTOR_STORE_ID")
    file: str = argument(metavar="FILE", help="File to upload, or - for stdin.")
    attributes: str | None = option(
        "--attributes", metavar="JSON", help="Attributes of the vector store file."
    )
    chunking_strategy: str | None = option(
        "--chunking-strategy", metavar="JSON", help="How to chunk the file."
    )
    filename: str | None = option(
        "--filename", metavar="NAME", help="File name to send (default FILE's)."
    )
    chunked: bool = option(
        "--chunked", default=False, help="Send through the Uploads API in parts."
    )
    concurrency: int | None = option(
        "--concurrency", metavar="N", help="Parts sent at once (default 4)."
    )
    wait: bool = option("--wait", default=False, help="Wait until the file is processed.")
    wait_timeout: str | None = option(
        "--timeout",
        "--wait-timeout",
        metavar="DURATION",
        help="With --wait: stop waiting after this long (exit 124).",
    )


def vector_store_upload_command() -> TyperCommand:
    return command(
        "upload",
        VectorStoreUploadOptions,
        _vector_store_upload,
        help="Upload a file and add it to a vector store, in one step.\n\n"
        "FILE (or - for stdin) is uploaded with purpose assistants (through the Uploads "
        "API in parallel parts above 512 MB or with --chunked), then attached with "
        "POST /vector_stores/{id}/files. With --wait, waits until the vector store has "
        "processed it and prints the final state; exit 7 if it failed.",
        example="oai vector-stores files upload vs_abc123 handbook.pdf",
    )


def _vector_store_upload(factory: Factory, opts: VectorStoreUploadOptions) -> None:
    vector_store_id, file, filename = opts.vector_store_id, opts.file, opts.filename
    attributes, chunking_strategy = opts.attributes, opts.chunking_strategy
    chunked, concurrency, wait, wait_timeout = (
        opts.chunked,
        opts.concurrency,
        opts.wait,
        opts.wait_timeout,
    )
    from openai_cli.commands.waiters import KINDS, poll_of, timeout_seconds, wait_and_print
    from openai_cli.http.paths import fill
    from openai_cli.input.body import parse_json_text
    from openai_cli.input.local import local_input
    from openai_cli.input.numbers import positive
    from openai_cli.operations.request import Request
    from openai_cli.operations.send import answer_object, send
    from openai_cli.operations.uploads import MAX_UPLOAD_BYTES

    io = factory.io
    timeout = timeout_seconds(wait, wait_timeout)
    workers = positive(concurrency, "--concurrency", 4)
    body: dict[str, Any] = {}
    for flag, text, key in (
        ("--attributes", attributes, "attributes"),
        ("--chunking-strategy", chunking_strategy, "chunking_strategy"),
    ):
        if text is not None:
            body[key] = parse_json_text(text, what=flag)
    target = fill("/vector_stores/{id}/files", {"id": vector_store_id}, {"id": "VECTOR_STORE_ID"})
    with local_input(io, file, what="FILE") as (path, shown):
        name = filename or (os.path.basename(file) if file != "-" else "stdin")
        size = os.path.getsize(path)
        if size == 0:
            raise UsageError(f"FILE: {shown} is empty (0 bytes)")
        if size > MAX_UPLOAD_BYTES:
            raise UsageError(
                f"FILE: {shown} is {count(size, 'byte', sep=True)}; uploads take at most 8 GiB"
            )
        if factory.shared.dry_run:
            base = factory.settings().base_url.value.rstrip("/")
            factory.renderer().answer(
                {
                    "upload": {"filename": name, "bytes": size, "purpose": "assistants"},
                    "then": {
                        "method": "POST",
                        "url": base + target,
                        "body": {"file_id": "{uploaded file id}", **body},
                    },
                }
            )
            raise typer.Exit(0)
        uploaded = upload_path(
            factory, path, filename=name, purpose="assistants", chunked=chunked,
            concurrency=workers,
        )  # fmt: skip
    file_id = uploaded.get("id")
    if not isinstance(file_id, str):
        raise UsageError("the upload answered without a file id")
    io.message(f"oai: uploaded {name}: {file_id}")
    create = Request("POST", target, body={"file_id": file_id, **body})
    first = answer_object(send(factory.client(), create), "vector store files create")
    if not wait:
        factory.renderer().answer(first)
        raise typer.Exit(0)
    rewait = f"oai vector-stores files retrieve {vector_store_id} {file_id} --wait"
    wait_and_print(
        factory,
        first,
        poll_of(create, file_id),
        KINDS[("vector-stores", "files")],
        timeout=timeout,
        rewait=rewait,
    )
    raise typer.Exit(0)
