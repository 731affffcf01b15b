"""Every override declares its flags as one options class, and its handler is typed by it.

An override's flags are the generated command's plus the fields of its options class,
nothing else; its handler takes a filled-in options object, never the parsed values
as a dict.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest
import respx

from openai_cli.builder import ApiCommand, CommandSpec, NoOptions, build_command
from openai_cli.commands.overrides import OVERRIDES
from openai_cli.commands.streaming import StreamOptions
from openai_cli.commands.waiters import WaitOptions
from openai_cli.errors import UsageError
from openai_cli.operations import catalogue
from openai_cli.operations.model import Operation
from openai_cli.options import specs_of
from tests.helpers import api_env, invoke

COMMANDS = sorted(OVERRIDES)


def find(command: tuple[str, ...]) -> Operation:
    matches = [op for op in catalogue.load(command[0]) if op.command == command]
    assert len(matches) == 1, command
    return matches[0]


def built(command: tuple[str, ...]) -> ApiCommand:
    cmd = build_command(find(command))
    assert isinstance(cmd, ApiCommand)
    return cmd


def untyped(cmd: ApiCommand) -> str | None:
    """Why ``cmd``'s handler does not take its options class, or None when it does."""
    params = list(inspect.signature(cmd.handler).parameters.values())
    if len(params) != 3:
        return f"takes {len(params)} parameters, not (factory, call, opts)"
    annotation = params[2].annotation
    if isinstance(annotation, str):
        # Postponed annotations: the name as the handler's module knows it.
        annotation = eval(annotation, cmd.handler.__globals__)
    if not (isinstance(annotation, type) and dataclasses.is_dataclass(annotation)):
        return f"takes {params[2].name}: {annotation!r}, not an options class"
    if not issubclass(cmd.options_class, annotation):
        return f"takes {annotation.__name__}, but is built with {cmd.options_class.__name__}"
    return None


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_override_handler_takes_its_options_class(command: tuple[str, ...]) -> None:
    cmd = built(command)
    assert untyped(cmd) is None, f"{' '.join(command)}: the handler {untyped(cmd)}"
    assert cmd.options_class is not NoOptions, "an override adds flags of its own"


def _values_handler(factory: Any, call: Any, values: dict[str, Any]) -> int:
    return 0


def _opts_handler(factory: Any, call: Any, opts: StreamOptions) -> int:
    return 0


def dict_override(spec: CommandSpec) -> Any:
    """The bypass the guard is for: the parsed values handed over as a dict."""
    return spec.command(_values_handler, options=NoOptions)  # type: ignore[arg-type]


def mistyped_override(spec: CommandSpec) -> Any:
    return spec.command(_opts_handler, options=NoOptions)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("dict_override", "takes values: dict[str, typing.Any], not an options class"),
        ("mistyped_override", "takes StreamOptions, but is built with NoOptions"),
    ],
)
def test_the_guard_sees_an_override_whose_handler_is_not_typed_by_its_options(
    monkeypatch: pytest.MonkeyPatch, target: str, why: str
) -> None:
    command = ("batches", "retrieve")
    monkeypatch.setitem(OVERRIDES, command, f"{__name__}:{target}")
    assert untyped(built(command)) == why


def _flags(cmd: ApiCommand) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    return [(str(p.name), tuple(p.opts), tuple(p.secondary_opts)) for p in cmd.params]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_an_override_adds_exactly_its_options_class_to_the_generated_flags(
    command: tuple[str, ...],
) -> None:
    override = built(command)
    # Defaults move a field from Required to Common, and so in the help's order.
    generated = CommandSpec(find(command)).command(
        lambda f, c, o: 0, options=NoOptions, defaults=override.spec.defaults
    )
    assert isinstance(generated, ApiCommand)
    own = specs_of(override.options_class)
    names = {"x_" + s.name for s in own}
    before = [f for f in _flags(generated) if not f[0].startswith("shared_")]
    shared = [f for f in _flags(generated) if f[0].startswith("shared_")]
    # A field named like a runner option respells it: the override's flag takes its place.
    expected = [f for f in before if f[0] not in names]
    by_name = {str(p.name): p for p in override.params}
    added = [(n, tuple(by_name[n].opts), tuple(by_name[n].secondary_opts)) for n in sorted(names)]
    assert _flags(override) == expected + sorted(added, key=_order(own)) + shared
    for s in own:
        param: Any = by_name["x_" + s.name]
        assert param.help == s.help, s.name
        # An argument has no flags: its place on the line is its name.
        spelled = ("x_" + s.name,) if s.argument else s.flags
        assert tuple(param.opts) + tuple(param.secondary_opts) == spelled, s.name


def _order(own: list[Any]) -> Any:
    names = ["x_" + s.name for s in own]
    return lambda flag: names.index(flag[0])


WAITING = [c for c in COMMANDS if issubclass(built(c).options_class, WaitOptions)]


@pytest.mark.parametrize("command", WAITING, ids=" ".join)
def test_timeout_without_wait_is_refused_as_the_options_are_read(
    command: tuple[str, ...], unsent: respx.MockRouter
) -> None:
    # Before the request is built: a required field left out does not come first.
    paths = ["x"] * len(find(command).path_params)
    r = invoke(*command, *paths, "--timeout", "5m", env=api_env())
    assert r.code == 2, r
    assert r.err.splitlines()[0] == "oai: --timeout: only applies with --wait", r
    assert not unsent.calls


def test_wait_options_parse_the_timeout_once() -> None:
    assert WaitOptions(wait=True, wait_timeout="2m").timeout == 120
    assert WaitOptions(wait=True).timeout is None
    with pytest.raises(UsageError, match="--timeout: only applies with --wait"):
        WaitOptions(wait_timeout="2m")


def test_a_video_download_waits_so_it_takes_a_timeout() -> None:
    from openai_cli.commands.videos import VideoOptions

    assert VideoOptions(output_file="v.mp4", wait_timeout="1m").timeout == 60
    with pytest.raises(UsageError):
        VideoOptions(wait_timeout="1m")
