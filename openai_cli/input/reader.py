"""The one reader of what a user names as input: stdin, ``@file``, ``@-`` and files.

Every byte source that ends up in memory (a JSON value, prompt text, an attachment,
a key, a webhook's payload) is read here, each use with its own limit (:data:`USES`,
documented in docs/reliability.md, "One reader"). Over its limit a read fails with a
usage error naming the flag and the limit, before anything is sent. Devices,
directories and sockets are refused by what the opened file *is* (``fstat`` of the
descriptor, so a symlink to ``/dev/zero`` is a device too); a pipe or FIFO is read
only up to the limit plus one byte, so ``yes | oai ask hi`` ends at once, in bounded
memory. Uploads streamed from disk (``files create``, chunked uploads, multipart file
parts) are not read into memory and keep their own path (:func:`check_streamable`).

``tests/unit/test_reader.py`` fails if any other module reads stdin or a named file
into memory.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat

# Not from typing, which a TAB does without (see openai_cli/main.py); nor the
# errors, made only when a read fails (a TAB reads the files oai keeps, and reads
# none that fails to the user).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from openai_cli.errors import UsageError
    from openai_cli.io import IO

KIB = 1024
MIB = 1024 * KIB
_CHUNK = 1 * MIB


class Use:
    """What a read is for, and the most it may hold."""

    # A plain class, not a dataclass: the config and the ID cache are read through
    # this module on a TAB, which does without dataclasses (and the inspect module
    # they import).
    __slots__ = ("hint", "limit", "most", "name")

    def __init__(self, name: str, limit: int, most: str, hint: str | None = None) -> None:
        self.name = name  # for the docs table
        self.limit = limit  # bytes
        self.most = most  # ends the error line: "larger than 100 MiB, <most>"
        self.hint = hint

    def __repr__(self) -> str:
        return f"Use({self.name!r}, {self.limit})"


# Each limit is far above what the API accepts for that use, so the API names the real
# limit for anything merely too large; the reader's limit is what keeps memory bounded.
JSON = Use(
    "JSON values and bodies: --body, -F @FILE, @- and @FILE of JSON flags "
    "(--messages, --input, --schema, ...)",
    100 * MIB,
    "the most a request body may hold",
    hint="send a large file as a file part (-F name=@FILE in a multipart request)",
)
PROMPT = Use(
    "Prompt text: piped context of `oai ask`; a line of `repl` or `realtime connect`",
    16 * MIB,  # a million-token context window is about 4 MB of text
    "the most oai sends as prompt text",
    hint="send a large document as an attachment (-a FILE) or upload it (oai files create)",
)
LINES = Use(
    "Texts to embed, one per line: `embeddings create` --input-file and stdin",
    100 * MIB,
    "the most oai reads as lines of input",
    hint="split the input and run one command per part",
)
SPEECH = Use(
    "Text to speak: `audio speech create --input -`",
    1 * MIB,  # the API takes a few thousand characters
    "the most oai reads as text to speak",
)
IMAGE = Use(
    "Image attachments: `ask -a` .png, .jpg, .gif, .webp",
    50 * MIB,  # the API's own limit on the images of one request
    "the most an image attachment may be",
)
ATTACHMENT = Use(
    "Other attachments: `ask -a` PDF, text and other files",
    50 * MIB,
    "the most a file attachment may be",
    hint="upload it first (oai files create) and attach its file id",
)
WEBHOOK_PAYLOAD = Use(
    "Webhook payloads: `webhooks verify/unwrap` PAYLOAD",
    16 * MIB,
    "the most oai reads as a webhook payload",
)
WEBHOOK_HEADERS = Use(
    "Webhook headers: `webhooks verify/unwrap` --headers",
    1 * MIB,
    "the most oai reads as webhook headers",
)
KEY = Use(
    "Keys: `auth login` --key-file and --with-key-stdin",
    64 * KIB,
    "the most oai reads as a key",
)

EXPLORE = Use(
    "JSON to browse: `oai explore` FILE and stdin",
    64 * MIB,  # as much as an answer read into memory (http.client.MAX_ANSWER)
    "the most oai explore holds in memory",
    hint="narrow it first (jq, or --query on the command that made it)",
)
JSONL_LINE = Use(
    "One line of a JSONL input: `map`, `batches run`, `files create --purpose batch` "
    "and `fine-tune`",
    100 * MIB,  # one line is one request body: as much as any body may hold
    "the most oai reads as one line",
)
KEPT = Use(
    "Files oai writes and reads back: config.toml, state files (`batches run --state` "
    "and `--resume`, `uploads --resume`, `map`), last-response.json, engines.json",
    16 * MIB,  # a state file of a 50,000-request batch is well under 1 MiB
    "the most oai reads as a file it keeps",
)

USES = (
    JSON,
    PROMPT,
    LINES,
    SPEECH,
    IMAGE,
    ATTACHMENT,
    WEBHOOK_PAYLOAD,
    WEBHOOK_HEADERS,
    KEY,
    EXPLORE,
    JSONL_LINE,
    KEPT,
)


def _usage(message: str, *, hint: str | None = None) -> UsageError:
    from openai_cli.errors import UsageError

    return UsageError(message, hint=hint)


def size_text(n: int) -> str:
    if n % MIB == 0:
        return f"{n // MIB} MiB"
    if n % KIB == 0:
        return f"{n // KIB} KiB"
    from openai_cli.textfmt import count

    return count(n, "byte")


def too_large(use: Use, what: str, path: str | None) -> UsageError:
    shown = f"{path} is " if path else ""
    return _usage(f"{what}: {shown}larger than {size_text(use.limit)}, {use.most}", hint=use.hint)


# -- what a file is -------------------------------------------------------------------


def file_kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _refuse(what: str, path: str, mode: int) -> UsageError:
    if stat.S_ISDIR(mode):
        return _usage(f"{what}: {path} is a directory, not a file")
    return _usage(f"{what}: {path} is {file_kind(mode)}, not a regular file or a pipe")


def file_error(what: str, path: str, exc: OSError | UnicodeDecodeError) -> UsageError:
    """One clear line for a file that cannot be read, naming the flag and the file."""
    if isinstance(exc, FileNotFoundError):
        return _usage(f"{what}: file not found: {path}")
    if isinstance(exc, IsADirectoryError):
        return _usage(f"{what}: {path} is a directory, not a file")
    if isinstance(exc, PermissionError):
        return _usage(f"{what}: permission denied reading {path}")
    if isinstance(exc, UnicodeDecodeError):
        return _usage(f"{what}: {path} is not UTF-8 text (invalid byte at offset {exc.start})")
    if exc.errno == errno.ENXIO:  # opening a socket
        try:
            return _refuse(what, path, os.stat(path).st_mode)
        except OSError:
            pass
    return _usage(f"{what}: cannot read {path}: {exc.strerror or exc}")


def check_streamable(path: str, *, what: str, allow_empty: bool = False) -> int:
    """For an upload streamed from disk: fail before sending unless ``path`` is a
    readable regular file or a pipe; returns its size (0 for a pipe)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise file_error(what, path, exc) from None
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
        raise _refuse(what, path, st.st_mode)
    if not os.access(path, os.R_OK):
        raise _usage(f"{what}: permission denied reading {path}")
    if st.st_size == 0 and stat.S_ISREG(st.st_mode) and not allow_empty:
        raise _usage(f"{what}: {path} is empty (0 bytes)")
    return st.st_size


