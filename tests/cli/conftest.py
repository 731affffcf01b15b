"""Fixtures shared by the command tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh current directory, for commands that write files named relatively."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work
