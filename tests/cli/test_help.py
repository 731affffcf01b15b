"""`--help` is enough to use any API command: our summary, a description on every flag,
required flags first, an example; read from the help files only when asked for."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from openai_cli.builder import ApiCommand, build_command
from openai_cli.operations import catalogue
from openai_cli.operations.help import _read
from openai_cli.operations.model import Param
from tests.helpers import api_env, invoke

OPERATIONS = [op for group in catalogue.GROUPS for op in catalogue.load(group)]
GROUPS = sorted({op.command[:i] for op in OPERATIONS for i in range(1, len(op.command))})
HTTP_LINE = re.compile(r"^(GET|POST|DELETE) /")
WIDE = {"COLUMNS": "80"}


def flat(text: str) -> str:
    return " ".join(text.split())


def sections(text: str) -> dict[str, list[str]]:
    """Each ``Title:`` section of a help text, as its lines."""
    out: dict[str, list[str]] = {}
    title = ""
    for line in text.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            title = line[:-1]
            out[title] = []
        elif title and line:
            out[title].append(line)
    return out


def entries(lines: list[str]) -> list[tuple[str, str]]:
    """(term, description) of a definition list; a long term has its text below it."""
    out: list[tuple[str, str]] = []
    for line in lines:
        if re.match(r"^  \S", line):
            term, _, text = line.strip().partition("  ")
            out.append((term, text.strip()))
        elif out:
            term, text = out[-1]
            out[-1] = (term, f"{text} {line.strip()}".strip())
    return out


def summary_of(text: str) -> str:
    return text.split("\n\n")[1].strip()


@pytest.mark.parametrize("group", GROUPS, ids=" ".join)
def test_every_group_lists_its_commands_with_our_summaries(group: tuple[str, ...]) -> None:
    r = invoke(*group, "--help", env=WIDE)
    assert r.code == 0, r
    assert not HTTP_LINE.match(summary_of(r.out)), group
    assert not summary_of(r.out).startswith("Operations under"), group
    for term, text in entries(sections(r.out)["Commands"]):
        assert text and not HTTP_LINE.match(text), (group, term)
        assert not re.match(r"\d+ operations? under", text), (group, term)


def test_every_command_help_teaches_how_to_use_it() -> None:
    missing = []
    for op in OPERATIONS:
        where = " ".join(op.command)
        r = invoke(*op.command, "--help", env=WIDE)
        assert r.code == 0, (where, r)
        summary = summary_of(r.out)
        if HTTP_LINE.match(summary):
            missing.append(f"{where}: the summary is the HTTP line")
        if f"\n  {op.method} {op.full_path}\n" not in r.out:
            missing.append(f"{where}: no HTTP line below the summary")
        parts = sections(r.out)
        options = [t for t in parts if t not in ("Usage", "Arguments", "Example")]
        for title in ("Arguments", *options):
            for term, text in entries(parts.get(title, [])):
                if not text or text == "[required]":
                    missing.append(f"{where}: {term} has no description")
        # A field the CLI fills in when left out (a default model) is not required.
        built = build_command(op)
        assert isinstance(built, ApiCommand)
        filled = {p.flag for p in op.params if p.name in built.spec.defaults}
        required = {p.flag for p in op.params if p.required} - filled
        if required:
            first = options[0]
            shown = {t.split()[0].rstrip(",") for t, _ in entries(parts[first])}
            if first != "Required" or not required <= shown:
                missing.append(f"{where}: required flags are not first")
        listed = {t.split()[0].rstrip(",") for t, _ in entries(parts.get("Required", []))}
        if filled & listed:
            missing.append(f"{where}: {', '.join(sorted(filled & listed))} listed as required")
        example = parts.get("Example", [])
        if not example or not example[0].strip().startswith(" ".join(("oai", *op.command))):
            missing.append(f"{where}: no example")
    assert missing == []


def test_chat_completions_create_shows_the_shape_of_response_format() -> None:
    r = invoke("chat", "completions", "create", "--help", env=WIDE)
    text = flat(r.out)
    assert (
        "--response-format JSON Shape of the reply: plain text, any JSON, or a given JSON "
        "schema [{type: text|json_schema|json_object, json_schema: {description, name, "
        "schema, strict}}]"
    ) in text
    assert "--temperature NUMBER Sampling randomness: higher is more varied, lower is more " in text
    assert "[0..2; default: 1]" in text
    assert r.out.index("Required:\n  --messages JSON") < r.out.index("--temperature")
    assert r.out.endswith(
        "Example:\n"
        "  oai chat completions create \\\n"
        "      --messages \\\n"
        '      \'[{"role": "user", "content": "What is the capital of Australia?"}]\' \\\n'
        "      --model gpt-4o-mini\n"
    )


def test_usage_costs_shows_start_time_in_unix_seconds() -> None:
    r = invoke("admin", "organization", "usage", "costs", "--help", env=WIDE)
    assert (
        "Required:\n"
        "  --start-time TIME  Start of the reported period, inclusive [Unix seconds, or\n"
        "                     a date: 2026-11-01 or 2026-11-01T12:00:00Z]\n"
    ) in r.out
    assert "Example:\n  oai admin organization usage costs --start-time 1767225600\n" in r.out


def test_group_help_lists_our_summaries() -> None:
    r = invoke("vector-stores", "files", "--help", env=WIDE)
    assert r.out.startswith(
        "Usage: oai vector-stores files [OPTIONS] COMMAND [ARGS]...\n\n"
        "  Files attached to a vector store\n"
    )
    assert "  create    Add a file to a vector store so file search can read it\n" in r.out


def test_help_files_are_read_only_for_help_and_only_the_family_asked_for() -> None:
    _read.cache_clear()
    r = invoke(
        "chat",
        "completions",
        "create",
        "--model",
        "m",
        "--messages",
        '[{"role": "user", "content": "hi"}]',
        "--dry-run",
        env=api_env(),
    )
    assert r.code == 0, r
    assert _read.cache_info().currsize == 0
    # Help from the index of help pages reads no help file at all...
    assert invoke("chat", "completions", "create", "--help").code == 0
    assert _read.cache_info().currsize == 0
    # ...and Typer's (an option before --help: no page of the index) only the family's.
    assert invoke("--debug", "chat", "completions", "create", "--help").code == 0
    assert _read.cache_info().currsize == 2  # chat.toml and flags.toml
    _read.cache_clear()


def printed_examples(text: str) -> list[str]:
    """The examples of a help text, each as its printed lines."""
    out: list[list[str]] = []
    inside = False
    for line in text.splitlines():
        if line in ("Example:", "Examples:"):
            inside = True
        elif inside and line.startswith("  "):
            if out and out[-1][-1].endswith(" \\"):
                out[-1].append(line)
            else:
                out.append([line])
        elif line:
            inside = False
    return ["\n".join(lines) for lines in out]


def unfold(printed: str) -> str:
    """What a shell reads from pasted lines: each `` \\`` and line break joins the next."""
    return " ".join(line.strip().removesuffix(" \\").strip() for line in printed.splitlines())


@pytest.mark.parametrize("columns", [80, 60])
def test_long_examples_fold_between_words_into_one_command(
    columns: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.examples import by_command

    monkeypatch.setenv("COLUMNS", str(columns))  # read by the help formatter
    wrong = []
    for command, examples in by_command().items():
        r = invoke(*command.split(), "--help")
        printed = printed_examples(r.out)
        if [unfold(p) for p in printed] != [e.line for e in examples]:
            wrong.append(f"{command}: {printed!r}")
            continue
        for text in printed:
            for line in text.splitlines():
                # Only a word that cannot be split (a quoted JSON value) may run over.
                words = shlex.split(line.removesuffix(" \\"), posix=True)
                if len(line) > columns and len([w for w in words if w != "|"]) > 1:
                    wrong.append(f"{command}: {line!r} is wider than {columns}")
    assert wrong == []


def test_fold_keeps_quoted_text_and_pipes_whole() -> None:
    from openai_cli.lazy import fold_example

    line = "printf '%s\\n' 'a b c d e f g h' | oai map - --endpoint /v1/embeddings -O out.jsonl"
    folded = fold_example(line, 34)
    assert folded.split("\n") == [
        "printf '%s\\n' \\",
        "    'a b c d e f g h' | \\",
        "    oai map - \\",
        "    --endpoint /v1/embeddings \\",
        "    -O out.jsonl",
    ]
    assert unfold(folded) == line


def test_the_everyday_examples_ask_real_questions() -> None:
    from tests.examples import by_command

    examples = {command: [e.line for e in lines] for command, lines in by_command().items()}
    (chat,) = examples["chat completions create"]
    messages = json.loads(shlex.split(chat)[shlex.split(chat).index("--messages") + 1])
    assert messages[0]["role"] == "user" and messages[0]["content"].endswith("?")
    (responses,) = examples["responses create"]
    assert " --model gpt-4o-mini " in responses and " --input " in responses
    for command, lines in examples.items():
        for line in lines:
            assert "path/to/file" not in line and "Hello" not in line, (command, line)


def _sample(p: Param, upload: Path) -> list[str]:
    """A value ``p`` accepts, as the arguments that give it."""
    if p.type == "boolean":
        return [p.flag]
    if p.is_file:
        return [p.flag, str(upload)]
    if p.enum:
        return [p.flag, str(p.enum[0])]
    kind = p.items if p.type == "array" else p.type
    return [p.flag, {"integer": "1", "number": "1", "json": "{}"}.get(str(kind), "x")]


def test_every_flag_listed_as_required_is_required(tmp_path: Path) -> None:
    """Leaving out any one flag of the Required panel, with the others given, is refused.

    A flag the CLI fills in (``--model`` of audio transcriptions) would be sent anyway.
    """
    upload = tmp_path / "sample.jsonl"
    upload.write_text('{"a": 1}\n')
    # The bodies are placeholders, not what the schemas take: the flags are checked here.
    env = {**api_env(), **WIDE, "OAI_VALIDATE": "false"}
    wrong = []
    for op in OPERATIONS:
        r = invoke(*op.command, "--help", env=env)
        listed = [t.split()[0].rstrip(",") for t, _ in entries(sections(r.out).get("Required", []))]
        if not listed:
            continue
        by_flag = {p.flag: p for p in op.params}
        given = {flag: _sample(by_flag[flag], upload) for flag in listed}
        # --default-model stands for a profile's model, which those commands take.
        base = ["--default-model", "gpt-4o-mini", *op.command]
        base += [pp.metavar.lower() for pp in op.path_params]
        everything = invoke(*base, *(a for v in given.values() for a in v), "--dry-run", env=env)
        assert everything.code == 0, (op.command, everything)
        for flag in listed:
            rest = [a for other, v in given.items() if other != flag for a in v]
            r = invoke(*base, *rest, "--dry-run", env=env)
            if r.code == 0:
                wrong.append(f"{' '.join(op.command)} {flag}")
    assert wrong == []


def test_a_flag_the_cli_fills_in_says_with_what() -> None:
    r = invoke("audio", "transcriptions", "create", "--help", env=WIDE)
    parts = sections(r.out)
    assert "--model" not in " ".join(parts["Required"])
    model = dict(entries(parts["Common"]))["--model TEXT"]
    assert flat(model).replace("- ", "-").endswith("default: gpt-4o-mini-transcribe]")
    r = invoke("chat", "completions", "create", "--help", env=WIDE)
    model = dict(entries(sections(r.out)["Common"]))["--model TEXT"]
    assert "default: the profile's model]" in flat(model)
