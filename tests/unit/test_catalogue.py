"""The generated operation catalogue: coverage of the API, shape, and generator behaviour."""

from __future__ import annotations

import ast
import csv
import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import fields, is_dataclass, replace
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    # Lets the test run without an installed package, from any working directory.
    sys.path.insert(0, str(REPO))

catalogue = importlib.import_module("openai_cli.operations.catalogue")
model = importlib.import_module("openai_cli.operations.model")
gen = importlib.import_module("tools.gen_catalogue")
Operation = model.Operation
Param = model.Param

CATALOGUE_DIR = REPO / "openai_cli" / "operations" / "catalogue"
SPEC = gen.default_spec()
TSV = SPEC.with_name("operations.tsv")
needs_tsv = pytest.mark.skipif(
    not TSV.is_file(), reason=f"{TSV} not found (it lives beside a checkout)"
)
needs_spec = pytest.mark.skipif(
    not SPEC.is_file(), reason=f"{SPEC} not found (set OAI_OPENAPI_SPEC)"
)

RECORD_KEYS = [
    "command",
    "method",
    "path",
    "operation_id",
    "fixed_query",
    "path_params",
    "query",
    "headers",
    "body",
    "body_required",
    "content_types",
    "streams",
    "binary",
    "pagination",
    "admin",
    "docs",
    "example",
]
PARAM_KEYS = [
    "name",
    "flag",
    "type",
    "items",
    "required",
    "enum",
    "open_enum",
    "default",
    "deprecated",
    "content",
    "part_type",
    "minimum",
    "maximum",
    "unit",
    "shape",
]
TYPES = {"string", "integer", "number", "boolean", "array", "file", "json", "string_or_json"}
ITEM_TYPES = {"string", "integer", "number", "boolean", "file"}


def all_operations() -> list[Any]:
    return [op for group in catalogue.GROUPS for op in catalogue.load(group)]


OPERATIONS = all_operations()


def usage_of(op: Any) -> str:
    return " ".join(["oai", *op.command, *(p.metavar for p in op.path_params)])


def full_path(op: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in op.fixed_query)
    return str(op.path) + (f"?{query}" if query else "")


def find(*command: str) -> Any:
    matches = [op for op in OPERATIONS if op.command == command]
    assert len(matches) == 1, command
    return matches[0]


def param(op: Any, place: str, name: str) -> Any:
    matches = [p for p in getattr(op, place) if p.name == name]
    assert len(matches) == 1, (op.command, place, name)
    return matches[0]


def walk(value: Any) -> Iterator[tuple[str | None, Any]]:
    """Every (key, value) pair of a nested record; sequence elements have key None."""
    if is_dataclass(value):
        for field in fields(value):
            element = getattr(value, field.name)
            yield field.name, element
            yield from walk(element)
    elif isinstance(value, dict):
        for key, element in value.items():
            yield key, element
            yield from walk(element)
    elif isinstance(value, list | tuple):
        for element in value:
            yield None, element
            yield from walk(element)


# --------------------------------------------------------------------------- coverage


@needs_tsv
def test_every_tsv_row_has_exactly_one_operation() -> None:
    with TSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert len(rows) == 288
    by_usage: dict[str, list[Any]] = {}
    for op in OPERATIONS:
        by_usage.setdefault(usage_of(op), []).append(op)
    for row in rows:
        ops = by_usage.get(row["usage"], [])
        assert len(ops) == 1, row["usage"]
        assert ops[0].method == row["method"], row["usage"]
        assert full_path(ops[0]) == row["path"], row["usage"]
        assert ops[0].operation_id == row["operation_id"], row["usage"]
        assert ops[0].admin == (row["auth"] == "AdminApiKeyAuth"), row["usage"]
        assert ops[0].streams == (row["streams"] == "sse"), row["usage"]
        # The table marks what the spec declares; `.../content` downloads are bytes too.
        content = row["method"] == "GET" and row["path"].endswith("/content")
        binary = row["binary_response"] == "binary" or content
        assert ops[0].binary == binary, row["usage"]
        assert ops[0].pagination == (row["pagination"] or None), row["usage"]
        assert ",".join(ops[0].content_types) == row["request_types"], row["usage"]
    assert sorted(by_usage) == sorted(row["usage"] for row in rows)
    assert len(OPERATIONS) == 288


