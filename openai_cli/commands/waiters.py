"""``--wait`` on the operations that start asynchronous work, and on their retrieve.

``oai batches create ... --wait`` sends the create, then polls the object until it
reaches a final status and prints that final state (not the first answer). The
exit code is the job's: 0 when it succeeded, 7 when it failed, was cancelled or
expired, 124 when ``--timeout`` passed first (the job goes on). The same flags on
``retrieve`` wait for an existing job, which is how waiting is resumed.

``--timeout`` here is how long to wait; the HTTP timeout of each request stays
the root option (``oai --timeout 30 batches create ...``). ``--wait-timeout`` is
the same option under an unambiguous name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

# The kinds of job --wait knows live with the registry, which derives its entries
# from them without importing this module.
from openai_cli.commands.overrides import KINDS as KINDS
from openai_cli.commands.overrides import Kind as Kind
from openai_cli.errors import UsageError
from openai_cli.http.paths import fill
from openai_cli.options import OptionSpec, reuse

if TYPE_CHECKING:
    from typer.core import TyperCommand

    from openai_cli.builder import CommandSpec
    from openai_cli.context import Factory
    from openai_cli.operations.request import Call, Request

_PANEL = "Waiting"


WAIT = OptionSpec(
    "wait",
    bool | None,
    ("--wait",),
    help="Wait until the job ends and print its final state; exit 7 if it "
    "failed, was cancelled or expired.",
    panel=_PANEL,
)
WAIT_TIMEOUT = OptionSpec(
    "wait_timeout",
    str | None,
    ("--timeout", "--wait-timeout"),
    metavar="DURATION",
    help="With --wait: stop waiting after this long (90s, 10m, 2h); exit 124, "
    "the job goes on. The HTTP timeout is `oai --timeout N ...`.",
    panel=_PANEL,
)


def timeout_seconds(wait: bool, text: str | None) -> float | None:
    """``--timeout`` in seconds; an error when it is given without waiting."""
    from openai_cli.operations.wait import parse_duration

    if text is not None and not wait:
        raise UsageError(
            "--timeout: only applies with --wait",
            hint="for the HTTP timeout of each request, put it before the command: "
            "oai --timeout SECONDS ...",
        )
    return None if text is None else parse_duration(text, flag="--timeout")


@dataclass(frozen=True, kw_only=True)
class WaitOptions:
    """``--wait`` and its ``--timeout``, checked as they are parsed."""

    wait: bool = reuse(WAIT, default=False)
    wait_timeout: str | None = reuse(WAIT_TIMEOUT)
    # No flag: --timeout in seconds, from wait_timeout.
    timeout: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "timeout", timeout_seconds(self.waiting, self.wait_timeout))

    @property
    def waiting(self) -> bool:
        """Whether the command waits for the job to end."""
        return self.wait


def build(spec: CommandSpec) -> TyperCommand:
    def handler(factory: Factory, call: Call, opts: WaitOptions) -> int:
        return run_or_wait(factory, call, opts, spec)

    return spec.command(handler, options=WaitOptions)


def run_or_wait(factory: Factory, call: Call, opts: WaitOptions, spec: CommandSpec) -> int:
    """The ``--wait`` path of ``spec``'s command; ``execute`` when not waiting."""
    command = spec.op.command
    template = spec.op.path if command[-1] != "create" else spec.op.path + "/{id}"
    return _run(factory, call, opts, KINDS[command[:-1]], command, template)


def _run(
    factory: Factory,
    call: Call,
    opts: WaitOptions,
    kind: Kind,
    command: tuple[str, ...],
    template: str,
) -> int:
    from openai_cli.operations.runner import execute
    from openai_cli.operations.send import answer_object, send

    if not opts.waiting or factory.shared.dry_run:
        return execute(factory, call)
    request = call.request
    # The polls are the command's own request: one that asks for events would get them.
    if request.stream or request.query.get("stream") is True:
        raise UsageError("--wait: not with --stream, which already follows the answer")
    client = factory.client(admin=request.admin)
    first = answer_object(send(client, request), command[-1])
    ident = first.get("id")
    if not isinstance(ident, str) or "status" not in first:
        factory.io.message("oai: the answer names no job status; nothing to wait for")
        factory.renderer().answer(first)
        return 0
    poll = poll_of(request, None if command[-1] != "create" else ident)
    rewait = " ".join(
        ["oai", *command[:-1], "retrieve", *_path_values(template, poll.path), "--wait"]
    )
    wait_and_print(factory, first, poll, kind, timeout=opts.timeout, rewait=rewait)
    return 0


def poll_of(request: Request, created: str | None = None) -> Request:
    """The ``GET`` that polls what ``request`` started or retrieved.

    It is the command's own request, so a poll carries the same query (``--include``)
    and headers as the command; after a create, the path gains the new object's id.
    """
    if created is None:
        return request.poll(request.path)
    return request.poll(
        fill(request.path + "/{id}", {"id": created}, {"id": "the id in the answer"})
    )


def wait_and_print(
    factory: Factory,
    first: dict[str, Any],
    poll: Request,
    kind: Kind,
    *,
    timeout: float | None,
    rewait: str,
    show: Callable[[dict[str, Any]], str] | None = None,
    print_final: bool = True,
) -> dict[str, Any]:
    """Send ``poll`` from the state ``first`` until the job ends; print the last state.

    The state is printed whatever the outcome, so a failed or timed-out job still
    shows what the API said last; the failure then travels as its exception.
    """
    from openai_cli.operations.send import answer_object, send
    from openai_cli.operations.wait import WaitFailed, WaitTimedOut, describe, wait_for

    client = factory.client(admin=poll.admin)
    renderer = factory.renderer()
    what = f"{poll.method} {poll.path}"
    try:
        final = wait_for(
            lambda: answer_object(send(client, poll), what),
            done=kind.done,
            failed=kind.failed,
            io=factory.io,
            timeout=timeout,
            what=kind.what,
            first=first,
            rewait=rewait,
            show=show or describe,
        )
    except WaitFailed as exc:
        renderer.answer(exc.final)
        raise
    except WaitTimedOut as exc:
        renderer.answer(exc.last)
        raise
    if print_final:
        renderer.answer(final)
    return final


def _path_values(template: str, path: str) -> list[str]:
    """The values of ``template``'s ``{params}`` in ``path``, in order."""
    out = []
    for t, p in zip(template.strip("/").split("/"), path.strip("/").split("/"), strict=False):
        if t.startswith("{") and t.endswith("}"):
            out.append(unquote(p))
    return out
