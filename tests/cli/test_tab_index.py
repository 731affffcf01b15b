"""The index of the command tree (openai_cli/tab_index/) answers a TAB as Click does.

For every group and command of the app, the lines a user most often completes (its
commands, its options, the values of each option and argument, an option given
already) are answered both from the index (``tab.quick``, no Typer) and by Click
through the built app, and must be equal, descriptions included. Profile names and
IDs are read from a config file and an ID cache filled for the test.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from openai_cli import idcache, tab
from openai_cli.commands.completion import complete
from openai_cli.io import IO
from tests.helpers import (
    FORGET_STARTUP_IMPORTS,
    ROOT,
    SLOW_STDLIB,
    default_sigint,
    subprocess_env,
    temporaries,
)

TOPS = sorted(p.stem for p in Path(tab.INDEX).glob("*.json"))


def _nodes(top: str) -> dict[str, Any]:
    nodes: dict[str, Any] = json.loads((Path(tab.INDEX) / f"{top}.json").read_text())
    return nodes


def _lines(path: str, node: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The lines to compare, and those the index leaves to Click (variadic arguments).

    Every option whose value completes to something; of those that complete to
    nothing (free text), the first only: they are all answered alike.
    """
    base = f"oai {path} ".replace("  ", " ")
    params = node.get("params", [])
    # The line itself completes the first argument, if there is one.
    lines = [base + "-", base + "--"] + ([] if any(p.get("arg") for p in params) else [base])
    left: list[str] = []
    placeholders = ""
    plain_done = given_done = False
    for p in params:
        if p.get("arg"):
            (left if p.get("complex") else lines).append(base + placeholders)
            placeholders += "x "
        elif p.get("value") and not p.get("complex"):
            if not (p.get("values") or p.get("source")):
                if plain_done:
                    continue
                plain_done = True
            lines.append(f"{base}{p['opts'][0]} ")
            if p.get("listed") and not given_done:
                # As --flag=VALUE; and given once, no longer offered (unless it repeats).
                lines += [f"{base}{p['opts'][-1]}=", f"{base}{p['opts'][0]} v -"]
                given_done = True
    return lines, left


@pytest.fixture
def tab_env(isolated: Path) -> dict[str, str]:
    env = {
        "OAI_CONFIG_DIR": str(isolated / "config"),
        "OAI_STATE_DIR": str(isolated / "state"),
        "OAI_DATA_DIR": str(isolated / "data"),
    }
    (isolated / "config").mkdir()
    (isolated / "config" / "config.toml").write_text(
        'current_profile = "work"\n[profiles.work]\n[profiles.home]\n'
    )
    seen = idcache.Seen()
    for kind in ("file", "batch", "vector_store", "response", "model", "job", "project"):
        seen.answer({"id": f"{kind}_1", "object": kind, "name": f"a {kind}", "created_at": 1})
    idcache.save(env, idcache.section("work", "https://api.openai.com/v1"), seen)
    return env


def _io(env: dict[str, str]) -> IO:
    return IO(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(), env=env)


@pytest.mark.parametrize("top", TOPS)
def test_index_answers_as_click_does(top: str, tab_env: dict[str, str]) -> None:
    # A fresh app for each file, as each TAB is a fresh process: a group lists a
    # command it has built with that command's own summary.
    from openai_cli.app import build

    root = build()

    def click(args: list[str], incomplete: str, the_io: IO) -> list[tuple[str, str]]:
        return complete(args, incomplete, the_io, root)

    answered = 0
    for path, node in _nodes(top).items():
        lines, left = _lines(path, node)
        for line in lines:
            quick = tab.candidates(line, _io(tab_env), "fish", tab.quick)
            slow = tab.candidates(line, _io(tab_env), "fish", click)
            assert quick is not None, f"the index cannot answer {line!r}"
            assert slow is not None
            if any(c.startswith(("-h\t", "--help\t")) for c in slow):
                # Click keeps the help option's spellings in a set: their order is
                # the set's, which changes from process to process.
                quick, slow = sorted(quick), sorted(slow)
            assert quick == slow, line
            answered += 1
        for line in left:
            assert tab.candidates(line, _io(tab_env), "fish", tab.quick) is None, line
    assert answered >= 3


