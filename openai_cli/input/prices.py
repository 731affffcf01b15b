"""The price table: what a model's tokens, minutes, characters or images cost.

The table ships in the package (``prices.toml``, with its source and the date of its
prices); the ``prices`` setting names a file of the same shape whose models replace
or extend it, for another server or negotiated prices. A model without a price is
``NoPrice``: nothing is ever counted as free.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from openai_cli.errors import UsageError
from openai_cli.input import reader
from openai_cli.input.tokens import base_model

PER_TOKENS = 1_000_000
# What a model's entry may say, each a number of dollars (per_image: by size).
TOKEN_FIELDS = ("input", "cached_input", "output", "training")
UNIT_FIELDS = ("per_minute", "per_million_characters")
FIELDS = (*TOKEN_FIELDS, *UNIT_FIELDS, "per_image")
_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")


class NoPrice(UsageError):
    def __init__(self, model: str) -> None:
        super().__init__(
            f"no price for {model}",
            hint="add it to a prices file (the prices setting; see oai prices --help)",
        )
        self.model = model


@dataclass(frozen=True)
class Price:
    model: str
    input: float | None = None
    cached_input: float | None = None
    output: float | None = None
    training: float | None = None
    per_minute: float | None = None
    per_million_characters: float | None = None
    per_image: dict[str, float] = field(default_factory=dict)
    source: str = ""

    def tokens(
        self, input: int, output: int = 0, *, cached: int = 0, batch_factor: float = 1.0
    ) -> float:
        """Dollars for tokens; cached input at its own price where there is one."""
        if self.input is None:
            raise NoPrice(self.model)
        if output and self.output is None:
            raise NoPrice(self.model)
        cached_price = self.cached_input if self.cached_input is not None else self.input
        cost = (input - cached) * self.input + cached * cached_price
        cost += output * (self.output or 0.0)
        return cost / PER_TOKENS * batch_factor

    def row(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model}
        for name in FIELDS:
            value = getattr(self, name)
            out[name] = value if value or value == 0 else None
        out["per_image"] = self.per_image or None
        return out


@dataclass
class Prices:
    source: str
    checked: str
    batch_factor: float
    models: dict[str, Price]
    overrides: str | None = None

    def find(self, model: str) -> Price | None:
        """The model's price: its own, or that of the model it was fine-tuned from,
        or that of its undated name (gpt-4o-2024-08-06 is gpt-4o). Never a guess
        from a prefix: gpt-4o-mini is not gpt-4o."""
        for name in (model, base_model(model)):
            for candidate in (name, _DATED.sub("", name)):
                if candidate in self.models:
                    return self.models[candidate]
        return None

    def price(self, model: str) -> Price:
        found = self.find(model)
        if found is None:
            raise NoPrice(model)
        return found


def load(override: str | None = None) -> Prices:
    """The shipped table, with the models of the ``override`` file over it."""
    shipped = resources.files(__package__).joinpath("prices.toml").read_text("utf-8")
    data = tomllib.loads(shipped)
    table = Prices(
        source=data["source"],
        checked=data["checked"],
        batch_factor=float(data["batch_factor"]),
        models=_models(data["models"], "the shipped table", data["source"]),
    )
    if override is not None:
        what = "prices"
        text = reader.file_text(override, reader.JSON, what=what)
        try:
            extra = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{what}: {override}: not valid TOML: {exc}") from None
        models = extra.get("models", {})
        if not isinstance(models, dict):
            raise UsageError(f"{what}: {override}: [models] must be a table of models")
        table.models.update(_models(models, override, override))
        if "batch_factor" in extra:
            table.batch_factor = _number(extra["batch_factor"], override, "batch_factor")
        table.overrides = override
    return table


def _models(data: dict[str, Any], where: str, source: str) -> dict[str, Price]:
    out = {}
    for model, entry in data.items():
        if not isinstance(entry, dict):
            raise UsageError(f"prices: {where}: models.{model}: expected a table")
        unknown = sorted(set(entry) - set(FIELDS))
        if unknown:
            raise UsageError(
                f"prices: {where}: models.{model}.{unknown[0]}: unknown; one of {', '.join(FIELDS)}"
            )
        values: dict[str, Any] = {
            k: _number(v, where, f"models.{model}.{k}")
            for k, v in entry.items()
            if k != "per_image"
        }
        images = entry.get("per_image", {})
        if not isinstance(images, dict):
            raise UsageError(f"prices: {where}: models.{model}.per_image: expected a table")
        values["per_image"] = {
            size: _number(v, where, f"models.{model}.per_image.{size}")
            for size, v in images.items()
        }
        out[model] = Price(model=model, source=source, **values)
    return out


# Far above any price (dollars per million tokens, per minute, per image), and low
# enough that no count of tokens a request can hold turns a cost into infinity.
MOST = 1_000_000_000


def _number(value: Any, where: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"prices: {where}: {name}: expected a number of dollars")
    if not math.isfinite(value) or not 0 <= value <= MOST:
        raise UsageError(
            f"prices: {where}: {name}: expected a number of dollars, 0 or more (at most {MOST:,})"
        )
    return float(value)
