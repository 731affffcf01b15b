"""The canary: the tests' fake keys must never show up where the CLI writes.

The suite runs the CLI with recognisable fake keys (``tests.helpers.CANARY_KEY`` and
``CANARY_ADMIN_KEY``). This plugin checks every run made through
``tests.helpers.invoke`` or ``tests.helpers.oai_process`` the moment it ends:

- stderr never contains a canary;
- stdout never does either, except for ``oai auth token`` (printing the key is its
  job) and runs that were handed the canary in their own arguments or stdin, whose
  output may rightly contain it (``--dry-run`` showing a body, an API echoing
  a field);
- no file created or changed under the test's ``tmp_path`` during the run contains
  one, except the test keyring's file and, for ``oai auth login
  --insecure-storage``, the config file it was asked to write the key into.

A canary is recognised by its whole text or by its distinctive tail alone, so a
key with its ``sk-...-`` prefix cut off still counts as leaked.

Why wrap the helpers rather than scan at the end: a failure then points at the
exact command that leaked, and files the test itself wrote (a ``--key-file``) are
told apart from files the CLI wrote by when they changed. The wrapping happens on
import, and pytest imports this plugin (``pytest_plugins`` in ``tests/conftest.py``)
before collecting any test module, so ``from tests.helpers import invoke`` binds the
wrapper. Tests that start the process themselves (signals, pipes) call
:func:`check_run` directly.
"""

from __future__ import annotations

import functools
import itertools
import os
import stat
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests import helpers

CANARIES = (helpers.CANARY_KEY, helpers.CANARY_ADMIN_KEY)
NEEDLES = tuple(sorted({n for key in CANARIES for n in (key, key.rsplit("-", 1)[-1])}))
SCAN_LIMIT = 64 * 1024 * 1024

_root: Path | None = None

F = TypeVar("F", bound=Callable[..., Any])
Snapshot = dict[str, tuple[int, int, int]]


class CanaryLeak(AssertionError):
    pass


def find_leak(text: str | bytes) -> str | None:
    """The needle found in ``text``, if any."""
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
    for needle in NEEDLES:
        if needle.encode() in data:
            return needle
    return None


def is_auth_token(args: Sequence[str]) -> bool:
    return any(a == "auth" and b == "token" for a, b in itertools.pairwise(args))


def _snapshot(root: Path | None) -> Snapshot:
    out: Snapshot = {}
    if root is None or not root.is_dir():
        return out
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            # Regular files only: opening a named pipe a test made would wait for a writer.
            if stat.S_ISREG(st.st_mode):
                out[path] = (st.st_mtime_ns, st.st_size, st.st_ino)
    return out


def _changed(before: Snapshot, after: Snapshot) -> Iterator[str]:
    for path, sig in after.items():
        if before.get(path) != sig:
            yield path


def _exempt_files(args: Sequence[str], env: Mapping[str, str]) -> set[str]:
    out = set()
    keyring_file = env.get("OAI_TEST_KEYRING_FILE")
    if keyring_file:
        out |= {keyring_file, keyring_file + ".tmp"}
    if "--insecure-storage" in args:
        config_dir = env.get("OAI_CONFIG_DIR")
        if config_dir:
            out.add(os.path.join(config_dir, "config.toml"))
    return {os.path.realpath(p) for p in out}


def check_run(
    args: Sequence[str],
    *,
    stdout: str | bytes,
    stderr: str | bytes,
    given: str | bytes = b"",
    env: Mapping[str, str] | None = None,
    before: Snapshot | None = None,
) -> None:
    """Fail the test if one run of the CLI leaked a canary."""
    command = "oai " + " ".join(args)
    needle = find_leak(stderr)
    if needle is not None:
        raise CanaryLeak(f"a canary key leaked on stderr of `{command}`:\n{stderr!r}")
    supplied = any(find_leak(a) for a in args) or find_leak(given) is not None
    needle = find_leak(stdout)
    if needle is not None and not supplied and not is_auth_token(args):
        raise CanaryLeak(f"a canary key leaked on stdout of `{command}`:\n{stdout!r}")
    if before is None:
        return
    full_env = {**os.environ, **(env or {})}
    exempt = _exempt_files(args, full_env)
    for path in _changed(before, _snapshot(_root)):
        if os.path.realpath(path) in exempt:
            continue
        try:
            with open(path, "rb") as fh:
                data = fh.read(SCAN_LIMIT)
        except OSError:
            continue
        if find_leak(data) is not None:
            raise CanaryLeak(f"a canary key was written to {path} by `{command}`")


def snapshot() -> Snapshot:
    """The files under the current test's tmp_path, to pass to :func:`check_run`."""
    return _snapshot(_root)


def _checked(fn: F, streams: Callable[[Any], tuple[str | bytes, str | bytes]]) -> F:
    """``fn``, which runs the CLI, with each run checked as it ends.

    ``streams`` picks the run's stdout and stderr out of what ``fn`` returns.
    """

    @functools.wraps(fn)
    def wrapper(*args: str, **kw: Any) -> Any:
        before = snapshot()
        result = fn(*args, **kw)
        stdout, stderr = streams(result)
        check_run(
            args,
            stdout=stdout,
            stderr=stderr,
            given=kw.get("input") or b"",
            env=kw.get("env"),
            before=before,
        )
        return result

    return wrapper  # type: ignore[return-value]


def _result_streams(result: helpers.Result) -> tuple[bytes, str]:
    return result.out_bytes, result.err


def _process_streams(proc: subprocess.CompletedProcess[bytes]) -> tuple[bytes, bytes]:
    return proc.stdout, proc.stderr


if not getattr(helpers.invoke, "__wrapped__", None):
    helpers.invoke = _checked(helpers.invoke, _result_streams)
if not getattr(helpers.oai_process, "__wrapped__", None):
    helpers.oai_process = _checked(helpers.oai_process, _process_streams)


@pytest.fixture(autouse=True)
def _canary_root(tmp_path: Path) -> Iterator[None]:
    global _root
    _root = tmp_path
    try:
        yield
    finally:
        _root = None
