"""Command-line options as data, and the one way a command is declared.

An option (or a positional argument) is an :class:`OptionSpec`: its flags, type,
default, help, help panel, metavar, whether it is required, its completion and whether
it is hidden. :func:`parameters` turns specs into the parameters of a function that
Typer builds a command from; nothing else writes ``typer.Option`` for a command.

Generated commands (``builder.py``) make their specs from the catalogue. A
hand-written command is an options class and a run function::

    @dataclass(frozen=True, kw_only=True)
    class VerifyOptions:
        payload: str = argument(default="-", metavar="[PAYLOAD]", help="...")
        quiet: bool = option("--quiet", "-q", default=False, help="...")

    def verify(factory: Factory, opts: VerifyOptions) -> int | None: ...

    add_command(app, "verify", VerifyOptions, verify, help="...", shared=())

The fields of the class are the options, in help order; :func:`command` and
:func:`add_command` give the run function the factory and the parsed options. The
shared options below (``-o``, ``--query``, ``-i``, ``--debug``, ``--dry-run``,
``-v``) are added to every command that takes them, and applied to the factory
before the run function is called.

The root callback takes the shared options before the command (``oai -o json files
list``) and every command after it (``oai files list -o json``). A command whose API
has a field of the same name (``--query`` on vector store search, ``--include`` on
responses) keeps the API's meaning; the root copy stays available.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, get_args, get_origin, get_type_hints

import typer

from openai_cli.config.settings_table import SettingsTable
from openai_cli.errors import UsageError
from openai_cli.formats import OUTPUT_FORMATS
from openai_cli.io import IO
from openai_cli.lazy import command_from

if TYPE_CHECKING:
    from typer.core import TyperCommand

    from openai_cli.context import Factory

__all__ = ["OUTPUT_FORMATS"]

PANEL_OUTPUT = "Output and debugging"
_SPEC = "oai_option"

T = TypeVar("T")


# -- options as data --------------------------------------------------------------------


@dataclass(frozen=True)
class OptionSpec:
    """One option or positional argument of a command."""

    name: str  # the keyword its value arrives under
    type: Any  # the annotation: ``str | None``, ``bool``, ``list[str] | None``, ...
    flags: tuple[str, ...] = ()  # ``("-o", "--output")``; none for an argument
    default: Any = None
    help: str | None = None
    panel: str | None = None  # the help panel it is listed under
    metavar: str | None = None
    required: bool = False  # no default: Typer asks for it
    # Values, or (value, description) pairs for the shells that show descriptions.
    completion: Callable[..., list[Any]] | None = None
    hidden: bool = False
    argument: bool = False  # positional
    show_default: bool = True
    # Run as soon as the option is parsed, before the others (the root's --version).
    callback: Callable[..., Any] | None = None
    eager: bool = False


# Metavars in one style, as the generated commands write them (TEXT, INTEGER, ...);
# Typer would show ``<str>`` for an optional text option.
_METAVARS: dict[Any, str] = {str: "TEXT", int: "INTEGER", float: "NUMBER", Path: "PATH"}


def _metavar(spec: OptionSpec) -> str | None:
    if spec.metavar is not None or spec.argument:
        return spec.metavar
    kinds = [k for k in get_args(spec.type) or (spec.type,) if k is not type(None)]
    kinds = [get_args(k)[0] if get_origin(k) is list else k for k in kinds]
    return _METAVARS.get(kinds[0]) if len(kinds) == 1 else None


def parameter(spec: OptionSpec) -> inspect.Parameter:
    """The function parameter Typer reads ``spec`` from."""
    P = inspect.Parameter
    extra: dict[str, Any] = {}
    if spec.completion is not None:
        extra["autocompletion"] = spec.completion
    if spec.hidden:
        extra["hidden"] = True
    if not spec.show_default:
        extra["show_default"] = False
    if spec.callback is not None:
        extra["callback"] = spec.callback
    if spec.eager:
        extra["is_eager"] = True
    if spec.argument:
        info: Any = typer.Argument(metavar=spec.metavar, help=spec.help, **extra)
    else:
        info = typer.Option(
            *spec.flags,
            help=spec.help,
            metavar=_metavar(spec),
            rich_help_panel=spec.panel,
            **extra,
        )
    # Keyword-only, arguments too: Typer passes every value by name, and a required
    # argument may then follow options with defaults.
    return P(
        spec.name,
        P.KEYWORD_ONLY,
        default=P.empty if spec.required else spec.default,
        annotation=Annotated[spec.type, info],
    )


def parameters(specs: Iterable[OptionSpec]) -> list[inspect.Parameter]:
    return [parameter(s) for s in specs]


def signature(params: Iterable[inspect.Parameter]) -> inspect.Signature:
    """What Typer builds a command from: the Click context, then ``params``."""
    P = inspect.Parameter
    return inspect.Signature([P("ctx", P.POSITIONAL_OR_KEYWORD, annotation=typer.Context), *params])


def option(
    *flags: str,
    default: Any = None,
    help: str | None = None,
    panel: str | None = None,
    metavar: str | None = None,
    required: bool = False,
    completion: Callable[..., list[Any]] | None = None,
    hidden: bool = False,
    show_default: bool = True,
) -> Any:
    """A field of an options class that is an option; its name and type are the field's."""
    spec = OptionSpec(
        "",
        None,
        flags,
        default,
        help,
        panel,
        metavar,
        required,
        completion,
        hidden,
        show_default=show_default,
    )
    if required:
        return field(metadata={_SPEC: spec})
    return field(default=default, metadata={_SPEC: spec})


