"""Our help is in our own words: no run of 8 words is copied from the spec's prose."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT.parent / "shared" / "openapi" / "openapi.yaml"
RUN = 8


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def runs(text: str) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[i : i + RUN]) for i in range(len(w) - RUN + 1)}


def prose(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "summary") and isinstance(value, str):
                yield value
            else:
                yield from prose(value)
    elif isinstance(node, list):
        for value in node:
            yield from prose(value)


def ours(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for k, value in node.items():
            yield from ours(value, k)
    elif isinstance(node, str):
        yield key, node


def copies(spec_text: list[str], help_files: list[Path]) -> list[str]:
    theirs = set().union(*(runs(t) for t in spec_text))
    found = []
    for path in help_files:
        for key, text in ours(tomllib.loads(path.read_text(encoding="utf-8"))):
            if runs(text) & theirs:
                found.append(f"{path.name}: {key} = {text!r}")
    return found


def test_the_check_finds_a_copied_sentence(tmp_path: Path) -> None:
    copied = tmp_path / "x.toml"
    copied.write_text('"a b" = "List the groups that have access to a project."\n')
    spec = ["List the groups that have access to a project, newest first."]
    assert copies(spec, [copied]) == [
        "x.toml: a b = 'List the groups that have access to a project.'"
    ]


def test_no_help_text_copies_the_spec() -> None:
    if not SPEC.is_file():
        pytest.skip(f"the upstream spec is not at {SPEC} (CI has it)")
    with SPEC.open(encoding="utf-8") as handle:
        spec = yaml.load(handle, Loader=yaml.CSafeLoader)
    help_files = sorted((ROOT / "openai_cli" / "operations" / "help").glob("*.toml"))
    assert copies(list(prose(spec)), help_files) == []
