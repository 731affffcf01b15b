"""The hand-written help covers the whole catalogue and nothing else."""

from __future__ import annotations

import tomllib
from pathlib import Path

from openai_cli.operations import catalogue
from openai_cli.operations.help import all_summaries, argument_help, flag_help, parse, summary

HELP = Path(catalogue.__file__).resolve().parent.parent / "help"
OPERATIONS = [op for group in catalogue.GROUPS for op in catalogue.load(group)]


def _groups() -> set[str]:
    return {" ".join(op.command[:i]) for op in OPERATIONS for i in range(1, len(op.command))}


def test_every_command_and_group_has_a_summary_and_no_key_is_unknown() -> None:
    commands = {" ".join(op.command) for op in OPERATIONS}
    missing = [c for c in sorted(commands | _groups()) if not summary(tuple(c.split()))]
    assert missing == []
    assert set(all_summaries()) == commands | _groups()


def test_each_summary_is_one_short_line_of_our_own() -> None:
    for key, text in all_summaries().items():
        assert text and "\n" not in text and len(text) <= 72, key
        assert not text.endswith("."), key
        assert "/" not in text.split()[0], key  # not the HTTP line


def test_every_flag_and_argument_has_a_description() -> None:
    missing = []
    for op in OPERATIONS:
        for p in op.params:
            if not flag_help(op.command, p.flag.removeprefix("--")):
                missing.append(f"{' '.join(op.command)} {p.flag}")
        for pp in op.path_params:
            if not argument_help(op.command, pp.name):
                missing.append(f"{' '.join(op.command)} {pp.name}")
    assert missing == []


def test_overrides_name_real_commands_and_their_own_flags() -> None:
    data = tomllib.loads((HELP / "flags.toml").read_text(encoding="utf-8"))
    by_command = {" ".join(op.command): op for op in OPERATIONS}
    wrong = []
    for command, entries in data.get("overrides", {}).items():
        op = by_command.get(command)
        if op is None:
            wrong.append(command)
            continue
        names = {p.flag.removeprefix("--") for p in op.params} | {p.name for p in op.path_params}
        wrong += [f"{command}: {k}" for k in entries if k not in names]
    assert wrong == []
    flags = {p.flag.removeprefix("--") for op in OPERATIONS for p in op.params}
    assert set(data["flags"]) == flags
    args = {pp.name for op in OPERATIONS for pp in op.path_params}
    assert set(data["arguments"]) == args


def test_the_quick_reader_reads_every_help_file_as_toml_does() -> None:
    for path in sorted(HELP.glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        assert parse(text) == tomllib.loads(text), path.name


def test_what_the_quick_reader_does_not_know_is_read_by_tomllib() -> None:
    for text in (
        '[flags]\n"a" = "say \\"hi\\""\n',
        '[flags]\nbare = "x"\n',
        '[flags]\n"a" = "x"  # note\n',
        '[overrides."x".y]\n"a" = "b"\n',
        '"a" = """\nlong\n"""\n',
    ):
        assert parse(text) == tomllib.loads(text), text
