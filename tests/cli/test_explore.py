"""``-o explore`` and ``oai explore``: the viewer in a real pseudo-terminal, and JSON
when stdout is not a terminal."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import respx

from tests.helpers import api_env, invoke, subprocess_env
from tests.pty_screen import Screen
from tests.serving import QuietHandler, http_server

FILES = [
    {"id": f"file-{i}", "object": "file", "filename": f"notes {i}.jsonl", "bytes": 10 * i}
    for i in range(4)
]
PAGE_1 = {"object": "list", "data": FILES[:2], "has_more": True, "last_id": "file-1"}
PAGE_2 = {"object": "list", "data": FILES[2:], "has_more": False, "last_id": "file-3"}
# The end of the viewer's full-screen mode: what follows is printed to stdout on exit.
LEAVE_SCREEN = b"\x1b[?1049l"


def after_viewer(raw: bytes) -> str:
    """What was printed once the viewer had closed, without the escapes that reset
    the terminal's modes."""
    tail = raw.rpartition(LEAVE_SCREEN)[2].decode(errors="replace")
    return re.sub(r"\x1b\[[0-9;?<>=]*[A-Za-z]", "", tail).replace("\r\n", "\n").strip("\n")


# -- not a terminal: JSON, as -o json prints it ---------------------------------------------


def test_piped_explore_prints_what_json_prints(api: respx.MockRouter) -> None:
    api.get("/files").respond(json=PAGE_2)
    explored = invoke("files", "list", "-o", "explore", env=api_env())
    assert explored.code == 0, explored
    as_json = invoke("files", "list", "-o", "json", env=api_env())
    assert explored.out == as_json.out
    assert json.loads(explored.out) == PAGE_2


def test_piped_explore_of_all_pages_prints_what_json_prints(api: respx.MockRouter) -> None:
    route = api.get("/files")
    route.side_effect = [
        respx.MockResponse(200, json=PAGE_1),
        respx.MockResponse(200, json=PAGE_2),
    ] * 2
    explored = invoke("files", "list", "--all", "-o", "explore", env=api_env())
    as_json = invoke("files", "list", "--all", "-o", "json", env=api_env())
    assert explored.code == 0, explored
    assert explored.out == as_json.out
    assert [f["id"] for f in json.loads(explored.out)["data"]] == [f["id"] for f in FILES]


def test_explore_command_piped_prints_json(tmp_path: Path) -> None:
    source = tmp_path / "answer.json"
    source.write_text(json.dumps(PAGE_1))
    r = invoke("explore", str(source))
    assert r.code == 0, r
    assert r.out == json.dumps(PAGE_1, indent=2, ensure_ascii=False) + "\n"


def test_jsonl_on_stdin_is_one_list() -> None:
    lines = "".join(json.dumps(f) + "\n" for f in FILES) + "\n"
    r = invoke("explore", input=lines)
    assert r.code == 0, r
    assert json.loads(r.out) == FILES
    assert invoke("explore", "-o", "jsonl", input=lines).out == lines.rstrip("\n") + "\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1,\n "b": }\n', "FILE: <stdin> line 2, column 7: not JSON"),
        ('{"a": 1}\n{"b": 2}\n\n{"c": oops}\n', "FILE: <stdin> line 4: not JSON"),
        ("  \n", "FILE: <stdin> is empty"),
        (b"\xc3\x28{}", "not UTF-8"),
    ],
)
def test_bad_input_names_the_line(text: str | bytes, message: str) -> None:
    r = invoke("explore", input=text)
    assert r.code == 2, r
    assert message in r.err
    assert len(r.err.strip().splitlines()) == 1, r.err
    assert r.out == ""


def test_no_input_at_all_is_a_usage_error(tmp_path: Path) -> None:
    r = invoke("explore", stdin_tty=True)
    assert r.code == 2, r
    assert "FILE: give a file, or pipe JSON or JSONL into oai explore" in r.err
    missing = invoke("explore", str(tmp_path / "nope.json"))
    assert missing.code == 2, missing
    assert "FILE: file not found" in missing.err


