"""Completion of IDs and models from the answers oai has already printed.

Every request a test expects is a respx route that must be called; a TAB runs under
``unsent`` or with no router at all, so a request made on TAB fails the test.
"""

from __future__ import annotations

import json
import shlex
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openai_cli import idcache
from tests.helpers import BASE, api_env, invoke, subprocess_env
from tests.serving import QuietHandler, http_server

NOW = 1_780_000_000
FILE_ROWS = [
    {"id": "file-new", "object": "file", "filename": "train.jsonl", "created_at": NOW},
    {"id": "file-old", "object": "file", "filename": "notes: v2.txt", "created_at": NOW - 60},
]
FILES = {"object": "list", "data": FILE_ROWS, "has_more": False}
BATCH = {"id": "batch_1", "object": "batch", "status": "in_progress", "created_at": NOW}


def when(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def complete(shell: str, line: str, word: str | None = None, **env: str) -> list[str]:
    full = {**api_env(), "_OAI_COMPLETE": f"complete_{shell}", "_OAI_COMPLETE_LINE": line, **env}
    if word is not None:
        full["_OAI_COMPLETE_WORD"] = word
    with respx.mock(base_url=BASE, assert_all_mocked=True):  # any request on TAB fails
        r = invoke(env=full)
    assert r.code == 0, r
    assert r.err == ""
    return r.out.splitlines()


def run(api: respx.MockRouter, method: str, path: str, body: Any, *args: str, **env: str) -> None:
    api.route(method=method, path=path.removeprefix("/v1")).respond(200, json=body)
    r = invoke(*args, env={**api_env(), **env})
    assert r.code == 0, r


def cache_file(isolated: Path) -> Path:
    return isolated / "state" / idcache.FILE_NAME


def test_listed_files_complete_with_their_names(api: respx.MockRouter, isolated: Path) -> None:
    assert complete("bash", "oai files retrieve ", "") == []
    run(api, "GET", "/files", FILES, "files", "list")
    assert complete("bash", "oai files retrieve ", "") == ["file-new", "file-old"]
    assert complete("zsh", "oai files retrieve file-o") == [
        f"file-old:notes: v2.txt · {when(NOW - 60)}"
    ]
    assert complete("fish", "oai files delete ") == [
        f"file-new\ttrain.jsonl · {when(NOW)}",
        f"file-old\tnotes: v2.txt · {when(NOW - 60)}",
    ]
    # A body field taking a file, and a file of a vector store (its ID is the file's).
    assert complete("bash", "oai fine-tuning jobs create --training-file ", "") == [
        "file-new",
        "file-old",
    ]
    assert complete("bash", "oai vector-stores files retrieve vs_1 ", "") == [
        "file-new",
        "file-old",
    ]
    assert stat.S_IMODE(cache_file(isolated).stat().st_mode) == 0o600
    assert "sk-" not in cache_file(isolated).read_text()


def test_created_batch_completes_with_its_status(api: respx.MockRouter) -> None:
    run(
        api,
        "POST",
        "/batches",
        BATCH,
        "batches",
        "create",
        "--input-file-id",
        "file-x",
        "--endpoint",
        "/v1/responses",
        "--completion-window",
        "24h",
    )
    assert complete("fish", "oai batches cancel ") == [f"batch_1\tin_progress · {when(NOW)}"]
    # Not a batch of a vector store, nor a file.
    assert complete("bash", "oai vector-stores file-batches cancel vs_1 ", "") == []
    assert complete("bash", "oai files retrieve ", "") == []


def test_vector_store_files_list_completes_vector_stores(api: respx.MockRouter) -> None:
    stores = {"object": "list", "data": [{"id": "vs_1", "object": "vector_store", "name": "docs"}]}
    run(api, "GET", "/vector_stores", stores, "vector-stores", "list")
    assert complete("fish", "oai vector-stores files list ") == ["vs_1\tdocs"]


def test_previous_response_id(api: respx.MockRouter) -> None:
    resp = {"id": "resp_1", "object": "response", "status": "completed", "created_at": NOW}
    run(api, "GET", "/responses/resp_1", resp, "responses", "retrieve", "resp_1")
    assert complete("bash", "oai responses create --previous-response-id ", "") == ["resp_1"]


def test_a_successful_delete_removes_the_id(api: respx.MockRouter) -> None:
    run(api, "GET", "/files", FILES, "files", "list")
    run(
        api,
        "DELETE",
        "/files/file-new",
        {"id": "file-new", "object": "file", "deleted": True},
        "files",
        "delete",
        "file-new",
    )
    assert complete("bash", "oai files retrieve ", "") == ["file-old"]
    # An empty answer to a delete, too.
    api.delete("/files/file-old").respond(204)
    assert invoke("files", "delete", "file-old", env=api_env()).code == 0
    assert complete("bash", "oai files retrieve ", "") == []


def test_a_failed_delete_keeps_the_id(api: respx.MockRouter) -> None:
    run(api, "GET", "/files", FILES, "files", "list")
    api.delete("/files/file-new").respond(404, json={"error": {"message": "no such file"}})
    assert invoke("files", "delete", "file-new", env=api_env()).code != 0
    assert complete("bash", "oai files retrieve ", "") == ["file-new", "file-old"]


def test_kept_per_profile_and_base_url(api: respx.MockRouter, isolated: Path) -> None:
    config = isolated / "config"
    config.mkdir(parents=True)
    (config / "config.toml").write_text("[profiles.work]\n[profiles.home]\n")
    run(api, "GET", "/files", FILES, "files", "list", "--profile", "work")
    assert complete("bash", "oai --profile work files retrieve ", "") == ["file-new", "file-old"]
    assert complete("bash", "oai files retrieve --profile work ", "") == ["file-new", "file-old"]
    assert complete("bash", "oai --profile home files retrieve ", "") == []
    other = "https://user:hunter2@other.test/v1"
    assert complete("bash", "oai --profile work files retrieve ", "", OPENAI_BASE_URL=other) == []
    assert complete("bash", f"oai --profile work --base-url {BASE} files retrieve ", "") == [
        "file-new",
        "file-old",
    ]


@pytest.mark.parametrize("credential", ["user:hunter2@", "hunter2@"])
def test_password_of_the_base_url_is_never_written(isolated: Path, credential: str) -> None:
    # A password, or a token given as the user name: neither in the ID cache nor in
    # what a TAB keeps of the settings.
    base = f"https://{credential}api.openai.test/v1"
    # As an older oai wrote it, with the credential in a section's key: replaced.
    old = {"version": 1, "sections": {f" {base}": {"file": [["file-older", ""]]}}}
    cache_file(isolated).parent.mkdir(parents=True)
    cache_file(isolated).write_text(json.dumps(old))
    with respx.mock(base_url="https://api.openai.test/v1", assert_all_called=True) as api:
        api.get("/files").respond(200, json=FILES)
        r = invoke("files", "list", env={**api_env(), "OPENAI_BASE_URL": base})
        assert r.code == 0, r
    assert "hunter2" not in cache_file(isolated).read_text()
    assert complete("bash", "oai files retrieve ", "", OPENAI_BASE_URL=base) == [
        "file-new",
        "file-old",
    ]
    kept = cache_file(isolated).with_name("tab.json").read_text()
    assert "api.openai.test" in kept and "hunter2" not in kept


def test_setting_turns_it_off(api: respx.MockRouter, isolated: Path) -> None:
    run(api, "GET", "/files", FILES, "files", "list", OAI_ID_CACHE="no")
    assert not cache_file(isolated).exists()
    assert invoke("files", "list", env=api_env()).code == 0
    assert complete("bash", "oai files retrieve ", "", OAI_ID_CACHE="false") == []


def test_cache_clear_empties_it(api: respx.MockRouter, isolated: Path) -> None:
    run(api, "GET", "/files", FILES, "files", "list")
    kept = cache_file(isolated).with_name("tab.json")
    kept.write_text("{}")
    r = invoke("cache", "clear")
    assert r.code == 0, r
    assert not cache_file(isolated).exists()
    assert not kept.exists(), "what TABs kept of the settings is cleared with the IDs"
    assert complete("bash", "oai files retrieve ", "") == []
    r = invoke("cache", "clear")
    assert r.code == 0, r
    assert "empty" in r.err


@pytest.mark.parametrize("name", ["ids.json", "tab.json"])
def test_cache_clear_names_a_file_it_cannot_remove(isolated: Path, name: str) -> None:
    # A folder where a file of the cache goes: the message says which.
    blocked = cache_file(isolated).with_name(name)
    blocked.mkdir(parents=True)
    r = invoke("cache", "clear")
    assert (r.code, r.err) == (2, f"oai: cannot remove {blocked}: Is a directory\n")


# IDs a server could send that a shell would read as more than an ID.
NOT_IDS = [
    "file-1$(touch pwned)",
    "file-2\nrm -rf ~",
    "file 3",
    "--output-file=/home/u/.bashrc",
    "file-4`id`",
    "file-5;id",
    "file-6\x1b[2J",
    "",
]


def test_ids_a_shell_would_read_as_syntax_are_never_offered(
    api: respx.MockRouter, isolated: Path
) -> None:
    rows = [{"id": oid, "object": "file", "created_at": NOW} for oid in NOT_IDS]
    odd_name = {"id": "file-ok", "object": "file", "filename": "a\x1b]52;c;aGk=\x07.pdf"}
    run(api, "GET", "/files", {"object": "list", "data": [*rows, odd_name]}, "files", "list")
    assert complete("bash", "oai files retrieve ", "") == ["file-ok"]
    # The server's file name is shown, not obeyed, where a shell shows descriptions.
    assert complete("fish", "oai files retrieve ") == ["file-ok\ta^[]52;c;aGk=^G.pdf"]
    # A cache written before the check (or by hand) is checked as it is read.
    kept = json.loads(cache_file(isolated).read_text())
    for kinds in kept["sections"].values():
        kinds["file"] += [[oid, ""] for oid in NOT_IDS]
    cache_file(isolated).write_text(json.dumps(kept))
    assert complete("bash", "oai files retrieve ", "") == ["file-ok"]


@given(st.text(min_size=1, max_size=12))
def test_an_offered_id_is_one_plain_word_to_a_shell(text: str) -> None:
    if idcache.offered(text):
        assert shlex.split(text, comments=True) == [text] and not text.startswith("-")
        assert text.isprintable() and not any(c.isspace() for c in text)


def test_models_from_the_last_models_list(api: respx.MockRouter) -> None:
    spec_names = complete("bash", "oai chat completions create --model gpt-4o", "gpt-4o")
    assert "gpt-4o" in spec_names and "gpt-4o-mini" in spec_names, "the spec's names"
    assert complete("bash", "oai ask --model gpt-4o", "gpt-4o") == spec_names
    models = {"object": "list", "data": [{"id": "local-llm", "object": "model", "created": NOW}]}
    run(api, "GET", "/models", models, "models", "list")
    assert complete("bash", "oai chat completions create --model ", "") == ["local-llm"]
    assert complete("bash", "oai ask -m ", "") == ["local-llm"]
    assert complete("bash", "oai models retrieve ", "") == ["local-llm"]


def test_a_broken_cache_file_offers_nothing(isolated: Path) -> None:
    path = cache_file(isolated)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert complete("bash", "oai files retrieve ", "") == []


def test_all_pages_are_remembered(api: respx.MockRouter) -> None:
    page1 = {"object": "list", "data": FILE_ROWS[:1], "has_more": True}
    page2 = {"object": "list", "data": FILE_ROWS[1:], "has_more": False}
    api.get("/files", params={"after": "file-new"}).respond(200, json=page2)
    api.get("/files").respond(200, json=page1)
    r = invoke("files", "list", "--all", "-o", "table", env=api_env())
    assert r.code == 0, r
    # The later page was seen last: it comes first.
    assert complete("bash", "oai files retrieve ", "") == ["file-old", "file-new"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(0, idcache.LIMIT * 2), min_size=1, max_size=idcache.LIMIT * 3))
