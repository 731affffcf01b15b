"""Every operation of the API, run through the real ``oai`` command against Steady.

Each test builds the command line from the operation's catalogue record: its path
arguments and every field the spec requires, with values synthesised from the spec's
schemas. Steady must answer it as the operation the command is for, without a single
error or warning diagnostic. A second pass gives every flag the command has for the
spec's fields at once, and checks that each one reached Steady encoded as the spec says.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import yaml

from openai_cli.commands.overrides import OVERRIDES
from openai_cli.operations import catalogue
from openai_cli.operations.model import Operation, Param
from tests.contract.steady import Steady, find_spec
from tests.helpers import Result, api_env, invoke, temporaries

Schema = dict[str, Any]

OPERATIONS: list[Operation] = [op for group in catalogue.GROUPS for op in catalogue.load(group)]

# Diagnostics at these levels make Steady's verdict a failure; "info" ones (such as
# E3015, a query parameter the spec does not declare) are reported but allowed.
FAILING_SEVERITIES = frozenset({"error", "warning"})

# Values synthesis cannot choose. Steady would accept the first enum value, but a file
# uploaded for fine-tuning or assistants is not what a .jsonl of batch requests is for,
# and the point of this suite is to send what a user would send.
HAND_WRITTEN: dict[tuple[str, ...], dict[str, str]] = {
    ("files", "create"): {"purpose": "batch"},
}


def command_id(op: Operation) -> str:
    return " ".join(op.command)


def full_path(op: Operation) -> str:
    """The spec's path for the operation, with its fixed query (``?beta=true``) kept."""
    return op.full_path


# -- the spec -----------------------------------------------------------------------


@cache
def spec() -> Schema:
    with find_spec().open(encoding="utf-8") as handle:
        loaded: Schema = yaml.load(handle, Loader=yaml.CSafeLoader)
    return loaded


