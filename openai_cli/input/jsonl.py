"""JSONL request files checked line by line, before anything is uploaded or spent.

A file is read as a stream of lines, so a 200 MB batch file costs one line of
memory plus one ``custom_id`` per request. Every problem is kept as
``FILE:LINE: reason`` (the form editors and ``grep -n`` use); the first
:data:`MAX_REPORTED` are shown, then a count of the rest, all in one usage error
(exit 2) whose first line sums up.

Three kinds of file:

- batch input (``purpose=batch``, ``oai batches run``): lines of
  ``{"custom_id", "method": "POST", "url", "body"}``, one endpoint per file,
  unique ids, within the Batch API's limits unless the caller splits;
- fine-tuning data: chat (``messages``), preference (``input`` with
  ``preferred_output``/``non_preferred_output``) or prompt/completion lines;
- request bodies for ``oai map``: bare JSON objects, or batch lines.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO as BinaryFile
from typing import TYPE_CHECKING, Any

from openai_cli.errors import UsageError
from openai_cli.input.local import jsonl_input
from openai_cli.input.reader import JSONL_LINE, size_text
from openai_cli.textfmt import count, plural

if TYPE_CHECKING:
    from openai_cli.io import IO

MAX_BATCH_LINES = 50_000
# The Batch API's "200 MB"; binary units so that any file called 200 MB passes.
MAX_BATCH_BYTES = 200 * 1024 * 1024
# An embeddings batch file also counts inputs, across all its requests (one request
# alone takes far fewer: see commands/embeddings.py).
MAX_BATCH_EMBEDDING_INPUTS = 50_000
MAX_REPORTED = 20

# parse_line's answer for a line that is not JSON (None is a valid JSON value).
_BAD: Any = object()
# A check of a request body for the operation at a url, given by the caller (the schemas
# live above this layer): ``(url, body, root) -> ["root.path: reason", ...]``.
BodyCheck = Callable[[str, Any, str], list[str]]
# A check of a fine-tuning line against its method's schema: ``(method, line) -> [...]``.
ExampleCheck = Callable[[str, Any], list[str]]
# Tokens of one example (a plug-in point for an exact counter): ``line -> count``.
TokenCounter = Callable[[Any], int]
# The fewest examples a fine-tuning job takes.
MIN_FINE_TUNE_EXAMPLES = 10
_CHAT_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def _kind(value: Any) -> str:
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


class Problems:
    """The problems found in one file, the first few kept in full."""

    def __init__(self, name: str, cap: int = MAX_REPORTED) -> None:
        self.name = name
        self.cap = cap
        self.shown: list[str] = []
        self.count = 0

    def add(self, line: int | None, reason: str) -> None:
        self.count += 1
        if len(self.shown) < self.cap:
            where = f"{self.name}:{line}" if line is not None else self.name
            self.shown.append(f"{where}: {reason}")

    def __bool__(self) -> bool:
        return self.count > 0

    def error(self, consequence: str) -> UsageError:
        """The error listing the problems; ``{them}`` in ``consequence`` is ``it`` or
        ``them``, as their number asks."""
        n = self.count
        then = consequence.format(them="it" if n == 1 else "them")
        lines = [f"{self.name}: {count(n, 'problem')} found; {then}"]
        lines.extend(self.shown)
        if n > len(self.shown):
            lines.append(f"... and {n - len(self.shown)} more")
        return UsageError("\n".join(lines))


@dataclass
class Line:
    number: int  # 1-based
    start: int  # byte offset of the line
    end: int  # byte offset just past its newline
    data: Any
    custom_id: str | None = None
    url: str | None = None
    weight: int = 1  # embedding inputs, for the Batch API's per-file limit


def raw_lines(stream: BinaryFile[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """``(number, byte offset, raw line)`` for each line, newline included."""
    offset = 0
    for number, raw in enumerate(stream, start=1):
        yield number, offset, raw
        offset += len(raw)


MAX_LINE = JSONL_LINE.limit
_SKIP = 1 << 20


def _bounded_lines(
    stream: BinaryFile[bytes], limit: int
) -> Iterator[tuple[int, int, bytes | None, int]]:
    """``(number, byte offset, raw line or None, length)``: a line longer than ``limit``
    is passed over a chunk at a time, never held whole, and given as None."""
    offset = 0
    number = 0
    while raw := stream.readline(limit + 1):
        number += 1
        length = len(raw)
        if length > limit and not raw.endswith(b"\n"):
            del raw
            while more := stream.readline(_SKIP):
                length += len(more)
                if more.endswith(b"\n"):
                    break
            yield number, offset, None, length
        else:
            yield number, offset, raw, length
        offset += length


def parse_line(number: int, raw: bytes, problems: Problems) -> Any:
    """The line's JSON value, or ``_BAD`` after recording why there is none."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.add(number, f"not valid UTF-8 (byte {exc.start + 1} of the line)")
        return _BAD
    if number == 1 and text.startswith("\ufeff"):
        problems.add(number, "starts with a byte order mark (U+FEFF); save the file without it")
        return _BAD
    if not text.strip():
        problems.add(number, "empty line")
        return _BAD
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problems.add(number, f"invalid JSON: {exc.msg} (column {exc.colno})")
        return _BAD
    except RecursionError:
        # The parser's own limit, reached by a line of thousands of nested brackets.
        problems.add(number, "invalid JSON: nested too deeply")
        return _BAD