def test_bounded_and_most_recent_first(env: dict[str, str], seen_ids: list[int]) -> None:
    idcache.clear(env)
    for chunk in range(0, len(seen_ids), 97):
        seen = idcache.Seen()
        for n in seen_ids[chunk : chunk + 97]:
            seen.answer({"id": f"file-{n}", "object": "file"})
        idcache.save(env, "p", seen)
    got = [oid for oid, _ in idcache.read(env, "p", "file")]
    expected = list(dict.fromkeys(f"file-{n}" for n in reversed(seen_ids)))[: idcache.LIMIT]
    assert got == expected
    assert json.loads(Path(env["OAI_STATE_DIR"], idcache.FILE_NAME).read_text())["version"] == 2


def test_param_kinds_name_what_answers_hold() -> None:
    # Every ID path parameter of the catalogue names a kind an answer's object has.
    from openai_cli.operations.catalogue import GROUPS, load

    kinds = set()
    for group in GROUPS:
        for op in load(group):
            for pp in op.path_params:
                kinds.add(idcache.param_kind(pp.name, op.path))
    for expected in (
        "file",
        "batch",
        "vector_store",
        "response",
        "job",
        "completion",
        "file_batch",
        "model",
        "run",
        "message",
        "project",
    ):
        assert expected in kinds


