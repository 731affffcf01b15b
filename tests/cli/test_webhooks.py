"""`oai webhooks verify|unwrap`: Standard Webhooks signatures, checked locally.

The end-to-end tests deliver a signed webhook over HTTP to a local receiver on
127.0.0.1, which saves the request as it arrived; `oai` then checks the saved copy.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from openai_cli.commands.webhooks import WebhookVerificationError, parse_header_text, verify
from openai_cli.errors import UsageError
from tests.helpers import invoke, oai_process
from tests.serving import QuietHandler, http_server

KEY = b"test-signing-key-0123456789abcdef"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"another-key-entirely-000000000000").decode()
EVENT = {
    "id": "evt_685343a1381c819085d44c354e1b330e",
    "object": "event",
    "created_at": 1750287018,
    "type": "batch.completed",
    "data": {"id": "batch_abc123"},
}
BODY = json.dumps(EVENT, separators=(",", ":")).encode()


def sign(body: bytes, webhook_id: str, stamp: int | str, key: bytes = KEY) -> str:
    signed = f"{webhook_id}.{stamp}.".encode() + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_headers(
    body: bytes = BODY, *, age: int = 0, webhook_id: str = "msg_2xYz", key: bytes = KEY
) -> dict[str, str]:
    stamp = int(time.time()) - age
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": "v1," + sign(body, webhook_id, stamp, key),
    }


def h_args(headers: dict[str, str]) -> list[str]:
    return [a for name, value in headers.items() for a in ("-H", f"{name}: {value}")]


def run(
    command: str, headers: dict[str, str], body: bytes = BODY, *args: str, secret: str = SECRET
) -> Any:
    env = {"OPENAI_WEBHOOK_SECRET": secret} if secret else {}
    return invoke("webhooks", command, *h_args(headers), *args, input=body, env=env)


# -- valid webhooks ----------------------------------------------------------------------


def test_unwrap_prints_the_event_exactly_as_received() -> None:
    r = run("unwrap", signed_headers())
    assert r.code == 0, r
    assert r.out_bytes == BODY + b"\n"
    assert SECRET not in r.out + r.err


def test_unwrap_with_a_query() -> None:
    r = invoke(
        "webhooks",
        "unwrap",
        *h_args(signed_headers()),
        "--query",
        "data.id",
        "-o",
        "raw",
        input=BODY,
        env={"OPENAI_WEBHOOK_SECRET": SECRET},
    )
    assert r.code == 0, r
    assert r.out == "batch_abc123\n"


def test_verify_prints_nothing_on_stdout_and_one_line_on_stderr() -> None:
    r = run("verify", signed_headers())
    assert r.code == 0, r
    assert r.out == ""
    assert r.err == "valid webhook msg_2xYz\n"
    quiet = run("verify", signed_headers(), BODY, "--quiet")
    assert (quiet.code, quiet.out, quiet.err) == (0, "", "")


def test_any_one_of_several_signatures_is_enough() -> None:
    headers = signed_headers()
    good = headers["webhook-signature"]
    wrong = "v1," + sign(BODY, "msg_2xYz", headers["webhook-timestamp"], b"old-key")
    headers["webhook-signature"] = f"v1a,c29tZXRoaW5nZWxzZQ== {wrong} {good}"
    assert run("verify", headers).code == 0


def test_a_secret_without_the_whsec_prefix_is_used_as_is() -> None:
    raw_secret = "plain-secret"
    headers = signed_headers(key=raw_secret.encode())
    assert run("verify", headers, secret=raw_secret).code == 0


def test_payload_from_a_file_and_headers_from_json(tmp_path: Path) -> None:
    payload = tmp_path / "body.json"
    payload.write_bytes(BODY)
    headers_file = tmp_path / "headers.json"
    headers_file.write_text(json.dumps({k.title(): v for k, v in signed_headers().items()}))
    r = invoke(
        "webhooks",
        "unwrap",
        str(payload),
        "--headers",
        str(headers_file),
        env={"OPENAI_WEBHOOK_SECRET": SECRET},
    )
    assert r.code == 0, r
    assert json.loads(r.out) == EVENT


def test_headers_from_stdin_with_the_payload_in_a_file(tmp_path: Path) -> None:
    payload = tmp_path / "body.json"
    payload.write_bytes(BODY)
    lines = "".join(f"{k}: {v}\r\n" for k, v in signed_headers().items())
    r = invoke(
        "webhooks",
        "verify",
        str(payload),
        "--headers",
        "-",
        input=lines,
        env={"OPENAI_WEBHOOK_SECRET": SECRET},
    )
    assert r.code == 0, r


def test_the_tolerance_can_be_widened() -> None:
    headers = signed_headers(age=3600)
    assert run("verify", headers).code == 1
    assert run("verify", headers, BODY, "--tolerance", "4000").code == 0


# -- not authentic: exit 1 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ("body", "webhook signature does not match"),
        ("id", "webhook signature does not match"),
        ("secret", "webhook signature does not match"),
        ("old", "webhook timestamp is too old: signed 10 min ago, tolerance 300 s"),
        ("future", "webhook timestamp is too new"),
        ("stamp", "invalid webhook-timestamp 'yesterday'"),
        ("version", "webhook-signature holds no v1 signature"),
    ],
)
def test_not_authentic(change: str, needle: str) -> None:
    headers = signed_headers(age={"old": 600, "future": -600}.get(change, 0))
    body = BODY
    secret = SECRET
    if change == "body":
        body = BODY.replace(b"batch_abc123", b"batch_evil99")
    elif change == "id":
        headers["webhook-id"] = "msg_other"
    elif change == "secret":
        secret = OTHER_SECRET
    elif change == "stamp":
        headers["webhook-timestamp"] = "yesterday"
    elif change == "version":
        headers["webhook-signature"] = headers["webhook-signature"].replace("v1,", "v2,")
    for command in ("verify", "unwrap"):
        r = run(command, headers, body, secret=secret)
        assert r.code == 1, r
        assert needle in r.err
        assert r.out == "", "nothing is printed for a webhook that is not authentic"
        assert SECRET not in r.err and OTHER_SECRET not in r.err


def test_a_trailing_newline_gets_a_hint() -> None:
    r = run("verify", signed_headers(), BODY + b"\n")
    assert r.code == 1, r
    assert "the payload ends with a newline" in r.err


# -- cannot check: exit 2 -----------------------------------------------------------------


def test_without_the_secret() -> None:
    r = run("verify", signed_headers(), secret="")
    assert r.code == 2, r
    assert "OPENAI_WEBHOOK_SECRET is not set" in r.err


def test_a_malformed_secret() -> None:
    r = run("verify", signed_headers(), secret="whsec_not*base64!")
    assert r.code == 2, r
    assert "is not base64" in r.err
    assert "not*base64" not in r.err


def test_missing_headers_are_named() -> None:
    headers = signed_headers()
    del headers["webhook-timestamp"]
    r = run("unwrap", headers)
    assert r.code == 2, r
    assert "missing webhook header: webhook-timestamp" in r.err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-H", "no-colon"], "expected NAME:VALUE"),
        (["--headers", "/nonexistent/h.txt"], "--headers: file not found: /nonexistent/h.txt"),
        (["/nonexistent/body.json"], "PAYLOAD: file not found: /nonexistent/body.json"),
        (["--headers", "-"], "cannot both come from stdin"),
        (["--tolerance", "-1"], "--tolerance"),
    ],
)
def test_usage_errors(args: list[str], needle: str) -> None:
    r = invoke("webhooks", "verify", *args, env={"OPENAI_WEBHOOK_SECRET": SECRET})
    assert r.code == 2, r
    assert needle in r.err


def test_an_authentic_payload_that_is_not_json() -> None:
    body = b"not json"
    r = run("unwrap", signed_headers(body), body)
    assert r.code == 2, r
    assert "not JSON" in r.err


# -- the pieces ----------------------------------------------------------------------------


def test_verify_at_the_exact_tolerance_edges() -> None:
    headers = signed_headers()
    now = float(headers["webhook-timestamp"])
    verify(BODY, headers, SECRET, tolerance=300, now=now + 300)
    verify(BODY, headers, SECRET, tolerance=300, now=now - 300)
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(BODY, headers, SECRET, tolerance=300, now=now + 301)
    with pytest.raises(WebhookVerificationError, match="too new"):
        verify(BODY, headers, SECRET, tolerance=300, now=now - 301)


def test_header_text_forms() -> None:
    dump = "POST /hooks/openai HTTP/1.1\r\nHost: x\r\nWebhook-Id: msg_1\r\n\r\n{ignored: body}"
    assert parse_header_text(dump, "f") == {"host": "x", "webhook-id": "msg_1"}
    assert parse_header_text('{"Webhook-Id": ["msg_1"]}', "f") == {"webhook-id": "msg_1"}
    with pytest.raises(UsageError, match="line 1 is not a header"):
        parse_header_text("garbage", "f")
    with pytest.raises(UsageError, match="'a' must have a string value"):
        parse_header_text('{"a": {"b": 1}}', "f")
    with pytest.raises(UsageError, match="not valid JSON"):
        parse_header_text("{nope", "f")


# -- end to end: a real delivery to a local receiver ---------------------------------------


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An endpoint that saves each delivery as it arrived: headers.txt and body."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            request_line = f"{self.command} {self.path} {self.request_version}\r\n"
            (inbox / "headers.txt").write_text(request_line + str(self.headers))
            (inbox / "body").write_bytes(body)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with http_server(Handler) as origin:
        yield f"{origin}/hooks/openai", inbox


def deliver(url: str, body: bytes, headers: dict[str, str]) -> None:
    with httpx.Client(trust_env=False) as client:
        resp = client.post(
            url, content=body, headers={**headers, "Content-Type": "application/json"}
        )
    assert resp.status_code == 200


def unwrap_delivery(inbox: Path) -> subprocess.CompletedProcess[bytes]:
    """`oai webhooks unwrap` of what the receiver saved, as a hook script would run it."""
    return oai_process(
        "webhooks",
        "unwrap",
        str(inbox / "body"),
        "--headers",
        str(inbox / "headers.txt"),
        env={"OPENAI_WEBHOOK_SECRET": SECRET},
    )


def test_end_to_end_a_delivered_webhook_unwraps(receiver: tuple[str, Path]) -> None:
    url, inbox = receiver
    deliver(url, BODY, signed_headers())
    proc = unwrap_delivery(inbox)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == BODY + b"\n"
    # The same delivery through stdin, as a web server's hook script would pipe it.
    piped = oai_process(
        "webhooks",
        "verify",
        "--headers",
        str(inbox / "headers.txt"),
        env={"OPENAI_WEBHOOK_SECRET": SECRET},
        input=(inbox / "body").read_bytes(),
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == b""


def test_end_to_end_a_forged_delivery_is_refused(receiver: tuple[str, Path]) -> None:
    url, inbox = receiver
    forged = BODY.replace(b"batch.completed", b"batch.cancelled")
    deliver(url, forged, signed_headers(BODY))  # signature of the original body
    proc = unwrap_delivery(inbox)
    assert proc.returncode == 1
    assert proc.stdout == b""
    assert b"webhook signature does not match" in proc.stderr


# -- hardening: the freshness check cannot be switched off by odd input --------------------


@pytest.mark.parametrize("tolerance", ["nan", "inf", "-inf", "NaN"])
def test_a_tolerance_that_is_not_a_finite_number_is_refused(tolerance: str) -> None:
    # NaN compared with any age is False: the check would pass a signature of any age.
    r = run("verify", signed_headers(age=10**7), BODY, "--tolerance", tolerance)
    assert r.code == 2, r
    assert "--tolerance" in r.err and "finite" in r.err


@pytest.mark.parametrize("stamp", ["+{now}", "{now} 0", "{now}_0", "\u0661\u0667{now}"])
def test_a_timestamp_is_plain_ascii_digits_only(stamp: str) -> None:
    now = str(int(time.time()))
    text = stamp.format(now=now)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": text,
        "webhook-signature": "v1," + sign(BODY, "msg_1", text),
    }
    r = run("verify", headers)
    assert r.code != 0, r
    assert "invalid webhook-timestamp" in r.err
