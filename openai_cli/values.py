"""From a generated command's parsed options to a :class:`Request`."""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from openai_cli.errors import UsageError
from openai_cli.http.client import FilePart
from openai_cli.http.paths import fill
from openai_cli.input.assemble import collect, file_part, is_upload
from openai_cli.input.body import json_value, parse_json_text
from openai_cli.input.fields import FieldKind, merge
from openai_cli.input.times import UNIX_TIME_OBJECTS, is_unix_time, unix_bounds, unix_seconds
from openai_cli.operations.request import Answer, Call, Request
from openai_cli.textfmt import plural

if TYPE_CHECKING:
    from openai_cli.builder import CommandSpec
    from openai_cli.io import IO
    from openai_cli.operations.deps import Deps
    from openai_cli.operations.model import Operation, Param


def coerce(p: Param, value: Any, factory: Deps) -> Any:
    """One option's value as the API wants it; errors name the flag."""
    t = p.type
    flag = p.flag
    if is_unix_time(p.name, t) and isinstance(value, str):
        return unix_seconds(value, what=flag)
    if t == "json":
        parsed = json_value(value, flag=flag, io=lambda: factory.io)
        return unix_bounds(parsed, what=flag) if p.name in UNIX_TIME_OBJECTS else parsed
    if t == "string_or_json":
        return _text_or_json(p, value, factory)
    if t == "string" and p.closed:
        _check_enum(p, value)
    if t == "array":
        items = list(value)
        if p.closed and p.items == "string":
            for item in items:
                _check_enum(p, item)
        return items
    return value


def _text_or_json(p: Param, value: str, factory: Deps) -> Any:
    """A field that is text or JSON: JSON when it looks like it, or when the text is
    none of the words the field takes."""
    stripped = value.lstrip()
    if stripped.startswith(("{", "[")) or value.startswith("@"):
        return json_value(value, flag=p.flag, io=lambda: factory.io)
    enum = p.enum or ()
    if p.closed and value not in enum:
        # The enum is all the text the field takes, so anything else must be one of
        # its other alternatives: `--max-output-tokens 1000` means the number.
        parsed = _json_scalar(value)
        if parsed is None:
            raise UsageError(f"{p.flag}: {value!r} is not one of: {_shown(enum)}, nor JSON")
        return parsed
    return value


def _check_enum(p: Param, value: Any) -> None:
    enum = p.enum or ()
    if value not in enum:
        raise UsageError(f"{p.flag}: {value!r} is not one of: {_shown(enum)}")


def expand_arrays(p: Param, given: list[str]) -> list[str]:
    """A repeated flag's values, where one written as a JSON array stands for its items.

    ``--project-ids '["a","b"]'`` is ``--project-ids a --project-ids b``. No id or enum
    value starts with ``[``, so text that does and is no JSON array of strings is a
    mistake; one that must be sent as is goes inside an array: ``'["[x]"]'``. A path
    may start with ``[``, so a file flag takes such a value as a path.
    """
    out: list[str] = []
    for value in given:
        if value.startswith("["):
            items = _string_array(value)
            if items is not None:
                out.extend(items)
                continue
            if not p.is_file:
                raise UsageError(
                    f"{p.flag}: {value!r} starts with '[' but is not a JSON array of strings",
                    hint=f"to send it as one value, write it inside a JSON array: "
                    f"{p.flag} '{json.dumps([value])}'",
                )
        out.append(value)
    return out


def _string_array(text: str) -> list[str] | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def _shown(enum: tuple[Any, ...]) -> str:
    return ", ".join(str(e) for e in enum)


def _json_scalar(text: str) -> Any:
    """A JSON number or boolean written as text; None when it is neither."""

    def reject(constant: str) -> Any:
        raise ValueError(constant)

    try:
        value = json.loads(text, parse_constant=reject)
    except ValueError:
        return None
    return value if isinstance(value, bool | int | float) else None


# Upload fields that also take a reference to something already on the server (the
# spec's union of a binary file and an object, in a form or a JSON body): the key a
# bare id fills, and the key a URL fills when the reference may be a URL.
REFERENCES: dict[str, tuple[str, str | None]] = {
    "video": ("id", None),
    "input_reference": ("file_id", "image_url"),
    "mask": ("file_id", "image_url"),
}


