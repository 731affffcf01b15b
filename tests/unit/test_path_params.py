"""No path parameter value can change the number of path segments or leave its own.

``oai files delete ..`` sent ``DELETE /files`` (the URL library resolves dot
segments), ``oai vector-stores files delete vs_123 ..`` reached the whole store, and
``oai api delete "/vector_stores/vs_abc#/files/file-1"`` deleted the store (the
fragment is never sent). Each test checks the path of the request actually sent.
"""

from __future__ import annotations

import ast
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import openai_cli
from openai_cli.operations import catalogue
from openai_cli.operations.model import Operation
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


def _sent(args: list[str]) -> tuple[int, str, list[str]]:
    """``oai ARGS`` against a mock that answers anything: exit code, stderr, sent paths."""
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        route = router.route().respond(json={})
        r = invoke(*args, env=api_env())
    base = urlsplit(BASE).path
    paths = []
    for call in route.calls:
        raw = call.request.url.raw_path.decode("ascii").partition("?")[0]
        assert raw.startswith(base + "/"), raw
        paths.append(raw[len(base) :])
    return r.code, r.err, paths


def _check_sent(template: str, values: dict[str, str], args: list[str]) -> None:
    """Each value decodes from its own segment of the path sent, or nothing is sent."""
    code, err, paths = _sent(args)
    if any(v == "" or v.strip(".") == "" for v in values.values()):
        assert code == 2, (args, err)
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert paths == [], paths
        return
    assert paths, (args, code, err)
    sent = paths[0].strip("/").split("/")
    want = template.strip("/").split("/")
    assert len(sent) == len(want), (args, paths[0])
    for t, s in zip(want, sent, strict=True):
        if t.startswith("{"):
            assert unquote(s) == values[t[1:-1]], (args, paths[0])
        else:
            assert s == t, (args, paths[0])


# Values that have broken out of a segment before, then any text at all.
VALUES = st.one_of(
    st.sampled_from(
        [
            ".",
            "..",
            "...",
            "%2e%2e",
            "a/../b",
            "../x",
            "./",
            "?",
            "#",
            "a b",
            "",
            "%",
            "a\\b",
            "vs_abc#/files/file-1",
            "x?limit=1",
            "%5c",
            "\u00e9\u4e2d",
            "a%2Fb",
            "\n",
            "\x00",
        ]
    ),
    st.text(max_size=12),
)

_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_SETTINGS
@given(op=st.sampled_from(OPERATIONS), data=st.data())
def test_a_path_value_stays_inside_its_segment(
    op: Operation, data: st.DataObject, tmp_path: Path
) -> None:
    upload = tmp_path / "upload.bin"
    upload.write_bytes(b"x")
    values = {pp.name: data.draw(VALUES, label=pp.name) for pp in op.path_params}
    args = [*op.command, "-o", "json", *_required_args(op, upload), "--"]
    args += [values[pp.name] for pp in op.path_params]
    _check_sent(op.path, values, args)


@_SETTINGS
@given(op=st.sampled_from(OPERATIONS), data=st.data())
def test_an_api_placeholder_stays_inside_its_segment(op: Operation, data: st.DataObject) -> None:
    # `oai api METHOD '/files/{file_id}' -f file_id=VALUE`, for every templated operation.
    values = {pp.name: data.draw(VALUES, label=pp.name) for pp in op.path_params}
    fields = [a for name, v in values.items() for a in ("-f", f"{name}={v}")]
    _check_sent(op.path, values, ["api", op.method, op.path, "-o", "json", *fields])


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
        "/vector_stores/vs_abc#/files/file-1",
        "/vector_stores/vs_abc?/files/file-1",
        "/files?limit=1",
        "/files/a\\b",
        "/files/a%5cb/content",
        "/files/%2E%2e/x",
        "/files/x\x00",
        # Encoded: one segment as sent, another path to a server that decodes first.
        "/vector_stores/vs_1%2F..%2Ffoo",
        "/vector_stores/vs_1%2f..",
        "/files/file-1%00",
        "/files/file-1%0A/content",
        "/files/file-1%7f",
    ],
)
def test_api_paths_that_would_be_rewritten_are_refused(path: str, unsent: respx.MockRouter) -> None:
    route = unsent.route()
    r = invoke("api", "delete", path, env=api_env())
    assert r.code == 2, r
    assert "PATH:" in r.err
    assert r.err.count("\n") == 1
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


# f-strings that join text and "/" without being a request path, and what they are.
NOT_PATHS = {
    ("render/viewer.py", "f'/{self.needle}'"): "the explorer's search line, as less shows it",
    ("builder.py", "f'{p.flag}/--no-{p.flag[2:]}'"): "a boolean flag's two names",
    ("commands/files.py", "f'{base}/uploads'"): "--dry-run's description of a chunked upload",
    (
        "commands/files.py",
        'f"POST {base}/uploads/{{upload_id}}/parts x {n} (parts of {c',
    ): "the same",
    (
        "commands/files.py",
        "f'POST {base}/uploads/{{upload_id}}/complete (part_ids in or",
    ): "the same",
    ("commands/realtime.py", "f'oai/{__version__}'"): "the User-Agent",
    ("http/client.py", "f'oai/{__version__}'"): "the User-Agent",
    ("commands/repl.py", "f'unknown command /{name}; /help lists the commands'"): "a message",
    ("http/websocket.py", "f'{scheme}://{uri.host}:{uri.port}{uri.resource_name}'"): "a URL "
    "shown in a message, masked",
    (
        "operations/uploads.py",
        'f"oai: uploaded {human_bytes(s.size)} in {count(len(parts), ',
    ): "a message",
}


def hand_built_paths(source: str) -> list[str]:
    """Paths ``source`` builds around :mod:`openai_cli.http.paths`.

    An f-string that puts a value next to a ``/``, or a ``Request`` whose path is an
    expression (``"/files/" + x``), gets no encoding: a ``#`` or ``..`` in the value
    changes which resource is reached.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr):
            # The text either side of each value ("" when that side is another value).
            text = [str(p.value) if isinstance(p, ast.Constant) else None for p in node.values]
            for i, t in enumerate(text):
                if t is not None:
                    continue
                before = (text[i - 1] or "") if i else ""
                after = (text[i + 1] or "") if i + 1 < len(text) else ""
                if before.endswith("/") or after.startswith("/"):
                    found.append(ast.unparse(node)[:60])
                    break
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Request":
            path = node.args[1] if len(node.args) > 1 else None
            path = next((k.value for k in node.keywords if k.arg == "path"), path)
            if isinstance(path, ast.BinOp | ast.JoinedStr):
                found.append(ast.unparse(path)[:60])
    return found


def test_every_request_path_goes_through_the_builder() -> None:
    package = Path(openai_cli.__file__).parent
    found = {
        (str(f.relative_to(package)), text)
        for f in package.rglob("*.py")
        for text in hand_built_paths(f.read_text())
    }
    assert found - NOT_PATHS.keys() == set()
    assert NOT_PATHS.keys() - found == set(), "an entry of NOT_PATHS is gone: remove it"


def test_the_guard_sees_a_path_built_by_hand() -> None:
    assert hand_built_paths('Request("GET", f"/batches/{batch_id}")')
    assert hand_built_paths('content = f"{path}/content"')
    assert hand_built_paths('Request(method="DELETE", path="/files/" + file_id)')
    assert not hand_built_paths('Request("GET", fill("/files/{id}", {"id": file_id}))')
