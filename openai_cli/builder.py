"""Builds Typer commands from the catalogue, one group or command at a time.

Each operation becomes a command whose arguments are the path parameters and whose
options are the query, header and body fields, named as the API names them. The
command only parses: it turns its arguments into a :class:`Request` and hands it to
the runner (or to a hand-written override registered in ``commands.overrides``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import typer

from openai_cli.idcache import param_kind
from openai_cli.input.times import is_unix_time
from openai_cli.lazy import LazyGroup, Loader, PlainUsageCommand, command_from
from openai_cli.options import (
    NO_VALIDATE,
    PANEL_OUTPUT,
    OptionSpec,
    complete_ids,
    factory_of,
    parameters,
    pop_shared,
    shared_parameters,
    signature,
    specs_of,
)
from openai_cli.textfmt import count
from openai_cli.typer_compat import TyperCommand

if TYPE_CHECKING:
    from openai_cli.context import Factory
    from openai_cli.operations.model import Operation, Param
    from openai_cli.operations.request import Call

_SCALARS: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool}
# Help panels, listed in this order: what must be given, what most people give, then the
# rest of the API's fields by where they go, then the runner's own options.
_PANEL_REQUIRED = "Required"
_PANEL_COMMON = "Common"
_PANEL_PLACES = {"body": "Body fields", "query": "Query parameters", "headers": "Headers"}
_PANEL_INPUT = "Request"
# The flags people reach for first, whatever the command.
_COMMON_FLAGS = (
    "--model",
    "--input",
    "--messages",
    "--prompt",
    "--instructions",
    "--file",
    "--purpose",
    "--name",
    "--stream",
    "--limit",
)


def group_loader(top: str) -> Loader:
    def load() -> CatalogueGroup:
        from openai_cli.operations.catalogue import load as load_ops

        return CatalogueGroup(top, (top,), load_ops(top))

    return load


class CatalogueGroup(LazyGroup):
    """One node of the command tree, e.g. ``oai fine-tuning jobs``."""

    def __init__(self, name: str, prefix: tuple[str, ...], ops: Sequence[Operation]) -> None:
        paths = sorted({_common_path(o) for o in ops if o.command[: len(prefix)] == prefix})
        super().__init__(
            name=name,
            help=f"Operations under {', '.join(paths[:3])}{' ...' if len(paths) > 3 else ''}.",
            no_args_is_help=True,
            rich_markup_mode=None,
        )
        self.prefix = prefix
        self._help_loaded = False
        children: dict[str, list[Operation]] = {}
        leaves: dict[str, Operation] = {}
        depth = len(prefix)
        for op in ops:
            cmd = op.command
            if cmd[:depth] != prefix or len(cmd) == depth:
                continue
            word = cmd[depth]
            if len(cmd) == depth + 1:
                leaves[word] = op
            else:
                children.setdefault(word, []).append(op)
        for word in sorted(set(children) | set(leaves)):
            if word in leaves:
                op = leaves[word]
                self.add_lazy(word, _command_loader(op), _short_help(op))
            else:
                sub = children[word]
                self.add_lazy(word, _group_loader(word, (*prefix, word), sub), _group_help(sub))
        from openai_cli.commands.overrides import extra_commands

        for word, (loader, help_text) in extra_commands(prefix).items():
            self.add_lazy(word, loader, help_text)

    def load_help(self) -> None:
        """Our summaries for this group and its listing, read only when help is shown."""
        if self._help_loaded:
            return
        self._help_loaded = True
        from openai_cli.operations.help import summary

        self.help = summary(self.prefix) or self.help
        for word, (loader, short) in list(self.lazy.items()):
            self.lazy[word] = (loader, summary((*self.prefix, word)) or short)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.load_help()
        super().format_help(ctx, formatter)

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        self.load_help()
        return super().shell_complete(ctx, incomplete)


def _group_loader(word: str, prefix: tuple[str, ...], ops: Sequence[Operation]) -> Loader:
    return lambda: CatalogueGroup(word, prefix, ops)


def _command_loader(op: Operation) -> Loader:
    return lambda: build_command(op)


def _common_path(op: Operation) -> str:
    return op.path.split("/{")[0] or "/"


def _short_help(op: Operation) -> str:
    # The fixed query is part of the operation: GET /responses/{id}?beta=true is another one.
    return f"{op.method} {op.full_path}"


def _group_help(ops: list[Operation]) -> str:
    verbs = sorted({o.command[-1] for o in ops})
    return f"{count(len(ops), 'operation')} under {_common_path(ops[0])}" + (
        f" ({', '.join(verbs[:4])}{', ...' if len(verbs) > 4 else ''})" if len(verbs) > 1 else ""
    )


# -- commands ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Default:
    """What the CLI puts in an API field the user left out (no flag, no --body or -F).

    Such a field is never listed as required, and its help names the default.
    """

    shown: str  # in the flag's help: ``[default: shown]``
    value: Callable[[Any], Any]  # the factory -> the value, or None for none after all

    @classmethod
    def fixed(cls, value: Any) -> Default:
        return cls(str(value), lambda factory: value)


def _body_given(values: Mapping[str, Any]) -> bool:
    """True when --body, -F or -f may carry any field, so defaults must not overrule them."""
    return bool(values.get("x_body") or values.get("x_fields") or values.get("x_raw_fields"))


Opts = TypeVar("Opts")  # an override's options class

# The options an override adds arrive under this prefix, apart from the API's fields
# (``api_N``), the path parameters (``path_``) and the shared options (``common_``);
# the runner's own options share it, so an override's field can respell one.
_OWN = "x_"


@dataclass(frozen=True, kw_only=True)
class NoOptions:
    """The options of a command that adds none to the operation's."""


