"""``oai prices [MODEL]``: the price table the cost estimates use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

from openai_cli.options import PRINTING, add_command, argument

if TYPE_CHECKING:
    from openai_cli.context import Factory

app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)


@dataclass(frozen=True, kw_only=True)
class PricesOptions:
    model: str | None = argument(default=None, metavar="MODEL", help="Only this model's price.")


def show(factory: Factory, opts: PricesOptions) -> None:
    """Show the prices the cost estimates use, in US dollars.

    Tokens per million (input, cached input, output); speech to text per minute, text
    to speech per million characters, images per image. The Batch API bills
    batch_factor of these. The table ships with oai, with its source and the date of
    its prices (on stderr): check them there. The prices setting (OAI_PRICES, or
    `oai profile set prices FILE`) names a TOML file of the same shape, [models."NAME"]
    tables, whose models replace or extend the shipped ones.
    """
    from openai_cli.input.prices import load

    renderer = factory.renderer()
    table = load(factory.settings().prices.value)
    if opts.model is not None:
        rows = [table.price(opts.model).row()]
    else:
        rows = [p.row() for p in table.models.values()]
    for row in rows:
        row["batch"] = table.batch_factor
    over = f"; {table.overrides} over it" if table.overrides else ""
    factory.io.message(
        f"oai: prices from {table.source} as of {table.checked}{over}; verify them there"
    )
    renderer.answer(rows[0] if opts.model is not None else {"object": "list", "data": rows})


add_command(
    app,
    "prices",
    PricesOptions,
    show,
    shared=PRINTING,
    example=["oai prices gpt-4o-mini", "oai prices -o table"],
)
