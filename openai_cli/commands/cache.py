"""``oai cache``: the local cache of IDs that completion offers on TAB."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

from openai_cli import idcache, tabsettings
from openai_cli.errors import write_failed
from openai_cli.options import add_command

if TYPE_CHECKING:
    from openai_cli.context import Factory

app = typer.Typer(
    help="The IDs remembered for completion on TAB.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@app.callback()
def _group() -> None:
    # A group even with one command: `oai cache clear` names what it does.
    pass


@dataclass(frozen=True, kw_only=True)
class ClearOptions:
    pass


def clear(factory: Factory, opts: ClearOptions) -> None:
    """Forget every ID remembered for completion, for every profile.

    The IDs come from answers oai printed (lists, creates, retrieves); set
    `id_cache = false` in a profile, or OAI_ID_CACHE=0, to keep none.
    """
    io = factory.io
    try:
        removed = idcache.clear(io.env)
        # And what TABs kept of the settings: nothing of it is worth keeping alone.
        tabsettings.forget(io.env)
    except OSError as exc:
        # Named, as any file oai keeps: ids.json, tab.json or the lock beside them; a
        # read-only disk is exit 74, as for a file it writes.
        where = os.fspath(exc.filename) if exc.filename else "the ID cache"
        raise write_failed(f"cannot remove {where}: {exc.strerror or exc}", exc) from None
    io.message("Cleared the ID cache" if removed else "The ID cache is already empty")


add_command(app, "clear", ClearOptions, clear, shared=())
