"""Small JSON state files that let long operations resume after an interruption.

They live in the user state directory (``OAI_STATE_DIR`` overrides it), are
written whole to a temporary file and renamed over the old one
(:mod:`openai_cli.writer`), so a crash or
Ctrl-C at any moment leaves either the old state or the new, never half of one.
A run that reads, changes and writes one holds its lock (:func:`hold`) from the
first read to the last write, so two runs of one state never both act on it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from openai_cli import writer
from openai_cli.config.lock import exclusive, private_dir
from openai_cli.config.settings_table import Environment
from openai_cli.errors import UsageError
from openai_cli.input.reader import read_kept


def state_dir(env: Mapping[str, str], *parts: str) -> Path:
    base = Environment.state_dir.read(env)
    if base:
        root = Path(base)
    else:
        import platformdirs

        root = platformdirs.user_state_path("oai", appauthor=False)
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def write_json(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` in one step, readable by the owner only.

    A symlink at ``path`` is replaced, not written through (``--state`` is a path
    the user names; the config file alone keeps a dotfiles link).
    """
    private_dir(path.parent)
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    writer.write_file(path, text.encode("utf-8"), mode=writer.PRIVATE)


def read_json(path: Path, *, what: str) -> dict[str, Any]:
    try:
        data = json.loads(read_kept(path).decode("utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{what}: no state file at {path}") from None
    except OSError as exc:
        raise UsageError(
            f"{what}: cannot read the state file {path}: {exc.strerror or exc}"
        ) from None
    except ValueError as exc:
        raise UsageError(f"{what}: cannot read the state file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{what}: {path} is not a state file")
    return data


def remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


@contextmanager
def hold(path: Path, *, what: str) -> Iterator[None]:
    """Own ``path`` (a state or results file) for the ``with`` block, or refuse at once.

    A second run of the same state would create what the first is creating (a
    batch, an upload) or write the same lines twice; it is refused with exit 2,
    "``what``: PATH is in use by another oai process", rather than made to wait for
    a run that may last hours.
    """
    with exclusive(path, wait=0, what=f"{what}: {path}"):
        yield
