"""Cost before, during and after a run: estimates from counted tokens and the price
table, ``--max-cost`` refusing before anything is sent, ``map`` stopping at its cap
and going on with a higher one, and the cost of the answers reported after."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import respx

from openai_cli.input.prices import load
from openai_cli.textfmt import dollars
from tests.helpers import api_env, invoke

PRICES = load()
MINI = PRICES.price("gpt-4o-mini")
CHAT = "/v1/chat/completions"


def line(i: int, **body: Any) -> dict[str, Any]:
    return {
        "custom_id": f"r{i}",
        "method": "POST",
        "url": CHAT,
        "body": {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "hello world"}],
            **body,
        },
    }


def write(path: Path, items: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(x) + "\n" for x in items))
    return str(path)


def per_million(tokens: int, price: float | None, factor: float = 1.0) -> float:
    assert price is not None
    return tokens * price / 1_000_000 * factor


# -- before: the estimate ---------------------------------------------------------------


def test_batches_validate_prints_input_tokens_and_the_range(tmp_path: Path) -> None:
    half = PRICES.batch_factor
    path = write(tmp_path / "in.jsonl", [line(1, max_tokens=1000), line(2, max_tokens=500)])
    r = invoke("batches", "validate", path)
    assert r.code == 0, r
    # "hello world" in one chat message: 2 tokens + 3 + 1 (role) + 3 = 9 each.
    low = per_million(18, MINI.input, half)
    high = low + per_million(1500, MINI.output, half)
    assert r.err.splitlines()[1] == (
        f"oai: 18 input tokens; estimated cost {dollars(low)} to {dollars(high)} "
        "at the Batch API's price"
    )


def test_one_input_token_is_said_in_the_singular(tmp_path: Path) -> None:
    one = {"model": "text-embedding-3-small", "input": "hello"}
    request = {"custom_id": "r1", "method": "POST", "url": "/v1/embeddings", "body": one}
    r = invoke("batches", "validate", write(tmp_path / "in.jsonl", [request]))
    assert r.code == 0, r
    assert r.err.splitlines()[0].endswith(": 1 request to /v1/embeddings, all valid")
    assert r.err.splitlines()[1].startswith("oai: 1 input token; estimated cost ")


def test_a_line_without_an_output_limit_leaves_the_range_open(tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", [line(1, max_tokens=10), line(2)])
    r = invoke("batches", "validate", path)
    assert r.code == 0, r
    assert "to open (line 2 sets no output limit)" in r.err


def test_a_model_without_a_price_is_named_not_free(tmp_path: Path) -> None:
    other = line(2)
    other["body"]["model"] = "gpt-4o-mini-turbo"
    path = write(tmp_path / "in.jsonl", [line(1, max_tokens=10), other])
    r = invoke("batches", "validate", path)
    assert r.code == 0, r
    assert "for the priced models; no price for gpt-4o-mini-turbo" in r.err


def test_batches_run_max_cost_refuses_before_the_upload(
    unsent: respx.MockRouter, tmp_path: Path
) -> None:
    route = unsent.route()
    big = "word " * 20_000
    path = write(tmp_path / "in.jsonl", [line(1, messages=[{"role": "user", "content": big}])])
    r = invoke("batches", "run", path, "--max-cost", "0.001", env=api_env())
    assert r.code == 2, r
    assert (
        "oai: --max-cost: the input alone is estimated at $0.0015, over the cap of $0.0010" in r.err
    )
    assert "nothing was sent" in r.err
    assert not route.called


def test_max_cost_refuses_a_model_it_cannot_price(unsent: respx.MockRouter, tmp_path: Path) -> None:
    route = unsent.route()
    body = {"model": "llama-3", "messages": [{"role": "user", "content": "hi"}]}
    path = tmp_path / "bodies.jsonl"
    path.write_text(json.dumps(body) + "\n")
    r = invoke("map", str(path), "--endpoint", CHAT, "--max-cost", "5", env=api_env())
    assert r.code == 2, r
    assert "--max-cost: cannot tell the cost: the encoding of llama-3 is not known" in r.err
    assert not route.called


def test_map_max_cost_refuses_before_the_first_request(
    unsent: respx.MockRouter, tmp_path: Path
) -> None:
    route = unsent.route()
    big = "word " * 20_000
    path = write(tmp_path / "in.jsonl", [line(1, messages=[{"role": "user", "content": big}])])
    r = invoke("map", path, "--max-cost", "0.001", env=api_env())
    assert r.code == 2, r
    assert "over the cap of $0.0010; nothing was sent" in r.err
    assert not route.called


def test_max_cost_takes_dollars_only(unsent: respx.MockRouter, tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", [line(1)])
    for bad in ("0", "-1", "ten", "nan", "inf"):
        r = invoke("map", path, "--max-cost", bad, env=api_env())
        assert r.code == 2
        assert r.err.startswith("oai: --max-cost: expected an amount of US dollars above 0"), r.err


# -- during and after: map's cap ------------------------------------------------------


def answer(request: httpx.Request) -> httpx.Response:
    # A million input tokens a line: $0.15 at gpt-4o-mini's price.
    return httpx.Response(
        200,
        json={
            "id": "x",
            "object": "chat.completion",
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [],
            "usage": {"prompt_tokens": 1_000_000, "completion_tokens": 0, "total_tokens": 1},
        },
    )


def test_map_stops_at_the_cap_and_resumes_with_a_higher_one(
    api: respx.MockRouter, tmp_path: Path
) -> None:
    route = api.post("/chat/completions").mock(side_effect=answer)
    path = write(tmp_path / "in.jsonl", [line(i) for i in range(1, 6)])
    out = tmp_path / "out.jsonl"
    each = per_million(1_000_000, MINI.input)
    args = ("map", path, "-O", str(out), "-c", "1", "--max-cost")
    r = invoke(*args, f"{2 * each}", env=api_env())
    assert r.code == 8, r
    assert route.call_count == 2
    assert [json.loads(x)["line"] for x in out.read_text().splitlines()] == [1, 2]
    assert (
        f"oai: stopped at the cap of {dollars(2 * each)}: the results end at line 2 of 5" in r.err
    )
    assert "--resume and a higher --max-cost goes on" in r.err

    # The same cap again: the file has spent it already.
    r = invoke(*args, f"{2 * each}", "--resume", env=api_env())
    assert r.code == 2, r
    assert route.call_count == 2
    assert "already cost" in r.err

    r = invoke(*args, "10", "--resume", env=api_env())
    assert r.code == 0, r
    assert route.call_count == 5
    assert [json.loads(x)["line"] for x in out.read_text().splitlines()] == [1, 2, 3, 4, 5]
    assert f"oai: 5,000,000 input tokens (0 cached), 0 output; cost {dollars(5 * each)}" in r.err


def test_map_reports_what_the_answers_cost(api: respx.MockRouter, tmp_path: Path) -> None:
    api.post("/chat/completions").mock(side_effect=answer)
    path = write(tmp_path / "in.jsonl", [line(1)])
    r = invoke("map", path, env=api_env())
    assert r.code == 0, r
    cost = dollars(per_million(1_000_000, MINI.input))
    assert f"oai: 1,000,000 input tokens (0 cached), 0 output; cost {cost}" in r.err


# -- fine-tuning data -------------------------------------------------------------------


def example(text: str) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "user", "content": text},
            {"role": "assistant", "content": "hello world"},
        ]
    }


def test_fine_tuning_validate_counts_tokens_and_estimates_training(tmp_path: Path) -> None:
    path = write(tmp_path / "ft.jsonl", [example(f"hello world {i}") for i in range(10)])
    r = invoke("fine-tuning", "validate", path, "--model", "gpt-4o-mini-2024-07-18")
    assert r.code == 0, r
    # Each: 2 messages of 3 + role 1 + text, and 3 for the primer: 3+1+4 + 3+1+2 + 3 = 17
    # ("hello world 7" is 4 tokens in o200k_base).
    per_pass = invoke("tokens", "count", "--encoding", "o200k_base", "hello world 1").out
    assert json.loads(per_pass)["tokens"] == 4
    training = PRICES.price("gpt-4o-mini").training
    assert training is not None
    cost = dollars(170 * 3 * training / 1_000_000)
    assert r.err.splitlines() == [
        "oai: messages per example: min 2, median 2, max 2",
        "oai: tokens per example: min 17, median 17, max 17",
        f"oai: about 510 training tokens (170 a pass, 3 epochs); estimated cost {cost}",
        f"oai: {path}: 10 examples, all valid",
    ]
    r = invoke("fine-tuning", "validate", path, "--model", "gpt-4o-mini", "--epochs", "1")
    assert "about 170 training tokens (170 a pass, 1 epoch)" in r.err


def test_an_example_over_the_model_s_limit_is_an_error(tmp_path: Path) -> None:
    items = [example("hi") for _ in range(9)] + [example("word " * 17_000)]
    items = [{**x, "messages": [*x["messages"], {"role": "user", "content": str(i)}]}
             for i, x in enumerate(items)]  # fmt: skip
    path = write(tmp_path / "ft.jsonl", items)
    r = invoke("fine-tuning", "validate", path, "--model", "gpt-3.5-turbo")
    assert r.code == 2, r
    assert f"{path}:10: 17,0" in r.err
    assert "tokens; gpt-3.5-turbo trains on at most 16,385 per example" in r.err
    assert invoke("fine-tuning", "validate", path, "--model", "gpt-4o-mini").code == 0


def test_fine_tuning_validate_refuses_a_model_it_cannot_count(tmp_path: Path) -> None:
    path = write(tmp_path / "ft.jsonl", [example(str(i)) for i in range(10)])
    r = invoke("fine-tuning", "validate", path, "--model", "llama-3")
    assert r.code == 2
    assert r.err.startswith("oai: --model: the encoding of 'llama-3' is not known")
