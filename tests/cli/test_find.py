"""Finding commands: suggestions from the whole tree for an unknown word, and ``oai help``."""

from __future__ import annotations

import json

import pytest
import respx
import typer
from typer.core import TyperGroup

from openai_cli.app import build
from openai_cli.operations.help import all_summaries
from tests.cli.test_command_tree import _loaded_modules
from tests.helpers import invoke, walk_commands

# (what was typed, the group that did not know the word, the word, the suggestion)
SUGGESTED = [
    (
        ("admin", "projects", "list"),
        "oai admin",
        "projects",
        "oai admin organization projects list",
    ),
    (("completions", "install"), "oai completions", "install", "oai completion install"),
    (("vector-store", "list"), "oai", "vector-store", "oai vector-stores list"),
    (("files", "lst"), "oai files", "lst", "oai files list"),
    # A hand-written tool's group suggests from the whole tree too.
    (("auth", "profile", "list"), "oai auth", "profile", "oai profile list"),
    # Words after the unknown one that are values (an id) do not lead astray.
    (("files", "retrive", "file-abc123"), "oai files", "retrive", "oai files retrieve"),
    (
        ("fine-tune", "jobs", "list", "--limit", "3"),
        "oai",
        "fine-tune",
        "oai fine-tuning jobs list",
    ),
]


@pytest.mark.parametrize(
    ("typed", "where", "word", "suggestion"), SUGGESTED, ids=[" ".join(s[0]) for s in SUGGESTED]
)
def test_an_unknown_word_suggests_the_closest_command_of_the_whole_tree(
    typed: tuple[str, ...], where: str, word: str, suggestion: str, unsent: respx.MockRouter
) -> None:
    r = invoke(*typed)
    assert r.code == 2, r
    assert r.out == ""
    assert r.err.splitlines() == [
        f"{where}: No such command {word!r}.",
        f"  did you mean `{suggestion}`?",
        f"  see '{where} --help'",
    ]


def test_an_ambiguous_word_shows_up_to_three_commands() -> None:
    r = invoke("list")
    assert r.code == 2, r
    lines = r.err.splitlines()
    assert lines[:2] == ["oai: No such command 'list'.", "  did you mean one of these?"]
    shown = [line.strip() for line in lines[2:-1]]
    assert len(shown) == 3
    assert all(s.startswith("oai ") and s.endswith(" list") for s in shown), shown
    assert lines[-1] == "  see 'oai --help'"


def test_a_word_like_no_command_gets_no_suggestion() -> None:
    r = invoke("files", "frobnicate")
    assert r.code == 2, r
    assert r.err.splitlines() == [
        "oai files: No such command 'frobnicate'.",
        "  see 'oai files --help'",
    ]


def test_the_index_is_built_only_on_the_way_to_the_error() -> None:
    help_of_one = _loaded_modules("-m", "openai_cli", "files", "list", "--help")
    assert "openai_cli.commands.help" not in help_of_one
    # The same report does see it when a word is unknown, so the check above means something.
    done = _loaded_modules("-m", "openai_cli", "files", "lst", code=2)
    assert "openai_cli.commands.help" in done
    assert "openai_cli.operations.catalogue.vector_stores" in done


# -- oai help --------------------------------------------------------------------------


def _tsv(out: str) -> dict[str, str]:
    rows = [line.split("\t") for line in out.splitlines()]
    assert all(len(r) == 2 for r in rows), rows
    return dict((command, summary) for command, summary in rows)


def test_help_finds_the_commands_that_hold_every_word(unsent: respx.MockRouter) -> None:
    r = invoke("help", "vector", "store", "file")
    assert r.code == 0, r
    found = _tsv(r.out)
    assert found["oai vector-stores files create"] == all_summaries()["vector-stores files create"]
    # A command added to a generated group, with its own line of help.
    assert "oai vector-stores files upload" in found
    assert "oai files list" not in found
    for command, summary in found.items():
        text = f"{command} {summary}".lower()
        assert all(w in text for w in ("vector", "store", "file")), command
    assert r.err == ""


def test_help_matches_words_in_any_case_and_in_summaries() -> None:
    r = invoke("help", "VECTOR", "Store", "file")
    assert r.code == 0, r
    assert _tsv(r.out) == _tsv(invoke("help", "vector", "store", "file").out)
    # Neither word is in a command's name, only in its summary.
    found = _tsv(invoke("help", "parsed", "text").out)
    assert "oai vector-stores files content" in found


def test_help_of_a_tool_command_is_its_own_first_line() -> None:
    found = _tsv(invoke("help", "--search", "auth").out)
    assert found["oai auth status"] == (
        "Show each setting, its value (keys masked) and where it comes from."
    )


def test_help_with_no_words_lists_every_command_of_the_tree() -> None:
    r = invoke("help")
    assert r.code == 0, r
    root = build()
    ctx = typer.Context(root, info_name="oai")
    leaves = {
        " ".join(("oai", *path))
        for path, cmd, _ in walk_commands(root, ctx)
        if not isinstance(cmd, TyperGroup)
    }
    listed = _tsv(r.out)
    assert set(listed) == leaves
    assert len(r.out.splitlines()) == len(leaves)
    assert "oai help" in listed
    assert all(listed.values()), [c for c, s in listed.items() if not s]


def test_help_json_is_a_list_of_commands_and_summaries() -> None:
    r = invoke("help", "vector", "store", "file", "-o", "json")
    assert r.code == 0, r
    rows = json.loads(r.out)
    assert {row["command"]: row["summary"] for row in rows} == _tsv(
        invoke("help", "vector", "store", "file").out
    )
    assert all(set(row) == {"command", "summary"} for row in rows)


def test_help_on_a_terminal_aligns_the_summaries_within_the_width() -> None:
    r = invoke("help", "vector", "store", "file", stdout_tty=True, env={"COLUMNS": "80"})
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert "\t" not in r.out
    starts = {len(line) - len(line.split("  ", 1)[1].lstrip()) for line in lines}
    assert len(starts) == 1, lines
    assert max(len(line) for line in lines) <= 80
    assert any(line.endswith("…") for line in lines)


def test_help_exits_1_when_nothing_matches() -> None:
    r = invoke("help", "no-such-thing-anywhere")
    assert r.code == 1, r
    assert r.out == ""
    assert r.err.splitlines() == ["oai help: no command matches 'no-such-thing-anywhere'"]


def test_help_when_nothing_matches_suggests_a_close_command() -> None:
    r = invoke("help", "files", "lst")
    assert r.code == 1, r
    assert r.err.splitlines()[1:] == ["  did you mean `oai files list`?"]


def test_help_of_a_command_path_is_that_commands_help() -> None:
    r = invoke("help", "files", "list")
    assert r.code == 0, r
    assert r.out == invoke("files", "list", "--help").out
    group = invoke("help", "vector-stores", "files")
    assert group.out == invoke("vector-stores", "files", "--help").out
    # --search looks for the words instead.
    searched = _tsv(invoke("help", "--search", "files", "list").out)
    assert {"oai files list", "oai vector-stores files list"} <= set(searched)


def test_help_refuses_an_unknown_format() -> None:
    r = invoke("help", "files", "-o", "xml")
    assert r.code == 2, r
    assert r.out == ""
    assert "-o/--output" in r.err
