"""Start-up of a TAB, of help and of a command or two, next to ``python -c pass``, all
in one run.

A config with two profiles and an ID cache of 200 files is written to a temporary
folder first, so the TAB that completes an ID reads real files (no request is ever
made). Each command runs as ``python -m openai_cli`` with ``PYTHONPATH`` naming the
checkout, and prints a Markdown table of CPU times and their ratios to
``python -c pass``.

    python tests/bench/tab_startup.py            # --runs 40
    python tests/bench/tab_startup.py --before /tmp/old   # also a checkout to compare

With ``--before DIR`` (a checkout of the project, say ``git worktree add --detach
/tmp/old main``) every oai command runs first as that checkout's code, in the same
run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from openai_cli import idcache

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


def _setup(home: Path) -> dict[str, str]:
    env = {
        "OAI_CONFIG_DIR": str(home / "config"),
        "OAI_STATE_DIR": str(home / "state"),
        "OAI_DATA_DIR": str(home / "data"),
        # For the commands run with --dry-run: a key, never sent.
        "OPENAI_API_KEY": "sk-bench",
    }
    (home / "config").mkdir()
    (home / "config" / "config.toml").write_text("[profiles.default]\n[profiles.work]\n")
    (home / "config" / "config.toml").chmod(0o600)
    seen = idcache.Seen()
    for n in range(idcache.LIMIT):
        seen.answer(
            {"id": f"file-{n:04}", "object": "file", "filename": f"f{n}.jsonl", "created_at": n}
        )
    idcache.save(env, idcache.section("default", "https://api.openai.com/v1"), seen)
    return env


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
        cwd=env["OAI_CONFIG_DIR"],
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
        env = {**os.environ, **_setup(Path(tmp))}
        rows: dict[str, tuple[list[str], dict[str, str]]] = {
            "python -c pass": ([f"{BIN}/python", "-c", "pass"], env)
        }
        for label, tree in trees:
            lines: dict[str, tuple[list[str], dict[str, str]]] = {}
            for name, line in TABS.items():
                lines[name] = ([], {"_OAI_COMPLETE": "complete_bash", "_OAI_COMPLETE_LINE": line})
            for name, argv in HELP.items():
                lines[name] = (argv, {})
            for name, (argv, extra) in lines.items():
                the_env = {**env, "PYTHONPATH": str(tree), **extra}
                rows[f"{label}: {name}"] = ([f"{BIN}/python", "-m", "openai_cli", *argv], the_env)
        # Round after round of every command, so that a change in the machine's load
        # falls on all of them alike.
        used: dict[str, list[float]] = {name: [] for name in rows}
        for _ in range(args.runs):
            for name, (argv, the_env) in rows.items():
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