# -- reading ------------------------------------------------------------------------


def _open(path: str, what: str) -> int:
    """A descriptor for ``path`` once it is known to be a regular file or a FIFO.

    A FIFO is opened as ``cat`` would, waiting for its writer. Anything else is
    opened without blocking (no device can hold the open) and checked again by its
    descriptor, so a path swapped after the first look is caught.
    """
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
    mode = os.stat(path).st_mode
    if stat.S_ISFIFO(mode):
        fd = os.open(path, flags)
    elif stat.S_ISREG(mode):
        fd = os.open(path, flags | os.O_NONBLOCK)
    else:
        raise _refuse(what, path, mode)
    opened = os.fstat(fd).st_mode
    if stat.S_IFMT(opened) != stat.S_IFMT(mode):
        os.close(fd)
        raise _refuse(what, path, opened)
    os.set_blocking(fd, True)
    return fd


def _read_fd(fd: int, limit: int) -> bytes | None:
    """Up to ``limit`` bytes from ``fd``; None when there are more."""
    buf = bytearray()
    while len(buf) <= limit:
        chunk = os.read(fd, min(_CHUNK, limit + 1 - len(buf)))
        if not chunk:
            return bytes(buf)
        buf += chunk
    return None


def read_file(path: str, use: Use, *, what: str) -> bytes:
    """The bytes of the file named ``path``, within ``use``'s limit."""
    try:
        fd = _open(path, what)
        try:
            st = os.fstat(fd)
            # /proc files say 0 and still hold text: the size only refuses early.
            if st.st_size > use.limit:
                raise too_large(use, what, path)
            data = _read_fd(fd, use.limit)
        finally:
            os.close(fd)
    except OSError as exc:
        raise file_error(what, path, exc) from None
    if data is None:
        raise too_large(use, what, path)
    return data