def deref(schema: Schema) -> Schema:
    """Follow ``$ref`` chains; keys beside a ``$ref`` win over the target's."""
    while "$ref" in schema:
        target: Any = spec()
        for part in str(schema["$ref"])[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def merged(schema: Schema) -> Schema:
    """The schema with its ``allOf`` parts folded in."""
    schema = deref(schema)
    if "allOf" not in schema:
        return schema
    out: Schema = {k: v for k, v in schema.items() if k != "allOf"}
    properties: dict[str, Schema] = {}
    required: list[str] = []
    for part in schema["allOf"]:
        part = merged(part)
        properties.update(part.get("properties") or {})
        required += [r for r in part.get("required") or [] if r not in required]
        for key, value in part.items():
            if key not in ("properties", "required"):
                out.setdefault(key, value)
    properties.update(schema.get("properties") or {})
    required += [r for r in schema.get("required") or [] if r not in required]
    out["properties"] = properties
    out["required"] = required
    return out


def required_names(schema: Schema) -> list[str]:
    """The properties an object must have, taking the first of ``anyOf: [{required}]``."""
    names = list(schema.get("required") or [])
    union = schema.get("oneOf") or schema.get("anyOf") or []
    if union and all(set(deref(alt)) <= {"required"} for alt in union):
        names += [n for n in deref(union[0]).get("required") or [] if n not in names]
    return names


def array_items(schema: Schema) -> Schema:
    """The item schema of an array, or of the array alternative of a union."""
    schema = merged(schema)
    if "items" in schema:
        items: Schema = schema["items"]
        return items
    for alternative in schema.get("oneOf") or schema.get("anyOf") or []:
        if merged(alternative).get("type") == "array" or "items" in merged(alternative):
            return array_items(alternative)
    raise AssertionError(f"not an array schema: {sorted(schema)}")


def _is_null(schema: Schema) -> bool:
    return schema.get("type") == "null" or ("const" in schema and schema["const"] is None)


def example(schema: Schema, depth: int = 0, *, filled: bool = False) -> Any:
    """A minimal value the schema accepts: required properties only, first alternatives.

    ``filled`` gives an object without required properties one property anyway, so that
    an optional field sent on its own is not an empty object that encodes to nothing.
    """
    if depth > 40:
        raise AssertionError("schema recursion too deep to synthesise a value")
    schema = merged(schema)
    if "const" in schema:
        return schema["const"]
    enum = [v for v in schema.get("enum") or [] if v is not None]
    if enum:
        return enum[0]
    union = schema.get("oneOf") or schema.get("anyOf")
    if union and not schema.get("properties"):
        live = [alt for alt in union if not _is_null(merged(alt))]
        return example(live[0], depth + 1, filled=filled)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind is None:
        kind = (
            "object"
            if "properties" in schema or "additionalProperties" in schema
            else "array"
            if "items" in schema
            else "string"
        )
    if kind == "object":
        props = schema.get("properties") or {}
        names = required_names(schema)
        extra = schema.get("additionalProperties")
        if filled and not names and props:
            names = [next(iter(props))]
        elif filled and not names and isinstance(extra, dict):
            return {"key": example(extra, depth + 1)}
        return {name: example(props.get(name) or {}, depth + 1) for name in names}
    if kind == "array":
        count = int(schema.get("minItems") or 0)
        return [example(schema.get("items") or {}, depth + 1) for _ in range(count)]
    if kind == "integer":
        return _bounded(schema, 1)
    if kind == "number":
        return _bounded(schema, 0.5)
    if kind == "boolean":
        return True
    return _string(schema)


def _bounded(schema: Schema, value: float) -> Any:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if low is not None and value < low:
        value = low + (1 if "exclusiveMinimum" in schema else 0)
    if high is not None and value > high:
        value = high
    return value


def _string(schema: Schema) -> str:
    fmt = schema.get("format")
    if fmt in ("uri", "url"):
        return "https://example.com/x"
    if fmt == "email":
        return "x@example.com"
    return "x" * max(1, int(schema.get("minLength") or 1))


def spec_operation(op: Operation) -> Schema:
    operation: Schema = spec()["paths"][full_path(op)][op.method.lower()]
    return operation


def spec_parameters(op: Operation) -> dict[tuple[str, str], Schema]:
    item = spec()["paths"][full_path(op)]
    out: dict[tuple[str, str], Schema] = {}
    for param in [*item.get("parameters", []), *spec_operation(op).get("parameters", [])]:
        param = deref(param)
        out[param["in"], param["name"]] = param
    return out


def body_schema(op: Operation, content_type: str) -> Schema:
    body = deref(spec_operation(op)["requestBody"])
    return merged(body["content"][content_type].get("schema") or {})


# -- files to upload -----------------------------------------------------------------


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def tiny_wav() -> bytes:
    samples = b"\x00\x00" * 160
    fmt = struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + len(samples))
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", len(samples))
        + samples
    )


def tiny_mp4() -> bytes:
    # An ftyp box alone: enough for anything that sniffs the container type.
    return struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 512) + b"isommp41"


def tiny_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("skill/SKILL.md", "---\nname: x\ndescription: x\n---\nx\n")


def upload_file(op: Operation, field: str, tmp_path: Path) -> Path:
    """A small file of the kind the operation takes in ``field``."""
    group = op.command[0]
    if group == "files":
        path = tmp_path / "requests.jsonl"
        line = {"custom_id": "1", "method": "POST", "url": "/v1/chat/completions", "body": {}}
        path.write_text(json.dumps(line) + "\n")
    elif group == "skills":
        path = tmp_path / "skill.zip"
        tiny_zip(path)
    elif group == "audio":
        path = tmp_path / "sample.wav"
        path.write_bytes(tiny_wav())
    elif group == "videos":
        path = tmp_path / "clip.mp4"
        path.write_bytes(tiny_mp4())
    elif group in ("images", "content-provenance-checks") or field in ("mask", "image"):
        path = tmp_path / f"{field}.png"
        path.write_bytes(tiny_png())
    else:
        path = tmp_path / "part.bin"
        path.write_bytes(b"\x00\x01\x02\x03")
    return path


# -- command lines -------------------------------------------------------------------


def _is_file(p: Param) -> bool:
    return p.is_file


