"""The settings table: root options, their checks, and where each value shows up."""

from __future__ import annotations

import json

import pytest
import respx

from openai_cli.config.table import FLAGGED, SETTINGS
from tests.helpers import BASE, CANARY_KEY, api_env, invoke


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("--timeout", "-1"), "oai: --timeout must be a positive number of seconds, got '-1'"),
        (("--timeout", "nan"), "oai: --timeout must be a positive number of seconds, got 'nan'"),
        (("--timeout", "inf"), "oai: --timeout must be a positive number of seconds, got 'inf'"),
        (("--timeout", "0"), "oai: --timeout must be a positive number of seconds, got '0'"),
        (("--timeout", "soon"), "oai: --timeout must be a number of seconds, got 'soon'"),
        (("--max-retries", "-1"), "oai: --max-retries must be 0 or more, got '-1'"),
        (("--max-retries", "1.5"), "oai: --max-retries must be a whole number, got '1.5'"),
        (
            ("--base-url", "api.example.test"),
            "oai: --base-url must start with https:// (or http://), got 'api.example.test'",
        ),
        (("--org", " "), "oai: --organization must be a non-empty string, got ' '"),
    ],
)
def test_a_bad_root_option_is_a_usage_error_naming_it(
    unsent: respx.MockRouter, args: tuple[str, ...], line: str
) -> None:
    for where in ("before",):
        argv = (*args, "models", "list") if where == "before" else ("models", "list", *args)
        r = invoke(*argv, env=api_env())
        assert r.code == 2, (where, r)
        assert r.err.splitlines() == [line], where
        assert r.out == ""
    assert not unsent.calls


@pytest.mark.parametrize(
    ("var", "value", "line"),
    [
        (
            "OPENAI_BASE_URL",
            "localhost:8080",
            "oai: OPENAI_BASE_URL must start with https:// (or http://), got 'localhost:8080'",
        ),
    ],
)
def test_a_bad_environment_value_names_the_variable(
    unsent: respx.MockRouter, var: str, value: str, line: str
) -> None:
    r = invoke("models", "list", env={"OPENAI_API_KEY": CANARY_KEY, var: value})
    assert r.code == 2, r
    assert r.err.splitlines() == [line]
    assert not unsent.calls


def test_good_root_options_reach_the_request(api: respx.MockRouter) -> None:
    route = api.get("/models").respond(json={"object": "list", "data": []})
    r = invoke("--timeout", "2.5", "--max-retries", "0", "models", "list", env=api_env())
    assert r.code == 0, r
    assert route.call_count == 1


def test_root_help_lists_every_root_setting_with_its_variable() -> None:
    r = invoke("--help")
    assert r.code == 0, r
    text = " ".join(r.out.split())
    for s in FLAGGED:
        for flag in s.flags:
            assert flag in text, flag
        for var in s.env:
            assert f"env {var}" in text, var


def test_auth_status_shows_every_setting_of_the_table(unsent: respx.MockRouter) -> None:
    r = invoke("-o", "json", "auth", "status", env={**api_env(), "OPENAI_BASE_URL": BASE})
    assert r.code == 0, r
    rows = json.loads(r.out)
    for s in SETTINGS:
        if s.always_shown:
            assert (s.key or s.name) in rows, s.name
    assert rows["max_retries"] == {"value": "2", "source": "default"}
    assert rows["base_url"] == {"value": BASE, "source": "env OPENAI_BASE_URL"}


def test_the_config_package_imports_nothing_above_it() -> None:
    import ast
    from pathlib import Path

    import openai_cli.config

    allowed = ("openai_cli.config", "openai_cli.errors", "openai_cli.io")
    upward = []
    for path in sorted(Path(openai_cli.config.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            upward += [
                f"{path.name}: {n}"
                for n in names
                if n.startswith("openai_cli") and not n.startswith(allowed)
            ]
    assert not upward


def test_the_output_formats_are_the_ones_the_table_checks() -> None:
    from openai_cli.config.table import OUTPUT_FORMATS
    from openai_cli.options import OUTPUT_FORMATS as OPTION_FORMATS

    assert tuple(OPTION_FORMATS) == OUTPUT_FORMATS