def _embedding_inputs(body: dict[str, Any]) -> int:
    value = body.get("input")
    return len(value) if isinstance(value, list) else 1


@dataclass
class BatchCheck:
    """The per-line rules of a Batch API input file."""

    problems: Problems
    endpoint: str | None = None  # from --endpoint; else the first line's url decides
    allowed: tuple[str, ...] = ()
    endpoint_line: int | None = None
    seen: dict[str, int] = field(default_factory=dict)
    bodies: BodyCheck | None = None

    def __call__(self, line: Line) -> None:
        p = self.problems
        n = line.number
        obj = line.data
        if not isinstance(obj, dict):
            p.add(n, f"expected a JSON object, got {_kind(obj)}")
            return
        cid = obj.get("custom_id")
        if "custom_id" not in obj:
            p.add(n, "custom_id is missing")
        elif not isinstance(cid, str) or not cid:
            p.add(n, f"custom_id must be a non-empty string, got {_kind(cid)}")
        elif cid in self.seen:
            p.add(n, f"duplicate custom_id {cid!r} (first on line {self.seen[cid]})")
        else:
            self.seen[cid] = n
            line.custom_id = cid
        method = obj.get("method")
        if "method" not in obj:
            p.add(n, "method is missing (the Batch API takes POST)")
        elif method != "POST":
            p.add(n, f"method must be POST, got {method!r}")
        self._url(line, obj)
        body = obj.get("body")
        if "body" not in obj:
            p.add(n, "body is missing")
        elif not isinstance(body, dict):
            p.add(n, f"body must be a JSON object, got {_kind(body)}")
        else:
            if body.get("stream") is True:
                p.add(n, "body.stream is true; batch requests cannot stream")
            if self.bodies is not None and line.url is not None:
                for reason in self.bodies(line.url, body, "body"):
                    p.add(n, reason)
            if line.url == "/v1/embeddings":
                line.weight = _embedding_inputs(body)
                if line.weight > MAX_BATCH_EMBEDDING_INPUTS:
                    p.add(
                        n,
                        f"{count(line.weight, 'embedding input')}; a batch takes at most "
                        f"{MAX_BATCH_EMBEDDING_INPUTS:,}",
                    )
        if line.end - line.start > MAX_BATCH_BYTES:
            size = count(line.end - line.start, "byte", sep=True)
            p.add(n, f"{size}; a batch file is at most 200 MB")
        extra = sorted(set(obj) - {"custom_id", "method", "url", "body"})
        if extra:
            p.add(n, f"unknown {plural(len(extra), 'field')}: {', '.join(extra)}")

    def _url(self, line: Line, obj: dict[str, Any]) -> None:
        p = self.problems
        n = line.number
        url = obj.get("url")
        if "url" not in obj:
            p.add(n, "url is missing")
            return
        if not isinstance(url, str):
            p.add(n, f"url must be a string, got {_kind(url)}")
            return
        if self.allowed and url not in self.allowed:
            p.add(n, f"url {url!r} is not a batch endpoint (one of: {', '.join(self.allowed)})")
            return
        if self.endpoint is None:
            self.endpoint = url
            self.endpoint_line = n
        elif url != self.endpoint:
            origin = (
                f"line {self.endpoint_line}'s" if self.endpoint_line is not None else "--endpoint"
            )
            p.add(n, f"url {url} differs from {origin} {self.endpoint}; one endpoint per file")
            return
        line.url = url


