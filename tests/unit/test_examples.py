"""Help examples hold values a person would type, never their own field's name."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from openai_cli.operations import catalogue
from tests.examples import Example, examples


def _norm(name: str) -> str:
    return name.lstrip("-").lower().replace("_", "-")


def _json_repeats(value: Any, key: str | None = None) -> list[str]:
    if isinstance(value, dict):
        return [r for k, v in value.items() for r in _json_repeats(v, k)]
    if isinstance(value, list):
        return [r for v in value for r in _json_repeats(v, key)]
    if key is not None and isinstance(value, str) and _norm(value) == _norm(key):
        return [f'"{key}": "{value}"']
    return []


def repeats(words: list[str]) -> list[str]:
    """Values among ``words`` (one oai command) that only repeat their flag's or key's name."""
    found = []
    for flag, value in itertools.pairwise(words):
        if flag.startswith("--") and not value.startswith("-") and _norm(value) == _norm(flag):
            found.append(f"{flag} {value}")
    for word in words:
        if word[:1] in "[{":
            try:
                found += _json_repeats(json.loads(word))
            except ValueError:
                continue
    return found


@pytest.mark.parametrize(
    "line",
    [
        "oai uploads create --filename filename --mime-type mime-type",
        "oai containers create --name name",
        "oai fine-tuning jobs create --training-file training_file",
        """oai evals create --testing-criteria '[{"input": [{"role": "role"}]}]'""",
        """oai evals create --testing-criteria '[{"passing_labels": ["passing-labels"]}]'""",
    ],
)
def test_the_check_catches_a_value_that_names_its_field(line: str) -> None:
    assert repeats(Example("x", line).stages()[0]) != []


def test_no_example_value_repeats_its_own_flag_or_field() -> None:
    found = [
        f"{e.command}: {r}"
        for e in examples()
        for words in e.stages()
        if words[0] == "oai"
        for r in repeats(words)
    ]
    assert found == []


def test_examples_cover_every_operation_and_the_hand_written_commands() -> None:
    have = {e.command for e in examples()}
    operations = {" ".join(op.command) for g in catalogue.GROUPS for op in catalogue.load(g)}
    assert operations <= have
    assert {"ask", "map", "batches run", "batches prepare", "vector-stores files upload"} <= have


def test_examples_of_commands_that_write_bytes_name_the_file() -> None:
    ops = [op for g in catalogue.GROUPS for op in catalogue.load(g)]
    binary = {" ".join(op.command) for op in ops if op.binary}
    assert {"files content", "audio speech create", "videos download-content"} <= binary
    for e in examples():
        if e.command in binary:
            assert " -O " in f" {e.line} ", e.line


def test_every_hand_chosen_field_and_flag_reaches_its_example() -> None:
    from tools.gen_catalogue import hand_examples

    ops = {" ".join(op.command): op for g in catalogue.GROUPS for op in catalogue.load(g)}
    missing = []
    for command, hand in hand_examples().items():
        op = ops.get(command)
        if op is None or op.example is None:
            missing.append(f"{command}: no such operation")
            continue
        words = op.example.split()
        flags = {p.name: p.flag for p in op.params}
        paths = {p.name for p in op.path_params}
        for name in hand.get("fields", {}):
            if name not in paths and flags.get(name) not in words:
                missing.append(f"{command}: field {name}")
        for flag in hand.get("flags", []):
            if flag.startswith("-") and flag not in words:
                missing.append(f"{command}: flag {flag}")
    assert missing == []
