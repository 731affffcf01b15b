"""Help from the index of help pages (openai_cli/help_index/) is Typer's, byte for byte.

Every page the index holds (every group and command) is printed by ``oai WORDS
--help`` both from the index and by Typer, at the widths a terminal may have, with
colour asked for or not, on a terminal or piped; a group run bare likewise. Neither
path is told which it is being compared with: the Typer one is had by leaving the
index out (``helpindex.answer`` answering None).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from openai_cli import helpindex
from tests.helpers import FORGET_STARTUP_IMPORTS, SLOW_STDLIB, Result, err, invoke, make_io, out

PAGES = sorted(p.name for p in Path(helpindex.INDEX).glob("*.json"))
BARE: list[str] = json.loads((Path(helpindex.INDEX) / helpindex.file_name([])).read_text())["bare"]

# Each width with its own colour setting, so that every page meets each of them; the
# last also with settings in the environment that no page may depend on (nor fail on).
SETTINGS = [
    (40, {}, False),
    (80, {"FORCE_COLOR": "1", "TERM": "xterm-256color"}, True),
    (120, {"NO_COLOR": "1", "TERM": "dumb"}, False),
    (
        200,
        {
            "FORCE_COLOR": "1",
            "TERM": "xterm-256color",
            "OAI_PROFILE": "nosuch",
            "OPENAI_BASE_URL": "not a url",
            "OAI_VALIDATE": "bogus",
        },
        False,
    ),
]


def _words(name: str) -> list[str]:
    return name.removesuffix(".json").split(".")[1:]


def _both(
    monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str], tty: bool
) -> tuple[Result, Result]:
    """``oai ARGS`` answered from the index, then by Typer."""
    quick = invoke(*args, env=env, stdout_tty=tty)
    with monkeypatch.context() as m:
        m.setattr(helpindex, "answer", lambda argv, io: None)
        typer = invoke(*args, env=env, stdout_tty=tty)
    return quick, typer


def _differences(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> list[str]:
    found = []
    for width, env, tty in SETTINGS:
        # Click reads the width from the process's own environment.
        monkeypatch.setenv("COLUMNS", str(width))
        quick, typer = _both(monkeypatch, args, env, tty)
        if (quick.code, quick.out_bytes, quick.err) != (typer.code, typer.out_bytes, typer.err):
            found.append(f"oai {' '.join(args)} at {width} columns, {env}: {quick!r} != {typer!r}")
    return found


@pytest.mark.parametrize("name", PAGES)
def test_every_page_is_typers(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    words = _words(name)
    node = helpindex.lookup(words)
    assert node is not None
    assert node["flags"] == ["-h", "--help"]
    for flag in node["flags"]:
        assert _differences(monkeypatch, [*words, flag]) == []
    if " ".join(words) in BARE:
        assert _differences(monkeypatch, words) == []


@pytest.mark.parametrize(
    "words",
    [[], ["vector-stores", "files"], ["chat", "completions", "create"], ["ask"], ["auth"]],
    ids=" ".join,
)
def test_every_width_lays_out_as_typer_does(
    words: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The widths above are Click's narrowest and widest page; here every one between.
    for columns in range(helpindex.NARROWEST + 1, helpindex.WIDEST + 4):
        monkeypatch.setenv("COLUMNS", str(columns))
        quick, typer = _both(monkeypatch, [*words, "--help"], {}, False)
        assert quick.out_bytes == typer.out_bytes, columns


def test_every_group_and_command_has_a_page() -> None:
    tree = set()
    for path in (Path(helpindex.INDEX).parent / "tab_index").glob("*.json"):
        tree |= set(json.loads(path.read_text()))
    pages = {" ".join(_words(name)) for name in PAGES}
    assert pages == tree
    assert {"", "files", "vector-stores files"} <= set(BARE)


@pytest.mark.parametrize(
    "words",
    [["files"], ["vector-stores", "files"], ["chat", "completions", "create"]],
    ids=" ".join,
)
def test_a_changed_page_is_caught(
    words: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The comparison above fails on an index that no longer matches the app: here a
    # summary changed by one word.
    index = tmp_path / "help_index"
    shutil.copytree(helpindex.INDEX, index)
    page = index / helpindex.file_name(words)
    text = page.read_text()
    changed = text.replace("and", "or", 1) if "and" in text else text.replace("the", "a", 1)
    assert changed != text
    page.write_text(changed)
    monkeypatch.setattr(helpindex, "INDEX", index)
    assert _differences(monkeypatch, [*words, "--help"])


@pytest.mark.parametrize(
    "args",
    [
        ["--profile", "x", "--help"],  # an option before --help: Typer's
        ["--help", "files"],
        ["files", "nosuch", "--help"],
        ["Files", "--help"],
        ["oai", "--help"],
        ["files", "list"],  # bare words that run a command
        ["files", "--", "--help"],
        ["../tab_index/oai", "--help"],
    ],
    ids=" ".join,
)
def test_other_lines_are_left_to_typer(args: list[str]) -> None:
    the_io = make_io({})
    assert helpindex.answer(args, the_io) is None
    assert out(the_io) == err(the_io) == ""


PROBE = (
    "import sys\n"
    f"{FORGET_STARTUP_IMPORTS}"
    "from openai_cli import helpindex\n"
    "from openai_cli.main import run\n"
    "if sys.argv[1] == 'bypass':\n"
    "    helpindex.INDEX = '/nonexistent'\n"
    "code = run(sys.argv[2:])\n"
    f"heavy = {('typer', 'click', 'rich', 'httpx', *SLOW_STDLIB)!r}\n"
    "bad = sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy})\n"
    "print('MODULES', code, *bad, file=sys.stderr)\n"
)


def _modules(*args: str, bypass: bool = False) -> list[str]:
    p = subprocess.run(
        [sys.executable, "-c", PROBE, "bypass" if bypass else "index", *args],
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "80"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.stdout or p.stderr.startswith("Usage:"), p
    return p.stderr.splitlines()[-1].split()


@pytest.mark.parametrize(
    "args, code",
    [
        (["--help"], "0"),
        (["-h"], "0"),
        (["files", "--help"], "0"),
        (["vector-stores", "files", "-h"], "0"),
        (["chat", "completions", "create", "--help"], "0"),
        ([], "2"),
        (["files"], "2"),
    ],
    ids=lambda a: " ".join(a) if isinstance(a, list) else a,
)
def test_help_imports_neither_typer_nor_slow_modules(args: list[str], code: str) -> None:
    assert _modules(*args) == ["MODULES", code]
    # The same line without the index goes through Typer, which the check sees.
    assert {"typer", *SLOW_STDLIB} <= set(_modules(*args, bypass=True))


def test_other_commands_do_not_read_the_help_index() -> None:
    probe = (
        "import sys\n"
        "from openai_cli.main import run\n"
        "run(['files', 'list', '--dry-run'])\n"
        "print('LOADED', 'openai_cli.helpindex' in sys.modules, file=sys.stderr)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "OPENAI_API_KEY": "sk-test", "OAI_CONFIG_DIR": "/nonexistent"}
    p = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
    )
    assert p.stderr.splitlines()[-1] == "LOADED False", p.stderr


@pytest.mark.parametrize("columns", [None, "", "0", "-5", "abc", "1", "120", " 90 "])
@pytest.mark.parametrize("stdout", ["a terminal", "a file"])
def test_the_width_is_read_as_shutil_reads_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, columns: str | None, stdout: str
) -> None:
    import os
    import pty

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    if stdout == "a terminal":
        leader, follower = pty.openpty()
        os.set_blocking(leader, False)
        import fcntl
        import struct
        import termios

        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 97, 0, 0))
        target = os.fdopen(follower, "w")
    else:
        target = open(tmp_path / "out", "w")  # noqa: SIM115
    monkeypatch.setattr(sys, "__stdout__", target)
    try:
        assert helpindex.terminal_columns() == shutil.get_terminal_size().columns
    finally:
        target.close()
