"""The folders oai keeps its files in are named in one place, ``openai_cli/dirs.py``.

Its plain XDG rule must give platformdirs' own answer wherever it gives one, over
generated environments; and no other module may ask platformdirs or read the
variables that name the folders, which the guard below finds (with the bypasses it
is meant to catch).
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path
from unittest import mock

import platformdirs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import openai_cli
from openai_cli import dirs

PACKAGE = Path(openai_cli.__file__).parent

# Values a variable may hold: unset, empty, absolute, relative, padded, odd.
_PATHS = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "/", "//srv//x/", "rel/dir", "~/x", " /padded", "/padded ", "/a b"]),
    st.from_regex(r"/[a-z]{1,8}(/[a-z]{1,8}){0,2}/?", fullmatch=True),
)
KINDS = (dirs.CONFIG, dirs.STATE, dirs.DATA)


def _environ(home: str | None, xdg: dict[str, str | None]) -> dict[str, str]:
    given = {"HOME": home, **xdg}
    return {k: v for k, v in given.items() if v is not None}


def _platformdirs(kind: str) -> str | None:
    try:
        found: str = getattr(platformdirs, f"user_{kind}_dir")(dirs.APP, appauthor=False)
    except RuntimeError:  # no home to be found: platformdirs says so, and so does oai
        return None
    return found


@pytest.mark.skipif(sys.platform != "linux", reason="the plain rule answers on Linux only")
@settings(max_examples=300, deadline=None)
@given(
    home=_PATHS,
    config=_PATHS,
    state=_PATHS,
    data=_PATHS,
    android=st.booleans(),
)
def test_the_plain_rule_is_platformdirs_where_it_answers(
    home: str | None, config: str | None, state: str | None, data: str | None, android: bool
) -> None:
    xdg = {"XDG_CONFIG_HOME": config, "XDG_STATE_HOME": state, "XDG_DATA_HOME": data}
    environ = _environ(home, xdg)
    if android:
        environ["ANDROID_DATA"] = "/data"
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "ANDROID_"))}
    keep.pop("HOME", None)
    with mock.patch.dict(os.environ, {**keep, **environ}, clear=True):
        for kind in KINDS:
            plain = dirs.xdg_folder(kind, os.environ)
            variable = dict(zip(KINDS, (config, state, data), strict=True))[kind]
            usual = not android and (
                (variable and os.path.isabs(variable) and variable == variable.strip())
                or (not variable and home and os.path.isabs(home))
            )
            # The usual cases are answered without platformdirs; the rest by it.
            assert (plain is not None) == bool(usual), (kind, environ)
            if plain is not None and not android:
                assert plain == _platformdirs(kind), (kind, environ)
            if _platformdirs(kind) is not None:
                assert dirs.platform_folder(kind) == _platformdirs(kind)


def test_a_variable_names_its_folder(tmp_path: Path) -> None:
    env = {name: f"  {tmp_path / kind}  " for kind, name in dirs.VARIABLES.items()}
    for kind in KINDS:
        assert dirs.folder(kind, env) == str(tmp_path / kind)
    with mock.patch.dict(os.environ, {"HOME": str(tmp_path)}):
        assert dirs.folder(dirs.STATE, {"OAI_STATE_DIR": "~/s"}) == str(tmp_path / "s")
        # An empty variable is as good as none.
        assert dirs.folder(dirs.CONFIG, {"OAI_CONFIG_DIR": " "}) == dirs.platform_folder(
            dirs.CONFIG
        )


def test_the_settings_table_names_the_same_variables() -> None:
    from openai_cli.config.settings_table import Environment

    rows = {dirs.CONFIG: Environment.config_dir, dirs.STATE: Environment.state_dir}
    rows[dirs.DATA] = Environment.data_dir
    assert {kind: row.env for kind, row in rows.items()} == {
        kind: (name,) for kind, name in dirs.VARIABLES.items()
    }


# -- the guard ------------------------------------------------------------------------

_FOLDER_ROWS = {"config_dir", "state_dir", "data_dir"}


def folder_findings(source: str, name: str) -> list[str]:
    """Where a module finds a folder of oai's itself, not through ``dirs``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(n.split(".")[0] == "platformdirs" for n in names):
                found.append(f"{name}:{node.lineno} imports platformdirs")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value in dirs.VARIABLES.values()
        ):
            found.append(f"{name}:{node.lineno} names {node.value}")
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "read"
            and isinstance(node.value, ast.Attribute)
            and node.value.attr in _FOLDER_ROWS
        ):
            found.append(f"{name}:{node.lineno} reads Environment.{node.value.attr}")
    return found


def test_only_dirs_finds_the_folders() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "dirs.py" and path.parent == PACKAGE:
            continue
        found += folder_findings(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE)))
    assert found == []


@pytest.mark.parametrize(
    "bypass",
    [
        "import platformdirs\nplatformdirs.user_state_dir('oai')",
        "from platformdirs import user_config_path",
        "def f():\n    import platformdirs.unix",
        "os.environ.get('OAI_STATE_DIR')",
        "Environment.config_dir.read(env)",
    ],
)
def test_the_guard_sees_a_module_finding_a_folder_itself(bypass: str) -> None:
    assert folder_findings(bypass, "m.py")
