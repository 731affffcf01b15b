"""Start-up of a TAB and of help, next to ``python -c pass``, all in one run.

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
    "oai chat completions create --help": ["chat", "completions", "create", "--help"],
    "oai --version": ["--version"],
}


def _setup(home: Path) -> dict[str, str]:
    env = {
        "OAI_CONFIG_DIR": str(home / "config"),
        "OAI_STATE_DIR": str(home / "state"),
        "OAI_DATA_DIR": str(home / "data"),
    }
    (home / "config").mkdir()
    (home / "config" / "config.toml").write_text("[profiles.default]\n[profiles.work]\n")
    seen = idcache.Seen()
    for n in range(idcache.LIMIT):
        seen.answer(
            {"id": f"file-{n:04}", "object": "file", "filename": f"f{n}.jsonl", "created_at": n}
        )
    idcache.save(env, idcache.section("default", "https://api.openai.com/v1"), seen)
    return env


def _cpu(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """The least and the median CPU time (user + system) of ``runs`` runs, in ms.

    CPU time, read from the child's rusage: on a machine shared with other work the
    wall clock (hyperfine's table) moves with the load, the CPU time far less.
    """
    used = []
    for _ in range(runs):
        p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(p.pid, 0)
        used.append((usage.ru_utime + usage.ru_stime) * 1000)
    return min(used), statistics.median(used)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--before", type=Path, help="a checkout of the project to compare")
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[2]
    trees = [("before", args.before.resolve())] if args.before else []
    trees.append(("after", here))
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, **_setup(Path(tmp))}
        base = _cpu([f"{BIN}/python", "-c", "pass"], env, args.runs)
        print("| command | CPU, least | x `python -c pass` | CPU, median | x |")
        print("|---|---|---|---|---|")
        print(f"| python -c pass | {base[0]:.1f} ms | 1.00 | {base[1]:.1f} ms | 1.00 |")
        for label, tree in trees:
            runs: dict[str, tuple[list[str], dict[str, str]]] = {}
            for name, line in TABS.items():
                tab_env = {"_OAI_COMPLETE": "complete_bash", "_OAI_COMPLETE_LINE": line}
                runs[name] = ([], tab_env)
            for name, argv in HELP.items():
                runs[name] = (argv, {})
            for name, (argv, extra) in runs.items():
                the_env = {**env, "PYTHONPATH": str(tree), **extra}
                low, mid = _cpu([f"{BIN}/python", "-m", "openai_cli", *argv], the_env, args.runs)
                print(
                    f"| {label}: {name} | {low:.1f} ms | {low / base[0]:.2f} "
                    f"| {mid:.1f} ms | {mid / base[1]:.2f} |"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