def test_processes_filling_the_cache_at_once_lose_no_id(isolated: Path) -> None:
    # Each process lists one file of its own; they end, and save, together.
    count = 8
    arrived = threading.Barrier(count, timeout=30)
    lock = threading.Lock()
    served: list[int] = []

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            with lock:
                served.append(len(served))
                n = served[-1]
            arrived.wait()
            body = json.dumps(
                {"object": "list", "data": [{"id": f"file-p{n}", "object": "file",
                 "filename": f"f{n}.txt", "bytes": 1, "created_at": 0, "purpose": "x"}]}
            ).encode()  # fmt: skip
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with http_server(Handler) as origin:
        env = subprocess_env(api_env(origin + "/v1"))
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "openai_cli", "files", "list", "-o", "json"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for _ in range(count)
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=60)
            assert (proc.returncode, err) == (0, b""), err
    (section,) = json.loads(cache_file(isolated).read_text())["sections"].values()
    assert sorted(oid for oid, _ in section["file"]) == sorted(f"file-p{n}" for n in range(count))


# Deeper than any parser goes: Python's JSON and TOML parsers recurse per level.
DEEP_JSON = "[" * 100_000 + "]" * 100_000
DEEP_TOML = "a = " + DEEP_JSON + "\n"


def test_files_of_the_cache_nested_too_deeply_are_resolved_past(
    api: respx.MockRouter, isolated: Path
) -> None:
    # They failed every TAB ("completion failed: RecursionError") until removed.
    state = cache_file(isolated).parent
    state.mkdir(parents=True)
    for name in (idcache.FILE_NAME, "tab.json"):
        (state / name).write_text(DEEP_JSON)
    assert complete("bash", "oai files retrieve ", "") == []
    run(api, "GET", "/files", FILES, "files", "list")
    assert complete("bash", "oai files retrieve ", "") == ["file-new", "file-old"]
    assert json.loads(cache_file(isolated).read_text())["version"] == 2


