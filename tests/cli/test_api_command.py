"""`oai api` and the shared runner behaviours, through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx

from tests.helpers import BASE, CANARY_ADMIN_KEY, CANARY_KEY, api_env, invoke, temporaries


def test_get_prints_the_json_exactly_as_sent_when_piped(api: respx.MockRouter) -> None:
    body = '{"object":"list","data":[{"id":"m1","object":"model"}]}'
    route = api.get("/models").respond(200, text=body, headers={"content-type": "application/json"})
    r = invoke("api", "get", "/models", env=api_env())
    assert r.code == 0, r
    assert r.out == body + "\n"
    sent = route.calls.last.request
    assert sent.headers["authorization"] == f"Bearer {CANARY_KEY}"
    assert sent.headers["user-agent"].startswith("oai/")


def test_post_body_from_file_and_fields_merge(api: respx.MockRouter, tmp_path: Path) -> None:
    req = tmp_path / "req.json"
    req.write_text('{"model": "gpt-4o", "messages": [], "temperature": 1}')
    route = api.post("/chat/completions").respond(200, json={"id": "c1"})
    r = invoke(
        "api",
        "post",
        "/chat/completions",
        "--body",
        f"@{req}",
        "-F",
        "temperature=0.5",
        "-f",
        "user=007",
        "-F",
        "metadata.k=v",
        env=api_env(),
    )
    assert r.code == 0, r
    sent = json.loads(route.calls.last.request.content)
    assert sent == {
        "model": "gpt-4o",
        "messages": [],
        "temperature": 0.5,
        "user": "007",
        "metadata": {"k": "v"},
    }
    assert route.calls.last.request.headers["idempotency-key"].startswith("oai-")


def test_get_fields_go_to_the_query_with_brackets(api: respx.MockRouter) -> None:
    route = api.get("/organization/audit_logs").respond(200, json={"data": [], "has_more": False})
    r = invoke(
        "api",
        "get",
        "/organization/audit_logs",
        "-F",
        "event_types[]=a",
        "-F",
        "event_types[]=b",
        "-F",
        "effective_at.gt=5",
        env=api_env(),
    )
    assert r.code == 0, r
    url = route.calls.last.request.url
    assert url.params.get_list("event_types[]") == ["a", "b"]
    assert url.params["effective_at[gt]"] == "5"
    # Admin paths use the admin key.
    assert route.calls.last.request.headers["authorization"] == f"Bearer {CANARY_ADMIN_KEY}"


def test_multipart_upload_streams_the_file(api: respx.MockRouter, tmp_path: Path) -> None:
    data = tmp_path / "data.jsonl"
    data.write_text('{"a": 1}\n')
    route = api.post("/files").respond(200, json={"id": "file-1"})
    r = invoke("api", "post", "/files", "-F", "purpose=batch", "-F", f"file=@{data}", env=api_env())
    assert r.code == 0, r
    sent = route.calls.last.request
    assert sent.headers["content-type"].startswith("multipart/form-data")
    content = sent.read()
    assert b'name="purpose"\r\n\r\nbatch' in content
    assert b'filename="data.jsonl"' in content and b'{"a": 1}' in content


def test_missing_file_is_a_usage_error_and_nothing_is_sent(unsent: respx.MockRouter) -> None:
    route = unsent.post("/files").respond(200, json={})
    r = invoke(
        "api",
        "post",
        "/files",
        "-F",
        "purpose=batch",
        "-F",
        "file=@/nonexistent.jsonl",
        env=api_env(),
    )
    assert r.code == 2
    assert "file not found: /nonexistent.jsonl" in r.err
    assert len(r.err.strip().splitlines()) == 1
    assert not route.called


def test_malformed_body_names_flag_and_position(unsent: respx.MockRouter) -> None:
    route = unsent.post("/chat/completions").respond(200, json={})
    r = invoke("api", "post", "/chat/completions", "--body", '{"a": }', env=api_env())
    assert r.code == 2
    assert "--body: invalid JSON at line 1 column 7" in r.err
    assert not route.called


def test_missing_key_exits_3_naming_the_variable(unsent: respx.MockRouter) -> None:
    route = unsent.get("/models").respond(200, json={})
    r = invoke("api", "get", "/models", env={"OPENAI_BASE_URL": BASE})
    assert r.code == 3
    assert "OPENAI_API_KEY" in r.err and "oai auth login" in r.err
    assert not route.called


def test_admin_path_without_admin_key_exits_3(unsent: respx.MockRouter) -> None:
    unsent.get("/organization/projects").respond(200, json={})
    r = invoke(
        "api",
        "get",
        "/organization/projects",
        env={"OPENAI_BASE_URL": BASE, "OPENAI_API_KEY": CANARY_KEY},
    )
    assert r.code == 3
    assert "OPENAI_ADMIN_KEY" in r.err


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, 1), (401, 3), (403, 3), (404, 4), (422, 1)],
)
def test_error_statuses_map_to_exit_codes(api: respx.MockRouter, status: int, code: int) -> None:
    api.get("/models/x").respond(
        status,
        json={
            "error": {
                "message": "nope",
                "type": "invalid_request_error",
                "code": "c1",
                "param": "model",
            }
        },
        headers={"x-request-id": "req_123"},
    )
    r = invoke("api", "get", "/models/x", env=api_env())
    assert r.code == code
    assert f"HTTP {status}" in r.err and "nope" in r.err and "req_123" in r.err
    assert "param: model" in r.err
    assert r.out == ""


def test_html_error_from_a_proxy_is_summarised(api: respx.MockRouter) -> None:
    api.get("/models").respond(
        502,
        text="<html><body><h1>502 Bad Gateway</h1></body></html>",
        headers={"content-type": "text/html"},
    )
    r = invoke("--max-retries", "0", "api", "get", "/models", env=api_env())
    assert r.code == 6
    assert "HTTP 502" in r.err and "502 Bad Gateway" in r.err and "text/html" in r.err


def test_retries_then_succeeds(api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr("time.sleep", waits.append)
    route = api.get("/models")
    route.side_effect = [
        httpx.Response(500, headers={"x-request-id": "req_a"}),
        httpx.Response(503, headers={"retry-after-ms": "1500"}),
        httpx.Response(200, json={"data": []}),
    ]
    r = invoke("api", "get", "/models", env=api_env())
    assert r.code == 0, r
    assert route.call_count == 3
    assert 0.375 <= waits[0] <= 0.5 and waits[1] == 1.5
    assert "HTTP 500 (request id req_a); retrying" in r.err
    keys = {c.request.headers.get("idempotency-key") for c in route.calls}
    assert keys == {None}  # GET sends none


def test_post_retries_reuse_one_idempotency_key(
    api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("time.sleep", lambda s: None)
    route = api.post("/embeddings")
    route.side_effect = [httpx.Response(500), httpx.Response(200, json={"data": []})]
    r = invoke("api", "post", "/embeddings", "-F", "model=m", "-F", "input=x", env=api_env())
    assert r.code == 0, r
    keys = [c.request.headers["idempotency-key"] for c in route.calls]
    assert len(keys) == 2 and keys[0] == keys[1]


def test_long_retry_after_is_not_waited(
    api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("time.sleep", lambda s: pytest.fail("must not sleep"))
    api.get("/models").respond(
        429, headers={"retry-after": "3600"}, json={"error": {"message": "slow down"}}
    )
    r = invoke("api", "get", "/models", env=api_env())
    assert r.code == 5
    assert "wait 1.0 h" in r.err


def test_pagination_follows_cursors_up_to_max_items(api: respx.MockRouter) -> None:
    route = api.get("/files")
    route.side_effect = [
        httpx.Response(
            200,
            json={
                "object": "list",
                "data": [{"id": "f1"}, {"id": "f2"}],
                "has_more": True,
                "last_id": "f2",
            },
        ),
        httpx.Response(
            200,
            json={
                "object": "list",
                "data": [{"id": "f3"}, {"id": "f4"}],
                "has_more": True,
                "last_id": "f4",
            },
        ),
    ]
    r = invoke("api", "get", "/files", "--max-items", "3", "-o", "jsonl", env=api_env())
    assert r.code == 0, r
    assert [json.loads(line)["id"] for line in r.out.splitlines()] == ["f1", "f2", "f3"]
    assert route.calls[1].request.url.params["after"] == "f2"


def test_pagination_all_as_one_json_document(api: respx.MockRouter) -> None:
    route = api.get("/files")
    route.side_effect = [
        httpx.Response(200, json={"data": [{"id": "f1"}], "has_more": True, "last_id": "f1"}),
        httpx.Response(200, json={"data": [{"id": "f2"}], "has_more": False, "last_id": "f2"}),
    ]
    r = invoke("api", "get", "/files", "--all", env=api_env())
    assert r.code == 0, r
    doc = json.loads(r.out)
    assert [d["id"] for d in doc["data"]] == ["f1", "f2"] and doc["has_more"] is False


def test_pagination_that_does_not_advance_stops(api: respx.MockRouter) -> None:
    api.get("/files").respond(200, json={"data": [{"id": "f1"}], "has_more": True, "last_id": "f1"})
    r = invoke("api", "get", "/files", "--all", "-o", "jsonl", env=api_env())
    assert r.code == 6
    assert "did not advance" in r.err


def test_stream_prints_each_event_as_a_line(api: respx.MockRouter) -> None:
    sse = (
        b'data: {"choices":[{"delta":{"content":"h\xc3'
        b'\xa9"}}]}\n\ndata: {"choices":[]}\n\ndata: [DONE]\n\n'
    )
    api.post("/chat/completions").respond(
        200, content=sse, headers={"content-type": "text/event-stream", "x-request-id": "r1"}
    )
    r = invoke("api", "post", "/chat/completions", "--stream", "-F", "model=m", env=api_env())
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["choices"][0]["delta"]["content"] == "hé"


def test_stream_without_final_event_fails_with_7(api: respx.MockRouter) -> None:
    api.post("/chat/completions").respond(
        200,
        content=b'data: {"choices":[]}\n\n',
        headers={"content-type": "text/event-stream", "x-request-id": "req_cut"},
    )
    r = invoke("api", "post", "/chat/completions", "--stream", "-F", "model=m", env=api_env())
    assert r.code == 7
    assert r.out.count("\n") == 1  # what arrived was printed
    assert "req_cut" in r.err


def test_stream_error_event_fails_with_7(api: respx.MockRouter) -> None:
    api.post("/responses").respond(
        200,
        content=b'data: {"type":"response.created"}\n\n'
        b'event: error\ndata: {"type":"error","message":"boom","code":"server_error"}\n\n',
        headers={"content-type": "text/event-stream"},
    )
    r = invoke("api", "post", "/responses", "--stream", "-F", "model=m", env=api_env())
    assert r.code == 7
    assert "boom" in r.err or "error" in r.err


def test_binary_answer_refused_on_a_terminal_and_saved_to_file(
    api: respx.MockRouter, tmp_path: Path
) -> None:
    api.get("/files/file-1/content").respond(
        200, content=b"\x00\x01binary", headers={"content-type": "application/octet-stream"}
    )
    r = invoke("api", "get", "/files/file-1/content", env=api_env(), stdout_tty=True)
    assert r.code == 2 and "--output-file" in r.err
    out = tmp_path / "x.bin"
    r = invoke(
        "api",
        "get",
        "/files/file-1/content",
        "--output-file",
        str(out),
        env=api_env(),
        stdout_tty=True,
    )
    assert r.code == 0, r
    assert out.read_bytes() == b"\x00\x01binary"
    assert temporaries(out.parent) == []


def test_binary_answer_goes_to_stdout_when_piped(api: respx.MockRouter) -> None:
    api.get("/files/file-1/content").respond(
        200, content=b"\x00\xffraw", headers={"content-type": "application/octet-stream"}
    )
    r = invoke("files", "content", "file-1", env=api_env())
    assert r.code == 0, r
    assert r.out_bytes == b"\x00\xffraw"


def test_debug_masks_the_key(api: respx.MockRouter) -> None:
    api.post("/chat/completions").respond(200, json={"echo": CANARY_KEY})
    r = invoke(
        "--debug", "api", "post", "/chat/completions", "-f", f"user={CANARY_KEY}", env=api_env()
    )
    assert r.code == 0, r
    assert "> POST https://api.openai.test/v1/chat/completions" in r.err
    assert "> authorization: Bearer ***" in r.err
    assert CANARY_KEY not in r.err


def test_include_prints_status_and_headers_on_stderr(api: respx.MockRouter) -> None:
    api.get("/models").respond(
        200,
        json={"data": []},
        headers={
            "x-request-id": "req_9",
            "x-ratelimit-remaining-requests": "99",
            "set-cookie": "a=b",
        },
    )
    r = invoke("api", "get", "/models", "-i", env=api_env())
    assert r.code == 0
    assert "HTTP 200" in r.err and "x-request-id: req_9" in r.err
    assert "x-ratelimit-remaining-requests: 99" in r.err and "set-cookie" not in r.err
    assert r.out.startswith("{")


def test_query_jmespath_and_raw_output(api: respx.MockRouter) -> None:
    api.get("/models").respond(200, json={"data": [{"id": "a"}, {"id": "b"}]})
    r = invoke("api", "get", "/models", "--query", "data[].id", "-o", "jsonl", env=api_env())
    assert r.out.splitlines() == ['"a"', '"b"']


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("length(id)", "In function length()"),  # the wrong type for the function
        ("nope(@)", "Unknown function: nope()"),
        ("merge(@, `1`)", "cannot apply it to the answer"),  # jmespath's own TypeError
        ("a|" * 5000 + "a", "cannot apply it to the answer"),  # past the recursion limit
    ],
)
def test_query_that_fails_on_the_answer_is_a_usage_error(
    api: respx.MockRouter, query: str, said: str
) -> None:
    api.get("/models/m1").respond(200, json={"id": 1})
    r = invoke("api", "get", "/models/m1", "--query", query, env=api_env())
    assert r.code == 2, r
    assert r.err.startswith("oai: --query: ") and said in r.err, r
    assert "internal error" not in r.err and r.out == ""


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--query", "(" * 3000 + "@" + ")" * 3000], "oai: --query: the expression is nested"),
        (["--query", "data[("], "oai: --query: invalid JMESPath expression"),
        (["-o", "csv"], "oai: -o/--output: unknown format 'csv'"),
    ],
)
@pytest.mark.parametrize("command", [["api", "post", "/files"], ["files", "list"]])
def test_bad_output_or_query_is_refused_before_sending(
    unsent: respx.MockRouter, command: list[str], args: list[str], said: str
) -> None:
    route = unsent.route().respond(200, json={})
    r = invoke(*command, *args, env=api_env())
    assert r.code == 2, r
    assert r.err.startswith(said), r
    assert not route.called


def test_dry_run_sends_nothing_and_needs_no_key(unsent: respx.MockRouter) -> None:
    route = unsent.post("/embeddings").respond(200, json={})
    r = invoke(
        "api", "post", "/embeddings", "-F", "model=m", "--dry-run", env={"OPENAI_BASE_URL": BASE}
    )
    assert r.code == 0, r
    shown = json.loads(r.out)
    assert shown["body"] == {"model": "m"}
    assert shown["headers"]["Authorization"] == "Bearer $OPENAI_API_KEY"
    assert shown["curl"].startswith("curl -X POST https://api.openai.test/v1/embeddings")
    assert not route.called


def test_plain_http_to_a_remote_host_is_refused() -> None:
    r = invoke("api", "get", "/models", env={**api_env("http://example.com/v1")})
    assert r.code == 2 and "plain http" in r.err


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("\x1f", "expected http(s)://host[/path]"),
        ("https://[::1/v1", "Invalid IPv6 URL"),
        ("https://api.test:99999/v1", "Port out of range"),
        ("https://u:secret@api.test:x/v1", "Port could not be cast"),
        ("https://api.test/v1\x1f", "non-printable ASCII character"),
        ("https://xn--/v1", "Malformed A-label"),
        ("https://api..test/v1", "label empty or too long"),
        # Where the path of a request would follow the text: after a query or fragment.
        ("https://api.test/v1?api-version=1", "without a query or a fragment"),
        ("https://api.test/v1?", "without a query or a fragment"),
        ("https://u:secret@api.test/v1#part", "without a query or a fragment"),
        ("https://" + "a" * 64 + ".test/v1", "label empty or too long"),
    ],
)
@pytest.mark.parametrize("command", [["models", "list"], ["realtime", "connect"]])
def test_a_base_url_no_request_can_go_to_is_a_usage_error(
    unsent: respx.MockRouter, url: str, said: str, command: list[str]
) -> None:
    route = unsent.route().respond(200, json={})
    r = invoke("--base-url", url, *command, env=api_env())
    assert r.code == 2, r
    assert r.err.startswith("oai: invalid base URL ") and said in r.err, r
    assert "secret" not in r.err and "internal error" not in r.err
    assert not route.called


def test_redirect_to_another_host_drops_the_key(api: respx.MockRouter) -> None:
    api.get("/files/f/content").respond(302, headers={"location": "https://cdn.other.test/blob"})
    other = respx.get("https://cdn.other.test/blob").respond(200, content=b"bytes")
    api.routes.add(other)
    r = invoke("api", "get", "/files/f/content", env=api_env())
    assert r.code == 0, r
    assert "authorization" not in other.calls.last.request.headers


def test_a_path_alone_is_a_get_and_with_fields_a_post(api: respx.MockRouter) -> None:
    """`oai api /models`, as `gh api` takes it; `oai api METHOD PATH` still works."""
    listed = api.get("/models").respond(200, json={"object": "list", "data": []})
    made = api.post("/vector_stores").respond(200, json={"id": "vs_1"})
    assert invoke("api", "/models", env=api_env()).code == 0
    assert invoke("api", "GET", "/models", env=api_env()).code == 0
    for fields in (["-f", "name=docs"], ["-F", "name=docs"], ["--body", '{"name": "docs"}']):
        r = invoke("api", "/vector_stores", *fields, env=api_env())
        assert r.code == 0, r
    assert listed.call_count == 2 and made.call_count == 3
    assert json.loads(made.calls[-1].request.content) == {"name": "docs"}


def test_a_method_without_a_path_is_a_usage_error(unsent: respx.MockRouter) -> None:
    r = invoke("api", "get", env=api_env())
    assert r.code == 2, r
    assert r.err.startswith("oai: PATH: missing after get")