def takes_reference(p: Param) -> bool:
    """An upload flag that also takes a reference (``--video video_123``)."""
    return p.type == "file" and "json" in p.content and p.name in REFERENCES


def reference(p: Param, value: str) -> dict[str, Any] | None:
    """The reference ``value`` stands for, or None when it is a file to upload.

    JSON text (``{"id": "video_123"}``) and a URL (where the reference takes one) are
    references; then a path that exists is a file; then a word with no ``/`` or ``.``
    (``video_123``, ``file-abc``) is an id. Anything else is a path, so a missing file
    is reported as one.
    """
    id_key, url_key = REFERENCES[p.name]
    if value.lstrip().startswith("{"):
        ref = parse_json_text(value, what=p.flag)
        if not isinstance(ref, dict):
            raise UsageError(
                f"{p.flag}: expected a JSON object such as {{{json.dumps(id_key)}: ...}}"
            )
        return ref
    if url_key and value.startswith(("https://", "http://", "data:")):
        return {url_key: value}
    if value == "-" or os.path.exists(value):
        return None
    if "/" not in value and os.sep not in value and "." not in value:
        return {id_key: value}
    return None


def field_kinds(op: Operation) -> dict[str, FieldKind]:
    """What each of the operation's fields holds, for ``-F name=@file``."""
    kinds: dict[str, FieldKind] = {}
    for p in op.params:
        kind: FieldKind
        if p.is_file:
            kind = "file"
        elif p.type in ("json", "array"):
            kind = "json"
        elif p.type == "string_or_json":
            kind = "auto"
        else:
            kind = "text"
        kinds[p.name.removesuffix("[]")] = kind
    return kinds


