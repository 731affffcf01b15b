"""Every example command in README.md and docs/*.md runs, and does what its text says.

An example is a line of a ```sh block that runs ``oai`` (a line continued with ``\\``
included), or a whole block when it is a script (``if``, ``while``, ``case``...). Each
one is either run by an entry of ``EXAMPLES`` (word for word, by bash, in a directory
holding the files it names, against Steady or the stateful local server) or listed in
``NOT_RUN`` with the reason; a new example that is neither fails
``test_every_example_is_run_or_listed``.

A few examples name a server or a value that cannot be had here (Ollama's address,
an Azure resource, a conversation id): ``Example.replace`` swaps those words, and
nothing else, for a local server or a real id before the text is run.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from tests.canary import check_run, snapshot
from tests.contract.steady import Steady, unavailable
from tests.docs.server import PNG, start_docs_server
from tests.helpers import CANARY_ADMIN_KEY, CANARY_KEY, ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_BLOCK = re.compile(r"^([ \t]*)```sh\n(.*?)^\1```", re.MULTILINE | re.DOTALL)
_RUNS_OAI = re.compile(r"(?:^|[\s|;&(/])oai(?:\s|$|\))", re.MULTILINE)
_SCRIPT = re.compile(r"^\s*(?:if|while|until|for|case)\b", re.MULTILINE)


def _logical_lines(block: str) -> Iterator[str]:
    pending: list[str] = []
    for line in block.splitlines():
        pending.append(line)
        if not line.endswith("\\"):
            yield "\n".join(pending)
            pending = []
    if pending:
        yield "\n".join(pending)


def examples(text: str) -> list[str]:
    """The examples of one page, in order (see the module's docstring)."""
    found = []
    for match in _BLOCK.finditer(text):
        block = textwrap.dedent(match.group(2)).strip()
        if not _RUNS_OAI.search(block):
            continue
        if _SCRIPT.search(block):
            found.append(block)
            continue
        found += [
            line.strip()
            for line in _logical_lines(block)
            if not line.lstrip().startswith("#") and _RUNS_OAI.search(line)
        ]
    return found


def page_examples() -> dict[tuple[str, str], int]:
    """(page, example) -> how many times the page has it."""
    out: dict[tuple[str, str], int] = {}
    for page in PAGES:
        name = str(page.relative_to(ROOT))
        for example in examples(page.read_text()):
            out[name, example] = out.get((name, example), 0) + 1
    return out


# -- what is not run -------------------------------------------------------------------

_PROMPT = "prompts for the key on a terminal (getpass); the test has no terminal"
_INSTALL = "installs the package (network, minutes); .ci/run does the equivalent"
_AZURE = "needs the Azure CLI signed in to an Azure account"

NOT_RUN: dict[tuple[str, str], str] = {
    (
        "README.md",
        "oai repl -m gpt-4o-mini                          # multi-turn; /model, /new, /exit;"
        " Ctrl-C stops an answer",
    ): "interactive: reads a terminal",
    ("docs/getting-started.md", "oai repl -m gpt-4o"): "interactive: reads a terminal",
    (
        "README.md",
        "oai batches cancel <TAB>                         # IDs from earlier answers,"
        " with status and date",
    ): "a shell's TAB, not a command: tests/cli/test_id_completion.py completes it",
    (
        "README.md",
        "python3 -m venv .venv && .venv/bin/pip install -q . && .venv/bin/oai --help",
    ): _INSTALL,
    (
        "docs/getting-started.md",
        "python3 -m venv .venv && .venv/bin/pip install -q . && .venv/bin/oai --help",
    ): _INSTALL,
    (
        "docs/getting-started.md",
        "oai auth login              # prompts for the key without echoing it",
    ): _PROMPT,
    (
        "docs/configuration.md",
        "oai auth login --profile work            # its key, into the OS keyring",
    ): _PROMPT,
    (
        "docs/configuration.md",
        "oai auth login --admin                   # the admin key, for /organization endpoints",
    ): _PROMPT,
    ("docs/configuration.md", "oai auth login"): _PROMPT,
    (
        "docs/compatible-servers.md",
        "oai auth login --profile azure          # the resource's key, into the OS keyring",
    ): _PROMPT,
    (
        "docs/compatible-servers.md",
        "OPENAI_API_KEY=$(az account get-access-token --resource"
        " https://cognitiveservices.azure.com \\\n"
        "    --query accessToken -o tsv) oai --profile azure models list",
    ): _AZURE,
}


# -- running ---------------------------------------------------------------------------

WEBHOOK_KEY = b"docs-webhook-signing-key-0123456789"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(WEBHOOK_KEY).decode()
EVENT = {
    "id": "evt_123",
    "object": "event",
    "created_at": 1750287018,
    "type": "batch.completed",
    "data": {"id": "batch_abc123"},
}
WEBHOOK_BODY = json.dumps(EVENT, separators=(",", ":"))
PROMPTS = ["What is 2+2?", "Name a colour."]
MESSAGES = [{"role": "user", "content": "Hi"}]


def _batch_line(custom_id: str, prompt: str) -> str:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}
    line = {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}
    return json.dumps(line)


