"""``-F key=value`` / ``-f key=value`` flags turned into a nested request body.

The syntax follows ``gh api``: ``a.b=1`` and ``a[b]=1`` both nest, ``a[]=x``
appends to a list, ``-F`` types its value (``true``, ``42``, ``{"json": 1}``,
``@file``) and ``-f`` always sends a plain string.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from openai_cli.errors import UsageError
from openai_cli.input.body import file_error

_NAME_PUNCT = frozenset("_-:/")
# JSON's number grammar: stricter than float(), which would also take "1_000",
# "inf", " 1" or "1.", none of which a user means as a number.
_INT_RE = re.compile(r"-?(?:0|[1-9][0-9]*)")
_FLOAT_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_SHOW_MAX = 80


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


@dataclass(frozen=True)
class _Key:
    path: tuple[str, ...]
    append: bool


class _BadKey(Exception):
    """A malformed key; the message is completed with the flag by the caller."""


def parse_fields(
    args: Sequence[FieldArg],
    *,
    read_file: Callable[[str], str],
    read_stdin: Callable[[], str],
) -> dict[str, Any]:
    """Build the nested dict described by ``args``, in order.

    Setting the same key twice, or nesting under a key that already holds a
    non-object, is an error rather than a silent overwrite, since one of the two
    flags is almost certainly a mistake.
    """
    result: dict[str, Any] = {}
    # Which argument created each path, to name both sides of a conflict.
    origins: dict[tuple[str, ...], FieldArg] = {}
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
                value = read_stdin()
            else:
                value = _read(arg, source, read_file)
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
    path: list[str] = []
    append = False
    i = _scan_name(key, 0)
    if i == 0:
        raise _bad_char(key, 0, expect_name=True)
    path.append(key[:i])
    while i < len(key):
        if append:
            raise _BadKey(f"'[]' must come last in the key (position {i + 1})")
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
                append = True
            elif end == close:
                path.append(key[i + 1 : end])
            elif key[end] == "[":
                raise _BadKey(f"unbalanced '[' at position {i + 1}")
            else:
                raise _bad_char(key, end, expect_name=False)
            i = close + 1
        elif ch == "]":
            raise _BadKey(f"unbalanced ']' at position {i + 1}")
        elif _is_name_char(ch):
            raise _BadKey(f"expected '.' or '[' after ']' at position {i + 1}")
        else:
            raise _bad_char(key, i, expect_name=False)
    return _Key(tuple(path), append)


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
    origins: dict[tuple[str, ...], FieldArg],
    arg: FieldArg,
    key: _Key,
    value: Any,
) -> None:
    def conflict(upto: int, why: str) -> UsageError:
        prefix = key.path[:upto]
        other = next(
            (origins[prefix[:n]] for n in range(len(prefix), 0, -1) if prefix[:n] in origins), arg
        )
        return UsageError(f"{other.show()} conflicts with {arg.show()}: {_dotted(prefix)!r} {why}")

    node = root
    for depth, name in enumerate(key.path[:-1], start=1):
        child = node.get(name)
        if child is None and name not in node:
            child = node[name] = {}
            origins[key.path[:depth]] = arg
        elif not isinstance(child, dict):
            raise conflict(depth, "is not an object")
        node = child

    last = key.path[-1]
    if key.append:
        if last not in node:
            node[last] = [value]
            origins[key.path] = arg
        elif isinstance(node[last], list):
            node[last].append(value)
        else:
            raise conflict(len(key.path), "is not a list")
    elif last in node:
        raise conflict(len(key.path), "is already set")
    else:
        node[last] = value
        origins[key.path] = arg


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path)
