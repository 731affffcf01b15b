"""Overrides of the audio operations: files as arguments, speech saved as it arrives.

``oai audio transcriptions create FILE`` (``--stream`` prints the transcript as it
is recognised), ``oai audio translations create FILE``, and ``oai audio speech
create --input TEXT --voice V -O out.mp3``, which writes the audio to the file as
it is generated and takes its format from the file's extension.
"""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, BinaryIO

from openai_cli import writer
from openai_cli.builder import Default, Fields, Prepared
from openai_cli.commands.streaming import live_or_run
from openai_cli.operations.streams import Sink, StreamEvent
from openai_cli.options import OptionSpec, reuse
from openai_cli.textfmt import count

if TYPE_CHECKING:
    import httpx
    from typer.core import TyperCommand

    from openai_cli.builder import CommandSpec
    from openai_cli.context import Factory
    from openai_cli.io import IO
    from openai_cli.operations.request import Call
    from openai_cli.writer import Replacement

TRANSCRIBE_MODEL = "gpt-4o-mini-transcribe"  # streams, unlike whisper-1
TRANSLATE_MODEL = "whisper-1"  # the only model translations accept
SPEECH_MODEL = "gpt-4o-mini-tts"
# File extensions that name exactly one speech format.
SPEECH_FORMATS = {
    ".mp3": "mp3",
    ".opus": "opus",
    ".aac": "aac",
    ".flac": "flac",
    ".wav": "wav",
    ".pcm": "pcm",
}
_PANEL = "Request"


FILE_ARGUMENT = OptionSpec(
    "file_arg",
    str | None,
    metavar="FILE",
    help="The file to send (same as --file; - for stdin).",
    argument=True,
    show_default=False,
)
# ``-O/--output-file``: ``-o`` stays the output format, as on every command.
OUTPUT_FILE = OptionSpec(
    "output_file", str | None, ("-O", "--output-file"), metavar="PATH", panel=_PANEL
)


@dataclass(frozen=True, kw_only=True)
class FileArgument:
    """The file to send as a positional argument (or ``--file``)."""

    file_arg: str | None = reuse(FILE_ARGUMENT)


@dataclass(frozen=True, kw_only=True)
class SpeechOptions:
    output_file: str | None = reuse(
        OUTPUT_FILE,
        help="Write the audio to PATH as it arrives (stdout when piped); the extension "
        "(.mp3, .wav, .flac, .opus, .aac, .pcm) sets --response-format.",
    )


def moved_argument(fields: Fields, field: str, given: Any, *, many: bool = False) -> dict[str, Any]:
    """The API field ``field`` with a positional argument's value where its option puts it."""
    from openai_cli.errors import UsageError

    if not given:
        return {}
    if many:
        return {field: [*(fields.get(field) or []), *given]}
    if fields.get(field) is not None:
        flag = f"--{field.replace('_', '-')}"
        raise UsageError(f"{flag}: the file is already given as an argument; give it once")
    return {field: given}


def _file_first(factory: Factory, opts: FileArgument, fields: Fields) -> Prepared[FileArgument]:
    return Prepared(moved_argument(fields, "file", opts.file_arg))


def transcriptions(spec: CommandSpec) -> TyperCommand:
    def handler(factory: Factory, call: Call, opts: FileArgument) -> int:
        return live_or_run(factory, call, markdown=False)

    return spec.command(
        handler,
        options=FileArgument,
        prepare=_file_first,
        defaults={"model": Default.fixed(TRANSCRIBE_MODEL)},
        help_prefix="Transcribe FILE. With --stream the text is printed as it is recognised "
        "(-o jsonl: the raw events). The model defaults to " + TRANSCRIBE_MODEL + ".",
    )


def translations(spec: CommandSpec) -> TyperCommand:
    def handler(factory: Factory, call: Call, opts: FileArgument) -> int:
        from openai_cli.operations.runner import execute

        return execute(factory, call)

    return spec.command(
        handler,
        options=FileArgument,
        prepare=_file_first,
        defaults={"model": Default.fixed(TRANSLATE_MODEL)},
        help_prefix="Translate the speech in FILE into English text. The model defaults to "
        + TRANSLATE_MODEL
        + ".",
    )