def test_a_config_nested_too_deeply_is_named_as_invalid_toml(isolated: Path) -> None:
    config = isolated / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(DEEP_TOML)
    config.chmod(0o600)
    r = invoke("profile", "list")
    assert (r.code, r.out) == (2, "")
    assert r.err.startswith(f"oai: {config}: invalid TOML: nested too deeply\n"), r.err
    assert complete("bash", "oai --profile ", "") == []


def test_every_kept_json_file_is_parsed_by_the_reader() -> None:
    # json.loads of read_kept's bytes lets a RecursionError through; the reader's
    # read_kept_json says ValueError, which every reader of a kept file handles.
    import ast

    import openai_cli

    def bypasses(source: str) -> list[int]:
        found = []
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "loads"
                and any(
                    isinstance(a, ast.Call)
                    and "read_kept" in ast.unparse(a.func)
                    and "read_kept_json" not in ast.unparse(a.func)
                    for a in ast.walk(node)
                    if a is not node
                )
            ):
                found.append(node.lineno)
        return found

    assert bypasses("data = json.loads(read_kept(path))") == [1]
    assert bypasses("data = json.loads(reader.read_kept(p).decode('utf-8'))") == [1]
    assert bypasses("data = read_kept_json(path)") == []
    package = Path(openai_cli.__file__).parent
    found = {
        str(f.relative_to(package)): lines
        for f in sorted(package.rglob("*.py"))
        if (lines := bypasses(f.read_text(encoding="utf-8")))
    }
    assert found == {}