def _check_fine_tune(problems: Problems) -> Callable[[Line], None]:
    def check(line: Line) -> None:
        n = line.number
        obj = line.data
        if not isinstance(obj, dict):
            problems.add(n, f"expected a JSON object, got {_kind(obj)}")
            return
        if "messages" in obj:
            _check_messages(obj["messages"], n, problems, "messages")
        elif "input" in obj and ("preferred_output" in obj or "non_preferred_output" in obj):
            for key in ("preferred_output", "non_preferred_output"):
                if key not in obj:
                    problems.add(n, f"{key} is missing")
                elif not isinstance(obj[key], list) or not obj[key]:
                    problems.add(n, f"{key} must be a non-empty array of messages")
            inp = obj["input"]
            if not isinstance(inp, dict):
                problems.add(n, f"input must be an object with messages, got {_kind(inp)}")
            else:
                _check_messages(inp.get("messages"), n, problems, "input.messages")
        elif "prompt" in obj and "completion" in obj:
            for key in ("prompt", "completion"):
                if not isinstance(obj[key], str):
                    problems.add(n, f"{key} must be a string, got {_kind(obj[key])}")
        else:
            problems.add(
                n,
                "not a known fine-tuning format: expected messages (chat), input with "
                "preferred_output (preference) or prompt and completion",
            )

    return check


def _check_messages(messages: Any, n: int, problems: Problems, where: str) -> None:
    if not isinstance(messages, list) or not messages:
        problems.add(n, f"{where} must be a non-empty array, got {_kind(messages)}")
        return
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            problems.add(n, f"{where}[{i}] must be an object, got {_kind(m)}")
            continue
        role = m.get("role")
        if role not in _CHAT_ROLES:
            problems.add(
                n, f"{where}[{i}].role {role!r} is not one of {', '.join(sorted(_CHAT_ROLES))}"
            )
        elif "content" not in m and not (
            role == "assistant" and ("tool_calls" in m or "function_call" in m)
        ):
            problems.add(n, f"{where}[{i}] ({role}) has no content")


@dataclass
class Summary:
    lines: int = 0
    bytes: int = 0
    endpoint: str | None = None
    weight: int = 0
    batch_lines: bool = False  # map: the lines were batch requests rather than bodies
    notes: list[str] = field(default_factory=list)  # observations, for stderr


def scan(
    stream: BinaryFile[bytes],
    problems: Problems,
    check: Callable[[Line], None],
    on_line: Callable[[Line], None] | None = None,
) -> Summary:
    """Read every line, parse it and hand it to ``check`` (then ``on_line``)."""
    summary = Summary()
    lines = _bounded_lines(stream, MAX_LINE)
    while True:
        try:
            number, offset, raw, length = next(lines)
        except StopIteration:
            return summary
        except OSError as exc:
            # A file that fails as it is read (an I/O error): the input is at fault,
            # not an output, and nothing has been sent yet.
            raise UsageError(f"cannot read {problems.name}: {exc.strerror or exc}") from None
        summary.lines = number
        summary.bytes = offset + length
        if raw is None:
            problems.add(
                number, f"longer than {size_text(MAX_LINE)}, the most oai reads as one line"
            )
            continue
        data = parse_line(number, raw, problems)
        if data is _BAD:
            continue
        line = Line(number, offset, offset + len(raw), data)
        check(line)
        summary.weight += line.weight
        if on_line is not None:
            on_line(line)