class Fields:
    """The API fields as the command line gave them, for an override's ``prepare``."""

    def __init__(self, spec: CommandSpec, values: Mapping[str, Any]) -> None:
        self._spec = spec
        self._values = values

    def has(self, field: str) -> bool:
        """Whether the operation has the field ``field`` at all."""
        return any(p.name == field for _, _, p in self._spec.params)

    def get(self, field: str) -> Any:
        """The value its flag gave (None when not given); KeyError for no such field."""
        return self._values.get(self._spec.param_name(field))

    @property
    def body_given(self) -> bool:
        """--body, -F or -f was given, and may hold any field."""
        return _body_given(self._values)

    def unset(self, field: str) -> bool:
        """The user gave ``field`` in no way: neither its flag nor --body, -F or -f."""
        return not self.body_given and self.get(field) in (None, [])


@dataclass(frozen=True)
class Prepared(Generic[Opts]):
    """What an override's ``prepare`` changes before the request is built."""

    # API field -> its value from now on (a positional FILE becoming ``file``).
    fields: Mapping[str, Any] = field(default_factory=dict)
    # The override's options, when it derived one of them (the path to upload).
    options: Opts | None = None


def _facts(p: Param, default: Default | None = None) -> str:
    """What the spec says about a field, in one bracket: ``[0..2; default: 1]``.

    ``default`` is the CLI's own, which is what happens when the field is left out.
    """
    parts = []
    if p.type == "string_or_json":
        parts.append(p.shape or "text or JSON")
    elif p.is_file:
        parts.append("path, - for stdin")
    if p.type == "array":
        parts.append("repeatable")
    if is_unix_time(p.name, p.type):
        # Converted in values.py; the spec knows only the integer.
        parts.append("Unix seconds, or a date: 2026-11-01 or 2026-11-01T12:00:00Z")
    elif p.unit:
        parts.append(p.unit)
    if p.minimum is not None or p.maximum is not None:
        low = "" if p.minimum is None else _number(p.minimum)
        high = "" if p.maximum is None else _number(p.maximum)
        parts.append(f"{low}..{high}" if low and high else f">= {low}" if low else f"<= {high}")
    if p.enum:
        shown = ", ".join(str(e) for e in p.enum[:8]) + (", ..." if len(p.enum) > 8 else "")
        if p.type == "string_or_json" and not p.open_enum:
            parts[0] = f"one of: {shown}; anything else is read as JSON"
        else:
            parts.append(("e.g. " if p.open_enum else "one of: ") + shown)
    if default is not None:
        parts.append(f"default: {default.shown}")
    elif p.default is not None:
        shown = str(p.default).lower() if isinstance(p.default, bool) else str(p.default)
        parts.append(f"default: {shown}")
    if p.shape and p.type == "json":
        parts.append(p.shape)
    if p.deprecated:
        parts.append("deprecated")
    return f"[{'; '.join(parts)}]" if parts else ""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _param_help(command: tuple[str, ...], p: Param, default: Default | None = None) -> str:
    from openai_cli.operations.help import flag_help

    words = flag_help(command, p.flag.removeprefix("--")) or ""
    return " ".join(part for part in (words, _facts(p, default)) if part)


