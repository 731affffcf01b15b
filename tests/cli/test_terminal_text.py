"""Server text on a terminal in every output shape: shown, never obeyed nor read as markup.

The pty test in tests/faults/test_escapes.py runs the real process; these cover the
remaining shapes through the entry point with a terminal stdout.
"""

from __future__ import annotations

import json
import re

import respx

from tests.cli.test_live import RESPONSES, completed, delta, sse
from tests.helpers import api_env, invoke

EVIL = "\x1b]52;c;cHduZWQ=\x07\x1b[2J\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\\x9b2J"
OBEYED = ("\x1b]52", "\x1b[2J", "\x1b]8;", "\x9b", "\x07")


def assert_shown(out: str) -> None:
    for raw in OBEYED:
        assert raw not in out, (raw, out)
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out)  # rich's own styling
    assert "^[]52;c;cHduZWQ=^G^[[2J^[]8;;http://evil.example/^[\\click" in plain, plain


def test_markdown_view_shows_escapes_and_link_targets(api: respx.MockRouter) -> None:
    text = f"see [docs](http://evil.example/x) {EVIL}"
    api.post("/responses").mock(return_value=sse([delta(text), completed()]))
    r = invoke(*RESPONSES, "--markdown", env=api_env(), stdout_tty=True)
    assert r.code == 0, r
    assert_shown(r.out)
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", r.out.rsplit("\x1b[2K", 1)[-1])
    assert "docs (http://evil.example/x)" in plain, "the target is shown, not hidden in a link"


def test_a_whole_answer_on_a_terminal(api: respx.MockRouter) -> None:
    answer = {
        "id": "resp_1",
        "object": "response",
        "output": [{"type": "message", "content": [{"type": "output_text", "text": EVIL}]}],
    }
    api.post("/responses").respond(200, json=answer)
    r = invoke("ask", "-m", "m", "--no-stream", "hi", env=api_env(), stdout_tty=True)
    assert r.code == 0, r
    assert_shown(r.out)


def test_json_on_a_terminal_escapes_c1_and_stays_json(api: respx.MockRouter) -> None:
    body = {"id": "x", "object": "thing", "text": EVIL}
    api.get("/models/x").respond(200, json=body)
    api.get("/models/x").respond(200, json=body)
    for fmt in ("json", "auto"):
        r = invoke("models", "retrieve", "x", "-o", fmt, env=api_env(), stdout_tty=True)
        assert r.code == 0, r
        for raw in OBEYED:
            assert raw not in r.out
        shown = re.sub(r"\x1b\[[0-9;?]*m", "", r.out)
        assert json.loads(shown) == body


def test_json_piped_is_unchanged(api: respx.MockRouter) -> None:
    body = {"id": "x", "object": "thing", "text": EVIL}
    api.get("/models/x").respond(200, json=body)
    r = invoke("models", "retrieve", "x", "-o", "json", env=api_env())
    assert r.code == 0, r
    assert "\x9b2J" in r.out and json.loads(r.out) == body


def test_yaml_and_raw_on_a_terminal(api: respx.MockRouter) -> None:
    body = {"id": "x", "object": "thing", "text": EVIL}
    api.get("/models/x").respond(200, json=body)
    r = invoke(
        "models", "retrieve", "x", "-o", "raw", "--query", "text", env=api_env(), stdout_tty=True
    )
    assert r.code == 0, r
    assert_shown(r.out)
