"""Start-up of a TAB, of help and of a command or two, next to ``python -c pass``, all
in one run.

A temporary folder is the home (one for each checkout), with no ``OAI_*_DIR`` or
``XDG_*`` variable set, so that oai finds its folders as a user's does: a config with
two profiles and an ID cache of 200 files are written there first, by that
checkout's own code (the ID cache's format is a version's), and the TAB that
completes an ID reads real files (no request is ever made). Each command runs as
the ``oai`` script that pip wrote for this interpreter does (``python -m openai_cli``
where there is none), with ``PYTHONPATH`` naming the checkout, and the script prints
a Markdown table of CPU times and their ratios to ``python -c pass``.

A TAB that completes IDs or profile names keeps what it resolved of the settings
(``openai_cli/tabsettings.py``); one more row times the TAB that has nothing kept to
use, as the first after config.toml changes: its state folder is a copy whose
``tab.json`` is removed before each run.

    python tests/bench/tab_startup.py            # --runs 40
    python tests/bench/tab_startup.py --before /tmp/old   # also a checkout to compare

With ``--before DIR`` (a checkout of the project, say ``git worktree add --detach
/tmp/old main``) every oai command runs first as that checkout's code, in the same
run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent

TABS = {
    "TAB: a family's commands": "oai files ",
    "TAB: a command's flags": "oai chat completions create --",
    "TAB: an enum value": "oai files list --order ",
    "TAB: IDs from the cache": "oai files retrieve ",
    "TAB: profile names": "oai --profile ",
}
HELP = {
    "oai --help": ["--help"],
    "oai files --help (a group)": ["files", "--help"],
    "oai vector-stores files --help (a group in a group)": ["vector-stores", "files", "--help"],
    "oai chat completions create --help": ["chat", "completions", "create", "--help"],
    "oai files (a group run bare: help on stderr)": ["files"],
    "oai --version": ["--version"],
    # Commands that are not help, to see what they pay for it: one of bare words
    # (which reads the root's page of help, to learn it is no group run bare), one
    # with an option (which reads nothing of it).
    "oai profile list (bare words)": ["profile", "list"],
    "oai files list --dry-run": ["files", "list", "--dry-run"],
}


CHANGED = "TAB: IDs, nothing kept (the first after config.toml changes)"


def _clean_environment() -> None:
    # No variable names a folder: they are found as a user's are.
    for name in list(os.environ):
        if name.startswith(("OAI_", "OPENAI_", "XDG_", "_OAI_")):
            del os.environ[name]


def _home_of(tmp: Path, label: str, tree: Path) -> dict[str, str]:
    """A home whose config and ID cache the checkout at ``tree`` wrote: each version
    reads the files it writes (the ID cache's format changes between versions)."""
    home = tmp / f"home-{label}"
    home.mkdir()
    code = (
        "import sys\nfrom pathlib import Path\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        f"import tab_startup\ntab_startup._setup(Path({str(home)!r}))\n"
    )
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(tree)}
    subprocess.run([f"{BIN}/python", "-c", code], env=env, cwd=home, check=True)
    # For the commands run with --dry-run: a key, never sent.
    return {**os.environ, "HOME": str(home), "OPENAI_API_KEY": "sk-bench"}


def _setup(home: Path) -> None:
    """Run with the checkout to measure first on the path."""
    from openai_cli import idcache

    # This process too: the folders of the files written here are found in its own
    # environment, as platformdirs finds them.
    _clean_environment()
    os.environ["HOME"] = str(home)
    env = dict(os.environ)
    config = _config(env)
    config.parent.mkdir(parents=True)
    config.write_text("[profiles.default]\n[profiles.work]\n")
    config.chmod(0o600)
    _age(config)
    seen = idcache.Seen()
    for n in range(idcache.LIMIT):
        seen.answer(
            {"id": f"file-{n:04}", "object": "file", "filename": f"f{n}.jsonl", "created_at": n}
        )
    idcache.save(env, idcache.section("default", "https://api.openai.com/v1"), seen)


def _config(env: dict[str, str]) -> Path:
    from openai_cli.config import config_path

    return config_path(env)


def _age(path: Path) -> None:
    # An hour ago: a checkout from before kept answers were keyed by the file's bytes
    # keeps none for a config changed in the last two seconds.
    then = time.time() - 3600
    os.utime(path, (then, then))


