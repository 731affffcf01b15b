"""``--dry-run``: a curl command to copy on a terminal, the request as JSON when piped.

The terminal's command is run by a real shell with a stand-in ``curl`` that prints
the arguments it was given and the body it read: what the user would paste is what
curl would get.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import respx

from tests.helpers import BASE, CANARY_KEY, api_env, invoke

CHAT = (
    "chat", "completions", "create", "--model", "gpt-4o",
    "--messages", json.dumps([{"role": "user", "content": "it's $HOME `id` \\ \"q\""}]),
)  # fmt: skip
SESSION = {"type": "realtime", "instructions": "say hi; then stop"}
# Prints each argument on its own line, then what came on stdin.
FAKE_CURL = '#!/bin/sh\nfor a in "$@"; do printf \'%s\\n\' "$a"; done\necho ---\ncat\n'


def run_in_shell(command: str, tmp_path: Path, **env: str) -> list[str]:
    """What curl receives when ``command`` is pasted into a shell: its argv, ---, stdin."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    curl = bin_dir / "curl"
    curl.write_text(FAKE_CURL)
    curl.chmod(0o755)
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    proc = subprocess.run(
        ["sh", "-c", command],
        env={"PATH": path, "HOME": "/nowhere", **env},
        input=b"",
        capture_output=True,
        check=True,
    )
    return proc.stdout.decode().splitlines()


def test_a_terminal_gets_a_curl_command_with_the_body_pretty_printed(
    unsent: respx.MockRouter, tmp_path: Path
) -> None:
    route = unsent.route()
    r = invoke(*CHAT, "--dry-run", env=api_env(), stdout_tty=True)
    assert r.code == 0, r
    assert r.err == ""
    assert r.out == (
        "curl -X POST https://api.openai.test/v1/chat/completions \\\n"
        '  -H "Authorization: Bearer $OPENAI_API_KEY" \\\n'
        "  -H 'Content-Type: application/json' \\\n"
        "  --data-binary @- <<'JSON'\n"
        "{\n"
        '  "messages": [\n'
        "    {\n"
        '      "role": "user",\n'
        '      "content": "it\'s $HOME `id` \\\\ \\"q\\""\n'
        "    }\n"
        "  ],\n"
        '  "model": "gpt-4o"\n'
        "}\n"
        "JSON\n"
    )
    argv = run_in_shell(r.out, tmp_path, OPENAI_API_KEY="sk-from-the-shell")
    sep = argv.index("---")
    assert argv[:sep] == [
        "-X",
        "POST",
        "https://api.openai.test/v1/chat/completions",
        "-H",
        "Authorization: Bearer sk-from-the-shell",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        "@-",
    ]
    assert json.loads("\n".join(argv[sep + 1 :])) == {
        "messages": json.loads(CHAT[6]),
        "model": "gpt-4o",
    }
    assert not route.called


def test_a_short_command_stays_on_one_line() -> None:
    r = invoke("models", "list", "--dry-run", env=api_env(), stdout_tty=True)
    assert r.code == 0, r
    assert r.out == (
        'curl https://api.openai.test/v1/models -H "Authorization: Bearer $OPENAI_API_KEY"\n'
    )


def test_piped_the_request_stays_one_json_object() -> None:
    r = invoke(*CHAT, "--dry-run", env=api_env())
    assert r.code == 0, r
    shown = json.loads(r.out)
    assert list(shown) == ["method", "url", "headers", "body", "curl"]
    assert shown["curl"] == (
        "curl -X POST https://api.openai.test/v1/chat/completions"
        ' -H "Authorization: Bearer $OPENAI_API_KEY"'
        " -H 'Content-Type: application/json' -d "
        + "'"
        + json.dumps(shown["body"]).replace("'", "'\"'\"'")
        + "'"
    )


@pytest.mark.parametrize("tty", [True, False])
def test_a_json_part_without_a_file_name_is_its_value_with_its_type(
    tty: bool, tmp_path: Path
) -> None:
    r = invoke(
        "realtime", "calls", "create", "--sdp", "v=0", "--session", json.dumps(SESSION),
        "--dry-run", env=api_env(), stdout_tty=tty,
    )  # fmt: skip
    assert r.code == 0, r
    command = r.out if tty else json.loads(r.out)["curl"]
    assert "=@" not in command
    argv = run_in_shell(command, tmp_path, OPENAI_API_KEY="k")
    assert "session=" + _curl_quoted(json.dumps(SESSION)) + ";type=application/json" in argv
    assert "sdp=v=0;type=application/sdp" in argv