def argument(
    *,
    default: Any = MISSING,
    help: str | None = None,
    metavar: str | None = None,
    completion: Callable[..., list[Any]] | None = None,
    hidden: bool = False,
    show_default: bool = True,
) -> Any:
    """A field of an options class that is a positional argument (required without default)."""
    required = default is MISSING
    spec = OptionSpec(
        "",
        None,
        (),
        None if required else default,
        help,
        None,
        metavar,
        required,
        completion,
        hidden,
        argument=True,
        show_default=show_default,
    )
    if required:
        return field(metadata={_SPEC: spec})
    return field(default=default, metadata={_SPEC: spec})


def reuse(spec: OptionSpec, **changes: Any) -> Any:
    """A field of an options class declared by a spec several commands use."""
    spec = replace(spec, **changes)
    if spec.required:
        return field(metadata={_SPEC: spec})
    return field(default=spec.default, metadata={_SPEC: spec})


def specs_of(options: type[Any]) -> list[OptionSpec]:
    """The options of an options class, in field order."""
    # The annotations are strings under postponed evaluation; Typer needs the types.
    hints = get_type_hints(options)
    return [
        replace(f.metadata[_SPEC], name=f.name, type=hints[f.name])
        for f in fields(options)
        if _SPEC in f.metadata
    ]


# -- the shared options -------------------------------------------------------------------

# Skips the offline check of request bodies against the API's schemas (operations/schemas):
# generated commands (with --dry-run), `batches run` and `map` take it.
NO_VALIDATE = OptionSpec(
    "no_validate",
    bool,
    ("--no-validate",),
    default=False,
    help="Do not check request bodies against the API's schemas (a server that takes more).",
)


@dataclass(frozen=True)
class SharedOptions:
    output: str | None = None
    query: str | None = None
    debug: bool | None = None
    include: bool | None = None
    dry_run: bool | None = None
    verbose: bool | None = None

    def merged(self, other: SharedOptions) -> SharedOptions:
        """``other`` wins where it was given (the option nearer to the command)."""
        given = {f.name: getattr(other, f.name) for f in fields(other)}
        return replace(self, **{k: v for k, v in given.items() if v is not None})


def complete_profile(ctx: typer.Context, incomplete: str) -> list[str]:
    """Profile names for every ``--profile`` and profile argument, from the config file
    (never the keyring; read on TAB only)."""
    from openai_cli import tab

    env: Mapping[str, str] = getattr(getattr(ctx.obj, "io", None), "env", None) or os.environ
    return tab.profile_names(env, incomplete)