def chosen_content_type(op: Operation) -> str | None:
    """The body encoding the command uses for the arguments this suite gives it.

    Files are given whenever the multipart form requires one, so the command sends a
    form exactly when the form is the only body or a required file makes it one.
    """
    types = op.content_types
    if not types:
        return None
    if "multipart/form-data" not in types:
        return "application/json"
    if "application/json" not in types:
        return "multipart/form-data"
    form = body_schema(op, "multipart/form-data")
    files = {p.name for p in op.body if _is_file(p)}
    if files & set(form.get("required") or []):
        return "multipart/form-data"
    return "application/json"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def option_args(p: Param, value: Any) -> list[str]:
    """The flags that give ``value`` to the catalogue parameter ``p``."""
    flag = p.flag
    kind = p.type
    if kind == "boolean":
        return [flag if value else f"--no-{flag[2:]}"]
    if kind == "array":
        values = value if isinstance(value, list) else [value]
        return [a for v in values for a in (flag, _text(v))]
    if kind == "json":
        return [flag, json.dumps(value)]
    return [flag, _text(value)]


def arguments(
    op: Operation, tmp_path: Path, *, every_field: bool = False
) -> tuple[list[str], list[tuple[str, str]]]:
    """Path arguments and options for every field the spec requires, or for every field.

    Returns the arguments and the (place, name) of each field they give. A field of the
    spec the command has no flag for fails the test: every field must be reachable
    without ``--body``.
    """
    params = spec_parameters(op)
    hand = HAND_WRITTEN.get(op.command, {})
    args = [_text(example(params["path", p.name].get("schema") or {})) for p in op.path_params]
    fields: list[tuple[str, Param, Schema]] = []
    for loc, place, given in (("query", "query", op.query), ("headers", "header", op.headers)):
        for p in given:
            param = params[place, p.name]
            if every_field or param.get("required"):
                fields.append((loc, p, param.get("schema") or {}))
    content_type = chosen_content_type(op)
    if content_type in ("application/json", "multipart/form-data"):
        schema = body_schema(op, content_type)
        by_name = {p.name: p for p in op.body}
        props = schema.get("properties") or {}
        names = list(props) if every_field else required_names(schema)
        for name in names:
            assert name in by_name, f"body field {name!r} has no flag"
            # Streaming has cases of its own; a plain call asks for a plain answer.
            if every_field and name == "stream" and name not in required_names(schema):
                continue
            fields.append(("body", by_name[name], props.get(name) or {}))
    for _, p, field_schema in fields:
        if _is_file(p):
            args += [p.flag, str(upload_file(op, p.name, tmp_path))]
            continue
        value: Any = hand.get(p.name)
        if value is None:
            value = example(field_schema, filled=every_field)
        if p.type == "array" and value == []:
            # A repeated flag cannot say "empty list": send one item instead.
            value = [example(array_items(field_schema))]
        if p.type == "string_or_json" and isinstance(value, str) and value.lstrip()[:1] in "{[":
            raise AssertionError(f"{p.name}: a text value that would be read as JSON")
        args += option_args(p, value)
    return args, [(loc, p.name) for loc, p, _ in fields]


# -- the verdict ---------------------------------------------------------------------


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Some commands save what they get into the current directory.
    monkeypatch.chdir(tmp_path)


def run_against(steady: Steady, *args: str) -> tuple[Result, list[dict[str, Any]]]:
    mark = steady.mark()
    result = invoke(*args, env=api_env(steady.base_url))
    return result, steady.entries_since(mark)


def failing_diagnostics(
    entries: list[dict[str, Any]], besides: list[dict[str, Any]] | None = None
) -> list[str]:
    """Steady's complaints that fail a test, but for those in ``besides``."""
    return Steady.diagnostics(
        [
            {
                **e,
                "diagnostics": [
                    d
                    for d in e.get("diagnostics", [])
                    if d.get("severity") in FAILING_SEVERITIES and d not in (besides or [])
                ],
            }
            for e in entries
        ]
    )


def json_part_misreads(entries: list[dict[str, Any]], op: Operation) -> list[dict[str, Any]]:
    """Steady's complaints about the JSON parts of a form, which it reads as plain text.

    The spec has some form fields sent as one part of JSON text (its ``encoding``, as for
    the ``session`` of ``realtime calls create``). Steady 0.22.2 ignores ``encoding``, so
    such a part fails its object type check (E3008) and Steady answers 400 to a request
    the spec allows. Only that is let through: an E3008 on one of those fields, in a
    multipart request, whose text Steady logged is a JSON object.
    """
    json_parts = {f"body.{p.name}" for p in op.body if p.part_type == "application/json"}
    out = []
    for entry in entries:
        request = entry["request"]
        if not request["headers"].get("content-type", "").startswith("multipart/form-data"):
            continue
        for d in entry.get("diagnostics", []):
            path = d.get("requestPath")
            if d.get("code") != "E3008" or path not in json_parts:
                continue
            text = (request.get("body") or {}).get(path.removeprefix("body."))
            if isinstance(text, str) and isinstance(json.loads(text), dict):
                out.append(d)
    return out


