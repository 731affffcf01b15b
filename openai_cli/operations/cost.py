"""The price table of this invocation (the shipped one, and the prices setting's file
over it), for the estimates before a run and the costs after it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openai_cli.input.estimate import Estimate, Spent
from openai_cli.input.prices import Prices, load

if TYPE_CHECKING:
    from openai_cli.operations.deps import Deps


def prices(factory: Deps) -> Prices:
    return load(factory.settings().prices.value)


def estimate(factory: Deps, *, batch: bool) -> Estimate:
    return Estimate(prices(factory), batch=batch)


def spent(factory: Deps, *, batch: bool = False) -> Spent:
    return Spent(prices(factory), batch=batch)
