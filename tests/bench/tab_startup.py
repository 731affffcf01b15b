"""Start-up of a TAB and of help, next to ``python -c pass``, in one hyperfine run.

A config with two profiles and an ID cache of 200 files is written to a temporary
folder first, so the TAB that completes an ID reads real files (no request is ever
made). Every command runs through ``env`` (the TAB's variables are set that way),
``python -c pass`` too, so each carries the same small cost of ``env``. Needs
hyperfine (``apt-get install hyperfine``); prints its table and each median as a
ratio to ``python -c pass``.

    python tests/bench/tab_startup.py            # --runs 40 --warmup 5
    python tests/bench/tab_startup.py --before /tmp/old   # also a checkout to compare

With ``--before DIR`` (a checkout of the project, say ``git worktree add --detach
/tmp/old main``) every oai command runs a second time as that checkout's code, in
the same run (``PYTHONPATH=DIR python -m openai_cli``), and once more as this one's
the same way, so both sides start alike.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--before", type=Path, help="a checkout of the project to compare")
    args = parser.parse_args()
    if shutil.which("hyperfine") is None:
        print("needs hyperfine (apt-get install hyperfine)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        env = _setup(Path(tmp))
        setting = " ".join(f"{k}={v}" for k, v in env.items())
        commands: dict[str, str] = {"python -c pass": f"env {BIN}/python -c pass"}
        for name, line in TABS.items():
            commands[name] = (
                f"env {setting} _OAI_COMPLETE=complete_bash '_OAI_COMPLETE_LINE={line}' {BIN}/oai"
            )
        for name, argv in HELP.items():
            commands[name] = f"env {setting} {BIN}/oai {' '.join(argv)}"
        if args.before:
            here = Path(__file__).resolve().parents[2]
            for label, tree in (("before", args.before.resolve()), ("after", here)):
                run = f"env {setting} PYTHONPATH={tree}"
                for name, line in TABS.items():
                    commands[f"{label}: {name}"] = (
                        f"{run} _OAI_COMPLETE=complete_bash '_OAI_COMPLETE_LINE={line}' "
                        f"{BIN}/python -m openai_cli"
                    )
                for name, argv in HELP.items():
                    commands[f"{label}: {name}"] = (
                        f"{run} {BIN}/python -m openai_cli {' '.join(argv)}"
                    )
        out = Path(tmp) / "results.json"
        cmd = ["hyperfine", "-N", "--warmup", str(args.warmup), "--runs", str(args.runs)]
        cmd += ["--export-json", str(out)]
        for name, line in commands.items():
            cmd += ["-n", name, line]
        subprocess.run(cmd, check=True, stdout=sys.stderr, env={**os.environ, **env})
        results = json.loads(out.read_text())["results"]
    base = results[0]["median"]
    print("| command | median | x `python -c pass` |\n|---|---|---|")
    for r in results:
        print(f"| {r['command']} | {r['median'] * 1000:.1f} ms | {r['median'] / base:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
