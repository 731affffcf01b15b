"""Scenarios 6, 7, 9 and 10: the network between the CLI and the API misbehaves."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import helpers
from tests.faults.server import (
    FaultServer,
    TLSFiles,
    forward,
    partial,
    respond,
    sse,
    stall,
    trickle,
)
from tests.faults.support import TRACEBACK, env_for, free_port, oai
from tests.helpers import CANARY_KEY, temporaries

pytestmark = pytest.mark.faults

PROXY_USER = "proxyuser"
PROXY_PASSWORD = "pr0xy-PASSWORD-never-shown"


@pytest.fixture
def no_proxy_bypass(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite bypasses proxies (NO_PROXY=*); these tests need them honoured."""
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def proxy_url(proxy: FaultServer) -> str:
    return f"http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{proxy.port}"


def assert_no_proxy_secret(text: str) -> None:
    basic = base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode()
    assert PROXY_PASSWORD not in text and basic not in text


# -- 6: no connection -----------------------------------------------------------------


def test_6_connection_refused_retries_then_names_url_and_proxies() -> None:
    base = f"http://127.0.0.1:{free_port()}/v1"
    r = oai("api", "get", "/models", env=env_for(base))
    assert r.code == 6, r
    assert r.err.count("retrying in") == 2 and "(attempt 3 of 3)" in r.err
    assert "Connection refused" in r.err
    assert f"talking to {base}" in r.err
    assert "proxy settings: NO_PROXY=*" in r.err
    assert 1.0 < r.elapsed < 10


def test_6_dns_failure_retries_then_names_url() -> None:
    base = "https://oai-fault-dns.invalid/v1"
    r = oai("--max-retries", "1", "api", "get", "/models", env=env_for(base))
    assert r.code == 6, r
    assert "could not connect" in r.err and "retrying in" in r.err
    assert f"talking to {base}" in r.err and "proxy settings:" in r.err
    assert TRACEBACK not in r.err


