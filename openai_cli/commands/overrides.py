"""Hand-written commands that replace generated ones of the same name.

An override receives the operation's :class:`CommandSpec`, so it keeps every flag the
API has and adds its own on top.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openai_cli.api.builder import CommandSpec


@dataclass(frozen=True)
class Kind:
    what: str
    done: frozenset[str]
    failed: frozenset[str]


# What `--wait` waits for (commands/waiters.py), keyed by the command's group; each
# group's create and retrieve wait alike, and are overridden for it below.
KINDS: dict[tuple[str, ...], Kind] = {
    ("batches",): Kind(
        "batch", frozenset({"completed"}), frozenset({"failed", "cancelled", "expired"})
    ),
    ("fine-tuning", "jobs"): Kind(
        "fine-tuning job", frozenset({"succeeded"}), frozenset({"failed", "cancelled"})
    ),
    ("vector-stores", "files"): Kind(
        "vector store file", frozenset({"completed"}), frozenset({"failed", "cancelled"})
    ),
    ("vector-stores", "file-batches"): Kind(
        "file batch", frozenset({"completed"}), frozenset({"failed", "cancelled"})
    ),
    # A background response (`--background --wait`); "incomplete" ended short of done.
    ("responses",): Kind(
        "response", frozenset({"completed"}), frozenset({"failed", "cancelled", "incomplete"})
    ),
    # Eval runs spell it "canceled"; accept both.
    ("evals", "runs"): Kind(
        "eval run", frozenset({"completed"}), frozenset({"failed", "canceled", "cancelled"})
    ),
}


# command path -> "module:function"; the function takes a CommandSpec and returns a command.
OVERRIDES: dict[tuple[str, ...], str] = {
    # Any size, checked first, chunked and resumable (commands/files.py).
    ("files", "create"): "openai_cli.commands.files:create",
    # Streamed text printed live (commands/streaming.py).
    ("responses", "create"): "openai_cli.commands.streaming:model_text_stream",
    ("beta", "responses", "create"): "openai_cli.commands.streaming:model_text_stream",
    ("chat", "completions", "create"): "openai_cli.commands.streaming:model_text_stream",
    ("completions", "create"): "openai_cli.commands.streaming:text_stream",
    ("beta", "threads", "create-and-run"): "openai_cli.commands.streaming:text_stream",
    ("beta", "threads", "runs", "create"): "openai_cli.commands.streaming:text_stream",
    ("beta", "threads", "runs", "submit-tool-outputs"): "openai_cli.commands.streaming:text_stream",
    # Audio, images, videos: files as arguments, results saved (commands/audio.py, ...).
    ("audio", "transcriptions", "create"): "openai_cli.commands.audio:transcriptions",
    ("audio", "translations", "create"): "openai_cli.commands.audio:translations",
    ("audio", "speech", "create"): "openai_cli.commands.audio:speech",
    ("images", "generate"): "openai_cli.commands.images:generate",
    ("images", "edit"): "openai_cli.commands.images:edit",
    ("images", "create-variation"): "openai_cli.commands.images:create_variation",
    ("videos", "create"): "openai_cli.commands.videos:job",
    ("videos", "remix"): "openai_cli.commands.videos:job",
    ("videos", "edit"): "openai_cli.commands.videos:job",
    ("videos", "extend"): "openai_cli.commands.videos:job",
    ("videos", "retrieve"): "openai_cli.commands.videos:job",
    ("videos", "download-content"): "openai_cli.commands.videos:download",
    # Many inputs in, one JSON line per input out (commands/embeddings.py).
    ("embeddings", "create"): "openai_cli.commands.embeddings:embeddings",
    ("moderations", "create"): "openai_cli.commands.embeddings:moderations",
}
# --wait on asynchronous work and on its retrieve: the create and retrieve of every
# group in KINDS, unless another override
# above takes the command and handles --wait itself (`responses create --background`).
OVERRIDES.update(
    {
        (*group, verb): "openai_cli.commands.waiters:build"
        for group in KINDS
        for verb in ("create", "retrieve")
        if (*group, verb) not in OVERRIDES
    }
)


# Hand-written commands added to a generated group, next to its operations:
# command path -> ("module:function", one line of help). The function takes no
# arguments and returns the command; it is imported only when the command runs.
EXTRA_COMMANDS: dict[tuple[str, ...], tuple[str, str]] = {
    ("batches", "run"): (
        "openai_cli.commands.batches:run_command",
        "Run a JSONL file through the Batch API and collect the results in input order.",
    ),
    ("batches", "validate"): (
        "openai_cli.commands.batches:validate_command",
        "Check a JSONL file of batch requests against the API's schemas; nothing is sent.",
    ),
    ("fine-tuning", "validate"): (
        "openai_cli.commands.fine_tuning:command_",
        "Check fine-tuning data (schema, answers, duplicates, size); nothing is uploaded.",
    ),
    ("batches", "prepare"): (
        "openai_cli.commands.batches:prepare_command",
        "Turn plain prompts, one per line, into batch request lines.",
    ),
    ("vector-stores", "files", "upload"): (
        "openai_cli.commands.files:vector_store_upload_command",
        "Upload a file and add it to this vector store, in one step (--wait).",
    ),
    ("realtime", "connect"): (
        "openai_cli.commands.realtime:command",
        "Text session over the Realtime WebSocket (stdin in, text out).",
    ),
}


def extra_commands(group: tuple[str, ...]) -> dict[str, tuple[Callable[[], Any], str]]:
    """The hand-written commands of ``group``: name -> (loader, short help)."""
    out: dict[str, tuple[Callable[[], Any], str]] = {}
    for path, (target, help_text) in EXTRA_COMMANDS.items():
        if path[:-1] == group:
            out[path[-1]] = (_loader(target), help_text)
    return out


def _loader(target: str) -> Callable[[], Any]:
    def load() -> Any:
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)()

    return load


def override_for(command: tuple[str, ...]) -> Callable[[CommandSpec], Any] | None:
    target = OVERRIDES.get(command)
    if target is None:
        return None
    module, _, attr = target.partition(":")
    fn: Callable[[CommandSpec], Any] = getattr(importlib.import_module(module), attr)
    return fn
