"""Overrides of the operations that stream text: answers print live with ``--stream``.

``oai responses create``, ``oai chat completions create``, ``oai completions create``
and the assistants runs keep every generated flag. With ``--stream`` and the default
format they print the answer's text as it arrives (``--markdown`` renders it on a
terminal); ``-o jsonl`` prints the raw events, as ``oai api ... --stream`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from openai_cli.builder import Default
from openai_cli.commands.waiters import WaitOptions
from openai_cli.errors import UsageError
from openai_cli.options import OptionSpec, reuse

if TYPE_CHECKING:
    from typer.core import TyperCommand

    from openai_cli.builder import CommandSpec
    from openai_cli.context import Factory
    from openai_cli.operations.request import Call, Request
    from openai_cli.render.live import LiveText

_PANEL = "Request"
LIVE_HELP = (
    "With --stream, the answer's text is printed as it arrives (plain text when piped, "
    "Markdown on a terminal with --markdown); -o jsonl prints the raw events instead. "
    "-v adds the request id and token usage on stderr."
)

# --model of the commands that answer with text (--default-model sets it).
PROFILE_MODEL = Default("the profile's model", lambda factory: factory.settings().model.value)

# For every command that prints an answer's text live.
MARKDOWN = OptionSpec(
    "x_markdown",
    bool | None,
    ("--markdown",),
    help="On a terminal, render the answer as Markdown as it arrives.",
    panel=_PANEL,
)


@dataclass(frozen=True, kw_only=True)
class StreamOptions:
    markdown: bool = reuse(MARKDOWN, default=False)


@dataclass(frozen=True, kw_only=True)
class StreamWaitOptions(WaitOptions, StreamOptions):
    """``responses create``: --markdown, then --wait for a ``--background`` response."""


def live_or_run(factory: Factory, call: Call, *, markdown: bool) -> int:
    """Print a stream's text live when that is what the output format asks for."""
    from openai_cli.operations.runner import execute
    from openai_cli.render.live import live_wanted

    live = call.request.stream and live_wanted(factory)
    if live and factory.shared.verbose:
        call = replace(call, request=ask_for_usage(call.request))
    if not live or factory.shared.dry_run:
        return execute(factory, call)
    stream_text(factory, call.request, markdown=markdown)
    return 0


def stream_text(factory: Factory, req: Request, *, markdown: bool = False) -> LiveText:
    """Send ``req`` (a streaming request) and print its text live; returns the sink."""
    from openai_cli.operations.runner import stream_events
    from openai_cli.render.live import LiveText, print_answer_text

    sink = LiveText(factory.io, markdown=markdown, verbose=bool(factory.shared.verbose))
    stream_events(factory, req, sink, lambda resp: print_answer_text(factory, resp, sink))
    return sink


# Chat and completions streams carry token usage only when asked for it.
_USAGE_ON_REQUEST = frozenset({"/chat/completions", "/completions"})


def ask_for_usage(request: Request) -> Request:
    """``request`` asking a chat or completions stream for its usage, so ``-v`` can show it.

    A choice the user made about ``stream_options.include_usage`` stands.
    """
    body = request.body
    if request.path not in _USAGE_ON_REQUEST or not isinstance(body, dict):
        return request
    options = body.get("stream_options")
    if options is None:
        options = {}
    elif not isinstance(options, dict) or "include_usage" in options:
        return request
    return replace(request, body={**body, "stream_options": {**options, "include_usage": True}})


def _handler(factory: Factory, call: Call, opts: StreamOptions) -> int:
    return live_or_run(factory, call, markdown=opts.markdown)


def text_stream(spec: CommandSpec) -> TyperCommand:
    """Override for an operation whose stream carries answer text."""
    return spec.command(_handler, options=StreamOptions, help_prefix=LIVE_HELP)


def model_text_stream(spec: CommandSpec) -> TyperCommand:
    """Like :func:`text_stream`, and the model defaults to the profile's.

    Only for the operations a profile's text model suits (Responses, chat): an
    assistant's run keeps the assistant's own model. ``responses create`` also takes
    ``--wait``, for a response started with ``--background``.
    """
    from openai_cli.commands import waiters

    def wait_handler(factory: Factory, call: Call, opts: StreamWaitOptions) -> int:
        if opts.wait and call.request.stream:
            raise UsageError("--wait: not with --stream, which already follows the answer")
        if opts.wait:
            return waiters.run_or_wait(factory, call, opts, spec)
        return _handler(factory, call, opts)

    help_prefix = LIVE_HELP + " The model defaults to the profile's (--default-model)."
    defaults = {"model": PROFILE_MODEL}
    if spec.op.command == ("responses", "create"):
        return spec.command(
            wait_handler,
            options=StreamWaitOptions,
            help_prefix=help_prefix + " With --background, --wait polls until the response ends.",
            defaults=defaults,
        )
    return spec.command(_handler, options=StreamOptions, help_prefix=help_prefix, defaults=defaults)
