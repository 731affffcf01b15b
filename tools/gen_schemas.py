"""Generate the request schemas that `oai` checks bodies against, offline (operations/schemas).

From the facts-only spec: for every operation with a JSON request body, its schema, and
the line schema of each fine-tuning method, as JSON Schema (2020-12) sharing one table of
definitions. OpenAPI's own keywords are turned into JSON Schema's (``nullable``,
``$recursiveRef``) and what a validator has no use for is dropped (``x-`` keys,
``format``, ``default``, ``deprecated``), which keeps the file small to load.

    python -m tools.gen_schemas [--spec PATH] [--out DIR] [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tools._generated import Folder, sync
from tools.gen_catalogue import CatalogueError, default_spec, load_spec

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "openai_cli" / "operations" / "schemas"
FILE = "requests.json"
PREFIX = "#/components/schemas/"
DROPPED = frozenset({"format", "default", "deprecated", "discriminator"})

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": PREFIX + name}


def _array(items: Schema, **bounds: int) -> Schema:
    return {"type": "array", "items": items, **bounds}


# The lines of a fine-tuning file, by method, in the spec's own parts: a chat example
# (supervised), a preference pair (dpo), or a prompt for a grader (reinforcement, whose
# extra fields are the grader's reference data).
_TOOLS = {
    "tools": _array(_ref("ChatCompletionTool")),
    "parallel_tool_calls": _ref("ParallelToolCalls"),
}
_TRAINED_MESSAGE = {
    "oneOf": [
        _ref("ChatCompletionRequestDeveloperMessage"),
        _ref("ChatCompletionRequestSystemMessage"),
        _ref("ChatCompletionRequestUserMessage"),
        _ref("FineTuneChatCompletionRequestAssistantMessage"),
        _ref("ChatCompletionRequestToolMessage"),
        _ref("ChatCompletionRequestFunctionMessage"),
    ],
    "discriminator": {"propertyName": "role"},
}
FINE_TUNE: dict[str, Schema] = {
    "supervised": {
        "type": "object",
        "required": ["messages"],
        "additionalProperties": False,
        "properties": {
            "messages": _array(_TRAINED_MESSAGE, minItems=1),
            **_TOOLS,
            "functions": _array(_ref("ChatCompletionFunctions")),
        },
    },
    "dpo": {
        "type": "object",
        "required": ["input", "preferred_output", "non_preferred_output"],
        "additionalProperties": False,
        "properties": {
            "input": {
                "type": "object",
                "required": ["messages"],
                "properties": {
                    "messages": _array(_ref("ChatCompletionRequestMessage"), minItems=1),
                    **_TOOLS,
                },
            },
            "preferred_output": _array(
                _ref("ChatCompletionRequestAssistantMessage"), minItems=1, maxItems=1
            ),
            "non_preferred_output": _array(
                _ref("ChatCompletionRequestAssistantMessage"), minItems=1, maxItems=1
            ),
        },
    },
    "reinforcement": {
        "type": "object",
        "required": ["messages"],
        "properties": {
            "messages": _array(_ref("ChatCompletionRequestMessage"), minItems=1),
            **_TOOLS,
        },
    },
}


def convert(node: Any, component: str | None = None) -> Any:
    """One spec schema as JSON Schema, its $refs pointing into the local table."""
    if isinstance(node, list):
        return [convert(item, component) for item in node]
    if not isinstance(node, dict):
        return node
    out: Schema = {}
    for key, value in node.items():
        if key.startswith("x-") or key in DROPPED or key in ("nullable", "$recursiveAnchor"):
            continue
        if key == "$ref":
            if not value.startswith(PREFIX):
                raise CatalogueError(f"unsupported $ref {value!r}")
            out[key] = "#/$defs/" + value[len(PREFIX) :]
        elif key == "$recursiveRef":
            # The spec's one use is the containing component itself ("#").
            if value != "#" or component is None:
                raise CatalogueError(f"unsupported $recursiveRef {value!r}")
            out["$ref"] = "#/$defs/" + component
        elif key in ("properties", "$defs"):
            out[key] = {name: convert(sub, component) for name, sub in value.items()}
        elif key in ("enum", "const", "required"):
            out[key] = value
        else:
            out[key] = convert(value, component)
    # The discriminator names the field that picks a branch: kept, in a word of our own,
    # for the messages (the validator itself ignores it).
    tag = node.get("discriminator")
    if isinstance(tag, dict) and isinstance(tag.get("propertyName"), str):
        out["x-tag"] = tag["propertyName"]
    # OpenAPI 3.0's boolean form of the exclusive bounds, as 2020-12 spells it.
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(bound), bool) and out.pop(bound) and limit in out:
            out[bound] = out.pop(limit)
    if node.get("nullable") is True:
        out = _nullable(out)
    return out


def _nullable(schema: Schema) -> Schema:
    kind = schema.get("type")
    if isinstance(kind, str) and "$ref" not in schema:
        schema = {**schema, "type": [kind, "null"]}
        if "enum" in schema and None not in schema["enum"]:
            schema["enum"] = [*schema["enum"], None]
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                found.add(value[len("#/$defs/") :])
            else:
                _refs(value, found)
    elif isinstance(node, list):
        for item in node:
            _refs(item, found)


def generate(spec: Schema) -> dict[str, str]:
    components: Schema = spec.get("components", {}).get("schemas", {})
    operations: dict[str, Schema] = {}
    for path, item in sorted(spec.get("paths", {}).items()):
        for method, op in item.items():
            if not isinstance(op, dict) or "requestBody" not in op:
                continue
            body = op["requestBody"].get("content", {}).get("application/json")
            if body and "schema" in body:
                operations[f"{method.upper()} {path}"] = convert(body["schema"])
    fine_tune = {method: convert(schema) for method, schema in FINE_TUNE.items()}
    # Only the definitions something reaches, followed to the end.
    wanted: set[str] = set()
    _refs([operations, fine_tune], wanted)
    defs: Schema = {}
    while wanted - set(defs):
        for name in sorted(wanted - set(defs)):
            if name not in components:
                raise CatalogueError(f"$ref to a missing schema: {name}")
            defs[name] = convert(components[name], name)
            _refs(defs[name], wanted)
    data = {
        "spec_version": str(spec["info"]["version"]),
        "operations": operations,
        "fine_tune": fine_tune,
        "$defs": dict(sorted(defs.items())),
    }
    text = json.dumps(data, separators=(",", ":"), sort_keys=False, ensure_ascii=False)
    return {FILE: text + "\n"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.gen_schemas", description=__doc__)
    parser.add_argument("--spec", type=Path, default=None, help="OpenAPI spec (JSON or YAML)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="schemas package")
    parser.add_argument(
        "--check", action="store_true", help="compare with the files on disk, write nothing"
    )
    args = parser.parse_args(argv)
    try:
        files = generate(load_spec(args.spec or default_spec()))
    except (OSError, CatalogueError, KeyError) as error:
        print(f"gen_schemas: {error}", file=sys.stderr)
        return 2
    return sync(Folder(args.out, leftovers="*.json"), files, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