def read_kept(
    path: str | os.PathLike[str], check: Callable[[os.stat_result], None] | None = None
) -> bytes:
    """The bytes of a file oai keeps (config, state), within :data:`KEPT`'s limit.

    Only a regular file is read: such a file is never a pipe or a device, and a
    named pipe put in its place would otherwise hold the command forever, and
    ``/dev/zero`` would fill memory. The pipe is opened without waiting and refused by
    what the descriptor is. ``check`` sees the opened file's status (who owns it).
    Every failure is an ``OSError`` naming ``path`` (``FileNotFoundError`` when
    missing), so each caller keeps its own way of saying it.
    """
    name = os.fspath(path)
    fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = file_kind(st.st_mode)
            raise OSError(errno.EINVAL, f"it is {kind}, not a regular file", name)
        if check is not None:
            check(st)
        os.set_blocking(fd, True)
        data = _read_fd(fd, KEPT.limit)
    finally:
        os.close(fd)
    if data is None:
        raise OSError(errno.EFBIG, f"larger than {size_text(KEPT.limit)}, {KEPT.most}", name)
    return data


def read_kept_json(path: str | os.PathLike[str]) -> Any:
    """The JSON of a file oai keeps (:func:`read_kept`), UTF-8. Text that is not JSON
    is a ``ValueError``, nesting deeper than the parser goes included (it would be a
    ``RecursionError``, which no reader of a kept file expects)."""
    import json

    text = read_kept(path).decode("utf-8")
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(f"{os.fspath(path)}: nested too deeply") from None


def check_stdin(io: IO, *, what: str) -> None:
    """Refuse a stdin that never ends (``< /dev/zero``) or is no file (``< /``).

    A terminal and ``/dev/null`` (how CI and cron start a process) are devices that
    are fine to read.
    """
    try:
        st = os.fstat(io.stdin.fileno())
    except (OSError, ValueError, AttributeError):
        return  # closed, or text in memory
    mode = st.st_mode
    if stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or io.stdin_tty:
        return
    if stat.S_ISCHR(mode):
        try:
            if st.st_rdev == os.stat(os.devnull).st_rdev:
                return
        except OSError:
            pass
    kind = file_kind(mode)
    line = f"stdin is {kind}, not a " + ("file" if stat.S_ISDIR(mode) else "regular file or a pipe")
    raise _usage(line if what == "stdin" else f"{what}: {line}")


def read_stdin(io: IO, use: Use, *, what: str) -> bytes:
    """Standard input, within ``use``'s limit; a closed stdin reads as empty."""
    stream = io.stdin
    if stream is None:  # the process was started with fd 0 closed
        return b""
    check_stdin(io, what=what)
    buf = getattr(stream, "buffer", None)
    try:
        if buf is None:  # text in memory (tests build their own IO)
            text = stream.read(use.limit + 1)
            data: bytes | None = text.encode("utf-8", "surrogateescape")
        else:
            data = _read_stream(buf, use.limit)
    except OSError as exc:
        raise _usage(f"{what}: cannot read stdin: {exc.strerror or exc}") from None
    except ValueError:  # closed
        return b""
    if data is None or len(data) > use.limit:
        raise too_large(use, what, None)
    return data


def read_line(io: IO, use: Use, *, what: str) -> str | None:
    """The next line of stdin without its line ending, within ``use``'s limit; None at
    the end."""
    stream = io.stdin
    if stream is None:
        return None
    try:
        line = stream.readline(use.limit + 1)
    except ValueError:  # closed
        return None
    if len(line) > use.limit or len(line.encode("utf-8", "surrogateescape")) > use.limit:
        raise too_large(use, what, None)
    # Stdin decodes with surrogate escapes: bytes that are not UTF-8 arrive as
    # U+DC80-U+DCFF, which no request can carry.
    bad = next((i for i, c in enumerate(line) if "\udc80" <= c <= "\udcff"), None)
    if bad is not None:
        offset = len(line[:bad].encode("utf-8", "surrogateescape"))
        raise _usage(f"{what}: a line is not UTF-8 text (invalid byte at offset {offset})")
    return line.rstrip("\r\n") if line else None


