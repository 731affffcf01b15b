"""Write the shell completion scripts under completions/ (what `oai completion show` prints).

python -m tools.gen_completions [--check]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from openai_cli.commands.completion import FILES, script

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
    files = generate()
    if args.check:
        stale = [name for name, text in sorted(files.items()) if _read(OUT / name) != text]
        for name in stale:
            print(f"{OUT / name}: out of date; run python -m tools.gen_completions")
        return 1 if stale else 0
    OUT.mkdir(exist_ok=True)
    for name, text in sorted(files.items()):
        if _read(OUT / name) != text:
            (OUT / name).write_text(text, encoding="utf-8")
            print(f"wrote {OUT / name}", file=sys.stderr)
    return 0


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


if __name__ == "__main__":
    sys.exit(main())