def _state_copy(tmp: Path, label: str, env: dict[str, str]) -> str:
    from openai_cli import dirs

    # The folder is found in this process's environment, as platformdirs finds it.
    os.environ["HOME"] = env["HOME"]
    copy = tmp / f"state-{label}"
    shutil.copytree(dirs.folder(dirs.STATE, env), copy)
    return str(copy)


def _forget(env: dict[str, str]) -> None:
    from openai_cli import tabsettings

    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(env["OAI_STATE_DIR"], tabsettings.FILE_NAME))


def _script(tmp: Path) -> list[str]:
    """How to run oai as its installed script does, from whichever checkout
    ``PYTHONPATH`` names."""
    installed = BIN / "oai"
    if not installed.is_file():
        return [f"{BIN}/python", "-m", "openai_cli"]
    script = tmp / "oai-script.py"
    script.write_text(installed.read_text().split("\n", 1)[1])
    return [f"{BIN}/python", str(script)]


def _cpu(argv: list[str], env: dict[str, str]) -> float:
    """The CPU time (user + system) of one run, in ms.

    CPU time, read from the child's rusage: on a machine shared with other work the
    wall clock (hyperfine's table) moves with the load, the CPU time far less.
    """
    # Run from the temporary folder: ``-m`` puts the current directory first on the
    # path, where a checkout would win over the one PYTHONPATH names.
    p = subprocess.Popen(
        argv,
        env=env,
        cwd=env["HOME"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, _, usage = os.wait4(p.pid, 0)
    return (usage.ru_utime + usage.ru_stime) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--before", type=Path, help="a checkout of the project to compare")
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[2]
    trees = [("before", args.before.resolve())] if args.before else []
    trees.append(("after", here))
    for _, tree in trees:
        # Both checkouts start from compiled modules (a fresh worktree has none, and
        # may not be allowed to write them).
        subprocess.run([f"{BIN}/python", "-m", "compileall", "-q", str(tree / "openai_cli")])
    with tempfile.TemporaryDirectory() as tmp:
        _clean_environment()
        homes = {label: _home_of(Path(tmp), label, tree) for label, tree in trees}
        env = homes["after"]
        oai = _script(Path(tmp))
        rows: dict[str, tuple[list[str], dict[str, str]]] = {
            "python -c pass": ([f"{BIN}/python", "-c", "pass"], env)
        }
        for label, tree in trees:
            env = homes[label]
            lines: dict[str, tuple[list[str], dict[str, str]]] = {}
            for name, line in {**TABS, CHANGED: TABS["TAB: IDs from the cache"]}.items():
                lines[name] = ([], {"_OAI_COMPLETE": "complete_bash", "_OAI_COMPLETE_LINE": line})
            for name, argv in HELP.items():
                lines[name] = (argv, {})
            for name, (argv, extra) in lines.items():
                the_env = {**env, "PYTHONPATH": str(tree), **extra}
                if name == CHANGED:
                    the_env["OAI_STATE_DIR"] = _state_copy(Path(tmp), label, env)
                rows[f"{label}: {name}"] = ([*oai, *argv], the_env)
        # A command that fails or, for a TAB, offers nothing would time nothing.
        for name, (argv, the_env) in rows.items():
            done = subprocess.run(argv, env=the_env, cwd=env["HOME"], capture_output=True)
            quiet = "TAB" in name and not done.stdout.strip()
            if done.returncode not in (0, 2) or quiet:
                print(f"{name}: exit {done.returncode}, {done.stderr.decode()!r}", file=sys.stderr)
                return 1
        # Round after round of every command, so that a change in the machine's load
        # falls on all of them alike.
        used: dict[str, list[float]] = {name: [] for name in rows}
        for _ in range(args.runs):
            for name, (argv, the_env) in rows.items():
                if name.endswith(CHANGED):
                    _forget(the_env)
                used[name].append(_cpu(argv, the_env))
        base = min(used["python -c pass"]), statistics.median(used["python -c pass"])
        print("| command | CPU, least | x `python -c pass` | CPU, median | x |")
        print("|---|---|---|---|---|")
        for name, times in used.items():
            low, mid = min(times), statistics.median(times)
            print(
                f"| {name} | {low:.1f} ms | {low / base[0]:.2f} "
                f"| {mid:.1f} ms | {mid / base[1]:.2f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
