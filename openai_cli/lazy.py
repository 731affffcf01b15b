"""Lazy command groups: the only place that subclasses Typer's group class.

A group's module is imported, and a generated group's commands built, only when
that group is invoked. Listing commands for ``--help`` uses placeholders carrying
just a name and a line of help, so ``oai --help`` imports no command module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openai_cli.textfmt import plural
from openai_cli.typer_compat import (
    TyperCommand,
    TyperGroup,
    option_flags,
    set_command_class,
    set_group_class,
    shared_copy,
    subcommands,
)

Loader = Callable[[], Any]
# (ctx, option name, value): applies a root option given after the command.
Apply = Callable[[Any, str, Any], None]


class SuggestingGroup(TyperGroup):
    """A group whose unknown command is answered with the closest commands of the tree.

    Not just its own children: ``oai admin projects list`` is pointed to
    ``oai admin organization projects list``. The index of the whole tree is built
    only here, on the way to the error.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Typer's own suggestion looks at the loaded children only.
        self.suggest_commands = False

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except Exception as exc:
            message = getattr(exc, "message", None)
            # Click reads a first word that does not start like a name as an option.
            if isinstance(message, str) and args and args[0][:1].isalnum():
                from openai_cli.commands.help import suggestion_lines

                known = _path_of(ctx)
                hints = suggestion_lines([*known, *_words(args)], failed=len(known))
                # Hint lines, indented as main.py prints those of every usage error.
                exc.message = message + "".join(f"\n  {line}" for line in hints)  # type: ignore[attr-defined]
            raise


def _path_of(ctx: Any) -> list[str]:
    """The command words that led to ``ctx``, without the program name."""
    words: list[str] = []
    while ctx is not None and ctx.parent is not None:
        words.insert(0, ctx.info_name)
        ctx = ctx.parent
    return words


def _words(args: list[str]) -> list[str]:
    """The words of a command line up to its first option (command names, then values)."""
    out: list[str] = []
    for arg in args:
        if not arg[:1].isalnum():
            break
        out.append(arg)
    return out


