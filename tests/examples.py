"""The help examples of every command, and what running them as printed needs.

Every example is collected from the command tree itself (generated commands from the
catalogue, hand-written ones from their ``example=``), so a new command's example is
checked without being listed here.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from functools import cache

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

# The files the examples may read, created in the otherwise empty folder they run in.
# Each is a kind of input a person has at hand; an example needing any other file
# makes it itself (a pipe from printf) or reads stdin.
EXAMPLE_FILES: dict[str, tuple[bytes, str]] = {
    "batch.jsonl": (
        b'{"custom_id": "q1", "method": "POST", "url": "/v1/responses", '
        b'"body": {"model": "gpt-4o-mini", "input": "Name a prime number."}}\n',
        "batch request lines, for files create, uploads and batches run",
    ),
    "speech.mp3": (b"ID3" + b"\x00" * 32, "a recording, for transcriptions and voices"),
    "photo.png": (PNG, "an image, for edits, variations and ask -a"),
    "clip.mp4": (b"\x00\x00\x00\x18ftypmp42", "a video, for edits and characters"),
    "data.csv": (b"region,sales\nnorth,120\nsouth,95\n", "data for a container"),
    "handbook.pdf": (b"%PDF-1.4\n", "a document for a vector store"),
    "SKILL.md": (b"# Tidy\n\nFormat tables neatly.\n", "the instructions of a skill"),
}

# Examples not run against the mock server, each with the reason.
NOT_RUN: dict[str, str] = {
    "realtime connect": "a WebSocket session; the mock server speaks HTTP only",
    "batches run": "--wait polls until the batch ends, and the mock's batch never does",
    "images generate": "the mock's answer holds no image data to save (oai exits 7)",
    "images edit": "the mock's answer holds no image data to save (oai exits 7)",
    "images create-variation": "the mock's answer holds no image data to save (oai exits 7)",
}


@dataclass(frozen=True)
class Example:
    command: str  # the command path, e.g. "files create"
    line: str  # the example as one line

    def stages(self) -> list[list[str]]:
        """The words of each command of the pipeline, as a shell would pass them."""
        lex = shlex.shlex(self.line, posix=True, punctuation_chars="|")
        lex.whitespace_split = True
        stages: list[list[str]] = [[]]
        for token in lex:
            if token == "|":
                stages.append([])
            else:
                stages[-1].append(token)
        return stages


def by_command() -> dict[str, list[Example]]:
    """The examples of each command, in the order its help shows them."""
    out: dict[str, list[Example]] = {}
    for example in examples():
        out.setdefault(example.command, []).append(example)
    return out


@cache
def examples() -> tuple[Example, ...]:
    """Every example of every command in ``oai``'s tree."""
    from tools.gen_docs import build_root, top_level, walk

    return tuple(
        Example(" ".join(node.path), line)
        for top in top_level(build_root())
        for node in walk(top)
        for line in getattr(node.command, "examples", ())
    )