complete_profile.tab_source = ("profile",)  # type: ignore[attr-defined]


# The settings that decide whose IDs a TAB offers.
_CONNECTION = ("profile", "base_url")


def complete_ids(
    kind: str, known: Callable[[], Sequence[str]] | Sequence[str] = ()
) -> Callable[..., list[tuple[str, str]]]:
    """The IDs of ``kind`` this profile has seen, for an ID parameter.

    With none seen, ``known`` (the spec's model names; a function to read them only
    on TAB).
    """

    def complete(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
        from openai_cli import tab

        root = ctx.find_root()
        factory = root.obj
        # As the index's path reads the line: the root's --profile and --base-url, then
        # their copies after the command (later, so they win), as typed; a value that
        # does not parse is tabsettings' to resolve, as there.
        given = {**root.params, **factory.typed_after}
        typed = {k: v for k in _CONNECTION if isinstance(v := given.get(k), str)}
        return tab.seen_ids(factory.io, typed, kind, incomplete, known)

    # Where tab.py, which answers without building the command, finds them.
    complete.tab_source = ("ids", kind, known)  # type: ignore[attr-defined]
    return complete


def _completer(formats: Sequence[str]) -> Callable[[str], list[str]]:
    def complete(incomplete: str) -> list[str]:
        return [f for f in formats if f.startswith(incomplete)]

    return complete


_complete_output = _completer(OUTPUT_FORMATS)


_SHARED = (
    # The setting's row says what -o is; this is where every command takes it.
    OptionSpec(
        "output",
        str | None,
        SettingsTable.output.flags,
        help=SettingsTable.output.help + ".",
        metavar=SettingsTable.output.metavar,
        completion=_complete_output,
    ),
    OptionSpec(
        "query",
        str | None,
        ("--query",),
        help="JMESPath expression applied to the answer before printing.",
        metavar="JMESPATH",
    ),
    OptionSpec(
        "include",
        bool | None,
        ("-i", "--include"),
        help="Print the HTTP status and useful response headers on stderr.",
    ),
    OptionSpec(
        "debug",
        bool | None,
        ("--debug",),
        help="Log each request and response on stderr (keys masked); show tracebacks.",
    ),
    OptionSpec(
        "dry_run",
        bool | None,
        ("--dry-run",),
        help="Print the request (and a curl command) instead of sending it.",
    ),
    OptionSpec(
        "verbose",
        bool | None,
        ("-v", "--verbose"),
        help="Say more on stderr (usage, request ids).",
    ),
)
SHARED = tuple(c.name for c in _SHARED)
# What a command that sends nothing but prints data takes.
PRINTING = ("output", "query")
# What a command that sends requests but prints no data of its own would take.
SENDING = ("include", "debug", "dry_run", "verbose")
# Why a command leaves out a shared option, for the error when one is given anyway.
# --debug is never refused: it shows the traceback of any command.
_UNUSED = {
    "output": "its output has no other form",
    "query": "it prints no JSON data to query",
    "include": "it sends no request",
    "dry_run": "it sends no request",
    "verbose": "it sends no request",
}


def shared_parameters(
    taken: frozenset[str] = frozenset(),
    only: Sequence[str] = SHARED,
    formats: Sequence[str] = OUTPUT_FORMATS,
) -> list[inspect.Parameter]:
    """Keyword parameters for the shared options in ``only``, without the flags in ``taken``.

    ``taken`` holds the flags an API field already uses; the API keeps its name and
    the shared option keeps whatever spelling is still free (``-i`` without
    ``--include``), or is left to the root copy. ``-o`` offers ``formats``.
    """
    out = []
    for c in _SHARED:
        free = [f for f in c.flags if f not in taken]
        if c.name not in only or not free:
            continue
        if c.name == "output" and tuple(formats) != OUTPUT_FORMATS:
            c = replace(
                c, help="Output format: " + ", ".join(formats) + ".", completion=_completer(formats)
            )
        if c.type is bool | None and not any(f.startswith("--") for f in free):
            # A bool option needs a long name for Typer to build it as a flag.
            free = [*free, f"--{c.name.replace('_', '-')}-opt"]
        out.append(
            parameter(replace(c, name=f"shared_{c.name}", flags=tuple(free), panel=PANEL_OUTPUT))
        )
    return out


def pop_shared(kwargs: dict[str, Any]) -> SharedOptions:
    """Take the shared options out of a command's keyword arguments."""
    return SharedOptions(**{c.name: kwargs.pop(f"shared_{c.name}", None) for c in _SHARED})


def refuse_unused(
    given: SharedOptions, command: str, shared: Sequence[str], formats: Sequence[str]
) -> None:
    """A shared option the command does not take, or a format it does not print in, is an
    error rather than ignored.

    ``given`` holds what the command line said, before or after the command (the
    root's hidden copies accept every shared option anywhere).
    """
    for c in _SHARED:
        if c.name in _UNUSED and c.name not in shared and getattr(given, c.name) is not None:
            raise UsageError(
                f"{'/'.join(c.flags)} does not apply to `{command}`: {_UNUSED[c.name]}",
                hint=f"`{command} --help` lists its options",
            )
    fmt = given.output
    if "output" in shared and fmt in OUTPUT_FORMATS and fmt not in formats:
        raise UsageError(
            f"-o {fmt}: `{command}` does not print in that format; choose from {', '.join(formats)}"
        )


# -- commands -------------------------------------------------------------------------------


def factory_of(ctx: typer.Context) -> Factory:
    """The root's factory (each context inherits its parent's ``obj``); a command run on
    its own, not under ``oai``, gets one of its own."""
    if ctx.obj is None:
        from openai_cli.context import Factory

        ctx.obj = Factory(IO.system())
    factory: Factory = ctx.obj
    return factory


Run = Callable[["Factory", T], "int | None"]


def callback(
    options: type[T],
    run: Run[T],
    shared: Sequence[str] = SHARED,
    example: str | Sequence[str] = (),
    formats: Sequence[str] = OUTPUT_FORMATS,
) -> Callable[..., None]:
    """The function Typer calls: parses into ``options``, applies the shared ones, runs.

    ``example`` (one command line or several) is shown under the help and run by the
    tests against the mock server; Typer keeps it on the command's callback.
    """

    def invoke(ctx: typer.Context, **kwargs: Any) -> None:
        factory = factory_of(ctx)
        if shared:
            factory.use(pop_shared(kwargs))
        refuse_unused(factory.shared, ctx.command_path, shared, formats)
        factory.formats = tuple(formats)
        raise typer.Exit(run(factory, options(**kwargs)) or 0)

    invoke.__signature__ = signature(  # type: ignore[attr-defined]
        [*parameters(specs_of(options)), *shared_parameters(only=shared, formats=formats)]
    )
    invoke.example = example  # type: ignore[attr-defined]
    return invoke


def command(
    name: str,
    options: type[T],
    run: Run[T],
    *,
    help: str | None = None,
    short_help: str | None = None,
    shared: Sequence[str] = SHARED,
    example: str | Sequence[str] = (),
    formats: Sequence[str] = OUTPUT_FORMATS,
) -> TyperCommand:
    """A command on its own (a loader's answer): ``run(factory, options)``.

    The help is ``run``'s docstring unless given. ``shared`` names the shared options
    it takes, ``formats`` the ``-o`` formats it prints in; the others are refused.
    """
    return command_from(
        callback(options, run, shared, example=example, formats=formats),
        name,
        help=help or inspect.getdoc(run),
        short_help=short_help,
    )


def add_command(
    app: typer.Typer,
    name: str,
    options: type[T],
    run: Run[T],
    *,
    help: str | None = None,
    short_help: str | None = None,
    shared: Sequence[str] = SHARED,
    example: str | Sequence[str] = (),
    formats: Sequence[str] = OUTPUT_FORMATS,
) -> None:
    """The same, as a command of the Typer app ``app`` (a group of hand-written commands)."""
    app.command(name, help=help or inspect.getdoc(run), short_help=short_help)(
        callback(options, run, shared, example=example, formats=formats)
    )
