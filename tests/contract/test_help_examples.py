"""Every help example, run as printed against Steady in an empty folder: exit 0.

The examples come from the command tree (tests/examples.py), so a command added later
is run too. The only files present are EXAMPLE_FILES; the oai commands of a pipeline
run in this process, the others (printf, echo, git) as the programs they name. The
examples of one command run in the order shown, as someone reading the help would run
them (`oai ask -c` continues the `oai ask` before it).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.contract.steady import Steady
from tests.examples import EXAMPLE_FILES, NOT_RUN, Example, by_command, examples
from tests.helpers import api_env, invoke

RUN = {command: lines for command, lines in by_command().items() if command not in NOT_RUN}


def run_example(example: Example, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Exit code of the pipeline's last command, and what it printed on stderr."""
    data, code, err = b"", 0, ""
    for words in example.stages():
        if words[0] == "oai":
            r = invoke(*words[1:], input=data, env=env)
            data, code, err = r.out_bytes, r.code, r.err
        else:
            done = subprocess.run(words, input=data, capture_output=True, cwd=cwd, check=False)
            data, code, err = done.stdout, done.returncode, done.stderr.decode()
    return code, err


@pytest.mark.parametrize("command", RUN)
def test_examples_run_as_printed(
    steady: Steady, command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "empty"
    work.mkdir()
    for name, (content, _) in EXAMPLE_FILES.items():
        (work / name).write_bytes(content)
    monkeypatch.chdir(work)
    for example in RUN[command]:
        code, err = run_example(example, api_env(steady.base_url), work)
        assert code == 0, f"{example.line}\nexit {code}: {err[-2000:]}"


def test_every_command_not_run_still_has_an_example() -> None:
    commands = {e.command for e in examples()}
    assert set(NOT_RUN) <= commands, set(NOT_RUN) - commands
