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

from openai_cli import dirs, writer
from openai_cli.config.lock import exclusive, private_dir
from openai_cli.errors import UsageError, cannot_write
from openai_cli.input.reader import read_kept_json


def state_dir(env: Mapping[str, str], *parts: str) -> Path:
    path = Path(dirs.folder(dirs.STATE, env), *parts)
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        # Under a file, or a file where the folder goes: said before anything is sent.
        raise cannot_write(path, exc) from None
    return path


def write_json(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` in one step, readable by the owner only.

    A symlink at ``path`` is replaced, not written through (``--state`` is a path
    the user names; the config file alone keeps a dotfiles link).
    """
    private_dir(path.parent)
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    writer.write_file(path, text.encode("utf-8"), mode=writer.PRIVATE)


class Maybe:
    """A field that may be null (and, with ``missing``, absent); else it is ``spec``."""

    def __init__(self, spec: Any, *, missing: bool = False) -> None:
        self.spec = spec
        self.missing = missing


def _problem(value: Any, spec: Any, where: str) -> str | None:
    """Where ``value`` departs from ``spec``, or None.

    A spec is a type or a tuple of types, ``{key: spec}`` for an object with those
    keys (others are let be), ``[spec]`` for a list of such items, or :class:`Maybe`.
    """
    if isinstance(spec, Maybe):
        return None if value is None else _problem(value, spec.spec, where)
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return f"{where} is not an object"
        for key, inner in spec.items():
            if key not in value and not (isinstance(inner, Maybe) and inner.missing):
                return f"{where}.{key} is missing"
            found = _problem(value.get(key), inner, f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(spec, list):
        if not isinstance(value, list):
            return f"{where} is not a list"
        for i, item in enumerate(value):
            found = _problem(item, spec[0], f"{where}[{i}]")
            if found:
                return found
        return None
    # JSON has no distinct booleans for a number field, but Python does.
    if isinstance(value, bool) and bool not in (spec if isinstance(spec, tuple) else (spec,)):
        return f"{where} is not of its kind"
    return None if isinstance(value, spec) else f"{where} is not of its kind"


def read_json(path: Path, *, what: str, shape: dict[str, Any] | None = None) -> dict[str, Any]:
    """The state file at ``path``; one that does not have ``shape`` (edited by hand,
    or made by another version) is a usage error naming the first field at fault,
    never a failure deep inside the run that reads it."""
    try:
        data = read_kept_json(path)
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
    if shape is not None:
        check_shape(data, shape, what=what, path=path)
    return data


def fits(data: Any, shape: Any) -> bool:
    """Whether ``data`` has ``shape``: for a kept file whose odd entry is just ignored."""
    return _problem(data, shape, "state") is None


def check_shape(data: dict[str, Any], shape: dict[str, Any], *, what: str, path: Path) -> None:
    """Refuse a state that does not have ``shape``, naming the first field at fault."""
    problem = _problem(data, shape, "state")
    if problem is not None:
        raise UsageError(f"{what}: {path} is not a state oai can resume: {problem}")


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
