"""The root ``oai`` command: global options and the registry of command groups."""

from __future__ import annotations

from typing import Any

import typer

from openai_cli import version_text
from openai_cli.context import Factory
from openai_cli.lazy import LazyGroup, typer_loader
from openai_cli.options import (
    OptionSpec,
    complete_profile,
    parameter,
    parameters,
    pop_shared,
    shared_parameters,
    signature,
)

# Hand-written groups: name -> (module, one line of help). They come after the API
# families in `oai --help`.
TOOLS: dict[str, tuple[str, str]] = {
    "api": ("openai_cli.commands.api", "Call any API path directly (like `gh api`)."),
    "auth": ("openai_cli.commands.auth", "Log in, log out and show where the key comes from."),
    "profile": ("openai_cli.commands.profile", "Manage profiles: base URL, organization, project."),
    "ask": ("openai_cli.commands.ask", "Ask a model one thing and print the answer (streams)."),
    "repl": ("openai_cli.commands.repl", "Talk with a model, turn after turn, at the terminal."),
    "logs": ("openai_cli.commands.logs", "The conversations of ask and repl, kept locally."),
    "webhooks": ("openai_cli.commands.webhooks", "Verify and unwrap signed OpenAI webhooks."),
    "completion": (
        "openai_cli.commands.completion",
        "Shell completion for bash, zsh, fish and PowerShell.",
    ),
    "map": ("openai_cli.commands.map", "Call an endpoint for every line of a JSONL file, fast."),
    "explore": ("openai_cli.commands.explore", "Browse JSON or JSONL: fold, search, copy paths."),
    "tokens": ("openai_cli.commands.tokens", "Count tokens offline with a model's encoding."),
    "prices": ("openai_cli.commands.prices", "The prices cost estimates use (editable)."),
    "help": ("openai_cli.commands.help", "Find commands by name or summary: `oai help WORDS`."),
    "cache": ("openai_cli.commands.cache", "The IDs remembered for completion on TAB."),
}

_PANEL = "Connection"


def _version(ctx: typer.Context, value: bool) -> None:
    # Not while completing: the version would land among the candidates.
    if value and not ctx.resilient_parsing:
        print(version_text())
        raise typer.Exit()


def _root(ctx: typer.Context, **kwargs: Any) -> None:
    apply_root_options(ctx.ensure_object(Factory), kwargs)


def apply_root_options(factory: Factory, given: dict[str, Any]) -> None:
    """Root option values, as parsed after ``oai`` or after the command (``lazy.py``).

    Values given later win, so ``oai -o json files list -o table`` prints a table.
    A setting's value is checked here, so a bad one is a usage error naming the flag.
    """
    from openai_cli.config import Overrides

    factory.use(pop_shared(given))
    given.pop("version", None)
    factory.flags = (factory.flags or Overrides()).merged(Overrides.from_flags(given))


def _apply_late(ctx: typer.Context, name: str, value: Any) -> None:
    factory = ctx.ensure_object(Factory)
    factory.typed_after[name] = value
    apply_root_options(factory, {name: value})


# Completion of option values, for the settings that have names to offer.
_COMPLETERS = {"profile": complete_profile}


def _setting_specs() -> list[OptionSpec]:
    from openai_cli.config.settings_table import FLAGGED

    return [
        OptionSpec(
            s.name,
            # Text, checked by the table (a Click float would take nan and inf).
            str | None,
            s.flags,
            help=s.help_line(),
            metavar=s.metavar,
            completion=_COMPLETERS.get(s.name),
            panel=_PANEL,
        )
        for s in FLAGGED
        if s.root_option
    ]


_VERSION = OptionSpec(
    "version",
    bool,
    ("--version", "-V"),
    default=False,
    help="Show the version and exit.",
    callback=_version,
    eager=True,
)

_root_params = [*parameters(_setting_specs()), *shared_parameters(), parameter(_VERSION)]
_root.__signature__ = signature(_root_params)  # type: ignore[attr-defined]


def build() -> LazyGroup:
    app = typer.Typer(
        name="oai",
        cls=LazyGroup,
        help="oai: the whole OpenAI API from the command line.\n\n"
        "Every API operation is `oai <family> ... <verb>`; run `oai <family> --help` to browse.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_root)
    group = typer.main.get_command(app)
    assert isinstance(group, LazyGroup)
    group.share_options({p.name for p in _root_params} - {"version"}, _apply_late)
    from openai_cli.builder import group_loader
    from openai_cli.operations.catalogue import GROUP_TITLES

    for name in sorted(GROUP_TITLES):
        group.add_lazy(name, group_loader(name), GROUP_TITLES[name])
    for name, (module, help_text) in TOOLS.items():
        group.add_lazy(name, typer_loader(module), help_text)
    return group
