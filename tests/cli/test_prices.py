"""``oai prices``: the shipped table, a file over it, and no model counted as free."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest

import openai_cli.input
from tests.helpers import invoke, write_config

SHIPPED = tomllib.loads((Path(openai_cli.input.__file__).parent / "prices.toml").read_text())


def test_the_shipped_table_names_its_source_and_date() -> None:
    assert SHIPPED["source"] == "https://openai.com/api/pricing/"
    r = invoke("prices", "-o", "json")
    assert r.code == 0, r
    rows = {row["model"]: row for row in json.loads(r.out)["data"]}
    for model in ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3", "o4-mini", "gpt-5", "gpt-5-mini"):
        assert rows[model]["input"] > 0 and rows[model]["output"] > 0, model
    assert rows["text-embedding-3-small"]["output"] is None
    assert rows["whisper-1"]["per_minute"] > 0
    assert rows["tts-1"]["per_million_characters"] > 0
    assert rows["dall-e-3"]["per_image"]["standard 1024x1024"] > 0
    assert (
        r.err
        == f"oai: prices from {SHIPPED['source']} as of {SHIPPED['checked']}; verify them there\n"
    )


def test_a_dated_or_fine_tuned_model_has_its_base_price_and_no_prefix_is_guessed() -> None:
    for model in ("gpt-4o-mini-2024-07-18", "ft:gpt-4o-mini-2024-07-18:acme::abc"):
        r = invoke("prices", model, "-o", "json")
        assert (r.code, json.loads(r.out)["input"]) == (
            0,
            SHIPPED["models"]["gpt-4o-mini"]["input"],
        )
    r = invoke("prices", "gpt-4o-mini-turbo")
    assert r.code == 2
    assert r.out == ""
    assert r.err.splitlines()[0] == "oai: no price for gpt-4o-mini-turbo"


def test_a_prices_file_extends_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(
        '[models."llama-3"]\ninput = 0.1\noutput = 0.2\n[models."gpt-4o"]\ninput = 1.0\n'
    )
    env = {"OAI_PRICES": str(path)}
    assert json.loads(invoke("prices", "llama-3", "-o", "json", env=env).out)["output"] == 0.2
    assert json.loads(invoke("prices", "gpt-4o", "-o", "json", env=env).out)["input"] == 1.0
    # The same file from the profile.
    write_config(dict(os.environ), f'[profiles.default]\nprices = "{path}"\n')
    r = invoke("prices", "llama-3", "-o", "json")
    assert r.code == 0, r
    assert f"; {path} over it;" in r.err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[models", "not valid TOML"),
        ('[models."m"]\ninput = "cheap"\n', "models.m.input: expected a number of dollars"),
        ('[models."m"]\ninput = -1\n', "models.m.input: expected a number of dollars, 0 or more"),
        # A finite price whose cost of a long request would overflow to infinity.
        ('[models."m"]\noutput = 1e308\n', "models.m.output: expected a number of dollars"),
        ('[models."m"]\ninput = inf\n', "models.m.input: expected a number of dollars"),
        ('[models."m"]\nprice = 1\n', "models.m.price: unknown"),
    ],
)
def test_a_bad_prices_file_is_a_usage_error_naming_it(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text)
    r = invoke("prices", env={"OAI_PRICES": str(path)})
    assert r.code == 2
    assert r.out == ""
    assert str(path) in r.err and message in r.err, r.err
    assert "Traceback" not in r.err
