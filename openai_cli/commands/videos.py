"""Overrides of the video operations: wait for the video, then download it.

``oai videos create|remix|edit|extend ... --wait`` polls the video until it is done
(progress on a terminal, backoff from 1 s to 30 s) and prints its final state;
``-O out.mp4`` also downloads the content when it is ready (and implies
``--wait``). ``oai videos retrieve ID --wait -O out.mp4`` resumes waiting.
A failed video exits 7; ``--timeout`` passing first exits 124 (the video goes on).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from openai_cli.commands.audio import OUTPUT_FILE
from openai_cli.commands.waiters import Kind, WaitOptions
from openai_cli.http.paths import fill
from openai_cli.options import reuse

if TYPE_CHECKING:
    from typer.core import TyperCommand

    from openai_cli.builder import CommandSpec
    from openai_cli.context import Factory
    from openai_cli.operations.request import Call

VIDEO = Kind("video", frozenset({"completed"}), frozenset({"failed"}))
_DOWNLOAD_HELP = (
    "When the video is ready, download it to PATH (implies --wait; - for stdout when piped)."
)


def show(video: dict[str, Any]) -> str:
    """``in_progress 40%``."""
    progress = video.get("progress")
    return f"{video.get('status', '?')}" + (
        f" {progress}%" if isinstance(progress, (int, float)) else ""
    )


@dataclass(frozen=True, kw_only=True)
class VideoOptions(WaitOptions):
    """``--wait``, and ``-O``, which waits as well."""

    output_file: str | None = reuse(OUTPUT_FILE, help=_DOWNLOAD_HELP)

    @property
    def waiting(self) -> bool:
        return self.wait or bool(self.output_file)


@dataclass(frozen=True, kw_only=True)
class DownloadOptions:
    output_file: str | None = reuse(OUTPUT_FILE, help="Write the video (or --variant) to PATH.")


def job(spec: CommandSpec) -> TyperCommand:
    """create, remix, edit, extend and retrieve: ``--wait`` and ``-O``."""
    return spec.command(
        _run,
        options=VideoOptions,
        help_prefix="--wait polls until the video is done and prints its final state; "
        "-O out.mp4 downloads it as well.",
    )


def download(spec: CommandSpec) -> TyperCommand:
    """download-content, with ``-O`` beside ``--output-file`` as on the other commands."""

    def handler(factory: Factory, call: Call, opts: DownloadOptions) -> int:
        from openai_cli.operations.runner import execute

        return execute(factory, call)

    return spec.command(handler, options=DownloadOptions)


def _run(factory: Factory, call: Call, opts: VideoOptions) -> int:
    from openai_cli.commands.waiters import wait_and_print
    from openai_cli.input.outputs import check_outputs
    from openai_cli.operations.request import Answer, Call
    from openai_cli.operations.runner import execute
    from openai_cli.operations.send import answer_object, send

    request, out = call.request, opts.output_file
    # The answer is the video object; the content comes later.
    call = replace(call, answer=replace(call.answer, output_file=None))
    if out == "-" and factory.io.stdout_tty:
        from openai_cli.errors import UsageError

        raise UsageError("-O -: stdout is a terminal; give a file name (or pipe stdout)")
    check_outputs(("--output-file", out))
    if not opts.waiting or factory.shared.dry_run:
        return execute(factory, call)
    client = factory.client(admin=request.admin)
    first = answer_object(send(client, request), f"{request.method} {request.path}")
    ident = first.get("id")
    if not isinstance(ident, str) or "status" not in first:
        factory.renderer().answer(first)
        if out:
            from openai_cli.errors import NothingSaved

            raise NothingSaved(f"the answer names no video status; nothing was written to {out}")
        factory.io.message("oai: the answer names no video status; nothing to wait for")
        return 0
    named = {"id": ident}, {"id": "the video id in the answer"}
    path = fill("/videos/{id}", *named)
    rewait = f"oai videos retrieve {ident} --wait" + (f" -O {shlex.quote(out)}" if out else "")
    # With -O - stdout carries the video's bytes and nothing else.
    wait_and_print(
        factory,
        first,
        request.poll(path),
        VIDEO,
        timeout=opts.timeout,
        rewait=rewait,
        show=show,
        print_final=out != "-",
    )
    if out:
        content = Call(
            request.poll(fill("/videos/{id}/content", *named)),
            Answer(binary=True, output_file=out),
        )
        return execute(factory, content, nothing="video")
    return 0
