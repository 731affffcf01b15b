"""``--body`` and file-part arguments: JSON or YAML from text, a file or stdin."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from typing import IO as BinaryFile
from typing import Any, TextIO

from openai_cli.errors import UsageError
from openai_cli.io import IO

MIB = 1024 * 1024
# A JSON body (or a field read from a file into one) is held in memory, encoded
# and perhaps logged; a file to upload goes as a file part, streamed, without this cap.
MAX_BODY_TEXT = 100 * MIB


def file_error(what: str, path: str, exc: OSError | UnicodeDecodeError) -> UsageError:
    """One clear line for a file that cannot be read, naming the flag and the file."""
    if isinstance(exc, FileNotFoundError):
        return UsageError(f"{what}: file not found: {path}")
    if isinstance(exc, IsADirectoryError):
        return UsageError(f"{what}: {path} is a directory, not a file")
    if isinstance(exc, PermissionError):
        return UsageError(f"{what}: permission denied reading {path}")
    if isinstance(exc, UnicodeDecodeError):
        return UsageError(f"{what}: {path} is not UTF-8 text (invalid byte at offset {exc.start})")
    return UsageError(f"{what}: cannot read {path}: {exc.strerror or exc}")


def read_text_file(path: str, *, what: str) -> str:
    """Read a whole text file, turning every OS error into one clear line.

    The text goes into a request body held in memory, so it is capped
    (:data:`MAX_BODY_TEXT`), and a device (``/dev/zero``) is refused rather than
    read for ever; a named pipe and stdin (``/dev/stdin``) are read, up to the cap.
    """
    try:
        st = os.stat(path)
        _refuse_special(path, st, what)
        if stat.S_ISREG(st.st_mode) and st.st_size > MAX_BODY_TEXT:
            raise _too_large(what, path)
        with open(path, encoding="utf-8") as fh:
            return read_capped(fh, what=what, path=path)
    except (OSError, UnicodeDecodeError) as exc:
        raise file_error(what, path, exc) from None


def read_capped(stream: TextIO, *, what: str, path: str | None = None) -> str:
    """All of ``stream``, or a usage error if it holds more than a body may."""
    text = stream.read(MAX_BODY_TEXT + 1)
    if len(text) > MAX_BODY_TEXT:
        raise _too_large(what, path)
    return text


def _too_large(what: str, path: str | None) -> UsageError:
    return UsageError(
        f"{what}: {f'{path} is ' if path else ''}larger than {MAX_BODY_TEXT // MIB} MiB, "
        "the most a request body may hold",
        hint="send a large file as a file part (-F name=@FILE in a multipart request)",
    )


def _refuse_special(path: str, st: os.stat_result, what: str) -> None:
    """A device or a socket is no file to send: reading /dev/zero never ends."""
    mode = st.st_mode
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISFIFO(mode) or _is_stdin(st):
        return
    kind = (
        "a character device"
        if stat.S_ISCHR(mode)
        else "a block device"
        if stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a special file"
    )
    raise UsageError(f"{what}: {path} is {kind}, not a regular file or a pipe")


def _is_stdin(st: os.stat_result) -> bool:
    try:
        own = os.fstat(0)
    except OSError:
        return False
    return (own.st_dev, own.st_ino) == (st.st_dev, st.st_ino)


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
        text = read_capped(io.stdin, what=what)
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


def check_readable_file(path: str, *, what: str, allow_empty: bool = False) -> int:
    """Fail before sending anything if ``path`` cannot be uploaded; returns its size."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise UsageError(f"{what}: file not found: {path}") from None
    except OSError as exc:
        raise UsageError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{what}: {path} is a directory, not a file")
    _refuse_special(path, st, what)
    if not os.access(path, os.R_OK):
        raise UsageError(f"{what}: permission denied reading {path}")
    if st.st_size == 0 and stat.S_ISREG(st.st_mode) and not allow_empty:
        raise UsageError(f"{what}: {path} is empty (0 bytes)")
    return st.st_size


def file_opener(path: str) -> Callable[[], BinaryFile[bytes]]:
    def opener() -> BinaryFile[bytes]:
        return open(path, "rb")

    return opener


def guess_type(filename: str) -> str:
    import mimetypes

    if filename.endswith(".jsonl"):
        return "application/jsonl"
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"
