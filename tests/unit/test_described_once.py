"""Each thing the CLI knows is written in one place, and what repeats it is derived.

Where a fact was written twice it drifted: ``oai --help`` and ``oai files --help``
described the family in different words, ``-o`` was declared by the settings table
and again by the shared options, the key variables were named in the table and in
the keyring module, and environment knobs were read by name wherever they were
used, undocumented. The checks below fail when a second description comes back.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import respx

import openai_cli
from openai_cli import dirs
from openai_cli.config import settings_table
from openai_cli.operations.catalogue import GROUP_TITLES
from tests.helpers import BASE, api_env, invoke

PACKAGE = Path(openai_cli.__file__).parent
ROOT = PACKAGE.parent
HELP = PACKAGE / "operations" / "help"

# -- environment variables ----------------------------------------------------------

# A variable of ours: OAI_... or OPENAI_... ("_OAI_COMPLETE..." is the completion
# scripts' protocol with the shell, not a knob).
_OURS = re.compile(r"(OAI|OPENAI)_[A-Z0-9_]+")
TABLE = "openai_cli/config/settings_table.py"
# The folders' variables are named where the folders are found, which a TAB reads
# without the table; the table's rows take the names from there.
FOLDERS = "openai_cli/dirs.py"


def named_variables(source: str, where: str) -> list[str]:
    """Our environment variables named as a string of their own outside the table."""
    if where == TABLE:
        return []
    return [
        f"{where}:{node.lineno}: {node.value}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and _OURS.fullmatch(node.value)
        and not (where == FOLDERS and node.value in dirs.VARIABLES.values())
    ]


def test_every_variable_of_ours_is_a_row_of_the_settings_table() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        found += named_variables(path.read_text(encoding="utf-8"), where)
    assert found == []


def test_the_variable_check_catches_a_knob_read_by_name() -> None:
    sample = 'def enabled(io):\n    return not io.env.get("OAI_NO_PROGRESS")\n'
    assert named_variables(sample, "openai_cli/progress.py")
    assert named_variables('ENV_VAR = {"api_key": "OPENAI_API_KEY"}\n', "openai_cli/x.py")
    assert not named_variables(sample, TABLE)
    assert not named_variables('COMPLETE_VAR = "_OAI_COMPLETE"\n', "openai_cli/x.py")
    # Where the folders are found may name their variables, and no other.
    assert not named_variables('STATE = "OAI_STATE_DIR"\n', FOLDERS)
    assert named_variables('PROFILE = "OAI_PROFILE"\n', FOLDERS)


def test_each_row_is_read_and_checked_as_the_table_says() -> None:
    knobs = settings_table.Environment
    assert knobs.poll_interval.read({"OAI_POLL_INTERVAL": "0.5"}) == 0.5
    assert knobs.poll_interval.read({}) is None
    assert knobs.no_progress.read({"OAI_NO_PROGRESS": "1"}) is True
    assert knobs.no_progress.read({"OAI_NO_PROGRESS": ""}) is False
    # Lowering a safety check takes exactly 1.
    assert knobs.allow_unsafe_config.read({"OAI_ALLOW_UNSAFE_CONFIG": "yes"}) is False
    assert knobs.allow_unsafe_config.read({"OAI_ALLOW_UNSAFE_CONFIG": "1"}) is True


def test_a_bad_knob_stops_the_command_naming_it() -> None:
    with respx.mock(base_url=BASE, assert_all_called=True) as mock:
        mock.get("/batches/batch_1").respond(
            json={"id": "batch_1", "object": "batch", "status": "in_progress"}
        )
        env = {**api_env(), "OAI_POLL_INTERVAL": "soon"}
        r = invoke("batches", "retrieve", "batch_1", "--wait", env=env)
    assert r.code == 2, r
    assert "OAI_POLL_INTERVAL must be a number of seconds, got 'soon'" in r.err


# -- -o ------------------------------------------------------------------------------


def test_a_shared_option_that_is_a_setting_is_the_settings_row() -> None:
    from openai_cli.options import _SHARED

    for spec in _SHARED:
        for row in settings_table.FLAGGED:
            if set(spec.flags) & set(row.flags):
                assert (spec.flags, spec.help, spec.metavar) == (
                    row.flags,
                    row.help + ".",
                    row.metavar,
                ), spec.name


# -- the families' lines -----------------------------------------------------------------


def test_a_family_is_described_by_its_title_alone() -> None:
    twice = []
    for path in sorted(HELP.glob("*.toml")):
        groups = tomllib.loads(path.read_text(encoding="utf-8")).get("groups", {})
        twice += [f"{path.name}: {key}" for key in groups if key in GROUP_TITLES]
    assert twice == []
    # What `oai --help` lists is what `oai FAMILY --help` says.
    for family in ("files", "vector-stores", "admin"):
        r = invoke(family, "--help")
        assert r.code == 0, r
        assert GROUP_TITLES[family] in " ".join(r.out.split()), family


# -- --wait ------------------------------------------------------------------------------


def test_the_wait_overrides_are_the_kinds_waiters_know() -> None:
    from openai_cli.commands.overrides import KINDS, OVERRIDES

    waiting = {path[:-1] for path, target in OVERRIDES.items() if target.endswith("waiters:build")}
    assert waiting == set(KINDS)
