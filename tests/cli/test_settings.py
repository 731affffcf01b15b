"""The settings table: root options, their checks, and where each value shows up."""

from __future__ import annotations

import json
import os

import pytest
import respx

from tests.helpers import BASE, CANARY_KEY, api_env, invoke, write_config


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
            "oai: invalid base URL 'api.example.test' (from flag --base-url): "
            "expected http(s)://host[/path]",
        ),
        (("--org", " "), "oai: --organization must be a non-empty string, got ' '"),
    ],
)
def test_a_bad_root_option_is_a_usage_error_naming_it(
    unsent: respx.MockRouter, args: tuple[str, ...], line: str
) -> None:
    for where in ("before", "after"):
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
            "oai: invalid base URL 'localhost:8080' (from env OPENAI_BASE_URL): "
            "expected http(s)://host[/path]",
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
    from openai_cli.config.settings_table import FLAGGED

    r = invoke("--help")
    assert r.code == 0, r
    text = " ".join(r.out.split())
    for s in FLAGGED:
        for flag in s.flags:
            assert flag in text, flag
        for var in s.env:
            assert f"env {var}" in text, var


def test_auth_status_shows_every_setting_of_the_table(unsent: respx.MockRouter) -> None:
    from openai_cli.config.settings_table import SETTINGS

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

    # formats: the names of the output formats, a module that imports nothing; writer:
    # the one way to write a file, and input.reader: the one way to read one; dirs:
    # where the folders are (layer 1).
    allowed = (
        "openai_cli.config",
        "openai_cli.dirs",
        "openai_cli.errors",
        "openai_cli.io",
        "openai_cli.formats",
        "openai_cli.writer",
        "openai_cli.input.reader",
    )
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
    from openai_cli.config.settings_table import OUTPUT_FORMATS
    from openai_cli.options import OUTPUT_FORMATS as OPTION_FORMATS

    assert tuple(OPTION_FORMATS) == OUTPUT_FORMATS


# -- root options anywhere ---------------------------------------------------------------

OTHER = "https://elsewhere.example.test/v1"
MODELS = {"object": "list", "data": [{"id": "m1", "object": "model", "created": 0}]}


def _work_profile() -> None:
    write_config(dict(os.environ), '[profiles.work]\norganization = "org-work"\n')


@pytest.mark.parametrize(
    "argv",
    [
        ("--base-url", OTHER, "-o", "json", "--profile", "work", "models", "list"),
        ("models", "list", "--base-url", OTHER, "-o", "json", "--profile", "work"),
        ("models", "--base-url", OTHER, "list", "-o", "json", "-p", "work"),
        (
            "--base-url",
            BASE,
            "models",
            "list",
            "--base-url",
            OTHER,
            "--profile",
            "work",
            "--output=json",
        ),
    ],
)
def test_root_options_work_anywhere_before_the_double_dash(argv: tuple[str, ...]) -> None:
    _work_profile()
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as router:
        route = router.get(f"{OTHER}/models").respond(json=MODELS)
        r = invoke(*argv, env={"OPENAI_API_KEY": CANARY_KEY}, stdout_tty=True)
    assert r.code == 0, r
    assert json.loads(r.out) == MODELS, "-o json, given anywhere, wins over the terminal's table"
    assert route.calls.last.request.headers["OpenAI-Organization"] == "org-work"


def test_after_the_double_dash_a_root_flag_is_an_argument(api: respx.MockRouter) -> None:
    route = api.get("/models/--base-url").respond(json={"id": "--base-url"})
    r = invoke("models", "retrieve", "--", "--base-url", env=api_env())
    assert r.code == 0, r
    assert route.call_count == 1


def test_hand_written_commands_take_root_options_too(unsent: respx.MockRouter) -> None:
    _work_profile()
    r = invoke("auth", "status", "-o", "json", "--profile", "work", stdout_tty=True)
    assert r.code == 0, r
    rows = json.loads(r.out)
    assert rows["profile"]["value"] == "work"
    assert rows["profile"]["source"] == "flag --profile"
    r = invoke("profile", "list", "-o", "table")
    assert r.code == 0, r
    assert r.out.split() == ["work"], "a table, though stdout is not a terminal"


def test_a_commands_own_option_keeps_its_meaning(unsent: respx.MockRouter) -> None:
    # `--timeout` of a waiting command is how long to wait, not the HTTP timeout.
    r = invoke("responses", "create", "--model", "m", "--input", "hi", "--timeout", "5m")
    assert r.code == 2, r
    assert "--timeout: only applies with --wait" in r.err
    # `profile set --profile` names the profile to change.
    _work_profile()
    r = invoke("profile", "set", "--profile", "work", "model", "o3")
    assert r.code == 0, r
    assert "in profile 'work'" in r.err


def test_a_root_option_after_the_command_completes_its_value() -> None:
    _work_profile()
    r = invoke(
        env={"_OAI_COMPLETE": "complete_fish", "_OAI_COMPLETE_LINE": "oai models list --profile w"}
    )
    assert r.code == 0, r
    assert r.out.split() == ["work"]
