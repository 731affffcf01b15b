"""Write the facts-only copy of the OpenAPI spec that the generator and the tests read.

The upstream spec lives beside a checkout (../shared/openapi), not in it, and its prose
must not be copied into the project. This keeps what a machine reads (names, types,
enums, formats, defaults, required lists, $refs) as compact JSON in tools/openapi/, with the
operations table that sits beside the spec, so that a clone generates the catalogue and
runs the contract tests on its own.

    python -m tools.spec_facts UPSTREAM_SPEC [-o OUT] [--check]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from tools._generated import Folder, sync

REPO = Path(__file__).resolve().parent.parent
FACTS_SPEC = REPO / "tools" / "openapi" / "openapi.facts.json"
# Where the upstream spec is found beside a checkout, when it is there.
UPSTREAM = REPO.parent / "shared" / "openapi" / "openapi.yaml"
# The generator and the tests look for the operations table beside the spec they read.
TABLE = "operations.tsv"

# Words written for people. Anywhere else than as the name of a field (see NAMED) they are
# dropped with everything under them.
PROSE = frozenset({"description", "summary", "title", "example", "examples", "x-oaiMeta"})

# Objects whose keys are names chosen by the API (fields, paths, media types, status
# codes, components), not keywords: a field called "description" is part of the API.
NAMED = frozenset(
    {
        "properties",
        "patternProperties",
        "dependentSchemas",
        "$defs",
        "definitions",
        "paths",
        "webhooks",
        "callbacks",
        "schemas",
        "parameters",
        "responses",
        "requestBodies",
        "headers",
        "securitySchemes",
        "links",
        "pathItems",
        "content",
        "encoding",
        "mapping",
    }
)

# Values that are data of the API (or of a code generator), kept exactly as they are even
# when they are objects with a key that looks like prose.
VERBATIM = frozenset({"default", "const", "enum", "required"})

METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})

# An operation's x-oaiMeta is mostly prose (its name, examples, what it returns), but its
# `group` and the leading slug of its `path` are the segments of the operation's page in
# the API reference, which the catalogue links to. Only those are kept, and only when
# they have the shape of a URL segment; upstream a `path` sometimes runs on into words.
LINK_KEYS = ("group", "path")
SLUG = re.compile(r"[A-Za-z0-9_/-]+")

# OpenAPI requires info.title, and Steady warns without one: the copy carries this
# name of its own instead of upstream's.
TITLE = "OpenAI API, facts only"


class SpecError(Exception):
    """The upstream spec is not what this tool can make a copy of."""


def strip(node: Any, *, named: bool = False) -> Any:
    """``node`` without its prose; ``named`` says its keys are names, not keywords."""
    if isinstance(node, dict):
        if named:
            return {key: strip(value) for key, value in node.items()}
        return {
            key: value
            if key in VERBATIM or (key.startswith("x-") and key not in PROSE)
            else strip(value, named=key in NAMED and isinstance(value, dict))
            for key, value in node.items()
            if key not in PROSE
        }
    if isinstance(node, list):
        return [strip(item) for item in node]
    return node


def page_link(meta: Any) -> dict[str, str] | None:
    """The reference-page segments of an operation's x-oaiMeta, or None if it has none."""
    if not isinstance(meta, dict):
        return None
    link = {}
    for key in LINK_KEYS:
        match = SLUG.match(str(meta.get(key) or ""))
        if match:
            link[key] = match.group(0)
    return link if "group" in link else None


def facts(spec: dict[str, Any]) -> dict[str, Any]:
    """The copy: ``spec`` without prose, each operation keeping its page link."""
    copy: dict[str, Any] = strip(spec)
    copy["info"] = {"title": TITLE, **copy.get("info", {})}
    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS or not isinstance(operation, dict):
                continue
            link = page_link(operation.get("x-oaiMeta"))
            if link is not None:
                copy["paths"][path][method]["x-oaiMeta"] = link
    return copy


def encode(node: Any) -> str:
    """Compact JSON that a YAML 1.1 loader reads back the same (readers use one, as JSON
    is YAML): such a loader reads an exponent without a point (``1e-05``) as a string."""
    if isinstance(node, dict):
        return "{" + ",".join(f"{encode(key)}:{encode(value)}" for key, value in node.items()) + "}"
    if isinstance(node, list):
        return "[" + ",".join(encode(item) for item in node) + "]"
    if isinstance(node, float) and "e" in repr(node) and "." not in repr(node):
        return repr(node).replace("e", ".0e")
    return json.dumps(node, ensure_ascii=False)


def render(copy: dict[str, Any]) -> str:
    text = encode(copy) + "\n"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    if yaml.load(text, Loader=loader) != copy or json.loads(text) != copy:
        raise SpecError("the copy does not read back the same as JSON and as YAML")
    return text


def load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        spec = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(spec, dict) or not isinstance(spec.get("paths"), dict):
        raise SpecError(f"{path} is not an OpenAPI document")
    return spec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.spec_facts", description=__doc__)
    parser.add_argument("upstream", type=Path, metavar="UPSTREAM_SPEC", help="openapi.yaml")
    parser.add_argument(
        "-o",
        "--out",
        type=Path,
        default=FACTS_SPEC,
        help=f"the copy (default {FACTS_SPEC.relative_to(REPO)})",
    )
    parser.add_argument(
        "--check", action="store_true", help="compare with the files on disk, write nothing"
    )
    args = parser.parse_args(argv)
    upstream: Path = args.upstream
    out: Path = args.out
    try:
        files = {
            out.name: render(facts(load(upstream))),
            TABLE: (upstream.with_name(TABLE)).read_text(encoding="utf-8"),
        }
    except (OSError, SpecError, yaml.YAMLError) as error:
        print(f"spec_facts: {error}", file=sys.stderr)
        return 2
    hint = f"run: python -m tools.spec_facts {upstream}" + (
        f" -o {out}" if out != FACTS_SPEC else ""
    )
    return sync(Folder(out.parent), files, check=args.check, hint=hint, say_written=True)


if __name__ == "__main__":
    sys.exit(main())