def test_ids_and_profiles_come_from_the_files(tab_env: dict[str, str]) -> None:
    the_io = _io(tab_env)
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(1))
    assert tab.candidates("oai files retrieve ", the_io, "fish", tab.quick) == [
        f"file_1\ta file · {when}"
    ]
    assert tab.candidates("oai --profile ", the_io, "bash", tab.quick) == ["home", "work"]
    assert tab.candidates("oai --profile home files retrieve ", the_io, "bash", tab.quick) == []


# Connection flags before and after the command: valid, naming nothing, or not
# parsing at all (an empty profile); the later one wins on both paths.
_BEFORE = ["", "--profile home ", "-p work ", "--profile '' ", "--base-url http://x.test "]
_AFTER = ["", "--profile work ", "-p home ", "--profile '' ", "--profile=nosuch "]


@pytest.mark.parametrize("before", _BEFORE)
@pytest.mark.parametrize("after", _AFTER)
def test_connection_flags_pick_the_same_ids_on_both_paths(
    tab_env: dict[str, str], before: str, after: str
) -> None:
    from openai_cli.app import build

    for line in (
        f"oai {before}files retrieve {after}",
        f"oai {before}responses create {after}--model ",
    ):
        root = build()

        def click(args: list[str], incomplete: str, the_io: IO) -> list[tuple[str, str]]:
            return complete(args, incomplete, the_io, root)  # noqa: B023 (called at once)

        quick = tab.candidates(line, _io(tab_env), "fish", tab.quick)
        assert quick == tab.candidates(line, _io(tab_env), "fish", click), line


@pytest.mark.parametrize(
    "line",
    [
        "oai files list -- ",  # after --: Click's business
        "oai nosuch ",
        "oai files list --nosuch ",
        "oai ask -sm ",  # short options run together
    ],
)
def test_lines_the_index_leaves_to_click(line: str, tab_env: dict[str, str]) -> None:
    assert tab.candidates(line, _io(tab_env), "bash", tab.quick) is None