def test_groups_match_modules_and_commands() -> None:
    modules = {p.stem for p in CATALOGUE_DIR.glob("*.py")} - {"__init__"}
    assert set(catalogue.GROUPS.values()) == modules
    assert set(catalogue.GROUP_TITLES) == set(catalogue.GROUPS)
    for command, module in catalogue.GROUPS.items():
        assert module == command.replace("-", "_")
        ops = catalogue.load(command)
        assert ops, command
        assert all(op.command[0] == command for op in ops)
    assert all(0 < len(title) <= 80 for title in catalogue.GROUP_TITLES.values())


def test_generated_files_carry_the_header() -> None:
    for path in CATALOGUE_DIR.glob("*.py"):
        assert path.read_text(encoding="utf-8").splitlines()[0] == gen.HEADER, path


def test_no_name_is_both_a_command_and_a_group() -> None:
    assert gen.check_tree(op.command for op in OPERATIONS) == []
    assert gen.check_tree([["files", "content"], ["files", "content", "list"]]) == [
        "oai files content"
    ]


# --------------------------------------------------------------------------- shape


def test_records_have_the_documented_shape() -> None:
    assert [f.name for f in fields(Operation)] == RECORD_KEYS
    assert [f.name for f in fields(Param)] == PARAM_KEYS
    for op in OPERATIONS:
        assert type(op) is Operation, op.command
        assert op.method in {"GET", "POST", "DELETE"}
        assert "?" not in op.path
        assert op.pagination in {None, "cursor", "page"}
        assert set(op.content_types) <= {
            "application/json",
            "multipart/form-data",
            "application/sdp",
        }
        for p in op.path_params:
            assert f"{{{p.name}}}" in op.path
            assert p.metavar == p.metavar.upper()
        flags = []
        for place in ("query", "headers", "body"):
            for p in getattr(op, place):
                assert type(p) is Param, (op.command, p.name)
                assert p.type in TYPES
                assert (p.items in ITEM_TYPES) if p.type == "array" else p.items is None
                assert p.flag.startswith("--") and p.flag == p.flag.lower()
                assert p.open_enum is False or p.enum, (op.command, p.name)
                assert p.default is None or isinstance(p.default, str | int | float)
                flags.append(p.flag)
                if place == "body":
                    assert p.content in (("json",), ("multipart",), ("json", "multipart"))
                else:
                    assert p.content == ()
        assert len(flags) == len(set(flags)), op.command
        if not op.content_types:
            assert op.body == () and op.body_required is False


def test_no_prose() -> None:
    for op in OPERATIONS:
        # The example line is generated from types (a command line, never the spec's).
        assert op.example is not None and op.example.startswith("oai ")
        for key, value in walk(replace(op, example=None)):
            if value is None:
                continue
            assert key not in {"description", "summary", "example", "examples", "title"}
            if isinstance(value, str) and key != "docs":
                assert len(value) <= 200, (op.command, key)
        if op.docs is not None:
            assert op.docs.startswith(gen.DOCS_BASE + "/")
            assert " " not in op.docs


# --------------------------------------------------------------------------- generator


@needs_spec
def test_check_passes_on_committed_output() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools.gen_catalogue", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "OAI_OPENAPI_SPEC": str(SPEC)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


@needs_spec
def test_generation_is_deterministic() -> None:
    spec = gen.load_spec(SPEC)
    rows = gen.load_rows(TSV)
    first = gen.generate(spec, rows, gen.Notes())
    second = gen.generate(gen.load_spec(SPEC), list(rows), gen.Notes())
    assert first == second
    assert str(spec["info"]["version"]) == catalogue.SPEC_VERSION


MINI_SPEC = """\
openapi: 3.1.0
info: {title: t, version: 9.9.9}
paths:
  /files/{file_id}:
    post:
      operationId: updateFile
      x-oaiMeta: {name: n, group: files, path: "update extra words"}
      parameters:
        - {name: file_id, in: path, required: true, schema: {type: string}}
        - {name: purpose, in: query, schema: {type: string}}
        - {name: "tags[]", in: query, schema: {$ref: '#/components/schemas/Tags'}}
        - {name: OpenAI-Beta, in: header, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              allOf:
                - $ref: '#/components/schemas/Base'
                - type: object
                  required: [mode]
                  properties:
                    mode: {anyOf: [{type: string}, {type: string, enum: [a, b]}], default: a}
                    limit: {type: [integer, "null"], default: 3}
                    stop: {oneOf: [{type: string}, {type: array, items: {type: string}}]}
                    n: {anyOf: [{type: integer}, {type: string, enum: [auto]}]}
                    kind: {const: fixed}
                    meta: {type: object, additionalProperties: {type: string}}
          multipart/form-data:
            schema:
              type: object
              required: [mode, upload]
              properties:
                mode: {type: string, enum: [b, c]}
                upload:
                  anyOf:
                    - $ref: '#/components/schemas/Bin'
                    - {type: array, items: {$ref: '#/components/schemas/Bin'}}
                ref: {type: string, format: binary}
            encoding:
              mode: {contentType: text/plain}
  /files:
    get:
      operationId: listFiles
      parameters:
        - {name: limit, in: query, schema: {type: integer, default: 20}, deprecated: true}
components:
  schemas:
    Tag: {anyOf: [{type: string, enum: [x, y]}, {type: "null"}]}
    Tags: {type: array, items: {$ref: '#/components/schemas/Tag'}}
    Bin: {type: string, format: binary}
    Base:
      type: object
      properties:
        purpose: {type: string, nullable: true}
        ref: {type: object}
"""

