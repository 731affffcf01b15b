"""The facts-only copy of the spec in openapi/: no prose, current, enough for the catalogue,
and a suite that runs from the repository alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli import test_command_tree as command_tree
from tests.contract.steady import REQUIRE_ENV, SPEC_ENV
from tools import gen_catalogue, spec_facts

FACTS = spec_facts.FACTS_SPEC
UPSTREAM = spec_facts.UPSTREAM
needs_upstream = pytest.mark.skipif(
    not UPSTREAM.is_file(),
    reason=f"{UPSTREAM} not found: the copy is compared with upstream beside a checkout only",
)

PROSE = {"description", "summary", "title", "example", "examples", "x-oaiMeta"}
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def prose_fields(node: Any, where: tuple[str, ...] = ()) -> Iterator[str]:
    """The JSON pointer of every prose key in ``node``.

    Keys of a ``properties`` object are the API's field names, and entries of ``required``
    lists are values, not keys. The two things the copy writes on purpose are allowed:
    its own ``info.title``, and an operation's ``x-oaiMeta`` holding nothing but the
    URL segments of its reference page.
    """
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from prose_fields(item, (*where, str(index)))
        return
    if not isinstance(node, dict):
        return
    names = bool(where) and where[-1] == "properties"
    for key, value in node.items():
        here = (*where, key)
        if not names and key in PROSE and not allowed(here, value):
            yield "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in here)
        else:
            yield from prose_fields(value, here)


def allowed(where: tuple[str, ...], value: Any) -> bool:
    if where == ("info", "title"):
        return bool(value == spec_facts.TITLE)
    if len(where) == 4 and where[0] == "paths" and where[2] in METHODS:
        return (
            isinstance(value, dict)
            and set(value) <= {"group", "path"}
            and all(spec_facts.SLUG.fullmatch(str(v)) is not None for v in value.values())
        )
    return False


def test_the_copy_holds_no_prose() -> None:
    copy = json.loads(FACTS.read_text(encoding="utf-8"))
    assert list(prose_fields(copy)) == []
    # What stays is the API: 288 operations, and the fields named like prose.
    operations = [m for item in copy["paths"].values() for m in item if m in METHODS]
    assert len(operations) == 288
    schemas = copy["components"]["schemas"]
    assert "description" in schemas["CreateAssistantRequest"]["properties"]
    assert sum("x-oaiMeta" in copy["paths"][p].get(m, {}) for p in copy["paths"] for m in METHODS)


def test_the_check_finds_prose_where_it_is_and_only_there() -> None:
    node = {
        "info": {"title": "Some API", "version": "1"},
        "paths": {"/a": {"get": {"x-oaiMeta": {"group": "a", "name": "List a"}}}},
        "components": {
            "schemas": {
                "A": {
                    "properties": {"title": {"type": "string", "example": "x"}},
                    "required": ["title"],
                    "x-oaiMeta": {"group": "a"},
                }
            }
        },
    }
    assert list(prose_fields(node)) == [
        "#/info/title",
        "#/paths/~1a/get/x-oaiMeta",
        "#/components/schemas/A/properties/title/example",
        "#/components/schemas/A/x-oaiMeta",
    ]


UPSTREAM_MINI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "T", "description": "words", "version": "9.9.9"},
    "tags": [{"name": "Files", "description": "words"}],
    "x-oaiMeta": {"navigationGroups": [{"id": "a", "title": "words"}]},
    "paths": {
        "/files": {
            "summary": "words",
            "get": {
                "operationId": "listFiles",
                "summary": "words",
                "x-oaiMeta": {
                    "name": "words",
                    "group": "files",
                    "path": "list for the organization.",
                    "examples": {"request": {"curl": "words"}},
                },
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "description": "words",
                        "schema": {"type": "integer", "default": 20, "example": 5},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "words",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/File"},
                                "examples": {"one": {"value": {}}},
                            }
                        },
                    }
                },
            },
        }
    },
    "components": {
        "schemas": {
            "File": {
                "type": "object",
                "title": "words",
                "description": "words",
                "x-oaiMeta": {"name": "words", "example": "{}"},
                "required": ["description", "title"],
                "properties": {
                    "description": {"type": "string", "description": "words"},
                    "title": {"type": ["string", "null"], "title": "words"},
                    "examples": {"type": "array", "items": {"type": "string"}},
                    "meta": {"type": "object", "default": {"description": "a value"}},
                    "scale": {"type": "number", "minimum": 1e-05, "x-stainless-const": True},
                },
            }
        },
        "examples": {"one": {"summary": "words", "value": {}}},
    },
}

FACTS_MINI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": spec_facts.TITLE, "version": "9.9.9"},
    "tags": [{"name": "Files"}],
    "paths": {
        "/files": {
            "get": {
                "operationId": "listFiles",
                "x-oaiMeta": {"group": "files", "path": "list"},
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 20}}
                ],
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/File"}}
                        }
                    }
                },
            },
        }
    },
    "components": {
        "schemas": {
            "File": {
                "type": "object",
                "required": ["description", "title"],
                "properties": {
                    "description": {"type": "string"},
                    "title": {"type": ["string", "null"]},
                    "examples": {"type": "array", "items": {"type": "string"}},
                    "meta": {"type": "object", "default": {"description": "a value"}},
                    "scale": {"type": "number", "minimum": 1e-05, "x-stainless-const": True},
                },
            }
        },
    },
}


def test_prose_goes_and_fields_named_like_it_stay() -> None:
    assert spec_facts.facts(UPSTREAM_MINI) == FACTS_MINI


@pytest.fixture
def upstream(tmp_path: Path) -> Path:
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "openapi.yaml").write_text(yaml.safe_dump(UPSTREAM_MINI), encoding="utf-8")
    (folder / "operations.tsv").write_text("command\tusage\n", encoding="utf-8")
    return folder / "openapi.yaml"


def test_writes_the_copy_and_its_table_and_checks_them(
    upstream: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "repo" / "facts.json"
    assert spec_facts.main([str(upstream), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    # One compact line, whose numbers a YAML 1.1 loader (which the readers use) reads as
    # numbers too: 1e-05 would be a string to it.
    assert text.count("\n") == 1 and '": ' not in text
    assert '"minimum":1.0e-05' in text
    assert json.loads(text) == FACTS_MINI
    assert yaml.load(text, Loader=yaml.CSafeLoader) == FACTS_MINI
    assert (out.parent / "operations.tsv").read_text(encoding="utf-8") == "command\tusage\n"
    capsys.readouterr()

    assert spec_facts.main([str(upstream), "-o", str(out), "--check"]) == 0
    assert capsys.readouterr().out == ""
    out.write_text(text.replace("listFiles", "listFile"), encoding="utf-8")
    assert spec_facts.main([str(upstream), "-o", str(out), "--check"]) == 1
    assert capsys.readouterr().out == f"{out}: out of date\n"


def test_a_missing_upstream_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "openapi.yaml"
    assert spec_facts.main([str(missing), "-o", str(tmp_path / "out" / "f.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spec_facts: ") and str(missing) in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


@needs_upstream
def test_the_copy_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    assert spec_facts.main([str(UPSTREAM), "--check"]) == 0, capsys.readouterr().out


@needs_upstream
@pytest.mark.parametrize("spec", [FACTS, UPSTREAM], ids=["copy", "upstream"])
def test_the_catalogue_is_the_same_from_the_copy_and_from_upstream(
    spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gen_catalogue.main(["--spec", str(spec), "--check"]) == 0, capsys.readouterr()


def test_a_missing_spec_skips_the_command_tree_or_fails_where_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "openapi.yaml"
    monkeypatch.setenv(SPEC_ENV, str(missing))
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    # Past the caches, which an earlier test in this process may have filled.
    with pytest.raises(pytest.skip.Exception, match=f"spec not found at {missing}"):
        command_tree.spec_paths.__wrapped__()
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=f"{REQUIRE_ENV}=1"):
        command_tree.tsv_rows.__wrapped__()