def _metavar(p: Param) -> str:
    t: str = p.type
    if t == "array":
        t = p.items or "string"
    return {
        "string": "TEXT",
        "integer": "INTEGER",
        "number": "NUMBER",
        "boolean": "BOOL",
        "json": "JSON",
        "string_or_json": "TEXT|JSON",
        "file": "PATH",
    }.get(t, "TEXT")


def _completer(enum: tuple[Any, ...]) -> Callable[[str], list[str]]:
    values = [str(e) for e in enum]
    return lambda incomplete: [v for v in values if v.startswith(incomplete)]


def _api_option(name: str, p: Param, panel: str) -> OptionSpec:
    # The help is filled in when it is shown (ApiCommand.load_help), so running a
    # command never reads the help files.
    t = p.type
    flags: tuple[str, ...] = (p.flag,)
    metavar: str | None = "TIME" if is_unix_time(p.name, t) else _metavar(p)
    if t == "boolean":
        kind: Any = bool
        flags, metavar = (f"{p.flag}/--no-{p.flag[2:]}",), None
    elif t == "array":
        item = _SCALARS.get(p.items or "string", str)
        kind = list[str] if item is bool else list[item]  # type: ignore[valid-type]
    else:
        # A Unix time also takes a date, converted in values.py.
        kind = str if is_unix_time(p.name, t) else _SCALARS.get(t, str)
    return OptionSpec(
        name,
        kind | None,
        flags,
        panel=panel,
        metavar=metavar,
        completion=_completion(p),
    )


def _path_completion(name: str, path: str) -> Callable[..., list[Any]] | None:
    kind = param_kind(name, path)
    return complete_ids(kind) if kind else None


def _completion(p: Param) -> Callable[..., list[Any]] | None:
    kind = param_kind(p.name) if p.type in ("string", "array") and not p.is_file else None
    if kind is not None:
        # IDs this profile has seen; a model field falls back on the spec's names.
        return complete_ids(kind, tuple(str(e) for e in p.enum or ()))
    return _completer(p.enum) if p.enum else None


# The runner's own options, and when an operation has each. An API field with the same
# long flag keeps it, and the runner's option is left out.
_RUNNER_OPTIONS: tuple[tuple[str, OptionSpec], ...] = (
    (
        "body",
        OptionSpec(
            "x_body",
            str | None,
            ("--body",),
            metavar="JSON|@FILE|-",
            help="Request body: JSON, @file (JSON or YAML) or - for stdin; flags win.",
            panel=_PANEL_INPUT,
        ),
    ),
    (
        "body",
        OptionSpec(
            "x_fields",
            list[str] | None,
            ("-F", "--field"),
            metavar="KEY=VALUE",
            help="Typed field: true/false/null/number/JSON, @file; a.b=c, a[]=x nest.",
            panel=_PANEL_INPUT,
        ),
    ),
    (
        "body",
        OptionSpec(
            "x_raw_fields",
            list[str] | None,
            ("-f", "--raw-field"),
            metavar="KEY=VALUE",
            help="String field, sent as is.",
            panel=_PANEL_INPUT,
        ),
    ),
    (
        "body",
        replace(NO_VALIDATE, name="x_no_validate", type=bool | None, panel=_PANEL_INPUT),
    ),
    (
        "upload",
        OptionSpec(
            "x_filename",
            str | None,
            ("--filename",),
            metavar="NAME",
            help="File name to send when a file comes from stdin (-).",
            panel=_PANEL_INPUT,
        ),
    ),
    (
        "stream",
        OptionSpec(
            "x_stream",
            bool | None,
            ("--stream",),
            help="Ask for server-sent events and print each as one JSON line.",
            panel=PANEL_OUTPUT,
        ),
    ),
    (
        "pages",
        OptionSpec(
            "x_max_items",
            int | None,
            ("--max-items",),
            metavar="N",
            help="Follow pages until N items are printed.",
            panel=PANEL_OUTPUT,
        ),
    ),
    (
        "pages",
        OptionSpec("x_all", bool | None, ("--all",), help="Follow every page.", panel=PANEL_OUTPUT),
    ),
    (
        "bytes",
        OptionSpec(
            "x_output_file",
            str | None,
            ("-O", "--output-file"),
            metavar="PATH",
            help="Write the answer's bytes to PATH (stdout when piped).",
            panel=PANEL_OUTPUT,
        ),
    ),
)