def _curl_quoted(text: str) -> str:
    # curl's -F reads a value holding ; in double quotes, with \ and " escaped.
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_a_file_part_names_the_path_given(tmp_path: Path) -> None:
    data = tmp_path / "in, a dir" / "batch input.jsonl"
    data.parent.mkdir()
    line = {"custom_id": "a", "method": "POST", "url": "/v1/embeddings", "body": {"model": "m"}}
    data.write_text(json.dumps(line) + "\n")
    r = invoke(
        "files", "create", "--purpose", "batch", "--file", str(data), "--dry-run",
        env=api_env(), stdout_tty=True,
    )  # fmt: skip
    assert r.code == 0, r
    argv = run_in_shell(r.out, tmp_path, OPENAI_API_KEY="k")
    assert argv[-4:-1] == ["purpose=batch", "-F", f'file=@"{data}"']


def test_a_field_that_curl_would_read_as_a_file_is_sent_as_a_string(tmp_path: Path) -> None:
    r = invoke(
        "api", "post", "/files", "-f", "purpose=@batch;x", "-F", "file=@-", "--dry-run",
        input="x", env=api_env(), stdout_tty=True,
    )  # fmt: skip
    assert r.code == 0, r
    argv = run_in_shell(r.out, tmp_path, OPENAI_API_KEY="k")
    assert argv[-5:-1] == ["--form-string", "purpose=@batch;x", "-F", "file=@-;filename=stdin"]


def test_no_key_anywhere_is_said_on_stderr() -> None:
    env = api_env()
    del env["OPENAI_API_KEY"]
    r = invoke("models", "list", "--dry-run", env=env, stdout_tty=True)
    assert r.code == 0, r
    assert r.err == (
        "oai: no API key is set; the curl command reads it from $OPENAI_API_KEY"
        " (`oai auth login` stores one)\n"
    )


@pytest.mark.parametrize("insecure", [True, False])
def test_a_key_from_a_profile_is_never_shown_and_the_way_to_export_it_is(insecure: bool) -> None:
    login = invoke(
        "auth", "login", "--profile", "work", "--with-key-stdin",
        *(["--insecure-storage"] if insecure else []), input=CANARY_KEY,
    )  # fmt: skip
    assert login.code == 0, login
    env = {"OPENAI_BASE_URL": BASE, "OPENAI_API_KEY": "sk-not-the-one-used"}
    for tty in (True, False):
        r = invoke("--profile", "work", "models", "list", "--dry-run", env=env, stdout_tty=tty)
        assert r.code == 0, r
        assert CANARY_KEY not in r.out + r.err
        assert "$OPENAI_API_KEY" in r.out
        assert r.err == (
            "oai: the API key is in profile 'work' (its file or the OS keyring), not in"
            " $OPENAI_API_KEY; to run the curl command:"
            " export OPENAI_API_KEY=$(oai --profile work auth token)\n"
        )


def test_a_profile_that_needs_no_key_and_has_none_says_so() -> None:
    for key, value in (("base_url", BASE), ("api_key_optional", "true")):
        assert invoke("profile", "set", key, value, "--profile", "gw").code == 0
    for tty in (True, False):
        r = invoke("--profile", "gw", "models", "list", "--dry-run", stdout_tty=tty)
        assert r.code == 0, r
        assert r.err == (
            "oai: profile 'gw' has no API key in its file and needs none (api_key_optional);"
            " one kept in the OS keyring would be sent: `oai --profile gw auth token` prints it\n"
        )


def test_an_admin_key_from_the_environment_needs_no_note(tmp_path: Path) -> None:
    env = {"OPENAI_BASE_URL": BASE, "OPENAI_ADMIN_KEY": CANARY_KEY}
    r = invoke("admin", "organization", "projects", "list", "--dry-run", env=env, stdout_tty=True)
    assert r.code == 0, r
    assert r.err == ""
    assert CANARY_KEY not in r.out
    argv = run_in_shell(r.out, tmp_path, OPENAI_ADMIN_KEY="sk-admin-in-shell")
    assert "Authorization: Bearer sk-admin-in-shell" in argv


def test_query_and_output_formats_keep_the_json_object() -> None:
    env = {**api_env(), "NO_COLOR": "1"}
    r = invoke("models", "list", "--dry-run", "--query", "url", env=env, stdout_tty=True)
    assert r.code == 0, r
    assert json.loads(r.out) == "https://api.openai.test/v1/models"
    r = invoke("models", "list", "--dry-run", "-o", "json", env=env, stdout_tty=True)
    assert json.loads(r.out)["method"] == "GET"