def validate_batch(
    stream: BinaryFile[bytes],
    name: str,
    *,
    endpoint: str | None = None,
    endpoints: Sequence[str] = (),
    enforce_limits: bool = True,
    on_line: Callable[[Line], None] | None = None,
    consequence: str = "nothing was uploaded",
    bodies: BodyCheck | None = None,
) -> Summary:
    """Check a Batch API input file; raise one usage error listing every problem.

    ``endpoints`` are the urls a batch may call (the API's list, which the caller
    knows); empty, any url is taken. ``bodies`` checks each line's body.
    """
    problems = Problems(name)
    allowed = tuple(endpoints)
    if endpoint is not None and allowed and endpoint not in allowed:
        raise UsageError(
            f"--endpoint: {endpoint!r} is not a batch endpoint (one of: {', '.join(allowed)})"
        )
    check = BatchCheck(problems, endpoint=endpoint, allowed=allowed, bodies=bodies)
    summary = scan(stream, problems, check, on_line)
    summary.endpoint = check.endpoint
    summary.batch_lines = True
    if summary.lines == 0:
        problems.add(None, "the file is empty")
    if enforce_limits:
        if summary.lines > MAX_BATCH_LINES:
            problems.add(
                None,
                f"{count(summary.lines, 'request')}; a batch file holds at most "
                f"{MAX_BATCH_LINES:,}",
            )
        if summary.bytes > MAX_BATCH_BYTES:
            size = count(summary.bytes, "byte", sep=True)
            problems.add(None, f"{size}; a batch file is at most 200 MB")
        if check.endpoint == "/v1/embeddings" and summary.weight > MAX_BATCH_EMBEDDING_INPUTS:
            problems.add(
                None,
                f"{count(summary.weight, 'embedding input')}; an embeddings batch takes at most "
                f"{MAX_BATCH_EMBEDDING_INPUTS:,}",
            )
    if problems:
        raise problems.error(consequence)
    return summary


def _method_of(obj: dict[str, Any]) -> str | None:
    """The fine-tuning method a line's shape belongs to (None: the legacy prompt form)."""
    if "preferred_output" in obj or "non_preferred_output" in obj:
        return "dpo"
    messages = obj.get("messages")
    if not isinstance(messages, list):
        return None
    taught = any(isinstance(m, dict) and m.get("role") == "assistant" for m in messages)
    return "supervised" if taught else "reinforcement"


def _message_count(obj: dict[str, Any]) -> int:
    if "preferred_output" in obj:
        inp = obj.get("input")
        messages = inp.get("messages") if isinstance(inp, dict) else None
        return (len(messages) if isinstance(messages, list) else 0) + 1
    messages = obj.get("messages")
    return len(messages) if isinstance(messages, list) else 0


@dataclass
class FineTuneCheck:
    """What ``prepare_data`` used to look for, beyond each line's own shape.

    ``method`` None takes each line's method from its shape; then chat lines without
    an assistant message are an error only beside lines that have one (a file of
    prompts alone is reinforcement data).
    """

    problems: Problems
    method: str | None = None
    examples: ExampleCheck | None = None
    tokens: TokenCounter | None = None
    # The most tokens an example may hold, and the model whose limit it is.
    token_limit: tuple[int, str] | None = None
    seen: dict[bytes, int] = field(default_factory=dict)
    untaught: list[int] = field(default_factory=list)
    taught: int = 0
    count: int = 0
    messages: list[int] = field(default_factory=list)
    counted: list[int] = field(default_factory=list)

    def __call__(self, line: Line) -> None:
        obj = line.data
        if not isinstance(obj, dict):
            return
        n = line.number
        digest = hashlib.blake2b(
            json.dumps(obj, sort_keys=True, ensure_ascii=False).encode(), digest_size=16
        ).digest()
        if digest in self.seen:
            self.problems.add(n, f"the same example as line {self.seen[digest]}")
        else:
            self.seen[digest] = n
        self.count += 1
        shape = _method_of(obj)
        if shape is None:
            return
        self.messages.append(_message_count(obj))
        if self.tokens is not None:
            counted = self.tokens(obj)
            self.counted.append(counted)
            if self.token_limit is not None and counted > self.token_limit[0]:
                limit, model = self.token_limit
                self.problems.add(
                    n,
                    f"{count(counted, 'token', sep=True)}; "
                    f"{model} trains on at most {limit:,} per example",
                )
        if shape == "supervised":
            self.taught += 1
        elif shape == "reinforcement":
            self.untaught.append(n)
        if self.examples is not None:
            for reason in self.examples(self.method or shape, obj):
                self.problems.add(n, reason)

    def finish(self, summary: Summary) -> None:
        p = self.problems
        if self.method == "supervised" or (self.method is None and self.taught):
            for n in self.untaught:
                p.add(n, "no assistant message: the example teaches nothing")
        examples = self.count
        if summary.lines and examples < MIN_FINE_TUNE_EXAMPLES:
            p.add(
                None,
                f"{count(examples, 'example')}; a fine-tuning job takes "
                f"at least {MIN_FINE_TUNE_EXAMPLES}",
            )
        if self.messages:
            summary.notes.append(f"messages per example: {_spread(self.messages)}")
        if self.counted:
            summary.notes.append(f"tokens per example: {_spread(self.counted)}")


