"""``oai tokens count``: exact counts with the model's encoding, offline."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import Result, invoke


def n(r: Result) -> int:
    return int(json.loads(r.out)["tokens"])


def test_the_encodings_give_tiktokens_published_token_ids() -> None:
    # tiktoken's own tests: "hello world" in cl100k_base and o200k_base.
    import bpe_openai

    assert bpe_openai.get_encoding("cl100k_base").encode("hello world") == [15339, 1917]
    assert bpe_openai.get_encoding("o200k_base").encode("hello world") == [24912, 2375]


def test_counts_match_published_values() -> None:
    r = invoke("tokens", "count", "hello world", "--model", "gpt-4o")
    assert (r.code, n(r), r.err) == (0, 2, "")
    # OpenAI's cookbook: "tiktoken is great!" is 6 tokens in cl100k_base.
    r = invoke("tokens", "count", "tiktoken is great!", "--model", "gpt-4")
    assert (r.code, n(r)) == (0, 6)


def test_the_model_decides_the_encoding() -> None:
    text = "こんにちは世界"
    counts = {}
    for model in ("gpt-4o-mini", "gpt-3.5-turbo", "ft:gpt-4.1-mini-2025-04-14:acme::x1", "gpt-4"):
        r = invoke("tokens", "count", text, "--model", model, "-o", "json")
        assert r.code == 0, r
        counts[model] = json.loads(r.out)
    assert {m: c["encoding"] for m, c in counts.items()} == {
        "gpt-4o-mini": "o200k_base",
        "gpt-3.5-turbo": "cl100k_base",
        "ft:gpt-4.1-mini-2025-04-14:acme::x1": "o200k_base",
        "gpt-4": "cl100k_base",
    }
    assert counts["gpt-4o-mini"]["tokens"] == 2
    assert counts["gpt-4"]["tokens"] == 4


def test_an_unknown_model_is_said_never_guessed() -> None:
    r = invoke("tokens", "count", "hi", "--model", "llama-3")
    assert r.code == 2
    assert r.out == ""
    assert r.err == (
        "oai: --model: the encoding of 'llama-3' is not known; "
        "pick one with --encoding (o200k_base, cl100k_base)\n"
    )
    r = invoke("tokens", "count", "hello world", "--model", "llama-3", "--encoding", "cl100k_base")
    assert (r.code, n(r)) == (0, 2)


def test_file_and_stdin(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("tiktoken is great!")
    assert n(invoke("tokens", "count", "--file", str(path), "--model", "gpt-4")) == 6
    assert n(invoke("tokens", "count", "-", "--model", "gpt-4", input="hello world")) == 2
    r = invoke("tokens", "count", "hi", "--file", str(path), "--model", "gpt-4")
    assert (r.code, r.err) == (2, "oai: TEXT: give one of TEXT, --file or --body\n")


def test_a_chat_body_counts_the_message_overhead() -> None:
    # 3 per message, the role, the text, 3 for the reply's primer (OpenAI's guide).
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello world"}]}
    r = invoke("tokens", "count", "--body", json.dumps(body))
    assert (r.code, n(r), r.err) == (0, 9, "")
    two = {**body, "messages": [{"role": "system", "content": "hello world", "name": "x"}] * 2}
    assert n(invoke("tokens", "count", "--body", json.dumps(two))) == 3 + 2 * (3 + 1 + 2 + 2)


def test_a_body_with_images_is_an_estimate_and_says_so() -> None:
    content = [{"type": "text", "text": "hello world"}, {"type": "image_url", "image_url": {}}]
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": content}]}
    r = invoke("tokens", "count", "--body", json.dumps(body), "-o", "json")
    assert r.code == 0
    assert json.loads(r.out) == {
        "tokens": 9,
        "encoding": "o200k_base",
        "model": "gpt-4o",
        "exact": False,
    }
    assert r.err == "oai: an estimate: images and files are billed by rules not counted here\n"


@settings(max_examples=25, deadline=None)
@given(
    st.text(
        st.characters(exclude_categories=["Cs"], exclude_characters="\ufeff"),
        min_size=1,
        max_size=40,
    )
)
def test_one_message_is_its_text_plus_seven(text: str) -> None:
    plain = invoke("tokens", "count", "--encoding", "o200k_base", "-", input=text.encode())
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}
    counted = invoke("tokens", "count", "--body", json.dumps(body))
    assert plain.code == counted.code == 0
    assert n(counted) == n(plain) + 7