def _webhook_headers() -> dict[str, str]:
    stamp = str(int(time.time()))
    signed = f"msg_1.{stamp}.{WEBHOOK_BODY}".encode()
    signature = base64.b64encode(hmac.new(WEBHOOK_KEY, signed, hashlib.sha256).digest())
    return {
        "webhook-id": "msg_1",
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + signature.decode(),
    }


def make_files(where: Path) -> None:
    """The input files the examples name."""
    batch = "".join(_batch_line(f"q{i}", p) + "\n" for i, p in enumerate(PROMPTS))
    texts = {
        "batch.jsonl": batch,
        "big.jsonl": batch,
        "prompts.txt": "".join(p + "\n" for p in PROMPTS),
        "prompts.jsonl": "".join(
            json.dumps({"id": f"q{i}", "text": p}) + "\n" for i, p in enumerate(PROMPTS)
        ),
        "requests.jsonl": "".join(
            json.dumps({"model": "text-embedding-3-small", "input": p}) + "\n" for p in PROMPTS
        ),
        "lines.txt": "one\ntwo\nthree\n",
        "messages.json": json.dumps(MESSAGES),
        "request.json": json.dumps({"model": "gpt-4o-mini", "messages": MESSAGES}),
        "paper.pdf": "%PDF-1.4\n%%EOF\n",
        "notes.pdf": "%PDF-1.4\n%%EOF\n",
        "body.json": WEBHOOK_BODY,
        "headers.txt": "".join(f"{k}: {v}\n" for k, v in _webhook_headers().items()),
    }
    for name, text in texts.items():
        (where / name).write_text(text)
    for name in ("chart.png", "room.png", "mask.png"):
        (where / name).write_bytes(PNG)
    (where / "memo.m4a").write_bytes(b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00")


def _git_repo(where: Path, env: Mapping[str, str]) -> None:
    """A repository with a change, for ``git diff | oai ask``."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=where, env=env, check=True)
    (where / "tracked.txt").write_text("one\n")
    subprocess.run([*git, "add", "tracked.txt"], cwd=where, env=env, check=True)
    subprocess.run([*git, "commit", "-qm", "one"], cwd=where, env=env, check=True)
    (where / "tracked.txt").write_text("two\n")


@dataclass
class Done:
    command: str
    code: int
    out: str
    err: str


@dataclass
class Ctx:
    """Where an example ran: its directory, environment and what each command did."""

    cwd: Path
    env: dict[str, str]
    done: list[Done] = field(default_factory=list)

    def sh(self, script: str, *, shell: str = "bash", given: str = "") -> Done:
        argv = (
            [shell, "-c", script] if shell == "sh" else [shell, "-c", "set -o pipefail\n" + script]
        )
        before = snapshot()
        proc = subprocess.run(
            argv,
            cwd=self.cwd,
            env=self.env,
            input=given.encode(),
            capture_output=True,
            timeout=60,
        )
        check_run(argv, stdout=proc.stdout, stderr=proc.stderr, given=given, before=before)
        return Done(script, proc.returncode, proc.stdout.decode(), proc.stderr.decode())

    def out(self, command: str) -> str:
        """What the first command starting with ``command`` printed."""
        return next(d.out for d in self.done if d.command.startswith(command))

    def file(self, name: str) -> str:
        return (self.cwd / name).read_text()


Server = Literal["steady", "local", "none"]


@dataclass(frozen=True)
class Example:
    """Commands of one page run in order, in one directory, against one server."""

    page: str
    commands: tuple[str, ...]
    server: Server = "steady"
    check: Callable[[Ctx], None] | None = None
    # Words of the text that cannot work here -> what runs instead ({url}: the server's).
    replace: Mapping[str, str] = field(default_factory=dict)
    # Commands whose text says they exit with another code.
    exits: Mapping[str, int] = field(default_factory=dict)
    # Run first, not part of the docs: what the example assumes already happened.
    setup: tuple[str, ...] = ()
    given: str = ""
    xfail: str | None = None

    @property
    def id(self) -> str:
        first = self.commands[0].split("\n")[0]
        return f"{self.page}: {first[:60]}"


def _jsonl(text: str) -> list[object]:
    return [json.loads(line) for line in text.splitlines()]


# -- checks: what the text beside each example says ------------------------------------


def _readme_answers(ctx: Ctx) -> None:
    for d in ctx.done:
        if d.command.startswith("oai ask") or "--stream" in d.command:
            assert d.out.strip() or "the answer has no text" in d.err, d
    events = _jsonl(ctx.out(README_RAW_EVENTS))
    assert events and all(isinstance(e, dict) and "type" in e for e in events)
    assert (ctx.cwd / "hello.wav").stat().st_size > 0


def _readme_workflows(ctx: Ctx) -> None:
    assert (ctx.cwd / "fox.png").read_bytes() == PNG
    assert (ctx.cwd / "room2.png").read_bytes() == PNG
    assert (ctx.cwd / "waves.mp4").read_bytes().startswith(b"\x00\x00\x00\x18ftyp")
    vectors = _jsonl(ctx.file("vectors.jsonl"))
    assert len(vectors) == 3  # one JSON line per input line
    prepared = _jsonl(ctx.file("batch.jsonl"))
    assert [line["url"] for line in prepared] == ["/v1/responses"] * len(PROMPTS)  # type: ignore[index]
    results = _jsonl(ctx.file("results.jsonl"))
    ids = sorted(r["custom_id"] for r in results)  # type: ignore[index]
    assert ids == sorted(line["custom_id"] for line in prepared)  # type: ignore[index]
    assert not (ctx.cwd / "failed.jsonl").exists() or not ctx.file("failed.jsonl").strip()
    mapped = _jsonl(ctx.file("out.jsonl"))
    assert [m["line"] for m in mapped] == [1, 2]  # type: ignore[index]


def _tokens_counted(ctx: Ctx) -> None:
    assert json.loads(ctx.out("oai tokens count 'hello world'"))["tokens"] == 2


def _map_resumed(ctx: Ctx) -> None:
    results = _jsonl(ctx.file("results.jsonl"))
    assert [r["line"] for r in results] == list(range(1, len(PROMPTS) + 1))  # type: ignore[index]
    # Every line answered the first time: the resume had nothing to send, and says so.
    assert "nothing was left to send" in ctx.done[-1].err


def _json_answer(ctx: Ctx) -> None:
    assert isinstance(json.loads(ctx.done[-1].out), dict)


def _all_projects(ctx: Ctx) -> None:
    projects = _jsonl(ctx.done[-1].out)
    assert [p["id"] for p in projects] == ["proj_1", "proj_2"]  # type: ignore[index]


def _git_diff_is_context(ctx: Ctx) -> None:
    assert ctx.done[-1].out.strip()


def _models_sorted(ctx: Ctx) -> None:
    listed = json.loads(ctx.sh("oai models list").out)
    ids = sorted(m["id"] for m in listed["data"])
    assert ctx.out(SCRIPTING_SORTED).splitlines() == ids


def _stream_text(ctx: Ctx) -> None:
    events = _jsonl(ctx.sh(SCRIPTING_STREAM.split(" | ")[0]).out)
    text = "".join(
        (e["choices"][0]["delta"].get("content") or "")  # type: ignore[index]
        for e in events
        if e["choices"]  # type: ignore[index]
    )
    assert ctx.out(SCRIPTING_STREAM) == text


def _vector(ctx: Ctx) -> None:
    vector = json.loads(ctx.file("vector.json"))
    assert isinstance(vector, list) and all(isinstance(x, float) for x in vector)


def _batch_ids(ctx: Ctx) -> None:
    filtered = ctx.out(SCRIPTING_BATCH_IDS).split()
    every = _jsonl(ctx.sh("oai files list --all -o jsonl").out)
    assert filtered == [f["id"] for f in every if f["purpose"] == "batch"]  # type: ignore[index]


def _count_lines(ctx: Ctx) -> None:
    assert int(ctx.out("oai files list --all -o jsonl | wc -l")) >= 1


def _scripting(ctx: Ctx) -> None:
    for check in (_models_sorted, _batch_ids, _vector, _count_lines):
        check(ctx)


def _no_such_model(ctx: Ctx) -> None:
    assert ctx.done[-1].err.endswith("no such model: gpt-4o-mini\n")


def _model_printed(ctx: Ctx) -> None:
    assert json.loads(ctx.done[-1].out)["object"] == "model"


def _values_sent(ctx: Ctx) -> None:
    # The dry run's curl line names the file it would send.
    assert "batch.jsonl" in ctx.done[-1].out


def _help_found(ctx: Ctx) -> None:
    outs = "".join(d.out for d in ctx.done)
    assert "oai vector-stores files create" in outs
    assert "audio transcriptions create" in outs


def _model_available(ctx: Ctx) -> None:
    assert ctx.done[-1].out == "model available\n"


def _batch_workflow(ctx: Ctx) -> None:
    rows = ctx.done[-1].out.splitlines()
    assert sorted(row.split("\t")[0] for row in rows) == ["q0", "q1"]


def _unwrap(ctx: Ctx) -> None:
    assert json.loads(ctx.out(WEBHOOK_UNWRAP)) == EVENT
    assert ctx.out(WEBHOOK_TYPE) == "batch.completed\n"


def _cgi(ctx: Ctx) -> None:
    assert ctx.done[-1].out.startswith("Status: 200\n")
    assert ctx.file("events.log") == "batch.completed\n"
    forged = {**ctx.env, "HTTP_WEBHOOK_SIGNATURE": "v1,Zm9yZ2Vk"}
    again = subprocess.run(
        ["sh", "-c", ctx.done[-1].command.replace(LOG_PATH, str(ctx.cwd / "events.log"))],
        cwd=ctx.cwd,
        env=forged,
        input=WEBHOOK_BODY.encode(),
        capture_output=True,
        check=False,
    )
    assert again.stdout.decode().startswith("Status: 400\n")


def _explored_listing(ctx: Ctx) -> None:
    # Piped, -o explore prints what -o json prints.
    assert ctx.done[-1].out == ctx.sh("oai batches list --all -o json").out
    assert json.loads(ctx.done[-1].out)["object"] == "list"


def _explored_logs(ctx: Ctx) -> None:
    explored = next(d for d in ctx.done if d.command.startswith("oai logs list"))
    assert explored.code == 0, explored
    # One line of JSONL is one JSON document: the one conversation, as itself.
    conversation = json.loads(explored.out)
    assert conversation["object"] == "oai.conversation"
    assert "haiku" in json.dumps(conversation)
    home = Path(ctx.env["HOME"])
    assert (home / ".config/powershell/oai.ps1").is_file()


def _completion_installed(ctx: Ctx) -> None:
    home = Path(ctx.env["HOME"])
    assert (home / ".local/share/bash-completion/completions/oai").is_file()


def _completion_sourced(ctx: Ctx) -> None:
    assert ctx.sh(COMPLETION_SOURCE + "\ncomplete -p oai").code == 0


def _profiles(ctx: Ctx) -> None:
    # Piped, the list is JSON; the '*' is the table's, as on a terminal.
    assert json.loads(ctx.out("oai profile list")) == [{"name": "work", "current": True}]
    table = ctx.sh("oai profile list -o table").out
    assert re.search(r"^\*\s+work$", table, re.MULTILINE), table
    assert ctx.done[-1].out.strip()


def _dry_run(ctx: Ctx) -> None:
    assert "purpose=batch" in ctx.done[-1].out


def _logs(ctx: Ctx) -> None:
    assert ctx.done[0].out.strip()
    assert "haiku" in ctx.done[2].out
    assert ctx.done[4].out.strip().endswith("logs.db")


# Examples that checks name.
README_RAW_EVENTS = 'oai responses create --model gpt-4o-mini --input "Hi" --stream -o jsonl'
SCRIPTING_SORTED = "oai models list | jq -r '.data[].id' | sort"
SCRIPTING_BATCH_IDS = "oai files list --all -o jsonl | jq -r 'select(.purpose == \"batch\") | .id'"
SCRIPTING_STREAM = (
    "oai chat completions create --model gpt-4o-mini --messages @messages.json --stream -o jsonl"
    " | jq -rj '.choices[0].delta.content // empty'"
)
WEBHOOK_UNWRAP = "oai webhooks unwrap body.json --headers headers.txt"
WEBHOOK_TYPE = "oai webhooks unwrap --headers headers.txt --query type -o raw < body.json"
COMPLETION_SOURCE = "source <(oai completion show bash)"
LOG_PATH = "/var/log/openai-events.log"


def _page(page: str, *starts: str) -> tuple[str, ...]:
    """The examples of ``page`` that start with one of ``starts``, in page order."""
    found = [e for e in examples((ROOT / page).read_text()) if any(e.startswith(s) for s in starts)]
    assert found, (page, starts)
    return tuple(found)


EXAMPLES: list[Example] = []  # filled below, page by page

EXAMPLES += [
    Example(
        "docs/getting-started.md",
        _page("docs/getting-started.md", "oai help"),
        server="none",
        check=_help_found,
    ),
    Example("README.md", _page("README.md", "oai help"), server="none"),
    Example("README.md", _page("README.md", "oai tokens count", "oai prices"), server="none"),
    Example(
        "docs/cost.md",
        _page("docs/cost.md", "oai tokens count", "oai logs usage"),
        server="none",
        check=_tokens_counted,
    ),
    Example(
        "README.md",
        _page(
            "README.md",
            "oai models list",
            "oai chat completions create --model",
            "oai files create --file batch.jsonl",
        ),
    ),
    Example(
        "README.md",
        _page("README.md", "oai api get"),
        server="local",
        check=_all_projects,
    ),
    Example(
        "README.md",
        _page(
            "README.md",
            'oai ask "Say',
            "oai ask -a",
            "oai ask --schema",
            "oai responses create",
            "oai audio",
            "oai files create --file big.jsonl",
            "oai fine-tuning jobs create",
        ),
        check=_readme_answers,
    ),
    Example("README.md", _page("README.md", "git diff | oai ask"), check=_git_diff_is_context),
    Example(
        "README.md",
        _page("README.md", "oai batches list --all -o explore"),
        server="local",
        check=_explored_listing,
    ),
    Example(
        "README.md",
        _page("README.md", "oai logs list -o jsonl | oai explore", "oai completion install"),
        setup=('oai ask "Write a haiku about pipes"',),
        check=_explored_logs,
    ),
    Example(
        "README.md",
        _page(
            "README.md",
            "oai images",
            "oai videos create",
            "cat lines.txt | oai embeddings",
            "oai batches prepare",
            "oai batches validate",
            "oai batches run",
            "oai map",
        ),
        server="local",
        check=_readme_workflows,
    ),
    Example(
        "docs/getting-started.md",
        _page(
            "docs/getting-started.md",
            "oai --version",
            "oai auth status",
            "oai models",
            "oai chat completions create",
            "oai responses create",
            "oai files create",
            "oai api",
            "oai batches retrieve",
        ),
    ),
    Example(
        "docs/getting-started.md",
        _page("docs/getting-started.md", 'oai ask "Say', "oai ask -c", "git diff | oai ask"),
    ),
    Example(
        "docs/getting-started.md",
        _page("docs/getting-started.md", "oai logs", "oai ask --cid"),
        setup=('oai ask "Write a haiku about pipes"',),
        replace={" ID ": " {conversation} "},
        exits={"oai logs delete": 2},  # it asks first, and stdin is not a terminal
        check=_logs,
    ),
    Example(
        "docs/getting-started.md",
        _page("docs/getting-started.md", "oai files list --purpose batch --dry-run"),
        server="none",
        check=_dry_run,
    ),
    Example(
        "docs/getting-started.md",
        _page("docs/getting-started.md", "oai completion install"),
        server="none",
        check=_completion_installed,
    ),
    Example(
        "docs/getting-started.md",
        (COMPLETION_SOURCE,),
        server="none",
        check=_completion_sourced,
    ),
    Example(
        "docs/configuration.md",
        _page("docs/configuration.md", "oai profile", "oai --profile personal"),
        check=_profiles,
    ),
    Example(
        "docs/configuration.md",
        _page("docs/configuration.md", "printf", "oai auth logout"),
        server="none",
    ),
    Example(
        "docs/configuration.md",
        _page("docs/configuration.md", "curl"),
        replace={"https://api.openai.com/v1": "{url}"},
        check=_json_answer,
    ),
    Example(
        "docs/scripting.md",
        _page(
            "docs/scripting.md",
            "model_ids=",
            "file_id=",
            "oai chat completions create --model gpt-4o-mini --messages @messages.json --query",
            "oai models list | jq",
            "oai files list",
            "oai embeddings",
            "jq -n",
            "oai api post /vector_stores",
            "oai fine-tuning",
            "oai --max-retries",
        ),
        check=_scripting,
    ),
    Example(
        "docs/scripting.md",
        _page(
            "docs/scripting.md",
            "oai chat completions create --model gpt-4o-mini --messages @messages.json --stream",
        ),
        check=_stream_text,
    ),
    Example(
        "docs/scripting.md",
        _page("docs/scripting.md", "oai chat completions create --model gpt-4o-mini -F"),
    ),
    Example(
        "docs/scripting.md",
        _page(
            "docs/scripting.md",
            "oai admin organization usage costs --start-time 2026-11-01",
            "oai admin organization audit-logs list --effective-at",
            "oai videos extend --video video_123",
            "oai files create --purpose batch --file batch.jsonl --dry-run",
        ),
        check=_values_sent,
    ),
    Example(
        "docs/scripting.md",
        _page("docs/scripting.md", "oai map requests.jsonl"),
        server="local",
        check=_map_resumed,
    ),
    Example(
        "docs/scripting.md", _page("docs/scripting.md", "if oai models"), check=_model_available
    ),
    Example(
        "docs/scripting.md",
        _page("docs/scripting.md", "if oai models"),
        server="local",
        check=_no_such_model,
    ),
    Example(
        "docs/scripting.md",
        _page("docs/scripting.md", "set -euo pipefail"),
        server="local",
        replace={"sleep 60": "sleep 0"},
        check=_batch_workflow,
    ),
    Example(
        "docs/exit-codes.md", _page("docs/exit-codes.md", "set -o pipefail"), check=_model_printed
    ),
    Example(
        "docs/exit-codes.md",
        _page("docs/exit-codes.md", "set -o pipefail"),
        server="local",
        check=_no_such_model,
    ),
    Example(
        "docs/webhooks.md",
        _page("docs/webhooks.md", "oai webhooks"),
        server="none",
        check=_unwrap,
    ),
    Example(
        "docs/webhooks.md",
        _page("docs/webhooks.md", "#!/bin/sh"),
        server="none",
        replace={LOG_PATH: "events.log"},
        given=WEBHOOK_BODY,
        check=_cgi,
    ),
    Example(
        "docs/compatible-servers.md",
        _page(
            "docs/compatible-servers.md", "oai profile set --profile local", "oai --profile local"
        ),
        replace={"http://127.0.0.1:11434/v1": "{url}"},
    ),
    Example(
        "docs/compatible-servers.md",
        _page(
            "docs/compatible-servers.md", "oai profile set --profile azure ", "oai --profile azure "
        ),
        replace={"https://RESOURCE.openai.azure.com/openai/v1": "{url}"},
    ),
    Example(
        "docs/compatible-servers.md",
        _page(
            "docs/compatible-servers.md",
            "oai profile set --profile azure-legacy",
            "oai --profile azure-legacy",
        ),
        server="local",
        replace={"https://RESOURCE.openai.azure.com": "{url}"},
    ),
    Example(
        "docs/compatible-servers.md",
        _page("docs/compatible-servers.md", "oai profile set --profile gw", "oai profile unset"),
        server="none",
    ),
]


# -- the tests -------------------------------------------------------------------------


def test_every_example_is_run_or_listed() -> None:
    found = page_examples()
    run = {(e.page, c) for e in EXAMPLES for c in e.commands}
    missing = [
        f"{page}: {text}" for (page, text) in found if (page, text) not in run | NOT_RUN.keys()
    ]
    assert not missing, "examples neither run nor listed in NOT_RUN:\n" + "\n".join(missing)
    stale = [f"{page}: {text}" for (page, text) in NOT_RUN if (page, text) not in found]
    assert not stale, "NOT_RUN lists examples the docs no longer have:\n" + "\n".join(stale)
    assert len(found) > 80


def test_extraction() -> None:
    text = textwrap.dedent(
        """\
        ```sh
        # a comment with oai in it
        oai models list   # ok
        echo hi
        oai chat completions create \\
            --model m
        ```

        - item

          ```sh
          x=$(oai auth token)
          ```

        ```sh
        if oai models retrieve m; then
          echo yes
        fi
        ```
        ```toml
        oai = 1
        ```
        """
    )
    assert examples(text) == [
        "oai models list   # ok",
        "oai chat completions create \\\n    --model m",
        "x=$(oai auth token)",
        "if oai models retrieve m; then\n  echo yes\nfi",
    ]


@pytest.fixture
def where(tmp_path: Path) -> Path:
    cwd = tmp_path / "work"
    cwd.mkdir()
    make_files(cwd)
    return cwd


@pytest.fixture
def shim(tmp_path: Path) -> Path:
    """``oai`` on PATH, this checkout's, whatever is installed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    oai = bin_dir / "oai"
    oai.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m openai_cli "$@"\n')
    oai.chmod(0o755)
    return bin_dir


def _needs(tool: str) -> None:
    if shutil.which(tool) is None:
        unavailable(f"{tool} is not installed (.ci/run installs it)")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.id)
