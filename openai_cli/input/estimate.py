"""What a file of requests will cost, before it is sent, and what answers did cost.

:class:`Estimate` reads each request as the JSONL check passes it on: its model, its
input tokens (counted exactly for text, see :mod:`tokens`) and the most output it
lets the model write. The low end of the range is the input alone; the high end adds
every line's output limit, and is open when a line sets none. :class:`Spent` adds up
the ``usage`` of answers. A model without a price, or whose encoding is not known,
is named, never counted as free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from openai_cli.errors import UsageError
from openai_cli.input import tokens
from openai_cli.input.prices import Prices
from openai_cli.textfmt import count, dollars

if TYPE_CHECKING:
    from openai_cli.input.jsonl import Line


@dataclass
class _Model:
    lines: int = 0
    input: int = 0
    output: int = 0
    open_line: int | None = None  # the first line that sets no output limit
    exact: bool = True


@dataclass
class Estimate:
    prices: Prices
    batch: bool = False  # at the Batch API's price
    models: dict[str, _Model] = field(default_factory=dict)
    no_model: int | None = None  # the first line without a model

    def __call__(self, line: Line) -> None:
        """``on_line`` of the JSONL checks: a batch line's body, or a bare body."""
        data = line.data
        if isinstance(data, dict) and "custom_id" in data and "body" in data:
            data = data["body"]
        if isinstance(data, dict):
            self.add(line.number, data)

    def add(self, number: int, body: dict[str, Any]) -> None:
        model = body.get("model")
        if not isinstance(model, str):
            if self.no_model is None:
                self.no_model = number
            return
        m = self.models.setdefault(model, _Model())
        m.lines += 1
        encoding = tokens.known_encoding(model)
        if encoding is not None:
            counted = tokens.count_body(body, encoding)
            m.input += counted.tokens
            m.exact = m.exact and counted.exact
        most = tokens.max_output(body)
        if most is None:
            if m.open_line is None:
                m.open_line = number
        else:
            m.output += most

    @property
    def input_tokens(self) -> int:
        return sum(m.input for m in self.models.values())

    def unknown(self) -> list[str]:
        """Why the cost cannot be told, one reason a model (empty: it can)."""
        return list(self._reasons().values())

    def _reasons(self) -> dict[str | None, str]:
        out: dict[str | None, str] = {}
        if self.no_model is not None:
            out[None] = f"line {self.no_model} names no model"
        for name in self.models:
            if tokens.known_encoding(name) is None:
                out[name] = f"the encoding of {name} is not known, so its tokens are not counted"
            elif self.prices.find(name) is None:
                out[name] = f"no price for {name}"
        return out

    def range(self) -> tuple[float, float | None]:
        """``(low, high)`` in dollars over the models that can be priced; high None: open."""
        factor = self.prices.batch_factor if self.batch else 1.0
        low = 0.0
        high: float | None = 0.0
        for name, m in self.models.items():
            price = self.prices.find(name)
            if price is None or tokens.known_encoding(name) is None:
                continue
            cost = price.tokens(m.input, batch_factor=factor)
            low += cost
            if high is None:
                continue
            if price.output is None:  # embeddings: no output is billed
                high += cost
            elif m.open_line is not None:
                high = None
            else:
                high += price.tokens(m.input, m.output, batch_factor=factor)
        return low, high

    def report(self) -> list[str]:
        """The lines said on stderr before anything is sent."""
        at = " at the Batch API's price" if self.batch else ""
        guess = "" if all(m.exact for m in self.models.values()) else " (estimated: tools, images)"
        head = f"{count(self.input_tokens, 'input token', sep=True)}{guess}"
        reasons = self._reasons()
        unknown = list(reasons.values())
        if unknown and not any(n not in reasons for n in self.models):
            return ["no cost estimate: " + "; ".join(unknown)]
        low, high = self.range()
        if high is None:
            opened = min(m.open_line for m in self.models.values() if m.open_line)
            top = f"open (line {opened} sets no output limit)"
        else:
            top = dollars(high)
        cost = f"estimated cost {dollars(low)} to {top}{at}"
        if unknown:
            cost += " for the priced models; " + "; ".join(unknown)
        return [f"{head}; {cost}"]

    def cap(self, limit: float | None, flag: str) -> None:
        """Refuse when the low end is over ``limit``, or the cost cannot be told."""
        if limit is None:
            return
        unknown = self.unknown()
        if unknown:
            raise UsageError(
                f"{flag}: cannot tell the cost: {unknown[0]}; nothing was sent",
                hint="give the model a price in a prices file (oai prices --help)",
            )
        low, _ = self.range()
        if low > limit:
            raise UsageError(
                f"{flag}: the input alone is estimated at {dollars(low)}, over the cap of "
                f"{dollars(limit)}; nothing was sent"
            )


def max_cost(value: str | None, flag: str = "--max-cost") -> float | None:
    """``--max-cost USD``: a number of dollars, more than 0 (``$`` allowed)."""
    if value is None:
        return None
    text = value.strip().removeprefix("$")
    try:
        amount = float(text)
    except ValueError:
        amount = -1.0
    if not amount > 0 or amount == float("inf"):
        raise UsageError(f"{flag}: expected an amount of US dollars above 0, got {value!r}")
    return amount


@dataclass
class Spent:
    """Tokens and dollars of answers, from their ``usage``."""

    prices: Prices
    batch: bool = False
    input: int = 0
    cached: int = 0
    output: int = 0
    dollars: float = 0.0
    unpriced: set[str] = field(default_factory=set)
    answers: int = 0  # those that carried usage

    def add(self, model: str | None, usage: Any) -> float | None:
        """Count one answer; its cost, or None when it has no price."""
        read = usage_tokens(usage)
        if read is None:
            return None
        inp, cached, out = read
        self.answers += 1
        self.input += inp
        self.cached += cached
        self.output += out
        price = None if model is None else self.prices.find(model)
        if price is None or price.input is None:
            self.unpriced.add(model or "an unnamed model")
            return None
        factor = self.prices.batch_factor if self.batch else 1.0
        cost = price.tokens(inp, out, cached=cached, batch_factor=factor)
        self.dollars += cost
        return cost

    def report(self) -> str:
        tokens_ = (
            f"{count(self.input, 'input token', sep=True)} ({self.cached:,} cached), "
            f"{self.output:,} output"
        )
        cost = f"cost {dollars(self.dollars)}"
        if self.unpriced:
            cost += " without " + ", ".join(sorted(self.unpriced)) + " (no price)"
        return f"{tokens_}; {cost}"


def usage_tokens(usage: Any) -> tuple[int, int, int] | None:
    """``(input, cached input, output)`` of a ``usage`` object of either API."""
    if not isinstance(usage, dict):
        return None
    inp: Any = usage.get("input_tokens", usage.get("prompt_tokens"))
    out: Any = usage.get("output_tokens", usage.get("completion_tokens", 0))
    details = usage.get("input_tokens_details") or usage.get("prompt_tokens_details") or {}
    cached: Any = details.get("cached_tokens", 0) if isinstance(details, dict) else 0
    if not (_count(inp) and _count(out) and _count(cached)):
        return None
    return int(inp), min(int(cached), int(inp)), int(out)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
