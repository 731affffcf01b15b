"""One output contract for every command (docs/scripting.md, "Output contract").

- A command lists only the shared options it uses: -o and --query where it prints
  data, -i, --dry-run, -v and --debug where it sends requests.
- A shared option it does not use, given anyway (before or after the command), is a
  usage error naming it, never ignored; so is a format it does not print in.
- Every command that prints data prints it in every format it lists; piped with the
  default format, data oai makes itself is one line of compact JSON, and -o json is
  indented JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import respx
import typer
import yaml
from typer.core import TyperGroup

from openai_cli.app import TOOLS, build
from openai_cli.formats import OUTPUT_FORMATS
from openai_cli.options import PRINTING, SENDING, command
from tests.cli.test_webhooks import BODY, SECRET, h_args, signed_headers
from tests.helpers import BASE, api_env, invoke, walk_commands

SHARED_FLAGS = {
    "output": ["-o", "json"],
    "query": ["--query", "name"],
    "include": ["-i"],
    "dry_run": ["--dry-run"],
    "verbose": ["-v"],
}


@dataclass(frozen=True)
class Local:
    """What a hand-written command does, and arguments it parses with."""

    sends: bool  # requests to the API
    prints: bool  # data that -o and --query shape
    args: tuple[str, ...] = ()

    @property
    def shared(self) -> set[str]:
        """The shared options it should list."""
        return (set(PRINTING) if self.prints else set()) | (set(SENDING) if self.sends else set())


# Every hand-written command (and group with options of its own). A new one fails
# test_every_hand_written_command_is_described until it is added here.
LOCAL: dict[tuple[str, ...], Local] = {
    ("api",): Local(True, True),
    ("auth", "login"): Local(False, False),
    ("auth", "logout"): Local(False, False),
    ("auth", "status"): Local(False, True),
    ("auth", "token"): Local(False, False),
    ("profile", "list"): Local(False, True),
    ("profile", "show"): Local(False, True),
    ("profile", "set"): Local(False, False, ("model", "gpt-4o-mini")),
    ("profile", "unset"): Local(False, False, ("model",)),
    ("profile", "use"): Local(False, False, ("work",)),
    ("profile", "delete"): Local(False, False, ("work", "--yes")),
    ("ask",): Local(True, True),
    ("repl",): Local(True, True),
    ("logs",): Local(False, True),
    ("logs", "list"): Local(False, True),
    ("logs", "show"): Local(False, True, ("conv_1",)),
    ("logs", "search"): Local(False, True, ("word",)),
    ("logs", "path"): Local(False, False),
    ("logs", "delete"): Local(False, False, ("--all", "--yes")),
    ("webhooks", "verify"): Local(False, False),
    ("webhooks", "unwrap"): Local(False, True),
    ("completion", "show"): Local(False, False, ("bash",)),
    ("completion", "install"): Local(False, False, ("bash",)),
    # -o and --query shape the plan of --dry-run; the results are JSON lines.
    ("map",): Local(True, True, ("in.jsonl", "--endpoint", "/v1/embeddings")),
    ("help",): Local(False, True, ("files",)),
    ("batches", "run"): Local(True, True),
    ("batches", "prepare"): Local(False, False, ("prompts.txt", "--endpoint", "/v1/responses")),
    ("vector-stores", "files", "upload"): Local(True, True),
    ("realtime", "connect"): Local(True, True),
    ("batches", "validate"): Local(False, False, ("in.jsonl",)),
    ("fine-tuning", "validate"): Local(False, False, ("ft.jsonl",)),
    ("tokens", "count"): Local(False, True, ("hi", "--encoding", "o200k_base")),
    ("prices",): Local(False, True),
    ("logs", "usage"): Local(False, True),
    ("cache", "clear"): Local(False, False),
    ("explore",): Local(False, True, ("data.json",)),
}


def listed(cmd: Any) -> set[str]:
    """The shared options a command shows in its help."""
    return {
        p.name.removeprefix("shared_")
        for p in cmd.params
        if p.name.startswith("shared_") and not p.hidden
    }


@cache
def hand_written() -> dict[tuple[str, ...], Any]:
    """Every hand-written command of the real tree, and the groups that take options."""
    from openai_cli.builder import ApiCommand, CatalogueGroup

    root = build()
    found: dict[tuple[str, ...], Any] = {}
    for path, cmd, _ in walk_commands(root, typer.Context(root, info_name="oai")):
        if not path or isinstance(cmd, ApiCommand | CatalogueGroup):
            continue
        own = {p.name for p in cmd.params if not p.name.startswith("_root_")} - {"help"}
        if isinstance(cmd, TyperGroup) and not own:
            continue
        found[path] = cmd
    return found


def misfits(commands: dict[tuple[str, ...], Any]) -> list[str]:
    out = []
    for path, cmd in commands.items():
        local = LOCAL.get(path)
        if local is None:
            out.append(f"oai {' '.join(path)}: not described in LOCAL")
        elif listed(cmd) != local.shared:
            out.append(f"oai {' '.join(path)}: lists {sorted(listed(cmd))}")
    return out


def test_every_hand_written_command_lists_the_shared_options_it_uses() -> None:
    commands = hand_written()
    assert set(commands) == set(LOCAL)
    assert {path[0] for path in commands} >= set(TOOLS)
    assert misfits(commands) == []


def test_the_check_catches_a_local_command_that_lists_every_shared_option() -> None:
    """The bypass the guard is for: a command declared without ``shared=``."""

    @dataclass(frozen=True, kw_only=True)
    class Nothing:
        pass

    quiet = command("path", Nothing, lambda factory, opts: None)
    assert misfits({("logs", "path"): quiet}) == [
        "oai logs path: lists ['debug', 'dry_run', 'include', 'output', 'query', 'verbose']"
    ]


def refusals() -> Iterator[tuple[tuple[str, ...], str, bool]]:
    for path, local in LOCAL.items():
        for name in SHARED_FLAGS:
            if name not in local.shared:
                for before in (False, True):
                    yield path, name, before


@pytest.mark.parametrize(
    ("path", "name", "before"),
    list(refusals()),
    ids=[f"{' '.join(p)} {n}{' (root)' if b else ''}" for p, n, b in refusals()],
)
def test_a_shared_option_a_command_does_not_use_is_refused(
    path: tuple[str, ...], name: str, before: bool, unsent: respx.MockRouter
) -> None:
    flag = SHARED_FLAGS[name]
    args = [*flag, *path, *LOCAL[path].args] if before else [*path, *LOCAL[path].args, *flag]
    r = invoke(*args, env=api_env(), input="")
    assert r.code == 2, r
    assert r.err.startswith(f"oai: {flag[0]}"), r
    assert f"does not apply to `oai {' '.join(path)}`" in r.err
    assert r.out == ""


def test_a_format_a_command_does_not_print_in_is_refused(unsent: respx.MockRouter) -> None:
    r = invoke("realtime", "connect", "-o", "yaml", env=api_env())
    assert r.code == 2, r
    assert r.err.startswith("oai: -o yaml: `oai realtime connect` does not print in that format;")
    r = invoke("realtime", "connect", "--help")
    assert "Output format: auto, raw, json, jsonl." in " ".join(r.out.split())


def test_a_refused_option_changes_nothing() -> None:
    r = invoke("profile", "set", "model", "gpt-4o-mini", "--dry-run")
    assert r.code == 2, r
    assert invoke("profile", "list", "-o", "json").out == "[]\n"


# -- formats -----------------------------------------------------------------------------


@pytest.fixture
def local_data(tmp_path: Path) -> dict[tuple[str, ...], dict[str, Any]]:
    """Each local command that prints data, with what it needs: args, stdin."""
    assert invoke("profile", "set", "model", "gpt-4o-mini", "--profile", "work").code == 0
    assert invoke("profile", "set", "api_key_optional", "true", "--profile", "work").code == 0
    assert invoke("profile", "use", "work").code == 0
    with respx.mock(base_url=BASE, assert_all_called=True) as api:
        api.post("/responses").respond(
            200,
            json={
                "id": "resp_1",
                "object": "response",
                "status": "completed",
                "model": "gpt-4o-mini",
                "output": [
                    {
                        "type": "message",
                        "role": "assistant",
                        "content": [{"type": "output_text", "text": "Hi.", "annotations": []}],
                    }
                ],
            },
        )
        assert invoke("ask", "Say hi", env=api_env()).code == 0
    conversation = json.loads(invoke("logs", "list", "-o", "json").out)["data"][0]["id"]
    headers = h_args(signed_headers())
    return {
        ("profile", "list"): {},
        ("profile", "show"): {},
        ("auth", "status"): {},
        ("logs", "list"): {},
        ("logs",): {},
        ("logs", "show"): {"args": [conversation]},
        ("logs", "search"): {"args": ["hi"]},
        ("logs", "usage"): {},
        ("tokens", "count"): {"args": ["hello world", "--encoding", "o200k_base"]},
        ("prices",): {"args": ["gpt-4o-mini"]},
        ("explore",): {"input": '[{"id": "file-abc123", "bytes": 120}]\n'},
        ("help",): {"args": ["--search", "files", "list"]},
        ("webhooks", "unwrap"): {
            "args": headers,
            "input": BODY.decode(),
            "env": {"OPENAI_WEBHOOK_SECRET": SECRET},
            # An API's body: piped as it came, byte for byte.
            "as_sent": BODY.decode() + "\n",
        },
    }


def test_every_local_command_that_prints_data_is_in_the_format_test(
    local_data: dict[tuple[str, ...], dict[str, Any]],
) -> None:
    sending_nothing = {p for p, local in LOCAL.items() if local.prints and not local.sends}
    assert set(local_data) == sending_nothing


def run_as(path: tuple[str, ...], how: dict[str, Any], *more: str) -> Any:
    return invoke(
        *path, *how.get("args", []), *more, input=how.get("input", ""), env=how.get("env")
    )


def comparable(data: Any) -> Any:
    """``auth status`` shows the output format in effect among its settings."""
    if isinstance(data, dict) and isinstance(data.get("output"), dict):
        return {k: v for k, v in data.items() if k != "output"}
    return data


def test_every_format_of_every_local_command_that_prints_data(
    local_data: dict[tuple[str, ...], dict[str, Any]],
) -> None:
    for path, how in local_data.items():
        r = run_as(path, how, "-o", "json")
        assert r.code == 0, (path, r)
        data = comparable(json.loads(r.out))
        assert r.out == json.dumps(json.loads(r.out), indent=2, ensure_ascii=False) + "\n", path
        rows = data if isinstance(data, list) else [data]
        if isinstance(data, dict) and data.get("object") == "list":
            rows = data["data"]
        for fmt in OUTPUT_FORMATS:
            r = run_as(path, how, "-o", fmt)
            assert r.code == 0, (path, fmt, r)
            if fmt == "yaml":
                assert comparable(yaml.safe_load(r.out)) == data, path
            elif fmt == "jsonl":
                assert [comparable(json.loads(line)) for line in r.out.splitlines()] == rows, path
            elif fmt == "table":
                assert r.out.strip(), path
                with pytest.raises(ValueError):
                    json.loads(r.out)
            elif fmt == "auto" and path == ("help",):
                # Command lines with their summaries, tab-separated, for grep and cut.
                assert [line.split("\t")[0] for line in r.out.splitlines()] == [
                    row["command"] for row in rows
                ], r
            elif fmt == "explore":
                # Not a terminal: the viewer prints what -o json prints.
                assert comparable(json.loads(r.out)) == data, path
                assert r.out == json.dumps(json.loads(r.out), indent=2, ensure_ascii=False) + "\n"
            elif fmt != "json":
                # Piped: what oai makes is one line of compact JSON; an API's body as sent.
                shown = json.loads(r.out)
                compact = json.dumps(shown, ensure_ascii=False) + "\n"
                assert r.out == how.get("as_sent", compact), (path, fmt)
                assert comparable(shown) == data, (path, fmt)
        # Given before the command, -o means the same.
        before = {**how, "args": ["-o", "yaml", *path, *how.get("args", [])]}
        assert run_as((), before).out == run_as(path, how, "-o", "yaml").out, path


@pytest.mark.parametrize("path", list(LOCAL), ids=" ".join)
def test_metavars_are_written_one_way(path: tuple[str, ...]) -> None:
    """TEXT, INTEGER, PATH as the generated commands write them; never Typer's <str>."""
    r = invoke(*path, "--help")
    assert r.code == 0, r
    assert re.search(r"<(str|int|float|path)>", r.out) is None, r.out
