"""mTLS: a local HTTPS (and WSS) server on 127.0.0.1 that requires a client certificate.

The CA, server and client certificates are made fresh for the test session.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests import certs
from tests.helpers import CANARY_KEY, api_env, invoke, subprocess_env
from tests.serving import QuietHandler, http_server, ws_server

MODELS = {"object": "list", "data": [{"id": "m1", "object": "model"}]}


# -- certificates ----------------------------------------------------------------------


@dataclass
class Issued:
    cert: Path
    key: Path


class CA:
    def __init__(self, directory: Path, name: str) -> None:
        self.dir = directory
        self.key = certs.new_key()
        self.name = certs.name(name)
        self.cert = certs.self_signed_ca(self.name, self.key)
        self.pem = directory / f"{name}.pem"
        certs.write_cert(self.cert, self.pem)

    def issue(self, cn: str, *, server: bool, password: bytes | None = None) -> Issued:
        key = certs.new_key()
        builder = (
            certs.builder(certs.name(cn), self.name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        if server:
            builder = builder.add_extension(certs.LOCAL_HOSTS, critical=False)
        issued = Issued(self.dir / f"{cn}.crt", self.dir / f"{cn}.key")
        certs.write_cert(builder.sign(self.key, hashes.SHA256()), issued.cert)
        certs.write_key(key, issued.key, password)
        return issued


@dataclass
class PKI:
    ca: CA
    server: Issued
    client: Issued
    rogue_client: Issued  # from a CA the server does not trust
    encrypted_client: Issued


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    directory = tmp_path_factory.mktemp("pki")
    ca = CA(directory, "test-ca")
    rogue = CA(directory, "rogue-ca")
    return PKI(
        ca=ca,
        server=ca.issue("server", server=True),
        client=ca.issue("oai-client", server=False),
        rogue_client=rogue.issue("rogue-client", server=False),
        encrypted_client=ca.issue("locked-client", server=False, password=b"hunter2"),
    )


def server_context(pki: PKI) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.server.cert, pki.server.key)
    ctx.load_verify_locations(pki.ca.pem)
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def client_cn(peer: dict[str, Any] | None) -> str | None:
    for rdn in (peer or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


# -- an HTTPS server that requires a client certificate ----------------------------------


@dataclass
class Seen:
    clients: list[str | None] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a refused handshake is what some tests are about


@pytest.fixture
def https(pki: PKI) -> Iterator[tuple[str, Seen]]:
    seen = Seen()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            seen.clients.append(client_cn(self.connection.getpeercert()))
            seen.auth.append(self.headers.get("Authorization"))
            self.send_json(MODELS)

    with http_server(Handler, server_class=_Quiet, tls=server_context(pki)) as origin:
        yield f"{origin}/v1", seen


def mtls_env(base: str, pki: PKI, client: Issued | None) -> dict[str, str]:
    env = {**api_env(base), "SSL_CERT_FILE": str(pki.ca.pem)}
    if client is not None:
        env["OPENAI_MTLS_CLIENT_CERT_FILE"] = str(client.cert)
        env["OPENAI_MTLS_CLIENT_KEY_FILE"] = str(client.key)
    return env


# -- HTTP ----------------------------------------------------------------------------------


def test_the_client_certificate_from_the_environment_is_presented(
    https: tuple[str, Seen], pki: PKI
) -> None:
    base, seen = https
    r = invoke("api", "get", "/models", env=mtls_env(base, pki, pki.client))
    assert r.code == 0, r
    assert json.loads(r.out) == MODELS
    assert seen.clients == ["oai-client"]
    assert seen.auth == [f"Bearer {CANARY_KEY}"]


def test_the_client_certificate_from_profile_settings(https: tuple[str, Seen], pki: PKI) -> None:
    base, seen = https
    env = api_env(base)
    for key, value in (
        ("base_url", base),
        ("ca_bundle", str(pki.ca.pem)),
        ("mtls_client_cert_file", str(pki.client.cert)),
        ("mtls_client_key_file", str(pki.client.key)),
    ):
        r = invoke("profile", "set", key, value, env=env)
        assert r.code == 0, r
    del env["OPENAI_BASE_URL"]
    r = invoke("api", "get", "/models", env=env)
    assert r.code == 0, r
    assert seen.clients == ["oai-client"]
    status = invoke("auth", "status", env=env)
    assert status.code == 0, status
    rows = json.loads(status.out)
    assert rows["mtls_client_cert_file"]["value"] == str(pki.client.cert)
    assert rows["ca_bundle"]["source"].startswith("profile 'default'")


def test_one_pem_file_with_certificate_and_key(
    https: tuple[str, Seen], pki: PKI, tmp_path: Path
) -> None:
    base, seen = https
    both = tmp_path / "both.pem"
    both.write_bytes(pki.client.cert.read_bytes() + pki.client.key.read_bytes())
    env = {**mtls_env(base, pki, None), "OPENAI_MTLS_CLIENT_CERT_FILE": str(both)}
    r = invoke("api", "get", "/models", env=env)
    assert r.code == 0, r
    assert seen.clients == ["oai-client"]


def test_without_a_client_certificate_the_server_refuses(https: tuple[str, Seen], pki: PKI) -> None:
    base, seen = https
    r = invoke("--max-retries", "0", "api", "get", "/models", env=mtls_env(base, pki, None))
    assert r.code == 6, r
    assert "client certificate (mTLS)" in r.err
    assert "OPENAI_MTLS_CLIENT_CERT_FILE" in r.err
    assert seen.clients == []


def test_a_certificate_from_an_untrusted_ca_is_rejected(https: tuple[str, Seen], pki: PKI) -> None:
    base, seen = https
    r = invoke(
        "--max-retries", "0", "api", "get", "/models", env=mtls_env(base, pki, pki.rogue_client)
    )
    assert r.code == 6, r
    assert "rejected the client certificate" in r.err
    assert seen.clients == []


def test_an_untrusted_server_names_ssl_cert_file(https: tuple[str, Seen], pki: PKI) -> None:
    base, _ = https
    env = mtls_env(base, pki, pki.client)
    del env["SSL_CERT_FILE"]
    r = invoke("--max-retries", "0", "api", "get", "/models", env=env)
    assert r.code == 6, r
    assert "CERTIFICATE_VERIFY_FAILED" in r.err
    assert "set SSL_CERT_FILE" in r.err


# -- broken configuration: exit 2, nothing sent ------------------------------------------


def test_a_missing_certificate_file_is_named(https: tuple[str, Seen], pki: PKI) -> None:
    base, seen = https
    env = {**mtls_env(base, pki, pki.client), "OPENAI_MTLS_CLIENT_CERT_FILE": "/nonexistent/c.pem"}
    r = invoke("api", "get", "/models", env=env)
    assert r.code == 2, r
    assert (
        "cannot read the mTLS client certificate /nonexistent/c.pem "
        "(from env OPENAI_MTLS_CLIENT_CERT_FILE)" in r.err
    )
    assert seen.clients == []


def test_a_key_without_a_certificate(https: tuple[str, Seen], pki: PKI) -> None:
    base, _ = https
    env = mtls_env(base, pki, pki.client)
    del env["OPENAI_MTLS_CLIENT_CERT_FILE"]
    r = invoke("api", "get", "/models", env=env)
    assert r.code == 2, r
    assert "an mTLS client key is set (from env OPENAI_MTLS_CLIENT_KEY_FILE)" in r.err


def test_a_key_that_does_not_match_the_certificate(https: tuple[str, Seen], pki: PKI) -> None:
    base, _ = https
    env = {**mtls_env(base, pki, pki.client), "OPENAI_MTLS_CLIENT_KEY_FILE": str(pki.server.key)}
    r = invoke("api", "get", "/models", env=env)
    assert r.code == 2, r
    assert f"cannot use the mTLS client certificate {pki.client.cert}" in r.err


def test_an_encrypted_key_fails_without_prompting(https: tuple[str, Seen], pki: PKI) -> None:
    base, _ = https
    r = invoke("api", "get", "/models", env=mtls_env(base, pki, pki.encrypted_client))
    assert r.code == 2, r
    assert "cannot use the mTLS client certificate" in r.err
    assert "unencrypted" in r.err


def test_profile_set_stores_an_absolute_path_and_refuses_a_missing_file(
    pki: PKI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(pki.client.cert.parent)
    r = invoke("profile", "set", "mtls_client_cert_file", pki.client.cert.name)
    assert r.code == 0, r
    shown = json.loads(invoke("profile", "show").out)
    assert shown["settings"]["mtls_client_cert_file"] == str(pki.client.cert)
    r = invoke("profile", "set", "mtls_client_key_file", str(tmp_path / "missing.key"))
    assert r.code == 2, r
    assert "no such file" in r.err


# -- the Realtime WebSocket uses the same TLS settings -------------------------------------


@pytest.fixture
def wss(pki: PKI) -> Iterator[tuple[str, Seen]]:
    from websockets.sync.server import ServerConnection

    seen = Seen()

    def handler(conn: ServerConnection) -> None:
        seen.clients.append(client_cn(conn.socket.getpeercert()))  # type: ignore[attr-defined]
        seen.auth.append(conn.request.headers.get("Authorization") if conn.request else None)
        conn.send(json.dumps({"type": "session.created", "event_id": "e0"}))
        for message in conn:
            event = json.loads(message)
            if event["type"] == "response.create":
                for i, part in enumerate(("over ", "TLS")):
                    delta = {"type": "response.output_text.delta", "event_id": f"d{i}"}
                    conn.send(json.dumps({**delta, "delta": part}))
                done = {
                    "type": "response.done",
                    "event_id": "e9",
                    "response": {"status": "completed"},
                }
                conn.send(json.dumps(done))

    with ws_server(handler, ssl=server_context(pki)) as port:
        yield f"https://127.0.0.1:{port}/v1", seen


def test_realtime_over_wss_presents_the_client_certificate(wss: tuple[str, Seen], pki: PKI) -> None:
    base, seen = wss
    r = invoke("realtime", "connect", input="hi\n", env=mtls_env(base, pki, pki.client))
    assert r.code == 0, r
    assert r.out == "over TLS\n"
    assert seen.clients == ["oai-client"]
    assert seen.auth == [f"Bearer {CANARY_KEY}"]


def test_realtime_over_wss_without_a_client_certificate(wss: tuple[str, Seen], pki: PKI) -> None:
    base, seen = wss
    r = invoke("realtime", "connect", input="hi\n", env=mtls_env(base, pki, None))
    assert r.code == 6, r
    assert "client certificate (mTLS)" in r.err
    assert "OPENAI_MTLS_CLIENT_CERT_FILE" in r.err
    assert seen.clients == []


# -- the advice for each way a TLS server can refuse ----------------------------------------

REFUSALS = {
    "required": "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required",
    "unknown_ca": "[SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca (_ssl.c:2580)",
    "eof": "[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol",
    "closed": "TLS/SSL connection has been closed (EOF) (_ssl.c:2427)",
    "reset": "[Errno 104] Connection reset by peer",
}


@pytest.mark.parametrize("kind", sorted(REFUSALS))
@pytest.mark.parametrize("with_cert", [False, True])
def test_tls_refusals_point_at_the_client_certificate(kind: str, with_cert: bool, pki: PKI) -> None:
    from openai_cli.config import Overrides, load_settings
    from openai_cli.http.tls import tls_hint

    env = {"OAI_CONFIG_DIR": "/nonexistent"}
    if with_cert:
        env["OPENAI_MTLS_CLIENT_CERT_FILE"] = str(pki.client.cert)
    settings = load_settings(Overrides(base_url="https://gw.example.test/v1"), env)
    hint = tls_hint(REFUSALS[kind], settings) or ""
    if with_cert:
        assert f"rejected the client certificate {pki.client.cert}" in hint
        assert "(from env OPENAI_MTLS_CLIENT_CERT_FILE)" in hint
    else:
        assert "client certificate (mTLS)" in hint
        assert "OPENAI_MTLS_CLIENT_CERT_FILE" in hint


def test_a_reset_over_plain_http_is_not_blamed_on_tls(pki: PKI) -> None:
    from openai_cli.config import Overrides, load_settings
    from openai_cli.http.tls import tls_hint

    settings = load_settings(
        Overrides(base_url="http://127.0.0.1:9/v1"), {"OAI_CONFIG_DIR": "/nonexistent"}
    )
    assert tls_hint(REFUSALS["reset"], settings) is None
    verify = "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed"
    assert "set SSL_CERT_FILE" in (tls_hint(verify, settings) or "")


TLS_FILES = {
    "SSL_CERT_FILE": "CA bundle",
    "OPENAI_MTLS_CLIENT_CERT_FILE": "mTLS client certificate",
    "OPENAI_MTLS_CLIENT_KEY_FILE": "mTLS client key",
}


@pytest.mark.parametrize("variable", sorted(TLS_FILES))
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_tls_file_that_is_a_pipe_or_a_device_is_refused(
    https: tuple[str, Seen], pki: PKI, tmp_path: Path, variable: str, kind: str
) -> None:
    base, seen = https
    if kind == "fifo":
        path = tmp_path / "tls.pem"
        os.mkfifo(path)
        said = "it is a named pipe, not a regular file"
    else:
        path, said = Path("/dev/zero"), "it is a character device, not a regular file"
    env = {**mtls_env(base, pki, pki.client), variable: str(path)}
    # A process, with a timeout: OpenSSL opening the pipe would wait for ever.
    r = subprocess.run(
        [sys.executable, "-m", "openai_cli", "api", "get", "/models"],
        env=subprocess_env(env),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (r.returncode, r.stderr.splitlines()[0]) == (
        2,
        f"oai: cannot read the {TLS_FILES[variable]} {path} (from env {variable}): {said}",
    ), r.stderr
    assert seen.clients == []


@pytest.mark.parametrize("kind", ["file", "fifo"])
def test_an_ssl_cert_dir_that_is_not_a_folder_is_refused(
    https: tuple[str, Seen], pki: PKI, tmp_path: Path, kind: str
) -> None:
    base, seen = https
    path = tmp_path / "certs"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.write_bytes(pki.ca.pem.read_bytes())
    env = subprocess_env({**mtls_env(base, pki, pki.client), "SSL_CERT_DIR": f"{tmp_path}:{path}"})
    del env["SSL_CERT_FILE"]
    r = subprocess.run(
        [sys.executable, "-m", "openai_cli", "api", "get", "/models"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(
        f"oai: the CA folder {path} (from env SSL_CERT_DIR) is not a folder\n"
    ), r.stderr
    assert seen.clients == []