def _spread(values: list[int]) -> str:
    return f"min {min(values)}, median {statistics.median(values):g}, max {max(values)}"


def validate_fine_tune(
    stream: BinaryFile[bytes],
    name: str,
    *,
    consequence: str = "nothing was uploaded",
    method: str | None = None,
    examples: ExampleCheck | None = None,
    tokens: TokenCounter | None = None,
    token_limit: tuple[int, str] | None = None,
) -> Summary:
    """Check fine-tuning data: each line's shape (and, with ``examples``, its method's
    schema), duplicates, answers, the number of examples; notes on the spread.
    With ``tokens``, ``summary.weight`` is the tokens of all the examples."""
    problems = Problems(name)
    shape = _check_fine_tune(problems)
    more = FineTuneCheck(
        problems, method=method, examples=examples, tokens=tokens, token_limit=token_limit
    )

    def check(line: Line) -> None:
        shape(line)
        more(line)

    summary = scan(stream, problems, check)
    if summary.lines == 0:
        problems.add(None, "the file is empty")
    more.finish(summary)
    summary.weight = sum(more.counted)
    if problems:
        raise problems.error(consequence)
    return summary


def validate_requests(
    stream: BinaryFile[bytes],
    name: str,
    *,
    endpoint: str | None = None,
    consequence: str = "nothing was sent",
    on_line: Callable[[Line], None] | None = None,
    bodies: BodyCheck | None = None,
) -> Summary:
    """Request bodies for ``oai map``: bare JSON objects, or batch lines (by the first)."""
    problems = Problems(name)
    batch = BatchCheck(problems, endpoint=endpoint, bodies=bodies)
    form: list[bool] = []

    def check(line: Line) -> None:
        obj = line.data
        if not isinstance(obj, dict):
            problems.add(line.number, f"expected a JSON object, got {_kind(obj)}")
            return
        is_batch = "custom_id" in obj and "body" in obj
        if not form:
            form.append(is_batch)
        if form[0] != is_batch:
            first = "batch request lines" if form[0] else "bare request bodies"
            problems.add(line.number, f"the file started with {first}; this line is not one")
            return
        if is_batch:
            batch(line)
        elif bodies is not None and endpoint is not None:
            for reason in bodies(endpoint, obj, ""):
                problems.add(line.number, reason)

    summary = scan(stream, problems, check, on_line)
    summary.batch_lines = bool(form and form[0])
    summary.endpoint = batch.endpoint if summary.batch_lines else endpoint
    if summary.lines == 0:
        problems.add(None, "the file is empty")
    if problems:
        raise problems.error(consequence)
    return summary


def check_file(
    io: IO, value: str, *, what: str, check: Callable[[BinaryFile[bytes], str], Summary]
) -> tuple[Summary, str]:
    """Check the JSONL file a user names with ``check`` (given the open file and its
    name for messages); ``-`` is stdin, spooled first. The summary, and that name."""
    with jsonl_input(io, value, what=what) as (path, shown, _), open(path, "rb") as fh:
        return check(fh, shown), shown