def test_example(
    example: Example,
    where: Path,
    shim: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    text = "\n".join((*example.setup, *example.commands))
    for tool in ("jq", "curl", "git"):
        if re.search(rf"(^|[|(\s]){tool}\s", text):
            _needs(tool)
    if example.xfail:
        request.applymarker(pytest.mark.xfail(strict=True, reason=example.xfail))
    home = tmp_path / "home"
    (home / "certs").mkdir(parents=True)
    for name in ("company-ca.pem", "me.crt", "me.key"):
        (home / "certs" / name).write_text("")
    env = {
        **os.environ,
        "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        "HOME": str(home),
        "SHELL": "/bin/bash",
        "OPENAI_API_KEY": CANARY_KEY,
        "OPENAI_ADMIN_KEY": CANARY_ADMIN_KEY,
        "OAI_POLL_INTERVAL": "0.01",
        "MODEL": "gpt-4o-mini",
        "QUESTION": PROMPTS[0],
        "KEY": CANARY_KEY,
        "OPENAI_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "HTTP_WEBHOOK_ID": "",
        "NO_COLOR": "1",
    }
    headers = {
        line.split(": ")[0]: line.split(": ")[1]
        for line in (where / "headers.txt").read_text().splitlines()
    }
    env |= {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    if "git diff" in text:
        _git_repo(where, env)
    with _server(example.server, request) as url:
        env["OPENAI_BASE_URL"] = url
        ctx = Ctx(where, env)
        for command in example.setup:
            done = ctx.sh(command)
            assert done.code == 0, done
        values = {"url": url, "conversation": _last_conversation(ctx)}
        for command in example.commands:
            script = command
            for old, new in example.replace.items():
                script = script.replace(old, new.format(**values))
            shell = "sh" if script.startswith("#!/bin/sh") else "bash"
            done = ctx.sh(script, shell=shell, given=example.given)
            done.command = command
            ctx.done.append(done)
            want = next((c for p, c in example.exits.items() if command.startswith(p)), 0)
            assert done.code == want, done
        if example.check is not None:
            example.check(ctx)


def _last_conversation(ctx: Ctx) -> str:
    if not (Path(ctx.env["OAI_DATA_DIR"]) / "logs.db").exists():
        return "ID"
    return ctx.sh("oai logs --query 'data[0].id' -o raw").out.strip()


@contextlib.contextmanager
def _server(kind: Server, request: pytest.FixtureRequest) -> Iterator[str]:
    if kind == "steady":
        steady: Steady = request.getfixturevalue("steady")
        yield steady.base_url
    elif kind == "local":
        server = start_docs_server()
        try:
            yield server.base_url
        finally:
            server.shutdown()
            server.server_close()
    else:
        # Nothing may be sent: the discard port refuses at once.
        yield "http://127.0.0.1:9/v1"