def build_command(op: Operation) -> TyperCommand:
    """A Typer command for one operation, with the override for it if there is one."""
    from openai_cli.commands.overrides import override_for

    spec = CommandSpec(op)
    override = override_for(op.command)
    if override is not None:
        cmd: TyperCommand = override(spec)
        return cmd
    return spec.command(_run, options=NoOptions)


def _run(factory: Factory, call: Call, opts: NoOptions) -> int:
    from openai_cli.operations.runner import execute

    return execute(factory, call)


class CommandSpec:
    """The parsed shape of one operation: its parameters and how to fill a request."""

    def __init__(self, op: Operation) -> None:
        self.op = op
        self.params: list[tuple[str, str, Param]] = []  # (python name, location, param)
        for loc, params in (("query", op.query), ("headers", op.headers), ("body", op.body)):
            for p in params:
                self.params.append((f"api_{len(self.params)}", loc, p))
        self.taken = {p.flag for _, _, p in self.params}
        # API field -> what the CLI fills it with (set by command()).
        self.defaults: dict[str, Default] = {}
        self.stream_field = any(p.name == "stream" and p.type == "boolean" for p in op.body)

    def param_name(self, field: str) -> str:
        """The keyword under which the value of the API field ``field`` arrives."""
        for name, _, p in self.params:
            if p.name == field:
                return name
        raise KeyError(field)

    def runner_options(self) -> list[OptionSpec]:
        """The runner's own options this operation has, minus any flag an API field has."""
        op = self.op
        has = {
            "body": bool(op.content_types),
            "upload": op.multipart and any(p.is_file for _, _, p in self.params),
            "stream": op.streams and not self.stream_field,
            "pages": bool(op.pagination),
            "bytes": op.binary or op.streams,
        }
        return [
            spec
            for when, spec in _RUNNER_OPTIONS
            if has[when] and not any(f in self.taken for f in spec.flags if f.startswith("--"))
        ]

    def options(self, extra: Sequence[OptionSpec] = ()) -> list[OptionSpec]:
        """Every option and argument of the command but the shared ones, in help order."""
        specs: list[OptionSpec] = [
            OptionSpec(
                "path_" + pp.name,
                str,
                metavar=pp.metavar,
                argument=True,
                required=True,
                show_default=False,
                completion=_path_completion(pp.name, self.op.path),
            )
            for pp in self.op.path_params
        ]
        specs += [_api_option(name, p, self.panel(loc, p)) for name, loc, p in self.ordered()]
        # An override may respell a runner option (``-O/--output-file``) under its name.
        replaced = {e.name for e in extra}
        specs.extend(s for s in self.runner_options() if s.name not in replaced)
        specs.extend(extra)
        return specs

    def ordered(self) -> list[tuple[str, str, Param]]:
        """The API fields in help order: required, common, then the rest by place."""
        rank = {panel: i for i, panel in enumerate(_PANEL_PLACES.values())}
        return sorted(self.params, key=lambda item: _rank(self.panel(item[1], item[2]), rank))

    def panel(self, loc: str, p: Param) -> str:
        if p.required and p.name not in self.defaults:
            return _PANEL_REQUIRED
        if p.flag in _COMMON_FLAGS:
            return _PANEL_COMMON
        return _PANEL_PLACES[loc]

    def signature(self, extra: Sequence[OptionSpec] = ()) -> inspect.Signature:
        return signature(
            [*parameters(self.options(extra)), *shared_parameters(frozenset(self.taken))]
        )

    def help_text(self, prefix: str | None = None) -> str:
        """Our summary, an override's words, then the operation and its reference page."""
        from openai_cli.operations.help import summary

        op = self.op
        lines = [summary(op.command) or _short_help(op)]
        if prefix:
            lines.append(prefix)
        # \b keeps the lines as they are: Click rewraps other paragraphs.
        lines.append("\b\n" + _short_help(op) + (f"\nReference: {op.docs}" if op.docs else ""))
        given = []
        if any(p.required for _, _, p in self.params) and op.content_types:
            given.append("Required fields may also be given in --body or -F.")
        if any(p.type in ("json", "string_or_json") for _, _, p in self.params):
            given.append("JSON values: JSON text, @file.json, or @- for stdin.")
        if given:
            lines.append(" ".join(given))
        notes = []
        if op.streams:
            notes.append("can stream (--stream)")
        if op.pagination:
            notes.append("is paginated (--all, --max-items)")
        if op.binary:
            notes.append("answers with bytes (--output-file)")
        if op.admin:
            notes.append("needs an admin key (OPENAI_ADMIN_KEY)")
        if notes:
            lines.append("This operation " + "; ".join(notes) + ".")
        return "\n\n".join(lines)

    def command(
        self,
        handler: Callable[[Factory, Call, Opts], int],
        *,
        options: type[Opts],
        help_prefix: str | None = None,
        prepare: Callable[[Factory, Opts, Fields], Prepared[Opts]] | None = None,
        defaults: Mapping[str, Default] | None = None,
    ) -> TyperCommand:
        """The Typer command; ``handler(factory, call, opts)`` does the work.

        ``options`` is the override's options class (built like a hand-written
        command's): its fields are the flags it adds, after the operation's, and
        ``opts`` is one filled in. ``call`` is the :class:`~openai_cli.operations.request.Call`
        the API's fields and the runner's options make: the request and what to do
        with its answer. A field named like a runner option (``output_file``) respells
        it: the flag is the override's, and the runner still gets its value.

        ``prepare(factory, opts, fields)`` says what changes before the request is
        built (a positional FILE becoming the ``file`` field), so the usual checks for
        required fields see the final values. ``defaults`` fills API fields the user
        left out, after ``prepare``; a field filled that way is not listed as required.
        """
        spec = self
        self.defaults = dict(defaults or {})
        own = [s.name for s in specs_of(options)]
        respelled = {s.name for s in self.runner_options()}

        def callback(ctx: typer.Context, **kwargs: Any) -> int:
            factory = factory_of(ctx)
            factory.use(pop_shared(kwargs))
            opts = options(**{name: kwargs[_OWN + name] for name in own})
            for name in own:
                if _OWN + name not in respelled:
                    del kwargs[_OWN + name]
            fields = Fields(spec, kwargs)  # reads kwargs as they change below
            if prepare is not None:
                done = prepare(factory, opts, fields)
                opts = opts if done.options is None else done.options
                for name, value in done.fields.items():
                    kwargs[spec.param_name(name)] = value
            for name, default in spec.defaults.items():
                value = default.value(factory)
                if value is not None and fields.unset(name):
                    kwargs[spec.param_name(name)] = value
            raise typer.Exit(handler(factory, spec.call(factory, kwargs), opts))

        extra = [replace(s, name=_OWN + s.name) for s in specs_of(options)]
        callback.__signature__ = self.signature(extra)  # type: ignore[attr-defined]
        cmd = command_from(callback, self.op.command[-1], cls=ApiCommand)
        assert isinstance(cmd, ApiCommand)
        cmd.spec, cmd.help_prefix = self, help_prefix
        cmd.handler, cmd.options_class = handler, options
        return cmd

    def call(self, factory: Any, values: Mapping[str, Any]) -> Any:
        from openai_cli.values import build_request

        return build_request(self, factory, values)