def test_textual_is_imported_only_by_the_viewer(tmp_path: Path) -> None:
    source = tmp_path / "answer.json"
    source.write_text(json.dumps(PAGE_1))
    probe = (
        "import sys\n"
        "from openai_cli.main import run\n"
        "code = run(sys.argv[1:])\n"
        "print('TEXTUAL', code, any(m.startswith('textual') for m in sys.modules), "
        "file=sys.stderr)\n"
    )
    for argv in (["explore", str(source)], ["files", "list", "--help"], ["--help"]):
        p = subprocess.run(
            [sys.executable, "-c", probe, *argv],
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "TEXTUAL 0 False" in p.stderr, (argv, p.stderr)


# -- on a terminal: the viewer -----------------------------------------------------------


def press(screen: Screen, keys: str, path: str) -> str:
    """Press ``keys`` and wait for the status line to show the cursor at ``path``."""
    screen.send(keys)
    return screen.wait_for(lambda s: s.splitlines()[-1].startswith(path + " "))


def _explore(cwd: Path, *args: str, **options: Any) -> Screen:
    return Screen([sys.executable, "-m", "openai_cli", *args], subprocess_env(), cwd, **options)


@pytest.fixture
def answer(tmp_path: Path) -> Path:
    source = tmp_path / "answer.json"
    source.write_text(json.dumps(PAGE_1))
    return source


def test_open_navigate_search_copy_and_quit(answer: Path, tmp_path: Path) -> None:
    screen = _explore(tmp_path, "explore", str(answer))
    try:
        # The tree may be drawn before the status line: wait for both.
        screen.wait_for(
            lambda s: '"data": […] 2 items' in s and s.splitlines()[-1].startswith(".   j/k move")
        )  # the root's path
        press(screen, "jj", ".data")  # down to "data"
        screen.send("l")  # unfold it
        screen.wait_for(lambda s: "[1]: {…} 4 keys" in s)
        screen.send("jl")  # into the first item, unfolded
        screen.wait_for(lambda s: '"filename": "notes 0.jsonl"' in s)
        screen.send("/NOTES 1\r")  # any case; it unfolds the item it is found in
        screen.wait_for(
            lambda s: (
                '"filename": "notes 1.jsonl"' in s
                and s.splitlines()[-1].startswith(".data[1].filename ")
            )
        )
        screen.send("y")
        screen.wait_for(lambda s: "copied the path" in s.splitlines()[-1])
        screen.send("kkY")  # the value of .data[1].id
        screen.wait_for(lambda s: "copied the value" in s.splitlines()[-1])
        press(screen, "h", ".data[1]")  # to its parent, which folds on a second h
        screen.send("h")
        screen.wait_for(lambda s: "[1]: {…} 4 keys" in s)
        screen.send("q")
        assert screen.wait_exit() == 0
        assert after_viewer(screen.raw) == ".data[1].filename\nfile-1"
    finally:
        screen.close()


def test_search_wraps_and_goes_back(answer: Path, tmp_path: Path) -> None:
    screen = _explore(tmp_path, "explore", str(answer))
    try:
        screen.wait_for(lambda s: '"data": […] 2 items' in s)
        press(screen, "/file-\r", ".data[0].id")
        press(screen, "n", ".data[1].id")
        press(screen, "n", ".last_id")  # .last_id says "file-1" too
        press(screen, "n", ".data[0].id")  # round to the first again
        press(screen, "N", ".last_id")
        screen.send("/nowhere\r")
        screen.wait_for(lambda s: "no key or value contains 'nowhere'" in s)
        screen.send("Gyq")
        assert screen.wait_exit() == 0
        assert after_viewer(screen.raw) == ".last_id"
    finally:
        screen.close()


def test_jsonl_piped_in_reads_keys_from_the_terminal(tmp_path: Path) -> None:
    source = tmp_path / "logs.jsonl"
    source.write_text("".join(json.dumps(f) + "\n" for f in FILES))
    with source.open("rb") as stdin:
        screen = _explore(tmp_path, "explore", stdin=stdin.fileno())
    try:
        screen.wait_for(lambda s: "[3]: {…} 4 keys" in s)
        screen.send("Gy")
        screen.wait_for(lambda s: "copied the path" in s)
        screen.send("q")
        assert screen.wait_exit() == 0
        assert after_viewer(screen.raw) == ".[3]"  # as jq writes it
    finally:
        screen.close()


class _Pages(QuietHandler):
    def do_GET(self) -> None:
        page = PAGE_2 if "after=file-1" in self.path else PAGE_1
        if "evil" in self.path:
            page = {"object": "file", "id": "file-x", "filename": "\x1b]0;pwned\x07\x1b[2J"}
        self.send_json(page)


@pytest.fixture
def server() -> Iterator[str]:
    with http_server(_Pages) as origin:
        yield origin


def test_all_pages_of_a_listing_open_as_one(server: str, tmp_path: Path) -> None:
    env = {**api_env(f"{server}/v1")}
    screen = Screen(
        [sys.executable, "-m", "openai_cli", "files", "list", "--all", "-o", "explore"],
        subprocess_env(env),
        tmp_path,
    )
    try:
        screen.wait_for(lambda s: '"data": […] 4 items' in s)
        screen.send("jjl")
        screen.wait_for(lambda s: "[3]: {…} 4 keys" in s)
        screen.send("q")
        assert screen.wait_exit() == 0
    finally:
        screen.close()


def test_server_text_never_reaches_the_terminal_as_escapes(server: str, tmp_path: Path) -> None:
    screen = Screen(
        [sys.executable, "-m", "openai_cli", "files", "retrieve", "evil", "-o", "explore"],
        subprocess_env(api_env(f"{server}/v1")),
        tmp_path,
    )
    try:
        screen.wait_for(
            lambda s: '"filename"' in s and ("^[]0;pwned^G^[[2J" in s or "\\u001b]0;pwned" in s)
        )
        screen.send("GYq")
        assert screen.wait_exit() == 0
    finally:
        screen.close()
    assert b"\x1b]0;pwned" not in screen.raw
    assert b"\x1b[2J" not in screen.raw
