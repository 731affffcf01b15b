"""Builds Typer commands from the catalogue, one group or command at a time.

Each operation becomes a command whose arguments are the path parameters and whose
options are the query, header and body fields, named as the API names them. The
command only parses: it turns its arguments into a :class:`Request` and hands it to
the runner (or to a hand-written override registered in ``commands.overrides``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand

from openai_cli.input.times import is_unix_time
from openai_cli.lazy import LazyGroup, Loader, command_from
from openai_cli.options import (
    OptionSpec,
    common_parameters,
    factory_of,
    parameters,
    pop_common,
)

if TYPE_CHECKING:
    from openai_cli.api.model import Operation, Param

_SCALARS: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool}
# Options the runner adds; an API field of the same name keeps its meaning instead.
_PANEL_API = "API fields"
_PANEL_INPUT = "Request"


def group_loader(top: str) -> Loader:
    def load() -> CatalogueGroup:
        from openai_cli.api.catalogue import load as load_ops

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
    return f"{len(ops)} operation{'s' if len(ops) != 1 else ''} under {_common_path(ops[0])}" + (
        f" ({', '.join(verbs[:4])}{', ...' if len(verbs) > 4 else ''})" if len(verbs) > 1 else ""
    )


# -- commands ---------------------------------------------------------------------------


def _param_help(p: Param) -> str:
    parts = []
    if p.required:
        parts.append("Required.")
    t = p.type
    if t == "json":
        parts.append("JSON text, @file.json or @- for stdin.")
    elif t == "string_or_json" and not p.closed:
        parts.append("Text, or JSON when it starts with { or [.")
    elif t == "file":
        parts.append("Path of a file to upload, or - for stdin.")
    elif t == "array":
        parts.append(
            "Repeat for several values."
            if p.items != "file"
            else "Path of a file; repeat for several."
        )
    enum = p.enum
    if enum:
        shown = ", ".join(str(e) for e in enum[:12]) + (", ..." if len(enum) > 12 else "")
        if t == "string_or_json" and not p.open_enum:
            parts.append(f"One of: {shown}; anything else is read as JSON.")
        else:
            parts.append(("e.g. " if p.open_enum else "One of: ") + shown + ".")
    if p.default is not None:
        parts.append(f"API default: {p.default!r}.")
    if p.deprecated:
        parts.append("Deprecated.")
    return " ".join(parts)


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
    t = p.type
    flags: tuple[str, ...] = (p.flag,)
    metavar: str | None = _metavar(p)
    if t == "boolean":
        kind: Any = bool
        flags, metavar = (f"{p.flag}/--no-{p.flag[2:]}",), None
    elif t == "array":
        item = _SCALARS.get(p.items or "string", str)
        kind = list[str] if item is bool else list[item]  # type: ignore[valid-type]
    else:
        # A Unix time also takes a date, converted in api/values.py.
        kind = str if is_unix_time(p.name, t) else _SCALARS.get(t, str)
    return OptionSpec(
        name,
        kind | None,
        flags,
        help=_param_help(p),
        panel=panel,
        metavar=metavar,
        completion=_completer(p.enum) if p.enum else None,
    )


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
            panel=_PANEL_INPUT,
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
            panel=_PANEL_INPUT,
        ),
    ),
    (
        "pages",
        OptionSpec("x_all", bool | None, ("--all",), help="Follow every page.", panel=_PANEL_INPUT),
    ),
    (
        "bytes",
        OptionSpec(
            "x_output_file",
            str | None,
            ("-O", "--output-file"),
            metavar="PATH",
            help="Write the answer's bytes to PATH (stdout when piped).",
            panel=_PANEL_INPUT,
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
    return spec.command(lambda factory, request, values: _run(factory, request))


def _run(factory: Any, request: Any) -> int:
    from openai_cli.api.runner import execute

    return execute(factory, request)


class CommandSpec:
    """The parsed shape of one operation: its parameters and how to fill a request."""

    def __init__(self, op: Operation) -> None:
        self.op = op
        self.params: list[tuple[str, str, Param]] = []  # (python name, location, param)
        for loc, params in (("query", op.query), ("headers", op.headers), ("body", op.body)):
            for p in params:
                self.params.append((f"api_{len(self.params)}", loc, p))
        self.taken = {p.flag for _, _, p in self.params}
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
            )
            for pp in self.op.path_params
        ]
        for name, loc, p in self.params:
            panel = {"query": "Query parameters", "headers": "Headers"}.get(loc, _PANEL_API)
            specs.append(_api_option(name, p, panel))
        # An override may respell a runner option (``-O/--output-file``) under its name.
        replaced = {e.name for e in extra}
        specs.extend(s for s in self.runner_options() if s.name not in replaced)
        specs.extend(extra)
        return specs

    def signature(self, extra: Sequence[OptionSpec] = ()) -> inspect.Signature:
        P = inspect.Parameter
        return inspect.Signature(
            [
                P("ctx", P.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
                *parameters(self.options(extra)),
                *common_parameters(frozenset(self.taken)),
            ]
        )

    def help_text(self) -> str:
        op = self.op
        lines = [_short_help(op)]
        required = [p.flag for _, _, p in self.params if p.required]
        if required:
            lines.append("Required: " + ", ".join(required) + " (or give them in --body / -F).")
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
        if op.docs:
            lines.append(f"Reference: {op.docs}")
        return "\n\n".join(lines)

    def command(
        self,
        handler: Callable[[Any, Any, dict[str, Any]], int],
        *,
        extra: Sequence[OptionSpec] = (),
        help_prefix: str | None = None,
        prepare: Callable[[Any, dict[str, Any]], None] | None = None,
    ) -> TyperCommand:
        """The Typer command; ``handler(factory, request, values)`` does the work.

        ``prepare(factory, values)`` may adjust the parsed values before the request is
        built (a positional FILE becoming ``--file``, a default model), so the usual
        checks for required fields see the final values.
        """
        spec = self

        def callback(ctx: typer.Context, **kwargs: Any) -> int:
            factory = factory_of(ctx)
            factory.use(pop_common(kwargs))
            if prepare is not None:
                prepare(factory, kwargs)
            request = spec.request(factory, kwargs)
            rc = handler(factory, request, kwargs)
            raise typer.Exit(rc)

        callback.__signature__ = self.signature(extra)  # type: ignore[attr-defined]
        help_text = self.help_text()
        if help_prefix:
            help_text = help_prefix + "\n\n" + help_text
        return command_from(
            callback, self.op.command[-1], help=help_text, short_help=_short_help(self.op)
        )

    def request(self, factory: Any, values: dict[str, Any]) -> Any:
        from openai_cli.api.values import build_request

        return build_request(self, factory, values)
