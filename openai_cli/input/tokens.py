"""Counting tokens offline, with the encoding a model uses.

The tables of the encodings ship inside ``bpe-openai`` (no download on first use, so
CI without internet counts as a laptop does); it is imported only when something is
counted. Which encoding a model uses is a table here: an unknown model is said to
be unknown, never given a guessed encoding.

A request body is counted the way the API bills its input: for chat, the text of
each message plus 3 tokens per message (and 1 per ``name``) and 3 for the reply's
primer, as OpenAI documents. Tools, images and audio are billed by rules that are
not published in full, so a body holding them is an estimate (``Count.exact``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from openai_cli.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")

ENCODINGS = ("o200k_base", "cl100k_base")

# A model's name (or the name before a dated suffix) starts with one of these; the
# longest that matches decides, so gpt-4o is not read as gpt-4.
MODEL_ENCODINGS: dict[str, str] = {
    "gpt-5": "o200k_base",
    "gpt-4.5": "o200k_base",
    "gpt-4.1": "o200k_base",
    "gpt-4o": "o200k_base",
    "chatgpt-4o": "o200k_base",
    "o1": "o200k_base",
    "o3": "o200k_base",
    "o4": "o200k_base",
    "gpt-4": "cl100k_base",
    "gpt-3.5-turbo": "cl100k_base",
    "text-embedding-3-small": "cl100k_base",
    "text-embedding-3-large": "cl100k_base",
    "text-embedding-ada-002": "cl100k_base",
}

# Per OpenAI's guide to counting chat tokens (models from gpt-3.5-turbo-0613 on).
PER_MESSAGE = 3
PER_NAME = 1
REPLY_PRIMER = 3

# Fields of a body whose value sets the most output tokens a request may bill.
MAX_OUTPUT_FIELDS = ("max_output_tokens", "max_completion_tokens", "max_tokens")


# The most tokens one fine-tuning example may hold, by the model trained (the longest
# name that starts the model's decides, as for the encodings).
FINE_TUNE_LIMITS: dict[str, int] = {
    "gpt-4o": 65_536,
    "gpt-4.1": 65_536,
    "gpt-3.5-turbo": 16_385,
}


def fine_tune_limit(model: str) -> int | None:
    return _longest(FINE_TUNE_LIMITS, base_model(model))


def count_example(example: Any, encoding: str) -> int:
    """Tokens of one fine-tuning example: its messages (DPO: the input's and the
    preferred answer), counted as a chat request."""
    if not isinstance(example, dict):
        return 0
    messages = example.get("messages")
    if not isinstance(messages, list):
        inp = example.get("input")
        given = inp.get("messages") if isinstance(inp, dict) else None
        preferred = example.get("preferred_output")
        messages = [*(given if isinstance(given, list) else [])]
        messages += preferred if isinstance(preferred, list) else []
    return count_body({"messages": messages}, encoding).tokens


def base_model(model: str) -> str:
    """The model a fine-tuned one (``ft:gpt-4o-mini-2024-07-18:org::id``) was made from."""
    if model.startswith("ft:"):
        return model[3:].split(":", 1)[0]
    return model


def encoding_for(model: str | None, encoding: str | None = None) -> str:
    """The encoding to count with: ``encoding`` when given, else the model's.

    Raises a usage error naming the flag when neither decides.
    """
    if encoding is not None:
        if encoding not in ENCODINGS:
            raise UsageError(f"--encoding: one of {', '.join(ENCODINGS)}, got {encoding!r}")
        return encoding
    if model is None:
        raise UsageError("--model: give the model (or --encoding) to count its tokens")
    found = known_encoding(model)
    if found is None:
        raise UsageError(
            f"--model: the encoding of {model!r} is not known; "
            f"pick one with --encoding ({', '.join(ENCODINGS)})"
        )
    return found


def known_encoding(model: str) -> str | None:
    return _longest(MODEL_ENCODINGS, base_model(model))


def _longest(table: Mapping[str, T], name: str) -> T | None:
    """The entry of the longest key that starts ``name``, or None."""
    best = max((p for p in table if name.startswith(p)), key=len, default=None)
    return None if best is None else table[best]


@functools.cache
def _encoder(encoding: str) -> Callable[[str], int]:
    import bpe_openai

    enc = bpe_openai.get_encoding(encoding)
    return lambda text: len(enc.encode(text))


def count_text(text: str, encoding: str) -> int:
    """Exact tokens of ``text`` (special tokens counted as ordinary text)."""
    return _encoder(encoding)(text) if text else 0


@dataclass
class Count:
    tokens: int = 0
    exact: bool = True
    # What made it an estimate, once each: "tools", "images", ...
    estimated: list[str] = field(default_factory=list)

    def guess(self, what: str) -> None:
        self.exact = False
        if what not in self.estimated:
            self.estimated.append(what)


def count_body(body: dict[str, Any], encoding: str) -> Count:
    """The input tokens a request body is billed for (chat, responses, embeddings,
    completions, moderations): exact for text, an estimate past it."""
    count = Count()

    def text(value: Any) -> int:
        return count_text(value, encoding) if isinstance(value, str) else 0

    def content(value: Any) -> int:
        if isinstance(value, str):
            return text(value)
        if isinstance(value, list):
            n = 0
            for part in value:
                if isinstance(part, dict):
                    kind = str(part.get("type", ""))
                    if "text" in part:
                        n += text(part["text"])
                    elif "image" in kind or "file" in kind:
                        count.guess("images and files")
                    elif "audio" in kind:
                        count.guess("audio")
                    else:
                        n += text(json.dumps(part, ensure_ascii=False))
                        count.guess("content parts")
                else:
                    n += text(part)
            return n
        if value is not None:
            count.guess("content parts")
            return text(json.dumps(value, ensure_ascii=False))
        return 0

    def messages(items: list[Any]) -> int:
        n = 0
        for item in items:
            if not isinstance(item, dict):
                n += content(item)
                continue
            n += PER_MESSAGE
            for key, value in item.items():
                if key == "content":
                    n += content(value)
                elif key == "name":
                    n += text(value) + PER_NAME
                elif key in ("role", "type"):
                    n += text(value) if key == "role" else 0
                elif key in ("tool_calls", "function_call", "output", "arguments"):
                    n += text(value if isinstance(value, str) else json.dumps(value))
                    count.guess("tool calls")
        return n + REPLY_PRIMER

    if isinstance(body.get("messages"), list):
        count.tokens += messages(body["messages"])
    if "input" in body:
        value = body["input"]
        if isinstance(value, list) and _is_token_list(value):
            count.tokens += len(value)
        elif (
            isinstance(value, list)
            and value
            and all(isinstance(v, list) and _is_token_list(v) for v in value)
        ):
            count.tokens += sum(len(v) for v in value)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            count.tokens += sum(text(v) for v in value)
        elif isinstance(value, list):
            count.tokens += messages(value)
        else:
            count.tokens += content(value)
    if "instructions" in body:
        count.tokens += text(body["instructions"])
    if "prompt" in body:
        value = body["prompt"]
        if isinstance(value, list):
            count.tokens += sum(text(v) if isinstance(v, str) else 1 for v in value)
        else:
            count.tokens += content(value)
    for key in ("tools", "functions", "response_format", "text"):
        if body.get(key):
            count.tokens += text(json.dumps(body[key], ensure_ascii=False))
            count.guess("tools and formats")
    return count


def _is_token_list(value: list[Any]) -> bool:
    return bool(value) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)


def max_output(body: dict[str, Any]) -> int | None:
    """The most output tokens a body lets its request bill, or None when it sets none."""
    for key in MAX_OUTPUT_FIELDS:
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None
