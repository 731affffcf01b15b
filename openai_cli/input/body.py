"""``--body`` and file-part arguments: JSON or YAML from text, a file or stdin."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import IO as BinaryFile
from typing import Any

from openai_cli.errors import UsageError
from openai_cli.input import reader
from openai_cli.io import IO


def read_text_file(path: str, *, what: str) -> str:
    """A text file given with ``@FILE`` for a JSON value or body (:data:`reader.JSON`)."""
    return reader.file_text(path, reader.JSON, what=what)


def json_value(text: str, *, flag: str, io: Callable[[], IO]) -> Any:
    """A flag's JSON value: inline, ``@FILE`` (JSON, or YAML by extension) or ``@-``.

    ``io`` is asked for only when stdin is read.
    """
    if text == "@-":
        what = f"{flag} (stdin)"
        return parse_json_text(reader.read_text(io(), "-", reader.JSON, what=what), what=what)
    if text.startswith("@"):
        path = text[1:]
        return parse_json_text(
            read_text_file(path, what=flag),
            what=f"{flag} {path}",
            yaml_ok=path.endswith((".yaml", ".yml")),
        )
    return parse_json_text(text, what=flag)


class _NotJson(ValueError):
    pass


def _not_json(constant: str) -> Any:
    # Python's json reads NaN and Infinity, which no server will.
    raise _NotJson(constant)


def parse_json_text(text: str, *, what: str, yaml_ok: bool = False) -> Any:
    try:
        return json.loads(text, parse_constant=_not_json)
    except _NotJson as exc:
        raise UsageError(f"{what}: {exc} is not JSON (give a finite number)") from None
    except json.JSONDecodeError as exc:
        if yaml_ok:
            import yaml

            try:
                return yaml.safe_load(text)
            except yaml.YAMLError as yexc:
                raise UsageError(f"{what}: invalid YAML: {str(yexc).splitlines()[0]}") from None
        raise UsageError(
            f"{what}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise UsageError(f"{what}: invalid JSON: nested too deeply") from None


def load_body(value: str, io: IO) -> dict[str, Any]:
    """``--body``: inline JSON, ``@file`` (JSON, or YAML by extension) or ``-`` for stdin."""
    if value == "-" or value == "@-":
        what, yaml_ok = "--body (stdin)", False
        text = reader.read_text(io, "-", reader.JSON, what=what)
    elif value.startswith("@"):
        path = value[1:]
        text = read_text_file(path, what="--body")
        what = f"--body {path}"
        yaml_ok = path.endswith((".yaml", ".yml"))
    else:
        text, what, yaml_ok = value, "--body", False
    if not text.strip():
        raise UsageError(f"{what}: empty body")
    data = parse_json_text(text, what=what, yaml_ok=yaml_ok)
    if not isinstance(data, dict):
        raise UsageError(f"{what}: expected a JSON object, got {type(data).__name__}")
    return data


def file_opener(path: str) -> Callable[[], BinaryFile[bytes]]:
    def opener() -> BinaryFile[bytes]:
        return open(path, "rb")

    return opener


def guess_type(filename: str) -> str:
    import mimetypes

    if filename.endswith(".jsonl"):
        return "application/jsonl"
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"
