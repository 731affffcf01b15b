"""Finding commands: suggestions from the whole tree for an unknown word, and ``oai help``."""

from __future__ import annotations

import pytest
import respx

from tests.cli.test_command_tree import _loaded_modules
from tests.helpers import invoke

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
    assert "openai_cli.api.catalogue.vector_stores" in done