def _rank(panel: str, places: dict[str, int]) -> int:
    if panel == _PANEL_REQUIRED:
        return -2
    if panel == _PANEL_COMMON:
        return -1
    return places[panel]


class ApiCommand(PlainUsageCommand):
    """A generated command whose help text is read only when it is shown."""

    spec: CommandSpec
    help_prefix: str | None = None
    # What it was built from: the function that runs it, and its options class.
    handler: Callable[..., int]
    options_class: type[Any]
    _help_loaded = False

    @property
    def examples(self) -> tuple[str, ...]:
        return (self.spec.op.example,) if self.spec.op.example else ()

    def load_help(self) -> None:
        """The summary, the description of each flag and argument, from the help files."""
        if self._help_loaded:
            return
        self._help_loaded = True
        from openai_cli.operations.help import argument_help

        op = self.spec.op
        self.help = self.spec.help_text(self.help_prefix)
        self.short_help = self.help.split("\n\n", 1)[0]
        fields = {name: p for name, _, p in self.spec.params}
        # Typer's options and arguments both carry ``help``; Click's base class does not.
        params: list[Any] = self.params
        for param in params:
            name = str(param.name)
            if name in fields:
                p = fields[name]
                param.help = _param_help(op.command, p, self.spec.defaults.get(p.name))
            elif name.startswith("path_") and not getattr(param, "help", None):
                param.help = argument_help(op.command, name.removeprefix("path_"))

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.load_help()
        super().format_help(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        self.load_help()
        text: str = super().get_short_help_str(limit)
        return text

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        self.load_help()
        return super().shell_complete(ctx, incomplete)


def load_help(cmd: Any) -> None:
    """Fill in the help of a generated group or command (for pages made from the tree)."""
    if isinstance(cmd, ApiCommand | CatalogueGroup):
        cmd.load_help()
