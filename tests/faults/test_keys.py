"""Scenarios 23 and 24: keys stay masked in debug output, and the canary is watched."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests import canary, helpers
from tests.faults.server import FaultServer, respond, sse
from tests.faults.support import TRACEBACK, env_for, oai
from tests.helpers import CANARY_ADMIN_KEY, CANARY_KEY

pytestmark = pytest.mark.faults


# -- 23: --debug ------------------------------------------------------------------------


def test_23_debug_masks_the_key_in_headers_urls_and_bodies(server: FaultServer) -> None:
    server.plan(
        respond(
            200,
            json={"id": "chatcmpl-1"},
            headers=[("x-echo-auth", f"Bearer {CANARY_KEY}"), ("x-echo-key", CANARY_KEY)],
            request_id="req_dbg",
        )
    )
    r = oai(
        "--debug",
        "api",
        "post",
        "/chat/completions/{note}",
        "-f",
        f"note={CANARY_KEY}",
        "-f",
        f"user={CANARY_KEY}",
        "-F",
        "model=m",
        env=env_for(server.base_url),
    )
    assert r.code == 0, r
    # The key really was sent where it belongs: the masking is in the log only.
    sent = server.requests[0]
    assert sent.headers["authorization"] == f"Bearer {CANARY_KEY}"
    assert sent.json()["user"] == CANARY_KEY
    assert "> authorization: Bearer ***" in r.err
    assert "> POST http://127.0.0.1" in r.err and "/chat/completions/sk-***" in r.err
    assert '"user": "sk-***"' in r.err
    assert "< x-echo-auth: Bearer ***" in r.err and "< x-echo-key: sk-***" in r.err
    assert "CANARY" not in r.err


def test_23_debug_masks_keys_in_error_answers_and_tracebacks(server: FaultServer) -> None:
    server.plan(
        respond(400, json={"error": {"message": f"bad value {CANARY_ADMIN_KEY} for user"}}),
    )
    r = oai(
        "--debug", "api", "get", "/organization/projects", "-H", "X-Trace: yes",
        env=env_for(server.base_url),
    )  # fmt: skip
    assert r.code == 1, r
    assert server.requests[0].headers["authorization"] == f"Bearer {CANARY_ADMIN_KEY}"
    assert "bad value sk-*** for user" in r.err
    assert TRACEBACK in r.err, "--debug shows the traceback"
    assert "CANARY" not in r.err


def test_23_debug_on_a_stream_and_a_multipart_upload(server: FaultServer, tmp_path: Path) -> None:
    data = tmp_path / "notes.txt"
    data.write_text(f"a file that mentions {CANARY_KEY}\n")
    server.plan(respond(200, json={"id": "file-1"}))
    r = oai(
        "--debug", "api", "post", "/files", "-F", "purpose=user_data", "-F", f"file=@{data}",
        env=env_for(server.base_url),
    )  # fmt: skip
    assert r.code == 0, r
    assert CANARY_KEY.encode() in server.requests[0].body
    assert "(multipart/form-data" in r.err and "CANARY" not in r.err

    # The server echoes a field the user sent: data on stdout, masked in the log.
    server.plan(sse([b'data: {"echo": "' + CANARY_KEY.encode() + b'"}\n\n', b"data: [DONE]\n\n"]))
    r = oai(
        "--debug", "api", "post", "/chat/completions", "--stream", "-F", "model=m",
        "-f", f"user={CANARY_KEY}", env=env_for(server.base_url),
    )  # fmt: skip
    assert r.code == 0, r
    assert CANARY_KEY in r.out and "CANARY" not in r.err


# A key that looks nothing like sk-...: only its value can tell it apart.
APIM_KEY = "0f3c9a7e5b1d4c2a8e6f0b9d7c5a3e1f"


@pytest.mark.parametrize("realtime", [False, True])
def test_23_debug_masks_a_key_by_its_value_whatever_carries_it(
    server: FaultServer, realtime: bool
) -> None:
    made = helpers.invoke(
        "profile", "set", "--profile", "apim", "api_key_header", "Ocp-Apim-Subscription-Key"
    )
    assert made.code == 0, made
    env = env_for(server.base_url, OPENAI_API_KEY=APIM_KEY)
    if realtime:
        server.plan(respond(401, json={"error": {"message": f"key {APIM_KEY} is not valid"}}))
        r = oai("--debug", "--profile", "apim", "realtime", "connect", env=env)
        assert r.code == 3, r
    else:
        server.plan(
            respond(
                400,
                json={"error": {"message": f"bad value {APIM_KEY} for user"}},
                headers=[("x-echo", f"k={APIM_KEY}"), ("x-echo-quoted", f'"{APIM_KEY}"')],
            )
        )
        r = oai(
            "--debug", "--profile", "apim", "api", "post", "/chat/completions/{note}",
            "-f", f"note={APIM_KEY}", "-f", f"user={APIM_KEY}", "-H", f"X-Other: {APIM_KEY}",
            env=env,
        )  # fmt: skip
        assert r.code == 1, r
        assert "bad value *** for user" in r.err and "< x-echo: k=***" in r.err
        assert "/chat/completions/***" in r.err and '"user": "***"' in r.err
        assert "> x-other: ***" in r.err
    assert server.requests[0].headers["ocp-apim-subscription-key"] == APIM_KEY
    assert "> ocp-apim-subscription-key: ***" in r.err.lower()
    assert APIM_KEY not in r.err + r.out and APIM_KEY[-12:] not in r.err


@pytest.mark.parametrize(
    "bad",
    ["sk-test-abc\u2010def0123456789", "sk-test-abc\x01def0123456789", "sk-test-abc def0123456789"],
)
def test_23_a_key_that_cannot_be_sent_is_named_not_shown(server: FaultServer, bad: str) -> None:
    r = oai("api", "get", "/models", env=env_for(server.base_url, OPENAI_API_KEY=bad))
    assert r.code == 3, r
    assert "API key from env OPENAI_API_KEY cannot be sent" in r.err and "position 12" in r.err
    assert "def0123456789" not in r.err and TRACEBACK not in r.err
    assert server.requests == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--project", "proj_\u00e9", "models", "list"], "the OpenAI-Project header (from flag"),
        (["--organization", "o\nX-Injected: 1", "files", "list"], "a line break at position 2"),
        (["--project", "p\r", "realtime", "connect"], "the OpenAI-Project header"),
        (["api", "get", "/models", "-H", "X-Trace: caf\u00e9"], "the X-Trace header"),
        (["api", "get", "/models", "-H", "X Trace: 1"], "'X Trace' cannot be sent as a header"),
    ],
)
def test_23_a_header_that_cannot_be_sent_is_a_usage_error(
    server: FaultServer, args: list[str], said: str
) -> None:
    # An encoding error inside the HTTP library, or a line break that would start a
    # header of its own: refused before anything is sent.
    r = oai(*args, env=env_for(server.base_url))
    assert r.code == 2, r
    assert said in r.err and TRACEBACK not in r.err and "internal error" not in r.err
    assert server.requests == []


@pytest.mark.parametrize("debug", [False, True])
def test_23_an_unforeseen_error_quoting_a_key_is_masked(
    monkeypatch: pytest.MonkeyPatch, debug: bool
) -> None:
    from openai_cli import main

    def explode(argv: list[str], factory: object) -> int:
        raise RuntimeError(
            f"header Authorization: Bearer {CANARY_KEY} rejected by {CANARY_ADMIN_KEY}"
        )

    monkeypatch.setattr(main, "_invoke", explode)
    r = helpers.invoke(*(["--debug"] if debug else []), "api", "get", "/models")
    assert r.code == 1, r
    assert "internal error: RuntimeError: header Authorization: Bearer ***" in r.err
    assert (TRACEBACK in r.err) is debug
    assert "CANARY" not in r.err


# -- 24: the canary ---------------------------------------------------------------------


def test_24_the_helpers_every_test_uses_are_checked() -> None:
    assert getattr(helpers.invoke, "__wrapped__", None) is not None
    assert getattr(helpers.oai_process, "__wrapped__", None) is not None
    from tests.cli import test_api_command

    bound = vars(test_api_command)["invoke"]
    assert bound is helpers.invoke, "modules bind the checked helper"


@pytest.mark.parametrize(
    "text",
    [CANARY_KEY, f"Bearer {CANARY_KEY}", CANARY_KEY.split("-")[-1], CANARY_ADMIN_KEY[9:]],
)
def test_24_leaks_on_stderr_fail_the_test(text: str) -> None:
    with pytest.raises(canary.CanaryLeak, match="stderr"):
        canary.check_run(["api", "get", "/models"], stdout="", stderr=f"oops {text}\n")


def test_24_leaks_on_stdout_fail_unless_expected() -> None:
    with pytest.raises(canary.CanaryLeak, match="stdout"):
        canary.check_run(["auth", "status"], stdout=CANARY_KEY, stderr="")
    # `auth token` prints the key by design, wherever the global options are.
    canary.check_run(["auth", "token"], stdout=CANARY_KEY + "\n", stderr="")
    canary.check_run(["--profile", "p", "auth", "token"], stdout=CANARY_KEY, stderr="")
    # The caller's own data may come back (--dry-run, an echo), but never on stderr.
    canary.check_run(["api", "post", "/x", "-f", f"u={CANARY_KEY}"], stdout=CANARY_KEY, stderr="")
    canary.check_run(["api", "post", "/x", "--body", "-"], stdout=CANARY_KEY, stderr="",
                     given=CANARY_KEY.encode())  # fmt: skip
    with pytest.raises(canary.CanaryLeak, match="stderr"):
        canary.check_run(["auth", "token"], stdout="", stderr=CANARY_KEY)


def test_24_files_written_during_a_run_are_scanned(tmp_path: Path) -> None:
    keyring_file = Path(os.environ["OAI_TEST_KEYRING_FILE"])
    mine = tmp_path / "key.txt"
    mine.write_text(CANARY_KEY)  # written by the test before the run: not the CLI's doing
    before = canary.snapshot()
    keyring_file.write_text(CANARY_KEY)  # the keyring is where keys belong
    canary.check_run(["auth", "login"], stdout="", stderr="", before=before)

    written = tmp_path / "out" / "answer.json"
    written.parent.mkdir()
    before = canary.snapshot()
    written.write_text(f'{{"leak": "{CANARY_KEY}"}}')
    with pytest.raises(canary.CanaryLeak, match=r"answer\.json"):
        canary.check_run(["api", "get", "/x"], stdout="", stderr="", before=before)


def test_24_plain_text_storage_is_the_one_config_file_exception() -> None:
    config = Path(os.environ["OAI_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True)
    before = canary.snapshot()
    config.write_text(f'[profiles.default]\napi_key = "{CANARY_KEY}"\n')
    args = ["auth", "login", "--with-key-stdin", "--insecure-storage"]
    canary.check_run(args, stdout="", stderr="", before=before)
    with pytest.raises(canary.CanaryLeak):
        canary.check_run(["auth", "login", "--with-key-stdin"], stdout="", stderr="", before=before)


def test_24_real_runs_pass_the_canary(server: FaultServer) -> None:
    r = oai("auth", "token", env=env_for(server.base_url))
    assert r.code == 0 and r.out == CANARY_KEY + "\n"
    server.always(respond(401, json={"error": {"message": "Incorrect API key provided"}}))
    r = oai("auth", "status", "--check", env=env_for(server.base_url))
    assert CANARY_KEY[:7] in r.out and "CANARY" not in r.out + r.err


# -- a password in the base URL -----------------------------------------------------------

URL_PASSWORD = "s3cret-p@ss/word"
GATEWAY = "https://gwuser:s3cret-p%40ss%2Fword@gw.example.test/v1"


@pytest.mark.parametrize("output", ["table", "json"])
def test_a_password_in_the_base_url_is_masked_by_auth_status(output: str) -> None:
    r = helpers.invoke("-o", output, "auth", "status", env=env_for(GATEWAY))
    assert r.code == 0, r
    assert "gwuser:***@gw.example.test" in r.out
    assert "s3cret" not in r.out + r.err and "%40ss" not in r.out + r.err


def test_a_password_in_the_base_url_is_masked_in_the_dry_run() -> None:
    r = helpers.invoke("--dry-run", "-o", "json", "api", "get", "/models", env=env_for(GATEWAY))
    assert r.code == 0, r
    shown = json.loads(r.out)
    assert shown["url"] == "https://gwuser:***@gw.example.test/v1/models"
    assert "curl -X GET 'https://gwuser:***@gw.example.test/v1/models'" in shown["curl"]
    assert "s3cret" not in r.out + r.err and "%40ss" not in r.out + r.err


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (GATEWAY, "https://gwuser:***@gw.example.test/v1"),
        ("https://u:p@ss@h.test:8443/v1?x=1", "https://u:***@h.test:8443/v1?x=1"),
        ("https://only-user@h.test/v1", "https://only-user@h.test/v1"),
        ("https://h.test/v1", "https://h.test/v1"),
        ("not a url", "not a url"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    from openai_cli.http.redact import redact_url

    assert redact_url(url) == shown