def test_the_committed_index_is_current() -> None:
    p = subprocess.run(
        [sys.executable, "-m", "tools.gen_tab_index", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, p.stdout + p.stderr


TAB_PROBE = (
    "import sys\n"
    "mode, watched = sys.argv[1], set(sys.argv[2:])\n"
    "del sys.argv[1:]\n"
    f"{FORGET_STARTUP_IMPORTS}"
    # Loaded before any code runs by the editable install's finder, here.
    "for _m in [m for m in sys.modules if m in watched]:\n"
    "    del sys.modules[_m]\n"
    "from openai_cli import tab\n"
    "from openai_cli.main import main\n"
    "if mode == 'bypass':\n"
    "    tab.INDEX = '/nonexistent'\n"
    "try:\n"
    "    main()\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "bad = sorted(m for m in sys.modules if m in watched or m.split('.')[0] in watched)\n"
    "print('MODULES', code, *bad, file=sys.stderr)\n"
)


def _tab_modules(env: dict[str, str], line: str, watched: Sequence[str], bypass: bool) -> list[str]:
    env = {
        "HOME": os.environ["HOME"],
        **env,
        "PATH": "/usr/bin:/bin",
        "_OAI_COMPLETE": "complete_bash",
        "_OAI_COMPLETE_LINE": line,
    }
    p = subprocess.run(
        [sys.executable, "-c", TAB_PROBE, "bypass" if bypass else "index", *watched],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout, line
    return p.stderr.split()


# What a TAB with a kept answer (openai_cli/tabsettings.py) needs none of: the
# settings and their table, the TOML parser, platformdirs, the errors, the terminal
# guard, contextlib and the signal module.
SETTINGS_READERS = (
    "openai_cli.config",
    "openai_cli.errors",
    "openai_cli.terminal",
    "openai_cli.writer",
    "tomllib",
    "platformdirs",
    "contextlib",
    "signal",
)


@pytest.mark.parametrize(
    "line",
    [
        "oai files retrieve ",
        "oai --profile ",
        "oai --profile work --base-url https://api.openai.com/v1 files retrieve f",
    ],
)
@pytest.mark.parametrize("folders", ["named", "the platform's"])
def test_a_tab_with_a_kept_answer_reads_no_settings(
    tab_env: dict[str, str], isolated: Path, line: str, folders: str
) -> None:
    env = dict(tab_env)
    if folders != "named":
        # Where a user's are: under the home, found without platformdirs.
        home = isolated / "home"
        shutil.copytree(isolated / "config", home / ".config" / "oai")
        shutil.copytree(isolated / "state", home / ".local" / "state" / "oai")
        env = {"HOME": str(home)}
        config = home / ".config" / "oai" / "config.toml"
    else:
        config = isolated / "config" / "config.toml"
    then = time.time() - 3600
    os.utime(config, (then, then))
    watched = (*SETTINGS_READERS, *HEAVY, *SLOW_STDLIB, *NOT_TO_READ)
    # The first TAB resolves the settings (which the check sees) and keeps them...
    first = _tab_modules(env, line, watched, bypass=False)
    assert {"openai_cli.config", "tomllib", "signal"} <= set(first), first
    # ... and the next reads them back, with none of those modules.
    assert _tab_modules(env, line, watched, bypass=False) == ["MODULES", "0"]


HEAVY = ("typer", "click", "rich", "httpx")
# What reading the config and the ID cache needs none of: tempfile brings shutil,
# random and the compression modules (about 5 ms), and is imported only to write.
NOT_TO_READ = ("tempfile", "shutil", "bz2", "lzma")


@pytest.mark.parametrize(
    "line, watched",
    [
        ("oai files ", HEAVY + SLOW_STDLIB),
        ("oai fine-tuning jobs list --", HEAVY + SLOW_STDLIB),
        # IDs and profiles are read with the config's own modules.
        ("oai files retrieve ", HEAVY + NOT_TO_READ),
        ("oai --profile ", HEAVY + NOT_TO_READ),
    ],
)
def test_a_tab_imports_neither_typer_nor_slow_modules(
    tab_env: dict[str, str], line: str, watched: tuple[str, ...]
) -> None:
    assert _tab_modules(tab_env, line, watched, bypass=False) == ["MODULES", "0"]
    # The same line without the index goes through Click, which the check sees.
    seen = _tab_modules(tab_env, line, watched, bypass=True)
    assert {"typer", *SLOW_STDLIB} & set(watched) <= set(seen), seen


def test_every_shell_with_a_script_is_answered() -> None:
    from openai_cli.commands.completion import Shell

    assert set(tab.SHELLS) == {s.value for s in Shell}


# -- a TAB as a process: kept answers, signals, a stdout that takes nothing ---------------


def _tab_process(
    env: dict[str, str], line: str, *, before: str = "", only: bool = False, **run: Any
) -> subprocess.CompletedProcess[str]:
    """``oai`` answering a TAB for ``line`` as the shell runs it, ``before`` run first;
    ``env`` over the tests' environment, or (``only``) instead of it."""
    full = {
        **({} if only else subprocess_env()),
        "_OAI_COMPLETE": "complete_bash",
        "_OAI_COMPLETE_LINE": line,
        **env,
    }
    code = f"{before}\nfrom openai_cli.main import main\nmain()\n"
    options: dict[str, Any] = {"capture_output": True, "preexec_fn": default_sigint(), **run}
    return subprocess.run([sys.executable, "-c", code], env=full, text=True, timeout=60, **options)


def _aged(config: Path) -> None:
    # Edited a while ago: any version of oai keeps an answer for it.
    then = time.time() - 3600
    os.utime(config, (then, then))


def test_profiles_the_key_must_tell_apart_get_their_own_ids(tab_env: dict[str, str]) -> None:
    # Two names whose texts differ by -1 in one byte and +59 eight bytes later: a
    # key that is the text as a number modulo a prime next to 2**64 (256**8 is 59
    # modulo it) made them one, and the second profile was offered the first's IDs.
    names = ("b12345670", "a1234567k")
    config = Path(tab_env["OAI_CONFIG_DIR"]) / "config.toml"
    config.write_text("".join(f"[profiles.{n}]\n" for n in names))
    _aged(config)
    for name in names:
        seen = idcache.Seen()
        seen.answer({"id": f"file-of-{name}", "object": "file"})
        idcache.save(tab_env, idcache.section(name, "https://api.openai.com/v1"), seen)
    for name in (*names, *names):
        p = _tab_process(tab_env, f"oai --profile {name} files retrieve ")
        assert (p.returncode, p.stdout, p.stderr) == (0, f"file-of-{name}\n", "")


def test_a_change_to_the_code_that_keeps_the_version_is_seen(
    tab_env: dict[str, str], tmp_path: Path
) -> None:
    # A checkout, an edit or a reinstall under the same version number: what the
    # settings say may change with the code, and the kept answer with it.
    copy = tmp_path / "code"
    shutil.copytree(Path(tab.__file__).parent, copy / "openai_cli")
    env = {**tab_env, "PYTHONPATH": str(copy)}
    _aged(Path(tab_env["OAI_CONFIG_DIR"]) / "config.toml")
    # Run from the copy: `python -c` finds modules in its folder first.
    assert _tab_process(env, "oai files retrieve ", cwd=copy).stdout == "file_1\n"
    with (copy / "openai_cli" / "idcache.py").open("a") as code:
        code.write("\n\ndef section(profile, base_url):\n    return 'elsewhere'\n")
    p = _tab_process(env, "oai files retrieve ", cwd=copy)
    assert (p.returncode, p.stdout, p.stderr) == (0, "", "")


@pytest.mark.parametrize("line", ["oai --profile ", "oai files retrieve ", ""])
def test_no_home_to_be_found_is_nothing_to_offer_and_a_setting_to_fix(
    tmp_path: Path, line: str
) -> None:
    # No HOME, and a user the password database does not know (a container run as an
    # arbitrary uid): platformdirs raises RuntimeError. A TAB offers nothing of the
    # settings; a command is exit 2, naming what to set.
    env = {
        k: v
        for k, v in subprocess_env().items()
        if k != "HOME" and not k.startswith(("XDG_", "OAI_"))
    }
    before = "import pwd\ndef unknown(uid):\n    raise KeyError(uid)\npwd.getpwuid = unknown\n"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    if line:
        p = _tab_process(env, line, before=before, only=True, cwd=cwd)
        assert (p.returncode, p.stdout, p.stderr) == (0, "", "")
    else:
        before += "import sys\nsys.argv[1:] = ['profile', 'list']\n"
        command = {**env, "_OAI_COMPLETE": ""}
        p = _tab_process(command, "", before=before, only=True, cwd=cwd)
        assert (p.returncode, p.stdout) == (2, "")
        assert p.stderr == (
            "oai: no home folder to put oai's config folder in\n"
            "  set HOME to an absolute path, or OAI_CONFIG_DIR\n"
        )
    assert list(cwd.iterdir()) == [], "nothing made under a folder named ~"


def test_eight_tabs_that_find_nothing_kept_at_once_leave_one_whole_file(
    tab_env: dict[str, str],
) -> None:
    # Each resolves and writes tab.json at the same moment: one write wins whole, no
    # temporary file is left, and every TAB answers.
    _aged(Path(tab_env["OAI_CONFIG_DIR"]) / "config.toml")
    full = {**subprocess_env(), **tab_env, "_OAI_COMPLETE": "complete_bash"}
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "openai_cli"],
            env={**full, "_OAI_COMPLETE_LINE": f"oai --base-url https://h{n}.test/v1 --profile "},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(8)
    ]
    for p in running:
        out, err = p.communicate(timeout=60)
        assert (p.returncode, out, err) == (0, "home\nwork\n", "")
    state = Path(tab_env["OAI_STATE_DIR"])
    kept = json.loads((state / "tab.json").read_text())
    assert 1 <= len(kept["answers"]) <= 8
    assert temporaries(state) == []


@pytest.mark.parametrize("sig, code", [("SIGINT", 130), ("SIGTERM", 143), ("SIGHUP", 129)])
def test_a_signal_as_a_tab_writes_leaves_no_file_and_no_traceback(
    tab_env: dict[str, str], sig: str, code: int
) -> None:
    # The signal arrives as the temporary file of tab.json is made: the writer holds
    # it until the file is registered, then it ends the TAB.
    before = (
        "import os, signal\n"
        "from openai_cli import writer\n"
        "real = os.open\n"
        "def opened(path, *args, **kwargs):\n"
        "    fd = real(path, *args, **kwargs)\n"
        "    if str(path).endswith(writer.TEMP_SUFFIX):\n"
        f"        os.kill(os.getpid(), signal.{sig})\n"
        "    return fd\n"
        "os.open = opened\n"
    )
    _aged(Path(tab_env["OAI_CONFIG_DIR"]) / "config.toml")
    p = _tab_process(tab_env, "oai files retrieve ", before=before)
    assert (p.returncode, p.stdout, p.stderr) == (code, "", "")
    state = Path(tab_env["OAI_STATE_DIR"])
    assert temporaries(state) == [] and not (state / "tab.json").exists()


def test_ctrl_c_before_a_command_runs_is_exit_130_without_a_traceback(
    tab_env: dict[str, str],
) -> None:
    before = (
        "import os, signal\n"
        "import openai_cli.main as m\n"
        "real = m._argv_text\n"
        "def argv_text(argv):\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    return real(argv)\n"
        "m._argv_text = argv_text\n"
        "import sys; sys.argv[1:] = ['profile', 'list']\n"
    )
    p = _tab_process({**tab_env, "_OAI_COMPLETE": ""}, "", before=before)
    assert (p.returncode, p.stdout, p.stderr) == (130, "", "")


@pytest.mark.parametrize("stdout", ["closed", "a pipe nobody reads"])
@pytest.mark.parametrize("what", ["a TAB", "--version"])
def test_output_that_cannot_be_written_outside_a_command(
    tab_env: dict[str, str], stdout: str, what: str
) -> None:
    # As for a command: a reader gone is exit 0, a closed stdout 74, in one line.
    read, write = os.pipe()
    os.close(read)
    env = dict(tab_env)
    before = "import sys; sys.argv[1:] = ['--version']" if what == "--version" else ""
    if what == "--version":
        env["_OAI_COMPLETE"] = ""

    def no_stdout() -> None:
        os.close(1)

    try:
        if stdout == "closed":
            p = _tab_process(
                env, "oai ", before=before, capture_output=False, stderr=subprocess.PIPE,
                preexec_fn=default_sigint(no_stdout),
            )  # fmt: skip
            assert (p.returncode, p.stderr) == (
                74,
                "oai: cannot write the output: stdout is closed\n",
            )
        else:
            p = _tab_process(
                env, "oai ", before=before, capture_output=False, stdout=write,
                stderr=subprocess.PIPE,
            )  # fmt: skip
            assert (p.returncode, p.stderr) == (0, "")
    finally:
        os.close(write)
