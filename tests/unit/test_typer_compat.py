"""The one module that relies on Typer beyond its documented API, against the pinned Typer."""

from __future__ import annotations

import re
import tomllib

import typer

from openai_cli import typer_compat
from tests.helpers import ROOT, invoke


def _pin() -> tuple[str, tuple[int, int], tuple[int, int]]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    [spec] = [d for d in deps if re.match(r"typer\b", d)]
    m = re.fullmatch(r"typer>=(\d+)\.(\d+)(?:\.\d+)?,<(\d+)\.(\d+)", spec.replace(" ", ""))
    assert m, f"pyproject.toml pins Typer as {spec!r}; expected typer>=A.B,<A.C"
    a, b, c, d = map(int, m.groups())
    return spec, (a, b), (c, d)


def test_the_installed_typer_is_the_pinned_one_the_module_was_checked_with() -> None:
    spec, low, high = _pin()
    installed = tuple(int(p) for p in typer.__version__.split(".")[:2])
    assert low <= installed < high, (
        f"Typer {typer.__version__} is installed, outside the pin {spec!r} in pyproject.toml; "
        "openai_cli/typer_compat.py relies on Typer internals checked only for that range"
    )
    assert low == typer_compat.CHECKED_WITH, (
        f"pyproject.toml pins {spec!r} but openai_cli/typer_compat.py was checked with "
        f"{'.'.join(map(str, typer_compat.CHECKED_WITH))}: check the module against the new "
        "version, then update CHECKED_WITH"
    )


def test_no_module_but_the_compat_one_reaches_into_typer_internals() -> None:
    offenders = []
    for path in sorted((ROOT / "openai_cli").rglob("*.py")):
        if path.name == "typer_compat.py":
            continue
        text = path.read_text()
        if "typer._click" in text or "NoArgsIsHelpError" in text or "registered_commands" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders


def test_the_line_splitter_allows_an_unfinished_quote() -> None:
    # tab.split is the splitter of both completion paths (Click's own is not used).
    from openai_cli.tab import split

    assert split("oai files list --order 'de") == [
        "oai",
        "files",
        "list",
        "--order",
        "de",
    ]


def test_a_group_without_a_command_prints_its_help_as_a_usage_error() -> None:
    r = invoke("models")
    assert r.code == 2, r
    assert r.err.startswith("Usage: oai models")


def test_completion_goes_through_the_compat_module() -> None:
    r = invoke(
        env={"_OAI_COMPLETE": "complete_fish", "_OAI_COMPLETE_LINE": "oai profi"},
    )
    assert r.code == 0, r
    assert r.out.startswith("profile\t")


def test_hand_written_commands_get_plain_usage_lines() -> None:
    r = invoke("completion", "show", "--help")
    assert r.code == 0, r
    assert "Usage: oai completion show [OPTIONS] SHELL" in r.out