def test_6_untrusted_certificate_points_at_ssl_cert_file(
    new_server: Callable[..., FaultServer], tls_files: TLSFiles
) -> None:
    server = new_server(tls=tls_files)
    server.always(respond(200, json={"data": []}))
    r = oai("api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 6, r
    assert "CERTIFICATE_VERIFY_FAILED" in r.err and "SSL_CERT_FILE" in r.err
    # A certificate that is not trusted will not be trusted a second later.
    assert server.connections == 1 and "retrying" not in r.err
    assert server.requests == []

    # ... and the advice works.
    r = oai(
        "api", "get", "/models", env=env_for(server.base_url, SSL_CERT_FILE=str(tls_files.cert))
    )
    assert r.code == 0, r
    assert server.requests[0].headers["authorization"] == f"Bearer {CANARY_KEY}"


# -- 7: timeouts ------------------------------------------------------------------------


def test_7_read_timeout_exits_6_with_the_timeout_used(server: FaultServer) -> None:
    server.plan(stall(), stall())
    r = oai(
        "--timeout", "0.5", "--max-retries", "1", "api", "get", "/models",
        env=env_for(server.base_url),
    )  # fmt: skip
    assert r.code == 6, r
    assert len(server.requests) == 2, "a read timeout is retried"
    assert "read timeout" in r.err and "timeout 0.5 s" in r.err and "--timeout" in r.err
    assert r.elapsed < 8


def test_7_server_stalling_mid_body(server: FaultServer) -> None:
    server.plan(partial(b'{"object": "list", "da', declared=5000, request_id="req_stall"))
    r = oai("--timeout", "0.5", "api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 6, r
    assert "stalled" in r.err and "timeout 0.5 s" in r.err
    assert TRACEBACK not in r.err and "internal error" not in r.err
    assert len(server.requests) == 1, "a body already started is not asked for again"
    assert r.out == ""


def test_7_connection_reset_mid_body(server: FaultServer) -> None:
    server.plan(partial(b'{"object": "list", "da', declared=5000, then="reset"))
    r = oai("api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 6, r
    assert "broke off" in r.err and "internal error" not in r.err
    assert r.out == ""


def test_7_download_cut_off_leaves_no_file(server: FaultServer, tmp_path: Path) -> None:
    server.plan(
        partial(
            b"\x00" * 1000,
            declared=100_000,
            headers=[("content-type", "application/octet-stream")],
            then="reset",
        )
    )
    target = tmp_path / "out.bin"
    r = oai(
        "api", "get", "/files/file-1/content", "--output-file", str(target),
        env=env_for(server.base_url),
    )  # fmt: skip
    assert r.code == 6, r
    assert not target.exists() and temporaries(tmp_path) == []


# -- 9: proxies -------------------------------------------------------------------------


@pytest.mark.usefixtures("no_proxy_bypass")
def test_9_http_proxy_is_used_and_its_password_never_printed(
    new_server: Callable[..., FaultServer],
) -> None:
    upstream, proxy = new_server(), new_server()
    upstream.always(respond(200, json={"data": []}, request_id="req_via_proxy"))
    proxy.always(forward(upstream))
    env = env_for(upstream.base_url, HTTP_PROXY=proxy_url(proxy))
    r = oai("--debug", "api", "get", "/models", "-i", env=env)
    assert r.code == 0, r
    (seen,) = proxy.requests
    assert seen.target == f"{upstream.base_url}/models", "absolute URI: it went through the proxy"
    assert seen.headers["proxy-authorization"].startswith("Basic ")
    assert "proxy-authorization" not in upstream.requests[0].headers
    assert_no_proxy_secret(r.out + r.err)


@pytest.mark.usefixtures("no_proxy_bypass")
def test_9_no_proxy_is_honoured(new_server: Callable[..., FaultServer]) -> None:
    upstream, proxy = new_server(), new_server()
    upstream.always(respond(200, json={"data": []}))
    proxy.always(forward(upstream))
    env = env_for(upstream.base_url, HTTP_PROXY=proxy_url(proxy), NO_PROXY="127.0.0.1")
    r = oai("api", "get", "/models", env=env)
    assert r.code == 0, r
    assert proxy.requests == [] and len(upstream.requests) == 1


@pytest.mark.usefixtures("no_proxy_bypass")
def test_9_unreachable_proxy_is_named_with_its_password_masked(server: FaultServer) -> None:
    dead = f"http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{free_port()}"
    env = env_for(server.base_url, HTTP_PROXY=dead, HTTPS_PROXY=dead)
    r = oai("--max-retries", "0", "--debug", "api", "get", "/models", env=env)
    assert r.code == 6, r
    assert f"HTTP_PROXY=http://{PROXY_USER}:***@127.0.0.1" in r.err
    assert f"HTTPS_PROXY=http://{PROXY_USER}:***@127.0.0.1" in r.err
    assert_no_proxy_secret(r.out + r.err)
    assert server.requests == []


@pytest.mark.usefixtures("no_proxy_bypass")
@pytest.mark.parametrize(
    "bad",
    [
        f"ftp://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:1",
        f"http://{PROXY_USER}:{PROXY_PASSWORD}@[::1:1",
        # A host the socket layer cannot encode (an internal error, exit 1, before).
        f"http://{PROXY_USER}:{PROXY_PASSWORD}@{'x' * 64}.example:8080",
        f"http://{PROXY_USER}:{PROXY_PASSWORD}@proxy..example:8080",
        # A scheme that needs a package oai does not install (an ImportError, before).
        f"socks5://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:1",
    ],
    ids=["scheme", "port", "long-label", "empty-label", "socks"],
)
def test_9_malformed_proxy_url_is_a_usage_error_with_its_password_masked(
    server: FaultServer, bad: str
) -> None:
    for debug in ([], ["--debug"]):
        r = oai(*debug, "api", "get", "/models", env=env_for(server.base_url, HTTP_PROXY=bad))
        assert r.code == 2, r
        assert "cannot use the proxy settings" in r.err and f"{PROXY_USER}:***@" in r.err
        assert "internal error" not in r.err
        assert_no_proxy_secret(r.out + r.err)
    assert server.requests == []


# -- 10: where the key may go --------------------------------------------------------


def test_10_redirect_to_another_host_does_not_carry_the_key(
    new_server: Callable[..., FaultServer],
) -> None:
    api, cdn = new_server(), new_server()
    # Another host name for the second server: a different origin in every respect.
    api.plan(respond(302, headers=[("location", f"http://localhost:{cdn.port}/blob?sig=1")]))
    cdn.plan(respond(200, b"file bytes", headers=[("content-type", "application/octet-stream")]))
    r = oai("api", "get", "/files/file-1/content", env=env_for(api.base_url))
    assert r.code == 0, r
    assert r.out_bytes == b"file bytes"
    assert api.requests[0].headers["authorization"] == f"Bearer {CANARY_KEY}"
    (followed,) = cdn.requests
    assert "authorization" not in followed.headers
    assert "CANARY" not in followed.wire_text()


def test_10_redirect_loop_is_a_clear_error(server: FaultServer) -> None:
    server.always(respond(302, headers=[("location", f"{server.base_url}/models")]))
    r = oai("api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 6, r
    assert "redirect" in r.err and "internal error" not in r.err


@pytest.mark.usefixtures("no_proxy_bypass")
def test_10_plain_http_to_a_remote_host_is_refused_unless_forced(
    new_server: Callable[..., FaultServer],
) -> None:
    # Every request would have to pass this proxy, so its record shows what left.
    upstream, proxy = new_server(), new_server()
    upstream.always(respond(200, json={"data": []}))
    proxy.always(forward(upstream))
    env = env_for("http://api.example.test/v1", HTTP_PROXY=proxy_url(proxy))
    r = oai("api", "get", "/models", env=env)
    assert r.code == 2, r
    assert "plain http" in r.err and "OAI_ALLOW_INSECURE_HTTP" in r.err
    assert proxy.requests == [] and upstream.requests == []

    r = oai("api", "get", "/models", env={**env, "OAI_ALLOW_INSECURE_HTTP": "1"})
    assert r.code == 0, r
    assert [q.target for q in proxy.requests] == ["http://api.example.test/v1/models"]


def _profile(*pairs: tuple[str, str]) -> None:
    for key, value in pairs:
        r = helpers.invoke("profile", "set", "--profile", "p", key, value)
        assert r.code == 0, r


@pytest.mark.parametrize(
    ("setting", "env", "sent"),
    [
        (("api_key_header", "api-key"), {}, ("api-key", CANARY_KEY)),
        (
            ("api_key_header", "Ocp-Apim-Subscription-Key"),
            {},
            ("ocp-apim-subscription-key", CANARY_KEY),
        ),
        (None, {"OPENAI_ORG_ID": "org-secret"}, ("openai-organization", "org-secret")),
        (None, {"OPENAI_PROJECT_ID": "proj_secret"}, ("openai-project", "proj_secret")),
        (("headers.X-Tenant-Token", "tenant-secret"), {}, ("x-tenant-token", "tenant-secret")),
        (None, {}, ("authorization", f"Bearer {CANARY_KEY}")),
    ],
    ids=["api-key", "apim", "organization", "project", "profile-header", "authorization"],
)
@pytest.mark.parametrize("where", ["host", "port"])
def test_10_a_redirect_to_another_origin_drops_every_credential_header(
    new_server: Callable[..., FaultServer],
    setting: tuple[str, str] | None,
    env: dict[str, str],
    sent: tuple[str, str],
    where: str,
) -> None:
    api, cdn = new_server(), new_server()
    _profile(("base_url", api.base_url), *([setting] if setting else []))
    host = "localhost" if where == "host" else "127.0.0.1"
    # Two hops: the first stays within the origin and keeps them, the second leaves it.
    api.plan(respond(307, headers=[("location", f"{api.base_url}/models2")]), path="/v1/models")
    api.plan(
        respond(302, headers=[("location", f"http://{host}:{cdn.port}/blob?sig=1")]),
        path="/v1/models2",
    )
    cdn.plan(respond(200, json={"data": []}))
    r = oai("--profile", "p", "api", "get", "/models", env=env_for(api.base_url, **env))
    assert r.code == 0, r
    name, value = sent
    # Same origin: the key and its companions go along.
    assert [q.headers.get(name) for q in api.requests] == [value, value]
    (followed,) = cdn.requests
    assert name not in followed.headers, followed.raw_headers
    assert value not in followed.wire_text() and "CANARY" not in followed.wire_text()


@pytest.mark.parametrize("header", [None, "api-key", "Ocp-Apim-Subscription-Key"])
def test_10_the_realtime_websocket_never_carries_the_key_to_another_origin(
    new_server: Callable[..., FaultServer], header: str | None
) -> None:
    api, other = new_server(), new_server()
    _profile(("base_url", api.base_url), *([("api_key_header", header)] if header else []))
    api.plan(respond(302, headers=[("location", f"ws://localhost:{other.port}/v1/realtime")]))
    other.always(respond(400, "no WebSocket here"))
    env = env_for(api.base_url, OPENAI_ORG_ID="org-secret", OPENAI_PROJECT_ID="proj_secret")
    r = oai("--profile", "p", "realtime", "connect", env=env)
    assert r.code == 6, r
    assert "redirect" in r.err and f"localhost:{other.port}" in r.err
    assert TRACEBACK not in r.err and "internal error" not in r.err
    assert CANARY_KEY in api.requests[0].wire_text()
    # Not even asked: what would have been sent there carries the key and the org.
    assert other.requests == []


def test_10_the_realtime_websocket_follows_a_redirect_within_its_origin(
    server: FaultServer,
) -> None:
    server.plan(respond(302, headers=[("location", "/v2/realtime?model=m")]), path="/v1/realtime")
    server.plan(respond(403, json={"error": {"message": "nope"}}), path="/v2/realtime")
    r = oai("realtime", "connect", env=env_for(server.base_url))
    assert r.code == 3, r
    assert server.to("/v2/realtime")[0].headers["authorization"] == f"Bearer {CANARY_KEY}"


# -- --timeout bounds a whole answer, and the wait for each event of a stream ----------


@pytest.mark.parametrize("chunked", [False, True])
def test_7_a_trickled_answer_is_cut_at_the_timeout(server: FaultServer, chunked: bool) -> None:
    # Two bytes every 0.2 s: each read is quick, the answer would take 20 s.
    body = json.dumps({"object": "list", "data": ["x" * 150]}).encode()
    server.plan(trickle(body, every=0.2, chunked=chunked))
    r = oai("--timeout", "1", "api", "get", "/models", env=env_for(server.base_url))
    assert r.code == 6, r
    assert "the answer stalled: incomplete after 1 s" in r.err and "timeout 1 s" in r.err
    assert r.elapsed < 5 and r.out == ""
    assert len(server.requests) == 1 and TRACEBACK not in r.err


def test_7_keep_alive_comments_do_not_hold_a_stream(server: FaultServer) -> None:
    first = b'data: {"id": "c", "choices": [{"delta": {"content": "hi"}}]}\n\n'
    server.plan(sse([first, *[b": keep-alive\n\n"] * 60], gap=0.2, end="stall"))
    r = oai(
        "--timeout", "1", "api", "post", "/chat/completions", "--stream", "-F", "model=m",
        env=env_for(server.base_url),
    )  # fmt: skip
    assert r.code == 7, r
    assert '"hi"' in r.out, "what came before stays printed"
    assert r.elapsed < 5 and TRACEBACK not in r.err


def test_7_a_stream_may_last_longer_than_the_timeout_while_events_come(
    server: FaultServer,
) -> None:
    events = [
        b'data: {"id": "c", "choices": [{"delta": {"content": "%d"}}]}\n\n' % i for i in range(8)
    ]
    server.plan(sse([*events, b"data: [DONE]\n\n"], gap=0.3))
    r = oai(
        "--timeout", "1", "api", "post", "/chat/completions", "--stream", "-F", "model=m",
        env=env_for(server.base_url),
    )  # fmt: skip
    assert r.code == 0, r
    assert r.elapsed > 2 and len(r.out.splitlines()) == 8


def test_7_a_download_may_last_longer_than_the_timeout_while_bytes_come(
    server: FaultServer, tmp_path: Path
) -> None:
    server.plan(
        trickle(b"\x00" * 1000, every=0.3, step=125, content_type="application/octet-stream")
    )
    target = tmp_path / "out.bin"
    r = oai(
        "--timeout", "1", "api", "get", "/files/f/content", "--output-file", str(target),
        env=env_for(server.base_url),
    )  # fmt: skip
    assert r.code == 0, r
    assert target.read_bytes() == b"\x00" * 1000 and r.elapsed > 2


@pytest.mark.parametrize(
    "host",
    ["127.attacker.example", "127.0.0.1.nip.example", "localhost.attacker.example", "0x7f.1"],
)
def test_10_plain_http_to_a_name_that_only_looks_local_is_refused(host: str) -> None:
    r = oai("api", "get", "/models", env=env_for(f"http://{host}/v1"))
    assert r.code == 2, r
    assert f"plain http to {host}" in r.err and "OAI_ALLOW_INSECURE_HTTP" in r.err


@pytest.mark.parametrize("host", ["127.0.0.2", "127.255.0.1", "[::1]", "LOCALHOST"])
def test_10_plain_http_to_loopback_is_allowed(host: str) -> None:
    # Nobody listens there: refused by the network (exit 6), not by the CLI (exit 2).
    base = f"http://{host}:{free_port()}/v1"
    r = oai("--max-retries", "0", "api", "get", "/models", env=env_for(base))
    assert r.code == 6, r
    assert "plain http" not in r.err and "could not connect" in r.err