class LazyGroup(SuggestingGroup):
    """A group whose subcommands come from loaders, called on first use."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, tuple[Loader, str]] = {}
        self._listing = False
        self._shared: list[Any] = []
        self._apply: Apply | None = None

    def share_options(self, names: set[str], apply: Apply) -> None:
        """Accept this group's options ``names`` anywhere after it, before ``--``.

        ``oai models list --base-url URL`` then works as ``oai --base-url URL models
        list``: every command loaded below gets a hidden copy of each option whose
        spelling it does not use itself (a command's own ``--timeout`` keeps its
        meaning), and ``apply`` receives a value given there.
        """
        self._shared = [p for p in self.params if p.name in names]
        self._apply = apply

    def add_lazy(self, name: str, loader: Loader, short_help: str) -> None:
        self.lazy[name] = (loader, short_help)

    def list_commands(self, ctx: Any) -> list[str]:
        # A lazy command, once loaded, is also in self.commands: list it once, in
        # its registered place.
        eager = [name for name in super().list_commands(ctx) if name not in self.lazy]
        return [*eager, *self.lazy]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        cmd = self.commands.get(cmd_name)
        if cmd is not None:
            return cmd
        entry = self.lazy.get(cmd_name)
        if entry is None:
            return None
        loader, short_help = entry
        if self._listing:
            return TyperCommand(cmd_name, help=short_help, short_help=short_help)
        cmd = loader()
        cmd.name = cmd_name
        _accept_root_options(ctx, cmd)
        self.commands[cmd_name] = cmd
        return cmd

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        self._listing = True
        try:
            return super().shell_complete(ctx, incomplete)
        finally:
            self._listing = False


def _accept_root_options(ctx: Any, cmd: Any) -> None:
    root = ctx.find_root().command if ctx is not None else None
    if not isinstance(root, LazyGroup) or root._apply is None:
        return
    taken = option_flags(cmd) | set(ctx.help_option_names)
    for option in root._shared:
        clone = shared_copy(option, taken, root._apply)
        if clone is not None:
            cmd.params.append(clone)
    # A hand-written Typer app arrives with its commands built; lazy groups below
    # get theirs as they load.
    for sub in subcommands(cmd):
        if not isinstance(sub, LazyGroup):
            _accept_root_options(ctx, sub)


class PlainUsageCommand(TyperCommand):
    """A command whose usage line names required arguments as the reference does.

    Typer writes a required argument as ``{FILE_ID}``; the usage users copy from the
    API reference (and the operations table) reads ``FILE_ID``.
    """

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces: list[str] = super().collect_usage_pieces(ctx)
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]

    def format_options(self, ctx: Any, formatter: Any) -> None:
        # Plain help (rich_markup_mode=None, so no help text is ever read as markup)
        # ignores the options' panels: list each panel as a section of its own, in the
        # order the options come. -h/--help closes the last one.
        arguments: list[tuple[str, str]] = []
        sections: dict[str, list[tuple[str, str]]] = {}
        last = "Options"
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append(record)
                continue
            panel = getattr(param, "rich_help_panel", None)
            last = panel or (last if param.name == "help" else "Options")
            sections.setdefault(last, []).append(record)
        for title, records in (("Arguments", arguments), *sections.items()):
            if records:
                with formatter.section(title):
                    formatter.write_dl(records)

    @property
    def examples(self) -> tuple[str, ...]:
        """Command lines a person can paste, each one command (hand-written commands set
        ``example`` on their callback; generated ones take the catalogue's)."""
        example = getattr(self.callback, "example", None)
        return (example,) if isinstance(example, str) else tuple(example or ())

    def format_epilog(self, ctx: Any, formatter: Any) -> None:
        super().format_epilog(ctx, formatter)
        examples = self.examples
        if examples:
            width = formatter.width - formatter.current_indent - EXAMPLE_INDENT
            with formatter.section(plural(len(examples), "Example")):
                for example in examples:
                    # \b keeps the lines as they are: Click would rewrap them.
                    formatter.write_text("\b\n" + fold_example(example, width))


# Continuation lines of a folded example are indented this much under the first.
EXAMPLE_INDENT = 4


def fold_example(line: str, width: int) -> str:
    """``line`` as lines of at most ``width`` columns joined by shell continuations.

    Breaks fall between shell words, never inside a word or a quoted string, so the
    lines pasted into a shell are the one command; an option stays with its value
    unless the two cannot share a line. A word longer than a line stands on its own.
    """
    if len(line) <= width:
        return line
    units: list[list[str]] = []
    for word in shell_words(line):
        option = word.startswith("-") and word != "-"  # a lone - is stdin, a value
        if not units or option or units[-1][-1].endswith(" |"):
            units.append([word])
        else:
            units[-1].append(word)
    lines: list[str] = []
    current = ""

    def room() -> int:  # for the text of the line being filled, before its " \"
        return width - 2 - (EXAMPLE_INDENT if lines else 0)

    for unit in units:
        text = " ".join(unit)
        if current and len(current) + 1 + len(text) <= room():
            current += " " + text
            continue
        if current:
            lines.append(current)
            current = ""
        if len(text) <= room():
            current = text
            continue
        for word in unit:
            if current and len(current) + 1 + len(word) <= room():
                current += " " + word
            else:
                if current:
                    lines.append(current)
                current = word
    lines.append(current)
    return (" \\\n" + " " * EXAMPLE_INDENT).join(lines)


def shell_words(line: str) -> list[str]:
    """The words of a shell line as written (quotes kept), split at unquoted spaces."""
    words: list[str] = []
    start, quote, depth = 0, "", 0
    for i, char in enumerate(line):
        if quote:
            if char == quote and (quote == "'" or line[i - 1] != "\\"):
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "(" and line[i - 1 : i] == "$":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif char == " " and not depth:
            if i > start:
                words.append(line[start:i])
            start = i + 1
    if start < len(line):
        words.append(line[start:])
    # A pipe ends the line it is on: a line that starts with one reads as a new command.
    out: list[str] = []
    for word in words:
        if word == "|" and out:
            out[-1] += " |"
        else:
            out.append(word)
    return out


def command_from(fn: Callable[..., Any], name: str, **kwargs: Any) -> TyperCommand:
    """One Typer command from a function (real or with a synthesised signature)."""
    import typer

    app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)
    kwargs.setdefault("cls", PlainUsageCommand)
    app.command(name, **kwargs)(fn)
    cmd = typer.main.get_command(app)
    assert isinstance(cmd, TyperCommand)
    return cmd


def typer_loader(module: str, attr: str = "app") -> Loader:
    """A loader for a hand-written module that defines a Typer app."""

    def load() -> Any:
        import importlib

        import typer

        app = getattr(importlib.import_module(module), attr)
        set_command_class(app, PlainUsageCommand, replaces=(None, TyperCommand))
        set_group_class(app, SuggestingGroup)
        return typer.main.get_command(app)

    return load