def _read_stream(stream: object, limit: int) -> bytes | None:
    read = getattr(stream, "read")  # noqa: B009
    buf = bytearray()
    while len(buf) <= limit:
        chunk = read(min(_CHUNK, limit + 1 - len(buf)))
        if not chunk:
            return bytes(buf)
        buf += chunk
    return None


def read_bytes(io: IO, source: str, use: Use, *, what: str) -> bytes:
    """``source`` is ``-`` for stdin or a path."""
    if source == "-":
        return read_stdin(io, use, what=what)
    return read_file(source, use, what=what)


def decode(data: bytes, *, what: str, path: str | None = None) -> str:
    """Text from bytes: UTF-8 (a BOM dropped), or UTF-16/32 when a BOM says so."""
    skip, encoding = encoding_of(data)
    try:
        return data[skip:].decode(encoding)
    except UnicodeDecodeError as exc:
        raise not_text(what, path, encoding, exc.start + skip) from None


def encoding_of(head: bytes) -> tuple[int, str]:
    """``(length of the BOM, encoding)`` of text starting with ``head`` (its first
    four bytes suffice): the encoding its BOM names, else UTF-8 with no BOM. The one
    rule for every text oai reads (:func:`decode`, JSONL files in input/local.py)."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return len(bom), codec
    return 0, "utf-8"


def not_text(what: str, path: str | None, encoding: str, offset: int) -> UsageError:
    return _usage(
        f"{what}: {path or 'stdin'} is not {encoding.upper()} text "
        f"(invalid byte at offset {offset})"
    )


def utf8_copy(path: str, *, what: str, shown: str, directory: str | None = None) -> str | None:
    """A private UTF-8 copy, without its BOM, of a file that starts with one (UTF-8,
    UTF-16 or UTF-32, as :func:`decode` reads any text); None for a file
    without a BOM, which is read as it is.

    JSONL is read as bytes, line by line, and sent (uploaded, split into batches)
    as it is on disk, so text in another encoding is made UTF-8 once, here, a
    chunk at a time: memory stays bounded whatever the file's size.
    """
    try:
        fd = _open(path, what)
    except OSError as exc:
        raise file_error(what, shown, exc) from None
    with os.fdopen(fd, "rb") as src:

        def read(size: int) -> bytes:
            # A file that fails as it is read (EIO) is the input's fault, exit 2; a
            # failure writing the copy stays the disk's (74).
            try:
                return src.read(size)
            except OSError as exc:
                raise file_error(what, shown, exc) from None

        skip, encoding = encoding_of(read(4))
        if skip == 0:
            return None
        src.seek(skip)
        decoder = codecs.getincrementaldecoder(encoding)()
        # Here, not at the top: a TAB reads through this module, and tempfile brings
        # shutil, random and the compression modules with it; the writer, typing.
        import tempfile

        from openai_cli import writer

        start = skip  # where in the file the bytes the decoder holds begin
        with writer.new_file(
            directory or tempfile.gettempdir(), prefix="oai-utf8-", suffix=".jsonl"
        ) as (copy, out):
            try:
                while chunk := read(_CHUNK):
                    out.write(decoder.decode(chunk).encode("utf-8"))
                    start = src.tell() - len(decoder.getstate()[0])
                out.write(decoder.decode(b"", final=True).encode("utf-8"))
            except UnicodeDecodeError as exc:
                raise not_text(what, shown, encoding, start + exc.start) from None
    return copy


# UTF-32's BOMs first: UTF-32-LE's starts with UTF-16-LE's.
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def read_text(io: IO, source: str, use: Use, *, what: str) -> str:
    """Text from stdin (``-``) or a file, within ``use``'s limit."""
    if source == "-":
        return decode(read_stdin(io, use, what=what), what=what)
    return file_text(source, use, what=what)


def file_text(path: str, use: Use, *, what: str) -> str:
    """Text from the file named ``path`` (even one named ``-``), within ``use``'s limit."""
    return decode(read_file(path, use, what=what), what=what, path=path)
