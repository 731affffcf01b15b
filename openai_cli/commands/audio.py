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
from dataclasses import replace
from typing import TYPE_CHECKING, Any, BinaryIO

from openai_cli import writer
from openai_cli.api.streams import Sink, StreamEvent
from openai_cli.builder import Default
from openai_cli.commands.streaming import live_or_run
from openai_cli.options import OptionSpec

if TYPE_CHECKING:
    import httpx
    from typer.core import TyperCommand

    from openai_cli.api.request import Call
    from openai_cli.builder import CommandSpec
    from openai_cli.context import Factory
    from openai_cli.io import IO
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


def file_argument(name: str = "x_file_arg", metavar: str = "FILE") -> OptionSpec:
    return OptionSpec(
        name,
        str | None,
        metavar=metavar,
        help="The file to send (same as --file; - for stdin).",
        argument=True,
        show_default=False,
    )


def output_file_option(help: str) -> OptionSpec:
    """``-O/--output-file``: ``-o`` stays the output format, as on every command."""
    return OptionSpec(
        "x_output_file",
        str | None,
        ("-O", "--output-file"),
        metavar="PATH",
        help=help,
        panel=_PANEL,
    )


def move_argument(
    spec: CommandSpec, values: dict[str, Any], arg: str, field: str, *, many: bool = False
) -> None:
    """Put a positional argument's value where the API field's option would have put it."""
    from openai_cli.errors import UsageError

    given = values.pop(arg, None)
    if not given:
        return
    name = spec.param_name(field)
    flag = f"--{field.replace('_', '-')}"
    if many:
        values[name] = [*(values.get(name) or []), *given]
        return
    if values.get(name) is not None:
        raise UsageError(f"{flag}: the file is already given as an argument; give it once")
    values[name] = given


def transcriptions(spec: CommandSpec) -> TyperCommand:
    def prepare(factory: Factory, values: dict[str, Any]) -> None:
        move_argument(spec, values, "x_file_arg", "file")

    def handler(factory: Factory, call: Call, values: dict[str, Any]) -> int:
        return live_or_run(factory, call, markdown=False)

    return spec.command(
        handler,
        extra=[file_argument()],
        prepare=prepare,
        defaults={"model": Default.fixed(TRANSCRIBE_MODEL)},
        help_prefix="Transcribe FILE. With --stream the text is printed as it is recognised "
        "(-o jsonl: the raw events). The model defaults to " + TRANSCRIBE_MODEL + ".",
    )


def translations(spec: CommandSpec) -> TyperCommand:
    def prepare(factory: Factory, values: dict[str, Any]) -> None:
        move_argument(spec, values, "x_file_arg", "file")

    def handler(factory: Factory, call: Call, values: dict[str, Any]) -> int:
        from openai_cli.api.runner import execute

        return execute(factory, call)

    return spec.command(
        handler,
        extra=[file_argument()],
        prepare=prepare,
        defaults={"model": Default.fixed(TRANSLATE_MODEL)},
        help_prefix="Translate the speech in FILE into English text. The model defaults to "
        + TRANSLATE_MODEL
        + ".",
    )


def speech(spec: CommandSpec) -> TyperCommand:
    def prepare(factory: Factory, values: dict[str, Any]) -> None:
        name = spec.param_name("input")
        if values.get(name) == "-":
            from openai_cli.input import reader

            values[name] = reader.read_text(factory.io, "-", reader.SPEECH, what="--input -")
        out = values.get("x_output_file")
        if out and out != "-":
            fmt = SPEECH_FORMATS.get(os.path.splitext(out)[1].lower())
            spec.set_default(values, "response_format", fmt)

    return spec.command(
        _speech,
        extra=[
            output_file_option(
                "Write the audio to PATH as it arrives (stdout when piped); the extension "
                "(.mp3, .wav, .flac, .opus, .aac, .pcm) sets --response-format."
            )
        ],
        prepare=prepare,
        defaults={"model": Default.fixed(SPEECH_MODEL)},
        help_prefix="Speak --input TEXT (- reads it from stdin) into an audio file: "
        "oai audio speech create --input 'Hello' --voice alloy -O hello.mp3. "
        "The model defaults to " + SPEECH_MODEL + ".",
    )


def _speech(factory: Factory, call: Call, values: dict[str, Any]) -> int:
    from openai_cli.api.runner import execute, stream_events
    from openai_cli.errors import UsageError
    from openai_cli.input.outputs import check_outputs

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
            self.io.message(f"saved {self.total} bytes to {self.path}")
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