def header_value(value: Any) -> str:
    """A header parameter's value; a list is comma-joined (OpenAPI's "simple" style)."""
    if isinstance(value, list):
        return ",".join(header_value(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def typed_part(field: str, value: Any, content_type: str) -> FilePart:
    """A form field sent as one part of its own type, as the spec's ``encoding`` asks.

    A JSON part holds the value as JSON text, so empty objects and arrays, and where
    one element of a list ends, survive; bracketed fields (``a[b][]=x``) lose them.
    """
    json_part = content_type == "application/json" or content_type.endswith("+json")
    if isinstance(value, str) and not json_part:
        data = value.encode()
    else:
        data = json.dumps(value, ensure_ascii=False).encode()
    # No file name: the server reads it as a field, not an upload.
    return FilePart(field, "", lambda: io.BytesIO(data), content_type)


def take_typed_parts(op: Operation, body: dict[str, Any]) -> list[FilePart]:
    """The fields of a form that the operation sends as typed parts, taken out of ``body``."""
    return [
        typed_part(p.name, body.pop(p.name), p.part_type)
        for p in op.body
        if p.part_type and p.name in body
    ]


@dataclass
class _Flagged:
    """What the API fields' own flags put where, before --body and -F join them."""

    query: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)  # field -> paths to upload


def build_request(spec: CommandSpec, factory: Deps, values: Mapping[str, Any]) -> Call:
    """The request and the answer's handling that a command's parsed values make.

    ``values`` holds the path parameters (``path_``), the API fields (``api_N``) and
    the runner's options (``x_``); it is read, never changed.
    """
    op = spec.op
    path = fill(
        op.path,
        {pp.name: values["path_" + pp.name] for pp in op.path_params},
        {pp.name: pp.metavar for pp in op.path_params},
    )
    flagged = _Flagged(dict(op.fixed_query))
    for name, loc, p in spec.params:
        _add_flag(flagged, loc, p, values.get(name), factory)
    body, files, multipart = _body_and_files(op, flagged, values, factory.io)
    stream = bool(values.get("x_stream")) or (spec.stream_field and body.get("stream") is True)
    if stream and op.streams and spec.stream_field:
        body["stream"] = True
    _check_required(spec, flagged, body, files)
    has_body = bool(op.content_types) and (bool(body) or bool(files) or op.body_required)
    request = Request(
        method=op.method,
        path=path,
        query=flagged.query,
        body=body if has_body else None,
        files=files,
        multipart=multipart and has_body,
        headers=flagged.headers,
        admin=op.admin,
        stream=stream,
    )
    return Call(request, _answer(op, values))


def _body_and_files(
    op: Operation, flagged: _Flagged, values: Mapping[str, Any], io: IO
) -> tuple[dict[str, Any], list[FilePart], bool]:
    """The body and uploads from --body, -F and -f with the fields' flags on top, and
    whether they go as a multipart form."""
    kinds = field_kinds(op)
    typed = values.get("x_fields") or []
    has_files = bool(flagged.files) or any(is_upload(f, kinds) for f in typed)
    multipart = op.multipart and (has_files or not op.json_body)
    body, files = collect(
        io,
        typed=typed,
        raw=values.get("x_raw_fields") or [],
        body=values.get("x_body"),
        multipart=multipart,
        kinds=kinds,
    )
    body = merge(body, flagged.body)
    files.extend(_file_parts(op, flagged.files, io, values.get("x_filename")))
    if multipart:
        files.extend(take_typed_parts(op, body))
    return body, files, multipart


def _answer(op: Operation, values: Mapping[str, Any]) -> Answer:
    """What the runner does with the answer: the runner's output options."""
    return Answer(
        binary=op.binary,
        pagination=op.pagination,
        max_items=values.get("x_max_items"),
        all_pages=bool(values.get("x_all")),
        output_file=values.get("x_output_file"),
        validate=not values.get("x_no_validate"),
    )


def _add_flag(out: _Flagged, loc: str, p: Param, value: Any, factory: Deps) -> None:
    """One API field's flag, checked and converted, into the part of the request it fills."""
    if p.type == "array" and value:
        value = expand_arrays(p, value)
        # An explicit '[]' empties a body field (no model ids); elsewhere it is no value.
        if value == [] and loc == "body" and not p.is_file:
            out.body[p.name] = []
            return
    if value is None or value == []:
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise UsageError(f"{p.flag}: {value} is not a number JSON can carry; give a finite one")
    if loc == "body":
        _add_body_flag(out, p, value, factory)
    elif loc == "query":
        out.query[p.name.removesuffix("[]")] = coerce(p, value, factory)
    else:
        out.headers[p.name] = header_value(coerce(p, value, factory))


def _add_body_flag(out: _Flagged, p: Param, value: Any, factory: Deps) -> None:
    ref = reference(p, value) if takes_reference(p) else None
    if ref is not None:
        out.body[p.name] = ref
    elif p.is_file:
        out.files[p.name] = [value] if isinstance(value, str) else list(value)
    else:
        out.body[p.name] = coerce(p, value, factory)


def _file_parts(
    op: Operation, paths: Mapping[str, list[str]], io: IO, filename: str | None
) -> list[FilePart]:
    """The uploads the file fields' flags name, in the order given."""
    parts: list[FilePart] = []
    for name, given in paths.items():
        p = next(p for p in op.body if p.name == name)
        field_name = f"{name}[]" if p.type == "array" else name
        parts.extend(
            file_part(field_name, value, io, what=p.flag, filename=filename) for value in given
        )
    return parts


def _check_required(
    spec: CommandSpec, flagged: _Flagged, body: Mapping[str, Any], files: list[FilePart]
) -> None:
    """Required fields may come from flags, --body or -F: checked once all are merged."""
    sent_files = {f.field.removesuffix("[]") for f in files}
    present: dict[str, Callable[[Param], bool]] = {
        "body": lambda p: p.name in body or p.name in sent_files,
        "query": lambda p: p.name.removesuffix("[]") in flagged.query,
        "headers": lambda p: p.name in flagged.headers,
    }
    missing = [p.flag for _, loc, p in spec.params if p.required and not present[loc](p)]
    if missing:
        raise UsageError(
            f"missing required {plural(len(missing), 'option')} {', '.join(missing)}"
            " (give them as flags, in --body or with -F)"
        )
