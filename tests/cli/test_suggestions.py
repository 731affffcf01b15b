"""An unknown option is answered with close matches only, else a pointer to --help."""

from __future__ import annotations

from difflib import SequenceMatcher

import pytest

from tests.helpers import invoke


@pytest.mark.parametrize(
    ("args", "wrong"),
    [(("models", "list"), "--bogus"), (("files", "list"), "--xyz"), (("profile", "list"), "--zz")],
)
def test_a_word_like_no_option_suggests_none(args: tuple[str, ...], wrong: str) -> None:
    r = invoke(*args, wrong)
    assert r.code == 2, r
    where = "oai " + " ".join(args)
    assert r.err == f"{where}: No such option: {wrong}\n  see '{where} --help'\n"


@pytest.mark.parametrize(
    ("args", "typo", "meant"),
    [
        (("chat", "completions", "create"), "--modle", "--model"),
        (("files", "create"), "--purpos", "--purpose"),
        (("files", "list"), "--limt", "--limit"),
        (("models", "list"), "--verbos", "--verbose"),
    ],
)
def test_a_typo_gets_the_option_it_is_close_to(
    args: tuple[str, ...], typo: str, meant: str
) -> None:
    r = invoke(*args, typo, "x")
    assert r.code == 2, r
    assert f"No such option: {typo} (Possible options: {meant})" in r.err
    offered = r.err.split("(Possible options: ")[1].split(")")[0].split(", ")
    assert all(SequenceMatcher(None, typo, o).ratio() >= 0.75 for o in offered)
