"""`pipx install` and `uv tool install` from the repository, then `oai --version`.

Each installs into its own temporary home and bin directory and needs PyPI (or the
pip configuration's index) for the dependencies and the build backend. The source
is copied first, because building in place would leave build/ and *.egg-info in
the working tree.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from openai_cli import version_text
from tests.helpers import ROOT

_SOURCE = ("pyproject.toml", "README.md", "LICENSE", "openai_cli")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    dest = tmp_path / "src"
    dest.mkdir()
    for name in _SOURCE:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, dest / name)
    return dest


def _need(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed: pip install -e '.[test]' brings it")


def _run(argv: list[str], env: dict[str, str], timeout: float = 240) -> str:
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"{argv}: exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p.stdout


def _check_installed(oai: Path, env: dict[str, str]) -> None:
    assert oai.is_file(), f"no {oai}"
    assert _run([str(oai), "--version"], env).strip() == version_text()
    # The installed package is complete: a command group and a completion request work.
    assert "fine-tuning" in _run([str(oai), "--help"], env)
    asked = {
        **env,
        "_OAI_COMPLETE": "complete_bash",
        "_OAI_COMPLETE_LINE": "oai fine-tuning jobs pa",
        "_OAI_COMPLETE_WORD": "pa",
    }
    assert _run([str(oai)], asked).split() == ["pause"]


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update({"HOME": str(tmp_path / "home"), **extra})
    return env


def test_pipx_install_from_the_repository(source: Path, tmp_path: Path) -> None:
    _need("pipx")
    env = _clean_env(
        tmp_path,
        PIPX_HOME=str(tmp_path / "pipx"),
        PIPX_BIN_DIR=str(tmp_path / "bin"),
        PIPX_MAN_DIR=str(tmp_path / "man"),
    )
    _run([sys.executable, "-m", "pipx", "install", str(source)], env)
    _check_installed(tmp_path / "bin" / "oai", env)


def test_uv_tool_install_from_the_repository(source: Path, tmp_path: Path) -> None:
    _need("uv")
    env = _clean_env(
        tmp_path,
        UV_TOOL_DIR=str(tmp_path / "tools"),
        UV_TOOL_BIN_DIR=str(tmp_path / "bin"),
        UV_CACHE_DIR=str(tmp_path / "uv-cache"),
        UV_PYTHON_DOWNLOADS="never",
    )
    _run(
        [sys.executable, "-m", "uv", "tool", "install", "--python", sys.executable, str(source)],
        env,
    )
    _check_installed(tmp_path / "bin" / "oai", env)


def test_version_is_answered_without_typer() -> None:
    probe = (
        "import sys\n"
        "from openai_cli.main import run\n"
        "run(['--version'])\n"
        "print('typer' in sys.modules, file=sys.stderr)\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == version_text() + "\n"
    assert p.stderr.strip() == "False"


def test_version_names_the_spec_of_the_catalogue() -> None:
    from openai_cli import __version__
    from openai_cli.operations.catalogue import SPEC_VERSION

    assert version_text() == f"oai {__version__} (OpenAI API spec {SPEC_VERSION})"
    assert SPEC_VERSION and SPEC_VERSION[0].isdigit()