def info_diagnostics(entries: list[dict[str, Any]]) -> list[str]:
    return Steady.diagnostics(
        [
            {
                **e,
                "diagnostics": [
                    d
                    for d in e.get("diagnostics", [])
                    if d.get("severity") not in FAILING_SEVERITIES
                ],
            }
            for e in entries
        ]
    )


def assert_hit(entries: list[dict[str, Any]], op: Operation) -> dict[str, Any]:
    """Exactly one request reached Steady, as ``op``, and it broke no rule of the spec."""
    seen = [(e["request"]["method"], e["request"]["pathPattern"]) for e in entries]
    assert seen == [(op.method, full_path(op))]
    misread = json_part_misreads(entries, op)
    assert failing_diagnostics(entries, besides=misread) == []
    entry = entries[0]
    if misread:
        assert entry["response"]["status"] == 400, entry["response"]
    else:
        assert 200 <= entry["response"]["status"] < 300, entry["response"]
    return entry


# Steady generates the required fields only, so its image answers hold no image, which
# the image commands (asked to save one) report as exit 7.
NO_IMAGE = frozenset({("images", "generate"), ("images", "edit"), ("images", "create-variation")})


def success_code(op: Operation) -> int:
    return 7 if op.command in NO_IMAGE else 0


@pytest.mark.parametrize("op", OPERATIONS, ids=command_id)
def test_operation(op: Operation, steady: Steady, tmp_path: Path, record_property: Any) -> None:
    args = [*op.command, *arguments(op, tmp_path)[0]]
    out = tmp_path / "answer.bin"
    if op.binary:
        args += ["--output-file", str(out)]
    result, entries = run_against(steady, *args)
    assert result.code == success_code(op), (args, result)
    assert_hit(entries, op)
    info = info_diagnostics(entries)
    if info:
        record_property("steady_info", info)
    if "--output-file" in args:
        assert out.is_file() and out.stat().st_size > 0
        assert temporaries(out.parent) == []
    elif op.command not in OVERRIDES:
        # Piped, a generated command prints the answer as it came: JSON, or text (SDP).
        response = entries[0]["response"]
        if "json" in response["headers"].get("content-type", ""):
            assert json.loads(result.out) == response["body"]
        else:
            assert result.out == f"{response['body']}\n"


def sent_names(entry: dict[str, Any]) -> dict[str, set[str]]:
    """The fields Steady saw in each place of a request, by their API names."""
    request = entry["request"]
    query = {re.sub(r"\[.*$", "", k) for k, _ in parse_qsl(request.get("query", "").lstrip("?"))}
    body = request.get("body")
    return {
        "query": query,
        "headers": set(request.get("headers", {})),
        "body": set(body) if isinstance(body, dict) else set(),
    }


@pytest.mark.parametrize("op", OPERATIONS, ids=command_id)
def test_operation_with_every_field(op: Operation, steady: Steady, tmp_path: Path) -> None:
    """Every flag a command has for the spec's fields, at once, each encoded as the spec wants."""
    given, fields = arguments(op, tmp_path, every_field=True)
    args = [*op.command, *given]
    if op.binary:
        args += ["--output-file", str(tmp_path / "answer.bin")]
    result, entries = run_against(steady, *args)
    # Steady answers 400 to a JSON part of a form (see json_part_misreads).
    code = 1 if json_part_misreads(entries, op) else success_code(op)
    assert result.code == code, (args, result)
    entry = assert_hit(entries, op)
    assert info_diagnostics(entries) == []
    seen = sent_names(entry)
    expected = {
        (loc, name.removesuffix("[]").lower() if loc == "headers" else name.removesuffix("[]"))
        for loc, name in fields
    }
    missing = {(loc, name) for loc, name in expected if name not in seen[loc]}
    assert missing == set(), missing
