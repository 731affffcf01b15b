"""Request bodies checked against the API's schemas, offline, before anything is sent:
``batches validate``, ``batches run``, ``map``, ``--dry-run`` and ``fine-tuning validate``
(with ``files create --purpose fine-tune``); ``--no-validate`` and the profile's
``validate = false`` let a body through for a server that takes more."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from tests.helpers import api_env, invoke, write_config

CHAT_URL = "/v1/chat/completions"


def chat_line(i: int, role: str = "user", **body: Any) -> dict[str, Any]:
    return {
        "custom_id": f"req-{i}",
        "method": "POST",
        "url": CHAT_URL,
        "body": {"model": "m", "messages": [{"role": role, "content": f"q{i}"}], **body},
    }


def write(path: Path, items: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(x) + "\n" for x in items))
    return str(path)


def batch_file(tmp_path: Path, *bad: dict[str, Any]) -> str:
    return write(tmp_path / "in.jsonl", [chat_line(1), chat_line(2), *bad, chat_line(9)])


# -- batches validate -------------------------------------------------------------------


def test_batches_validate_names_the_line_the_field_and_what_was_expected(
    unsent: respx.MockRouter, tmp_path: Path
) -> None:
    route = unsent.route()
    path = batch_file(
        tmp_path,
        chat_line(3, role="usr"),
        chat_line(4, temperature="hot"),
        {**chat_line(5), "body": {"messages": [{"role": "user", "content": [{"type": "text"}]}]}},
    )
    r = invoke("batches", "validate", path, env=api_env())
    assert r.code == 2, r
    assert r.err.splitlines() == [
        f"oai: {path}: 4 problems found; fix them before sending the file",
        f"{path}:3: body.messages[0].role: 'usr' is not one of developer, system, user, "
        "assistant, tool, function",
        f"{path}:4: body.temperature: expected number, got a string",
        f"{path}:5: body.model: missing (required)",
        f"{path}:5: body.messages[0].content[0].text: missing (required)",
    ]
    assert not route.called


@pytest.mark.parametrize(
    ("bad", "said"),
    [
        (1, "1 problem found; fix it before sending the file"),
        (2, "2 problems found; fix them before sending the file"),
    ],
)
def test_batches_validate_counts_its_problems_in_their_number(
    tmp_path: Path, bad: int, said: str
) -> None:
    path = batch_file(tmp_path, *(chat_line(3 + i, role="usr") for i in range(bad)))
    r = invoke("batches", "validate", path)
    assert r.code == 2, r
    assert r.err.splitlines()[0] == f"oai: {path}: {said}"


def test_batches_validate_lists_up_to_the_cap_and_counts_the_rest(tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", [chat_line(i, role="usr") for i in range(1, 31)])
    r = invoke("batches", "validate", path)
    assert r.code == 2, r
    lines = r.err.splitlines()
    assert lines[0] == f"oai: {path}: 30 problems found; fix them before sending the file"
    assert len(lines) == 1 + 20 + 1
    assert lines[-1] == "... and 10 more"


def test_batches_validate_passes_a_valid_file_with_a_one_line_summary(tmp_path: Path) -> None:
    path = batch_file(tmp_path)
    r = invoke("batches", "validate", path)
    assert (r.code, r.out) == (0, ""), r
    assert r.err == (
        f"oai: {path}: 3 requests to {CHAT_URL}, all valid\n"
        "oai: no cost estimate: the encoding of m is not known, so its tokens are not counted\n"
    )


# -- batches run, map, --dry-run ------------------------------------------------------------


def test_batches_run_refuses_a_bad_body_before_the_upload(
    unsent: respx.MockRouter, tmp_path: Path
) -> None:
    route = unsent.route()
    path = batch_file(tmp_path, chat_line(3, role="usr"))
    r = invoke("batches", "run", path, env=api_env())
    assert r.code == 2, r
    assert "nothing was uploaded" in r.err
    assert f"{path}:3: body.messages[0].role: 'usr' is not one of" in r.err
    assert not route.called


def test_batches_run_no_validate_lets_the_body_through(tmp_path: Path) -> None:
    path = batch_file(tmp_path, chat_line(3, role="usr"))
    r = invoke("batches", "run", path, "--no-validate", "--dry-run", "-o", "json", env=api_env())
    assert r.code == 0, r


def test_map_refuses_a_bad_line_before_the_first_request(
    unsent: respx.MockRouter, tmp_path: Path
) -> None:
    route = unsent.post("/chat/completions")
    bodies: list[dict[str, Any]] = [
        {"model": "m", "messages": [{"role": "user", "content": "a"}]},
        {"model": "m"},
    ]
    path = write(tmp_path / "in.jsonl", bodies)
    r = invoke("map", path, "--endpoint", CHAT_URL, env=api_env())
    assert r.code == 2, r
    assert r.err.splitlines()[1:] == [f"{path}:2: messages: missing (required)"]
    assert not route.called


def _answered_map(api: respx.MockRouter, tmp_path: Path, *flags: str) -> None:
    route = api.post("/chat/completions").mock(return_value=httpx.Response(200, json={"ok": 1}))
    path = write(tmp_path / "in.jsonl", [chat_line(1, role="usr")])
    r = invoke("map", path, *flags, env=api_env())
    assert r.code == 0, r
    assert route.call_count == 1
    assert json.loads(route.calls[0].request.content)["messages"][0]["role"] == "usr"


def test_map_no_validate_sends_what_the_schema_refuses(
    api: respx.MockRouter, tmp_path: Path
) -> None:
    _answered_map(api, tmp_path, "--no-validate")


def test_a_profile_turns_the_check_off_for_a_gateway(api: respx.MockRouter, tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", [chat_line(1, role="usr")])
    write_config(dict(os.environ), "[profiles.default]\nvalidate = true\n")
    assert invoke("map", path, env=api_env()).code == 2
    write_config(dict(os.environ), "[profiles.default]\nvalidate = false\n")
    _answered_map(api, tmp_path)


DRY = ("chat", "completions", "create", "--model", "m", "--dry-run", "-o", "json")


def test_dry_run_refuses_a_body_the_schema_refuses(unsent: respx.MockRouter) -> None:
    route = unsent.route()
    body = json.dumps({"messages": [{"role": "user", "content": "hi"}], "n": "two"})
    r = invoke(*DRY, "--body", body, env=api_env())
    assert r.code == 2, r
    assert r.err.splitlines() == [
        "oai: request: 1 problem found; nothing was sent (--no-validate skips this check)",
        "request: body.n: expected integer (or null), got a string",
    ]
    assert r.out == ""
    assert not route.called


def test_dry_run_with_no_validate_shows_the_request() -> None:
    body = json.dumps({"messages": [{"role": "user", "content": "hi"}], "n": "two"})
    r = invoke(*DRY, "--body", body, "--no-validate", env=api_env())
    assert r.code == 0, r
    assert json.loads(r.out)["body"]["n"] == "two"


def test_the_validate_setting_is_checked_like_any_other() -> None:
    env = api_env()
    write_config(dict(os.environ), "[profiles.default]\nvalidate = 3\n")
    r = invoke(*DRY, "--messages", "[]", env=env)
    assert r.code == 2, r
    assert "validate" in r.err


# -- fine-tuning data -----------------------------------------------------------------------


def chat_example(i: int, answer: bool = True) -> dict[str, Any]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": f"q{i}"}]
    if answer:
        messages.append({"role": "assistant", "content": f"a{i}"})
    return {"messages": messages}


def test_fine_tuning_validate_says_it_for_one_problem(tmp_path: Path) -> None:
    examples = [chat_example(i) for i in range(1, 11)]
    examples.append(chat_example(11, answer=False))
    path = write(tmp_path / "ft.jsonl", examples)
    r = invoke("fine-tuning", "validate", path, "--method", "supervised")
    assert r.code == 2, r
    assert r.err.splitlines() == [
        f"oai: {path}: 1 problem found; fix it before uploading the file",
        f"{path}:11: no assistant message: the example teaches nothing",
    ]


def test_fine_tuning_validate_reports_every_problem(tmp_path: Path) -> None:
    examples = [chat_example(i) for i in range(1, 8)]
    examples += [chat_example(1), chat_example(9, answer=False)]
    examples.append({"messages": [{"role": "user", "content": "x"}, {"role": "assistant"}]})
    path = write(tmp_path / "ft.jsonl", examples)
    r = invoke("fine-tuning", "validate", path, "--method", "supervised")
    assert r.code == 2, r
    first, *got = r.err.splitlines()
    assert first == f"oai: {path}: 3 problems found; fix them before uploading the file", r
    assert sorted(got) == [
        f"{path}:10: messages[1] (assistant) has no content",
        f"{path}:8: the same example as line 1",
        f"{path}:9: no assistant message: the example teaches nothing",
    ]


def test_fine_tuning_validate_counts_examples_and_notes_the_spread(tmp_path: Path) -> None:
    few = write(tmp_path / "few.jsonl", [chat_example(i) for i in range(1, 5)])
    r = invoke("fine-tuning", "validate", few)
    assert r.code == 2, r
    assert f"{few}: 4 examples; a fine-tuning job takes at least 10" in r.err
    enough = [chat_example(i) for i in range(1, 12)]
    enough[0]["messages"] = [{"role": "system", "content": "s"}, *enough[0]["messages"]]
    path = write(tmp_path / "ft.jsonl", enough)
    r = invoke("fine-tuning", "validate", path)
    assert r.code == 0, r
    assert r.err.splitlines() == [
        "oai: messages per example: min 2, median 2, max 3",
        f"oai: {path}: 11 examples, all valid",
    ]


def test_fine_tuning_validate_checks_the_method_s_schema(tmp_path: Path) -> None:
    path = write(tmp_path / "ft.jsonl", [chat_example(i) for i in range(1, 12)])
    r = invoke("fine-tuning", "validate", path, "--method", "dpo")
    assert r.code == 2, r
    assert f"{path}:1: preferred_output: missing (required)" in r.err
    r = invoke("fine-tuning", "validate", path, "--method", "sft")
    assert r.code == 2, r
    assert r.err.startswith("oai: --method: one of supervised, dpo, reinforcement")


def test_prompts_alone_are_reinforcement_data(tmp_path: Path) -> None:
    path = write(tmp_path / "ft.jsonl", [chat_example(i, answer=False) for i in range(1, 12)])
    assert invoke("fine-tuning", "validate", path).code == 0
    r = invoke("fine-tuning", "validate", path, "--method", "supervised")
    assert r.code == 2, r
    assert "no assistant message" in r.err


def test_files_create_runs_the_fine_tuning_check(unsent: respx.MockRouter, tmp_path: Path) -> None:
    route = unsent.route()
    examples = [chat_example(i) for i in range(1, 12)]
    examples[4] = chat_example(1)
    path = write(tmp_path / "ft.jsonl", examples)
    r = invoke("files", "create", path, "--purpose", "fine-tune", env=api_env())
    assert r.code == 2, r
    assert f"{path}:5: the same example as line 1" in r.err
    assert not route.called


@pytest.mark.parametrize("method", ["supervised", "dpo", "reinforcement"])
def test_each_method_takes_its_own_shape(tmp_path: Path, method: str) -> None:
    def example(i: int) -> dict[str, Any]:
        if method == "dpo":
            return {
                "input": {"messages": [{"role": "user", "content": f"q{i}"}]},
                "preferred_output": [{"role": "assistant", "content": "good"}],
                "non_preferred_output": [{"role": "assistant", "content": "bad"}],
            }
        if method == "reinforcement":
            return {**chat_example(i, answer=False), "reference_answer": str(i)}
        return chat_example(i)

    path = write(tmp_path / "ft.jsonl", [example(i) for i in range(1, 12)])
    r = invoke("fine-tuning", "validate", path, "--method", method)
    assert r.code == 0, r
