"""Issue 10 item 17: an answer nested 400 levels deep prints in every format, no crash."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import respx

from tests.helpers import api_env, invoke


def nested(depth: int) -> dict[str, Any]:
    top: dict[str, Any] = {"id": "x", "object": "thing"}
    node = top
    for _ in range(depth):
        node["n"] = {}
        node = node["n"]
    return top


DEEP = nested(400)
DEEP_LIST = {"object": "list", "data": [DEEP], "has_more": False}


@pytest.mark.parametrize("body", [DEEP, DEEP_LIST], ids=["object", "list"])
def test_yaml_falls_back_to_json_and_says_so(api: respx.MockRouter, body: Any) -> None:
    api.get("/models/x").respond(200, json=body)
    r = invoke("models", "retrieve", "x", "-o", "yaml", env=api_env())
    assert r.code == 0, r
    assert "internal error" not in r.err
    assert "nested too deeply for -o yaml; printed as JSON" in r.err
    assert json.loads(r.out) == body


@pytest.mark.parametrize(
    "args",
    [("-o", "json"), (), ("-o", "table"), ("-o", "jsonl"), ("--query", "n.n.n")],
    ids=["json", "auto", "table", "jsonl", "query"],
)
@pytest.mark.parametrize("body", [DEEP, DEEP_LIST], ids=["object", "list"])
def test_other_formats_on_a_terminal(
    api: respx.MockRouter, args: tuple[str, ...], body: Any
) -> None:
    api.get("/models/x").respond(200, json=body)
    r = invoke("models", "retrieve", "x", *args, env=api_env(), stdout_tty=True)
    assert r.code == 0, r
    assert r.err == ""
    assert re.sub(r"\x1b\[[0-9;]*m", "", r.out).strip()
