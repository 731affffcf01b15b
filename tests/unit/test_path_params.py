"""No path parameter value can change the number of path segments or leave its own.

Issue: ``oai files delete ..`` sent ``DELETE /files`` (the URL library resolves dot
segments), and ``oai vector-stores files delete vs_123 ..`` reached the whole store.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openai_cli.api import catalogue
from openai_cli.api.model import Operation
from tests.helpers import BASE, api_env, invoke

OPERATIONS = [op for group in catalogue.GROUPS for op in catalogue.load(group) if op.path_params]


def _required_args(op: Operation, upload: Path) -> list[str]:
    """Flags for the operation's required fields, so the request gets as far as its URL."""
    args: list[str] = []
    for p in (*op.query, *op.headers):
        if p.required:
            value = p.enum[0] if p.enum else ("1" if p.type == "integer" else "x")
            args += [p.flag, str(value)]
    for p in op.body:
        if not p.required:
            continue
        if p.is_file:
            args += ["-F", f"{p.name}=@{upload}"]
        else:
            args += ["-f", f"{p.name}=x"]
    return args


def _dry_run(op: Operation, values: list[str], upload: Path) -> tuple[int, str, str]:
    args = [*op.command, "--dry-run", "-o", "json", *_required_args(op, upload), "--", *values]
    # The required values are placeholders, not bodies the schemas would take: the
    # paths are what is checked here.
    r = invoke(*args, env={**api_env(), "OAI_VALIDATE": "false"})
    return r.code, r.out, r.err


def _segments(template: str) -> list[str]:
    return template.strip("/").split("/")


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    op=st.sampled_from(OPERATIONS),
    value=st.one_of(
        st.sampled_from([".", "..", "...", "%2e%2e", "a/../b", "../x", "./", "?", "#", "a b"]),
        st.text(min_size=1, max_size=12),
    ),
)
def test_a_path_value_stays_inside_its_segment(op: Operation, value: str, tmp_path: Path) -> None:
    upload = tmp_path / "upload.bin"
    upload.write_bytes(b"x")
    values = [value] * len(op.path_params)
    code, out, err = _dry_run(op, values, upload)
    if value.strip(".") == "":
        assert code == 2, (op.command, value, err)
        assert "not an ID" in err
        return
    assert code == 0, (op.command, value, err)
    url = urlsplit(json.loads(out)["url"])
    base_segments = urlsplit(BASE).path.strip("/").split("/")
    sent = url.path.strip("/").split("/")[len(base_segments) :]
    template = _segments(op.path)
    assert len(sent) == len(template), (op.command, value, url.path)
    for t, s in zip(template, sent, strict=True):
        if t.startswith("{"):
            assert unquote(s) == value
        else:
            assert s == t


@pytest.mark.parametrize(
    "args",
    [
        ["files", "delete", "."],
        ["files", "delete", ".."],
        ["vector-stores", "files", "delete", "vs_123", ".."],
        ["conversations", "items", "delete", "conv_1", ".."],
        ["containers", "files", "delete", "cntr_1", "."],
    ],
)
def test_dot_ids_are_refused_before_sending(args: list[str], unsent: respx.MockRouter) -> None:
    route = unsent.route()
    r = invoke(*args, env=api_env())
    assert r.code == 2, r
    assert "is not an ID" in r.err
    assert r.err.count("\n") == 1
    assert not route.called


@pytest.mark.parametrize(
    "path",
    [
        "/vector_stores/vs_1/files/..",
        "/files/.",
        "files/%2e%2e",
        "/files/x/%2E./y",
        "/models\r\nX: y",
    ],
)
def test_api_paths_that_would_be_rewritten_are_refused(path: str, unsent: respx.MockRouter) -> None:
    route = unsent.route()
    r = invoke("api", "delete", path, env=api_env())
    assert r.code == 2, r
    assert "PATH:" in r.err
    assert not route.called


def test_an_id_from_the_answer_is_checked_too(api: respx.MockRouter) -> None:
    # `--wait` builds its poll path from the id the server sent back.
    api.post("/videos").respond(json={"id": "..", "object": "video", "status": "queued"})
    r = invoke("videos", "create", "--prompt", "waves", "--wait", env=api_env())
    assert r.code == 2, r
    assert "the video id in the answer" in r.err


def test_ordinary_ids_with_dots_still_work(api: respx.MockRouter) -> None:
    route = api.get("/models/gpt-3.5-turbo").respond(json={"id": "gpt-3.5-turbo"})
    r = invoke("models", "retrieve", "gpt-3.5-turbo", "-o", "json", env=api_env())
    assert r.code == 0, r
    assert route.called