MINI_TSV = (
    "command\tusage\tmethod\tpath\toperation_id\ttag\tsdk_method\trequest_types\tstreams"
    "\tbinary_response\tpagination\tauth\n"
    "oai files update\toai files update FILE_ID\tPOST\t/files/{file_id}\tupdateFile\tFiles"
    "\tfiles.update\tapplication/json,multipart/form-data\t\t\t\tApiKeyAuth\n"
    "oai files list\toai files list\tGET\t/files\tlistFiles\tFiles\tfiles.list\t\t\t\tcursor"
    "\tAdminApiKeyAuth\n"
)


@pytest.fixture
def mini(tmp_path: Path) -> tuple[Path, Path]:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(MINI_SPEC, encoding="utf-8")
    (tmp_path / "operations.tsv").write_text(MINI_TSV, encoding="utf-8")
    return spec, tmp_path / "out"


def load_generated(out: Path, module: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec((out / f"{module}.py").read_text(encoding="utf-8"), namespace)
    return namespace


def test_resolution_rules_on_a_small_spec(mini: tuple[Path, Path]) -> None:
    spec, out = mini
    assert gen.main(["--spec", str(spec), "--out", str(out)]) == 0
    index = load_generated(out, "__init__")
    assert index["SPEC_VERSION"] == "9.9.9"
    assert index["GROUPS"] == {"files": "files"}
    update, listing = load_generated(out, "files")["OPERATIONS"]

    assert update.docs == f"{gen.DOCS_BASE}/files/update"
    assert listing.docs is None
    assert listing.admin is True and listing.pagination == "cursor"
    assert listing.query[0].deprecated is True
    assert update.content_types == ("application/json", "multipart/form-data")
    assert update.body_required is True

    query = {p.name: p for p in update.query}
    # A query parameter that shares its flag with a body field gets the prefix.
    assert query["purpose"].flag == "--query-purpose"
    assert query["tags[]"].flag == "--tags"
    assert (query["tags[]"].type, query["tags[]"].items) == ("array", "string")
    assert query["tags[]"].enum == ("x", "y")
    assert update.headers[0].flag == "--openai-beta"

    body = {p.name: p for p in update.body}
    assert list(body) == ["purpose", "ref", "mode", "limit", "stop", "n", "kind", "meta", "upload"]
    assert body["purpose"].flag == "--purpose"
    assert (body["purpose"].type, body["purpose"].content) == ("string", ("json",))
    assert body["mode"].enum == ("a", "b", "c")
    assert body["mode"].open_enum is True
    assert body["mode"].required is True
    assert body["mode"].default is None  # differs between the two content types
    assert body["mode"].content == ("json", "multipart")
    # The spec's encoding of a form field: its own part, of that type.
    assert (body["mode"].part_type, body["purpose"].part_type) == ("text/plain", None)
    assert (body["limit"].type, body["limit"].default) == ("integer", 3)
    assert body["stop"].type == "string_or_json"
    assert (body["n"].type, body["n"].enum, body["n"].open_enum) == (
        "string_or_json",
        ("auto",),
        False,
    )
    assert (body["kind"].type, body["kind"].enum) == ("string", ("fixed",))
    assert body["meta"].type == "json"
    assert (body["upload"].type, body["upload"].items) == ("array", "file")
    # Only the multipart body requires it, so the JSON form must not demand it.
    assert body["upload"].required is False
    assert (body["ref"].type, body["ref"].content) == ("file", ("json", "multipart"))


def test_check_reports_stale_and_missing_files(
    mini: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    spec, out = mini
    assert gen.main(["--spec", str(spec), "--out", str(out), "--check"]) == 1
    assert "files.py" in capsys.readouterr().out
    assert gen.main(["--spec", str(spec), "--out", str(out)]) == 0
    assert gen.main(["--spec", str(spec), "--out", str(out), "--check"]) == 0
    assert capsys.readouterr().out == ""
    (out / "files.py").write_text("# edited\n", encoding="utf-8")
    (out / "extra.py").write_text("", encoding="utf-8")
    assert gen.main(["--spec", str(spec), "--out", str(out), "--check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert any("files.py" in line for line in lines)
    assert any("extra.py" in line for line in lines)


RENDER_SAMPLE = {
    "a": ["x" * 120, {"b": None, "c": True, "d": 1.5, "e": 1e20, "f": -2}],
    "q": ['say "hi"', "it's", 'both \' and ""', "tab\tnew\nline\x00", "back\\slash"],
    "deep": [[["y" * 30] * 4] * 2],
    "tuples": [(), ("one",), ("z" * 60, "w" * 60), (("k" * 50, "v" * 50),)],
}
CALL_SAMPLE = gen.Call(
    "C",
    {
        "short": gen.Call("C", {"a": 1, "b": ("x",)}),
        "long": (gen.Call("C", {"name": "n" * 40, "flag": "--" + "f" * 40, "e": ("q" * 30,) * 3}),),
        "empty": (),
    },
)


def as_data(value: Any) -> Any:
    """What a rendered literal evaluates to when ``C(**kwargs)`` builds a dict."""
    if isinstance(value, gen.Call):
        return {k: as_data(v) for k, v in value.kwargs.items()}
    if isinstance(value, tuple):
        return tuple(as_data(v) for v in value)
    return value


def test_rendering_is_valid_python() -> None:
    for value in (RENDER_SAMPLE, CALL_SAMPLE):
        text = "\n".join(gen.render_lines(value, 0, prefix="X = "))
        namespace: dict[str, Any] = {"C": lambda **kwargs: kwargs}
        exec(text, namespace)
        assert namespace["X"] == as_data(value)


def test_rendering_matches_ruff_format(tmp_path: Path) -> None:
    pytest.importorskip("ruff")
    sample = tmp_path / "sample.py"
    lines = [
        *gen.render_lines(RENDER_SAMPLE, 0, prefix="X = "),
        *gen.render_lines(CALL_SAMPLE, 0, prefix="Y = "),
    ]
    sample.write_text("\n".join(lines) + "\n")
    options = ["--diff", "--isolated", "--line-length", str(gen.LINE_LENGTH)]
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", *options, str(sample)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- spot checks


def test_chat_completions_create() -> None:
    op = find("chat", "completions", "create")
    assert op.streams is True and op.content_types == ("application/json",)
    model = param(op, "body", "model")
    assert (model.type, model.required, model.open_enum) == ("string", True, True)
    assert "gpt-4o" in model.enum
    messages = param(op, "body", "messages")
    assert (messages.type, messages.required) == ("json", True)
    assert param(op, "body", "stream").type == "boolean"
    assert param(op, "body", "stop").type == "string_or_json"
    assert param(op, "body", "temperature").type == "number"
    assert param(op, "body", "functions").deprecated is True


def test_files_create() -> None:
    op = find("files", "create")
    assert op.content_types == ("multipart/form-data",)
    file = param(op, "body", "file")
    assert (file.type, file.required, file.content) == ("file", True, ("multipart",))
    purpose = param(op, "body", "purpose")
    assert purpose.type == "string" and "fine-tune" in purpose.enum
    assert purpose.open_enum is False


def test_fine_tuning_list_events() -> None:
    op = find("fine-tuning", "jobs", "list-events")
    assert op.path == "/fine_tuning/jobs/{fine_tuning_job_id}/events"
    assert op.path_params == (
        model.PathParam(name="fine_tuning_job_id", metavar="FINE_TUNING_JOB_ID", type="string"),
    )
    assert [p.name for p in op.query] == ["after", "limit"]
    assert param(op, "query", "limit").default == 20
    assert op.pagination == "cursor"


def test_admin_audit_logs_list() -> None:
    op = find("admin", "organization", "audit-logs", "list")
    assert op.admin is True
    event_types = param(op, "query", "event_types[]")
    assert event_types.flag == "--event-types"
    assert (event_types.type, event_types.items) == ("array", "string")
    assert event_types.enum and "api_key.created" in event_types.enum
    assert param(op, "query", "effective_at").type == "json"


def test_images_edit() -> None:
    op = find("images", "edit")
    assert op.content_types == ("multipart/form-data", "application/json")
    # One or several uploads: a repeatable file flag covers both forms.
    image = param(op, "body", "image")
    assert (image.type, image.items, image.content) == ("array", "file", ("multipart",))
    images = param(op, "body", "images")
    assert (images.type, images.content) == ("json", ("json",))
    mask = param(op, "body", "mask")
    assert (mask.type, mask.content) == ("file", ("json", "multipart"))
    assert param(op, "body", "prompt").required is True


def test_binary_and_beta_operations() -> None:
    assert find("audio", "speech", "create").binary is True
    assert find("videos", "download-content").binary is True
    beta_responses = [op for op in OPERATIONS if op.command[:2] == ("beta", "responses")]
    assert len(beta_responses) == 7
    assert all(op.fixed_query == (("beta", "true"),) for op in beta_responses)
    assert all(op.fixed_query == () for op in OPERATIONS if op.command[0] != "beta")
    assert param(beta_responses[0], "headers", "openai-beta").flag == "--openai-beta"


def test_realtime_calls_create_keeps_both_content_types() -> None:
    op = find("realtime", "calls", "create")
    assert op.content_types == ("multipart/form-data", "application/sdp")
    assert param(op, "body", "sdp").required is True
    assert param(op, "body", "session").type == "json"


def test_union_classifications() -> None:
    assert param(find("embeddings", "create"), "body", "input").type == "string_or_json"
    voice = param(find("audio", "speech", "create"), "body", "voice")
    assert (voice.type, voice.open_enum) == ("string_or_json", True)
    tool_choice = param(find("chat", "completions", "create"), "body", "tool_choice")
    assert tool_choice.enum == ("none", "auto", "required")
    assert tool_choice.open_enum is False
    videos = find("videos", "create")
    reference = param(videos, "body", "input_reference")
    assert (reference.type, reference.content) == ("file", ("json", "multipart"))


def test_index_module_stays_small() -> None:
    # `oai --help` imports only the index, so it must not pull in the operation modules.
    tree = ast.parse((CATALOGUE_DIR / "__init__.py").read_text(encoding="utf-8"))
    # Statements at the top level run on import; the TYPE_CHECKING block does not.
    imported = {
        alias.name if isinstance(node, ast.Import) else node.module
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported == {"__future__", "importlib", "typing"}


# --------------------------------------------------------------------------- help facts


def _param(command: str, flag: str) -> Any:
    op = next(op for op in OPERATIONS if " ".join(op.command) == command)
    return next(p for p in op.params if p.flag == flag)


def test_points_in_time_are_unix_seconds_by_name() -> None:
    assert _param("admin organization usage costs", "--start-time").unit == "Unix seconds"
    assert _param("admin organization usage costs", "--end-time").unit == "Unix seconds"
    assert _param("admin organization admin-api-keys create", "--expires-in-seconds").unit == (
        "seconds"
    )
    assert _param("chat completions create", "--max-tokens").unit is None
    units = {p.unit for op in OPERATIONS for p in op.params}
    assert units == {None, "Unix seconds", "seconds", "bytes"}
    assert all(p.type in ("integer", "array") for op in OPERATIONS for p in op.params if p.unit)


def test_json_flags_carry_their_shape_and_numbers_their_range() -> None:
    assert _param("chat completions create", "--response-format").shape == (
        "{type: text|json_schema|json_object, json_schema: {description, name, schema, strict}}"
    )
    temperature = _param("chat completions create", "--temperature")
    assert (temperature.minimum, temperature.maximum) == (0, 2)
    for op in OPERATIONS:
        for p in op.params:
            assert (p.shape is not None) == (p.type in ("json", "string_or_json")), p.flag
            if p.type not in ("integer", "number"):
                assert p.minimum is None and p.maximum is None, p.flag


def test_every_operation_has_an_example_of_its_own_command() -> None:
    for op in OPERATIONS:
        assert op.example is not None
        assert op.example.startswith(" ".join(("oai", *op.command))), op.command
        for p in op.params:
            if p.required:
                assert f" {p.flag} " in op.example + " " or f" --no-{p.flag[2:]}" in op.example
    assert _param("admin organization admin-api-keys create", "--name")  # sanity
    retrieve = next(op for op in OPERATIONS if op.command == ("files", "retrieve"))
    assert retrieve.example == "oai files retrieve file-abc123"