def speech(spec: CommandSpec) -> TyperCommand:
    def prepare(factory: Factory, opts: SpeechOptions, fields: Fields) -> Prepared[SpeechOptions]:
        changes: dict[str, Any] = {}
        if fields.get("input") == "-":
            from openai_cli.input import reader

            changes["input"] = reader.read_text(factory.io, "-", reader.SPEECH, what="--input -")
        out = opts.output_file
        fmt = SPEECH_FORMATS.get(os.path.splitext(out)[1].lower()) if out and out != "-" else None
        if fmt is not None and fields.unset("response_format"):
            changes["response_format"] = fmt
        return Prepared(changes)

    return spec.command(
        _speech,
        options=SpeechOptions,
        prepare=prepare,
        defaults={"model": Default.fixed(SPEECH_MODEL)},
        help_prefix="Speak --input TEXT (- reads it from stdin) into an audio file: "
        "oai audio speech create --input 'Hello' --voice alloy -O hello.mp3. "
        "The model defaults to " + SPEECH_MODEL + ".",
    )


def _speech(factory: Factory, call: Call, opts: SpeechOptions) -> int:
    from openai_cli.errors import UsageError
    from openai_cli.input.outputs import check_outputs
    from openai_cli.operations.runner import execute, stream_events

    check_outputs(("--output-file", call.answer.output_file))
    sse = (call.request.body or {}).get("stream_format") == "sse"
    # Without --stream-format sse the audio bytes already go to the file as they
    # arrive, and --stream could only ask for events the server will not send.
    request = replace(call.request, stream=sse)
    if not sse or factory.shared.dry_run:
        return execute(factory, replace(call, request=request), nothing="audio")
    io = factory.io
    path = call.answer.output_file
    if (not path or path == "-") and io.stdout_tty:
        raise UsageError("the answer is audio: give -O/--output-file PATH (or pipe stdout)")
    sink = _AudioSink(io, path if path and path != "-" else None)
    ok = False
    try:
        stream_events(factory, request, sink, answer=sink.whole)
        ok = True
    finally:
        sink.finish(ok)
    return 0


class _AudioSink(Sink):
    """Writes the audio of ``speech.audio.delta`` events to a file (or stdout) as they come."""

    def __init__(self, io: IO, path: str | None) -> None:
        self.io = io
        self.path = path
        self.total = 0
        # Committed or discarded in finish(), which the caller runs in a finally block.
        self._file: Replacement | None = None
        self._out: BinaryIO = io.stdout_bytes
        if path:
            with _writing(path):
                self._file = writer.replace(path)
            self._out = self._file.file

    def event(self, ev: StreamEvent) -> None:
        p = ev.payload
        if ev.kind == "speech.audio.delta" and isinstance(p, dict):
            self._write(_b64(str(p.get("audio") or "")))

    def _write(self, chunk: bytes) -> None:
        with _writing(self.path):
            self._out.write(chunk)
        self.total += len(chunk)

    def flush(self) -> None:
        with _writing(self.path):
            self._out.flush()

    def whole(self, resp: httpx.Response) -> int:
        """The server sent the audio itself rather than events."""
        for chunk in resp.iter_bytes():
            self._write(chunk)
        return 0

    def finish(self, ok: bool) -> None:
        """Rename the file into place; a stream that carried no audio is an error."""
        from openai_cli.errors import NothingSaved

        if self._file is None:
            self._out.flush()
        elif ok and self.total:
            with _writing(self.path):
                self._file.commit()
            self.io.message(f"saved {count(self.total, 'byte')} to {self.path}")
            return
        else:
            # A partial (or empty) file must never pass for the whole audio.
            self._file.discard()
        if ok and not self.total:
            raise NothingSaved(
                f"the stream held no audio; nothing was written to {self.path or 'stdout'}"
            )


@contextlib.contextmanager
def _writing(path: str | None) -> Iterator[None]:
    """A file that cannot take the audio is an output error naming it (stdout's own
    failures are main.py's)."""
    from openai_cli.errors import OutputError

    try:
        yield
    except OSError as exc:
        if path is None:
            raise
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


def _b64(text: str) -> bytes:
    from openai_cli.errors import ProtocolError

    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except ValueError:
        raise ProtocolError(f"invalid base64 in a streamed event: {text[:40]!r}") from None
