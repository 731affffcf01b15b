"""Write the shell completion scripts under completions/ (what `oai completion show` prints).

python -m tools.gen_completions [--check]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from openai_cli.commands.completion import FILES, script
from tools._generated import Folder, sync

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "completions"


def generate() -> dict[str, str]:
    return {name: script(shell) for shell, name in FILES.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.gen_completions", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="compare with the files on disk, write nothing"
    )
    args = parser.parse_args(argv)
    stale = "out of date; run python -m tools.gen_completions"
    folder = Folder(OUT, missing=stale, changed=stale)
    return sync(folder, generate(), check=args.check, say_written=True)


if __name__ == "__main__":
    sys.exit(main())
