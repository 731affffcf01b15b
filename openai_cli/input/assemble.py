"""Turn ``--body``, ``-F`` and ``-f`` into a request body and file parts."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from openai_cli.errors import UsageError
from openai_cli.http.client import FilePart
from openai_cli.input import reader
from openai_cli.input.body import file_opener, guess_type, load_body, read_text_file
from openai_cli.input.fields import FieldArg, FieldKind, merge, parse_fields, top_name
from openai_cli.io import IO


def printable_name(name: str) -> str:
    """``name`` as text that can be sent, whatever bytes the file system gave it."""
    return os.fsencode(name).decode("utf-8", "replace")


def file_part(
    field: str, value: str, io: IO, *, what: str, filename: str | None = None
) -> FilePart:
    """A file to upload from a path, or from stdin with ``-``; checked before sending."""
    if value == "-":
        name = filename or "stdin"
        reader.check_stdin(io, what=what)
        stdin = io.stdin_bytes
        return FilePart(field, name, lambda: stdin, guess_type(name), replayable=False)
    reader.check_streamable(value, what=what)
    # A file name that is not UTF-8 is sent with its undecodable bytes replaced: the
    # form header is text, while the file is still opened by its real name.
    name = filename or printable_name(os.path.basename(value))
    return FilePart(field, name, file_opener(value), guess_type(name), path=value)


def is_upload(field: str, kinds: Mapping[str, FieldKind] | None = None) -> bool:
    """Whether ``-F field`` uploads a file in a multipart request.

    ``name=@path`` does, unless the operation says the field holds text or JSON: then
    the file is read into the field's value.
    """
    key, _, value = field.partition("=")
    return value.startswith("@") and (kinds or {}).get(top_name(key), "file") == "file"


def collect(
    io: IO,
    *,
    typed: Sequence[str] = (),
    raw: Sequence[str] = (),
    body: str | None = None,
    multipart: bool = False,
    kinds: Mapping[str, FieldKind] | None = None,
) -> tuple[dict[str, Any], list[FilePart]]:
    """The body from ``--body`` with the fields merged over it, and any file parts.

    In a multipart request ``-F name=@path`` uploads the file itself (streamed from
    disk) when it is an upload (:func:`is_upload`); elsewhere it puts the file's
    content into the body: JSON for a field that holds JSON, text otherwise.
    ``kinds`` are the operation's top-level fields, when it is known.
    """
    files: list[FilePart] = []
    args: list[FieldArg] = []
    for t in typed:
        key, _, value = t.partition("=")
        if multipart and is_upload(t, kinds):
            field = key[:-2] + "[]" if key.endswith("[]") else key
            files.append(file_part(field, value[1:], io, what=f"-F {key}"))
            continue
        args.append(FieldArg(raw=t, typed=True, flag="-F"))
    args.extend(FieldArg(raw=r, typed=False, flag="-f") for r in raw)
    stdin_used = False

    def read_stdin() -> str:
        nonlocal stdin_used
        if stdin_used or body in ("-", "@-"):
            raise UsageError("-F: stdin (@-) can only be read once")
        stdin_used = True
        return reader.read_text(io, "-", reader.JSON, what="-F @- (stdin)")

    base = load_body(body, io) if body is not None else {}
    fields = parse_fields(
        args,
        read_file=lambda p: read_text_file(p, what=f"-F @{p}"),
        read_stdin=read_stdin,
        kinds=kinds,
    )
    return merge(base, fields), files
