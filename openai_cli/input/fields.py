"""``-F key=value`` / ``-f key=value`` flags turned into a nested request body.

The syntax follows ``gh api``: ``a.b=1`` and ``a[b]=1`` both nest, ``a[]=x``
appends to a list (``a[].k=v`` fills its last object until ``k`` comes again),
``-F`` types its value (``true``, ``42``, ``{"json": 1}``, ``@file``) and ``-f``
always sends a plain string. Beyond gh, ``a[0].k=v`` sets a position of a list.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from openai_cli.errors import UsageError
from openai_cli.input.body import parse_json_text
from openai_cli.input.reader import file_error
from openai_cli.textfmt import count

# What a top-level field holds, as the operation's schema says, for ``-F name=@file``:
# JSON (an object or an array), text, a file to upload, or either text or JSON
# ("auto": a file whose name ends in .json is JSON). A field the operation does not
# name, or a nested key, is "auto".
FieldKind = Literal["json", "text", "file", "auto"]

_NAME_PUNCT = frozenset("_-:/")
# JSON's number grammar: stricter than float(), which would also take "1_000",
# "inf", " 1" or "1.", none of which a user means as a number.
_INT_RE = re.compile(r"-?(?:0|[1-9][0-9]*)")
_FLOAT_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_SHOW_MAX = 80
# A key nests at most this deep and a list position has at most this many digits:
# real bodies are a few levels deep and their lists short, and a fixed bound keeps a
# key's cost linear in its length (each level remembers its own path for conflicts).
MAX_KEY_DEPTH = 32
MAX_POSITION_DIGITS = 6


@dataclass(frozen=True)
class FieldArg:
    raw: str
    """The text after the flag, ``key=value``."""
    typed: bool
    """True for ``-F`` (typed value), False for ``-f`` (raw string)."""
    flag: str
    """How the flag was spelled, for error messages."""

    def show(self) -> str:
        """The flag and its argument as a user would recognise them, on one line."""
        raw = self.raw
        if len(raw) > _SHOW_MAX:
            raw = raw[: _SHOW_MAX - 3] + "..."
        quoted = f"'{raw}'" if raw.isprintable() and "'" not in raw else repr(raw)
        return f"{self.flag} {quoted}"


class _Append:
    """``[]`` in a key: the next element of a list."""


APPEND = _Append()
# A key's parts: an object key, a list position ``[N]``, or ``[]``.
Segment = str | int | _Append


@dataclass(frozen=True)
class _Key:
    path: tuple[Segment, ...]


class _BadKey(Exception):
    """A malformed key; the message is completed with the flag by the caller."""


def parse_fields(
    args: Sequence[FieldArg],
    *,
    read_file: Callable[[str], str],
    read_stdin: Callable[[], str],
    kinds: Mapping[str, FieldKind] | None = None,
) -> dict[str, Any]:
    """Build the nested dict described by ``args``, in order.

    ``-F name=@file`` reads the file as JSON when ``kinds`` says the field holds JSON
    (YAML for a .yaml or .yml file), or when its name ends in .json and the field may
    hold JSON; otherwise as text.

    Setting the same key twice, or nesting under a key that already holds a
    non-object, is an error rather than a silent overwrite, since one of the two
    flags is almost certainly a mistake.
    """
    result: dict[str, Any] = {}
    # Which argument created each path, to name both sides of a conflict.
    origins: dict[tuple[str | int, ...], FieldArg] = {}
    stdin_by: FieldArg | None = None

    for arg in args:
        key_text, sep, value_text = arg.raw.partition("=")
        if not sep:
            raise UsageError(f"{arg.show()}: expected key=value")
        try:
            key = _parse_key(key_text)
        except _BadKey as exc:
            raise UsageError(f"{arg.show()}: {exc}") from None

        value: Any
        if not arg.typed:
            value = value_text
        elif value_text.startswith("@"):
            source = value_text[1:]
            if source == "-":
                if stdin_by is not None:
                    raise UsageError(
                        f"{arg.show()}: standard input was already read by {stdin_by.show()}"
                    )
                stdin_by = arg
                value = _file_value(arg, source, read_stdin(), _kind(key, kinds))
            else:
                value = _file_value(arg, source, _read(arg, source, read_file), _kind(key, kinds))
        else:
            try:
                value = coerce_typed(value_text)
            except UsageError as exc:
                raise UsageError(f"{arg.show()}: {exc.message}", hint=exc.hint) from None

        _place(result, origins, arg, key, value)
    return result


def coerce_typed(text: str) -> Any:
    """Apply the ``-F`` typing rules to a value.

    ``@file`` is left to :func:`parse_fields`, which has the means to read files.
    Text starting with ``{`` or ``[`` must be valid JSON: a typo in a JSON value is
    far more likely than a string that happens to start with a bracket, and ``-f``
    remains for sending such a string as it is.
    """
    if text == "true":
        return True
    if text == "false":
        return False
    if text == "null":
        return None
    if _INT_RE.fullmatch(text):
        try:
            return int(text)
        except ValueError:
            # Past int()'s digit limit: no API takes such a number, keep the text.
            return text
    if _FLOAT_RE.fullmatch(text):
        number = float(text)
        # 1e999 would become inf, which JSON cannot carry.
        return number if math.isfinite(number) else text
    if text[:1] in ("{", "["):
        return _parse_json(text)
    return text


def top_name(key: str) -> str:
    """The top-level field a ``-F`` key sets: ``messages`` for ``messages[0].role``."""
    return key[: _scan_name(key, 0)]


def _kind(key: _Key, kinds: Mapping[str, FieldKind] | None) -> FieldKind:
    name = key.path[0]
    if len(key.path) > 1 or kinds is None or not isinstance(name, str):
        return "auto"
    return kinds.get(name, "auto")


def _file_value(arg: FieldArg, source: str, text: str, kind: FieldKind) -> Any:
    yaml_name = source.endswith((".yaml", ".yml"))
    if kind == "json" or (kind == "auto" and source.endswith(".json")):
        return parse_json_text(text, what=arg.show(), yaml_ok=kind == "json" and yaml_name)
    return text


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``extra`` into a copy of ``base``.

    Objects merge key by key; anything else in ``extra``, lists included,
    replaces what ``base`` had. Neither argument is modified.
    """
    out = dict(base)
    for key, value in extra.items():
        current = out.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            out[key] = merge(current, value)
        else:
            out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(text: str) -> Any:
    hint = "use -f to send the text as a plain string"
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", hint=hint
        ) from None
    except ValueError as exc:
        raise UsageError(f"invalid JSON: {exc}", hint=hint) from None
    except RecursionError:
        raise UsageError("invalid JSON: nested too deeply", hint=hint) from None


def _read(arg: FieldArg, path: str, read_file: Callable[[str], str]) -> str:
    where = f"{arg.show()}:"
    if not path:
        raise UsageError(f"{where} missing file name after '@'")
    try:
        return read_file(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise file_error(where.rstrip(":"), path, exc) from None


def _is_name_char(ch: str) -> bool:
    return ch.isalnum() or ch in _NAME_PUNCT


def _scan_name(key: str, start: int) -> int:
    end = start
    while end < len(key) and _is_name_char(key[end]):
        end += 1
    return end


def _parse_key(key: str) -> _Key:
    # Positions in messages are 1-based, counted from the start of the argument.
    if not key:
        raise _BadKey("empty key")
    path: list[Segment] = []
    i = _scan_name(key, 0)
    if i == 0:
        raise _bad_char(key, 0, expect_name=True)
    path.append(key[:i])
    while i < len(key):
        if len(path) >= MAX_KEY_DEPTH:
            raise _BadKey(f"nests deeper than {MAX_KEY_DEPTH} levels (at position {i + 1})")
        ch = key[i]
        if ch == ".":
            end = _scan_name(key, i + 1)
            if end == i + 1:
                raise _bad_char(key, end, expect_name=True)
            path.append(key[i + 1 : end])
            i = end
        elif ch == "[":
            close = key.find("]", i + 1)
            if close < 0:
                raise _BadKey(f"unbalanced '[' at position {i + 1}")
            end = _scan_name(key, i + 1)
            if end == close == i + 1:
                segment: Segment = APPEND
            elif end == close:
                inner = key[i + 1 : end]
                # ``[N]`` is a position in a list, as in JSONPath and jq; an object key
                # made of digits (a token id in logit_bias) is spelled ``.N``.
                number = inner.isascii() and inner.isdigit()
                if number and len(inner) > MAX_POSITION_DIGITS:
                    raise _BadKey(
                        f"list position [{inner[:10]}...] at position {i + 1} is too large "
                        f"(at most {MAX_POSITION_DIGITS} digits)"
                    )
                segment = int(inner) if number else inner
            elif key[end] == "[":
                raise _BadKey(f"unbalanced '[' at position {i + 1}")
            else:
                raise _bad_char(key, end, expect_name=False)
            if path[-1] is APPEND and not isinstance(segment, str):
                raise _BadKey(f"'[]' can be followed only by a key, as in a[].b (position {i + 1})")
            path.append(segment)
            i = close + 1
        elif ch == "]":
            raise _BadKey(f"unbalanced ']' at position {i + 1}")
        elif _is_name_char(ch):
            raise _BadKey(f"expected '.' or '[' after ']' at position {i + 1}")
        else:
            raise _bad_char(key, i, expect_name=False)
    return _Key(tuple(path))


def _bad_char(key: str, i: int, *, expect_name: bool) -> _BadKey:
    if i == 0 and key[:1] in (".", "[", "]"):
        return _BadKey(f"key must start with a name, not {key[0]!r}")
    if i >= len(key):
        return _BadKey(f"empty key segment at position {i + 1}")
    ch = key[i]
    if ch == "]" and not expect_name:
        return _BadKey(f"unbalanced ']' at position {i + 1}")
    if expect_name and ch in ".[]":
        return _BadKey(f"empty key segment at position {i + 1}")
    return _BadKey(
        f"invalid character {ch!r} in key at position {i + 1}"
        " (keys are letters, digits, '_', '-', ':' and '/')"
    )


def _place(
    root: dict[str, Any],
    origins: dict[tuple[str | int, ...], FieldArg],
    arg: FieldArg,
    key: _Key,
    value: Any,
) -> None:
    def conflict(prefix: tuple[str | int, ...], why: str) -> UsageError:
        other = next(
            (origins[prefix[:n]] for n in range(len(prefix), 0, -1) if prefix[:n] in origins), arg
        )
        return UsageError(f"{other.show()} conflicts with {arg.show()}: {_dotted(prefix)!r} {why}")

    node: Any = root
    where: tuple[str | int, ...] = ()
    segments = key.path
    for depth, segment in enumerate(segments):
        leaf = depth == len(segments) - 1
        pos: str | int
        if isinstance(segment, str):
            if not isinstance(node, dict):
                raise conflict(where, "is not an object")
            pos = segment
            present = pos in node
        else:
            if not isinstance(node, list):
                raise conflict(where, "is not a list")
            if isinstance(segment, _Append):
                # As gh api does: ``a[].b`` fills the last element until ``b`` comes again.
                last = node[-1] if node else None
                fill = not leaf and isinstance(last, dict) and segments[depth + 1] not in last
                pos = len(node) - 1 if fill else len(node)
            else:
                pos = segment
                if pos > len(node):
                    raise _skipped(arg, where, pos, len(node))
            present = pos < len(node)
        here = (*where, pos)
        if leaf:
            if present:
                raise conflict(here, "is already set")
            _put(node, pos, value)
            origins[here] = arg
            return
        if not present:
            _put(node, pos, {} if isinstance(segments[depth + 1], str) else [])
            origins[here] = arg
        node = node[pos]
        where = here


def _put(node: dict[str, Any] | list[Any], pos: str | int, value: Any) -> None:
    if isinstance(node, dict):
        node[str(pos)] = value
    else:
        node.append(value)


def _skipped(arg: FieldArg, where: tuple[str | int, ...], pos: int, size: int) -> UsageError:
    at = _dotted(where)
    return UsageError(
        f"{arg.show()}: {at!r} has {count(size, 'element')}, "
        f"so [{pos}] skips ahead (positions count from 0, in order)",
        hint=f"for an object key made of digits write {at}.{pos}",
    )


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else part
    return out
