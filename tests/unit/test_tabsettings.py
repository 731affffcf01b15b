"""A TAB keeps what it resolved of the settings, and never answers from a stale copy.

``openai_cli/tabsettings.py`` keys each kept answer by everything the settings code
read. Over generated sequences of edits to the config file, environment variables and
flags, what a TAB is told must equal what resolving the settings afresh says; and the
answer must actually be reused when nothing changed, else the test would prove
nothing.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openai_cli import dirs, idcache, tabsettings
from openai_cli.input.reader import read_kept

CONFIGS = [
    "",
    "[profiles.default]\n",
    "[profiles.default]\n[profiles.work]\nbase_url = 'http://work.test/v1'\n",
    "current_profile = 'work'\n[profiles.default]\n[profiles.work]\n",
    "current_profile = 'gone'\n[profiles.default]\nid_cache = false\n",
    "[profiles.work]\nid_cache = false\n[profiles.default]\nbase_url = 'http://u:pw@d.test'\n",
    "not toml [",
]
ENVIRONMENT = {
    "OAI_PROFILE": [None, "", "work", "default", "nosuch"],
    "OPENAI_BASE_URL": [None, "http://env.test/v1", "https://user:secret@env.test"],
    "OAI_ID_CACHE": [None, "0", "1", "maybe"],
    "OPENAI_ORG_ID": [None, "org-1"],
    "UNRELATED": [None, "x", "y"],
}
FLAGS = [{}, {"profile": "work"}, {"profile": "nosuch"}, {"base_url": "http://flag.test/v1"}]

Step = tuple[str, Any]
steps = st.lists(
    st.one_of(
        st.tuples(st.just("config"), st.integers(0, len(CONFIGS) - 1)),
        st.tuples(st.just("touch"), st.none()),
        st.tuples(st.just("chmod"), st.sampled_from([0o600, 0o644, 0o666])),
        st.tuples(st.just("remove"), st.none()),
        st.tuples(
            st.just("env"),
            st.sampled_from(sorted(ENVIRONMENT)).flatmap(
                lambda k: st.tuples(st.just(k), st.sampled_from(ENVIRONMENT[k]))
            ),
        ),
        st.tuples(st.just("flags"), st.integers(0, len(FLAGS) - 1)),
    ),
    min_size=1,
    max_size=25,
)


class Counted:
    """``tabsettings._resolve``, counting how often it runs."""

    def __init__(self) -> None:
        self.calls = 0
        self.real = tabsettings._resolve

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        return self.real(*args)

    def fresh(self, env: Mapping[str, str], flags: Mapping[str, str]) -> Any:
        """What resolving the settings from the file on disk says now."""
        config = os.path.join(env["OAI_CONFIG_DIR"], dirs.CONFIG_FILE)
        return self.real(env, flags, config, read_kept)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counted]:
    counter = Counted()
    monkeypatch.setattr(tabsettings, "_resolve", counter)
    yield counter


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=steps)
def test_a_kept_answer_is_what_resolving_afresh_says(
    script: list[Step], tmp_path_factory: pytest.TempPathFactory, counted: Counted
) -> None:
    home = tmp_path_factory.mktemp("tab")
    env: dict[str, str] = {
        "OAI_CONFIG_DIR": str(home / "config"),
        "OAI_STATE_DIR": str(home / "state"),
    }
    config = home / "config" / "config.toml"
    config.parent.mkdir()
    flags: dict[str, str] = {}
    # Each edit leaves the file as if made a while ago (a new time each), so that
    # its answer may be kept; the "racy" case has its own test.
    age = 3600.0
    for kind, arg in script:
        if kind == "config":
            config.write_text(CONFIGS[arg])
            config.chmod(0o600)
        elif kind == "touch" and config.exists():
            config.write_text(config.read_text())
        elif kind == "chmod" and config.exists():
            config.chmod(arg)
        elif kind == "remove":
            config.unlink(missing_ok=True)
        elif kind == "env":
            name, value = arg
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        elif kind == "flags":
            flags = dict(FLAGS[arg])
        if config.exists():
            age += 1
            _age(config, age)
        fresh, _ = counted.fresh(env, flags)
        told = tabsettings.answer(env, flags)
        assert (told.get("profiles"), told.get("section")) == (
            fresh["profiles"],
            fresh["section"],
        ), (kind, arg, env, flags)
        # Nothing changed since: the kept answer is used, not resolved again.
        before = counted.calls
        again = tabsettings.answer(env, flags)
        assert counted.calls == before, "an unchanged TAB resolved the settings again"
        assert (again.get("profiles"), again.get("section")) == (
            fresh["profiles"],
            fresh["section"],
        )


def _write(home: Path, text: str, age: float = 3600) -> tuple[dict[str, str], Path]:
    env = {"OAI_CONFIG_DIR": str(home / "config"), "OAI_STATE_DIR": str(home / "state")}
    config = home / "config" / "config.toml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(text)
    config.chmod(0o600)
    if age:
        _age(config, age)
    return env, config


def test_a_config_changed_just_now_is_kept_and_the_next_change_seen(
    tmp_path: Path, counted: Counted
) -> None:
    # Keyed by what the file holds, an answer is good as soon as it is made, and an
    # edit in the same instant (same size, same times) still misses.
    env, config = _write(tmp_path, "[profiles.a]\n", age=0)
    assert tabsettings.profile_names(env, {}) == ["a"]
    assert tabsettings.profile_names(env, {}) == ["a"]
    assert counted.calls == 1
    then = config.stat().st_mtime_ns
    config.write_text("[profiles.b]\n")
    os.utime(config, ns=(then, then))
    assert tabsettings.profile_names(env, {}) == ["b"]
    assert counted.calls == 2


def test_an_edit_that_leaves_the_files_status_as_it_was_is_seen(
    tmp_path: Path, counted: Counted, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file system whose status does not follow a write (FAT keeps the creation
    # time as the change time; coarse clocks), after `cp -p` or `touch -r`: the
    # status is the same, the file is not.
    env, config = _write(tmp_path, "[profiles.aaa]\n")
    frozen = config.stat()
    real_stat, real_fstat = os.stat, os.fstat

    def same(st: os.stat_result) -> os.stat_result:
        return frozen if (st.st_dev, st.st_ino) == (frozen.st_dev, frozen.st_ino) else st

    monkeypatch.setattr(os, "stat", lambda *a, **k: same(real_stat(*a, **k)))
    monkeypatch.setattr(os, "fstat", lambda fd: same(real_fstat(fd)))
    assert tabsettings.profile_names(env, {}) == ["aaa"]
    with config.open("r+") as f:  # in place: the same inode, the same size
        f.write("[profiles.bbb]\n")
    assert os.stat(config) == frozen
    assert tabsettings.profile_names(env, {}) == ["bbb"]
    assert counted.calls == 2


def test_no_password_is_written(tmp_path: Path) -> None:
    env, _ = _write(tmp_path, "[profiles.default]\nbase_url = 'https://me:hunter2@in.test/v1'\n")
    assert tabsettings.id_section(env, {}) == idcache.section(
        "default", "https://me:hunter2@in.test/v1"
    )
    env["OPENAI_BASE_URL"] = "https://you:swordfish@env.test/v1"
    section = tabsettings.id_section(env, {"base_url": "https://them:letmein@flag.test"})
    assert section == idcache.section("default", "https://them:letmein@flag.test")
    assert "letmein" not in section
    assert tabsettings.id_section(env, {}) == idcache.section(
        "default", "https://you:swordfish@env.test/v1"
    )
    kept = (tmp_path / "state" / tabsettings.FILE_NAME).read_bytes()
    for secret in (b"hunter2", b"swordfish", b"letmein"):
        assert secret not in kept
    mode = (tmp_path / "state" / tabsettings.FILE_NAME).stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_a_password_cannot_be_worked_back_from_the_key(tmp_path: Path) -> None:
    # A key that is the inputs' bytes as one number modulo a prime is a sum over
    # those bytes: one division gives back a password of up to eight bytes, and
    # k(A) + k(D) = k(B) + k(C) whenever A + D = B + C byte by byte.
    env, _ = _write(tmp_path, "[profiles.default]\n")
    keys = []
    for password in ("aaaaaaaa", "baaaaaaa", "aaaaaaab", "baaaaaab"):
        tabsettings.id_section(env, {"base_url": f"https://me:{password}@in.test/v1"})
        kept = json.loads((tmp_path / "state" / tabsettings.FILE_NAME).read_text())
        keys.append(int(kept["answers"][0]["key"], 16))
    a, b, c, d = keys
    for modulus in (2**64 - 59, 2**64, 2**128):
        assert (a + d - b - c) % modulus != 0, modulus


def test_the_key_is_the_same_where_there_is_no_blake2_module(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An interpreter without CPython's _blake2 takes hashlib's: the same digest, so a
    # kept answer is found by either.
    data = b"inputs"
    usual = tabsettings._digest(data)
    monkeypatch.setitem(sys.modules, "_blake2", None)
    assert tabsettings._digest(data) == usual


def test_at_most_a_few_answers_are_kept(tmp_path: Path) -> None:
    env, _ = _write(tmp_path, "[profiles.default]\n")
    for n in range(tabsettings.LIMIT + 5):
        tabsettings.id_section(env, {"base_url": f"http://h{n}.test"})
    kept = json.loads((tmp_path / "state" / tabsettings.FILE_NAME).read_text())
    assert len(kept["answers"]) == tabsettings.LIMIT
    # The newest first.
    assert kept["answers"][0]["section"] == f"default http://h{tabsettings.LIMIT + 4}.test"


@pytest.mark.parametrize(
    "damage",
    ["garbage", "wrong version", "not a list", "bad entries", "a folder", "a fifo", "huge"],
)
def test_a_damaged_file_of_kept_answers_is_resolved_past(
    tmp_path: Path, damage: str, counted: Counted
) -> None:
    env, _ = _write(tmp_path, "[profiles.p]\n")
    kept = tmp_path / "state" / tabsettings.FILE_NAME
    kept.parent.mkdir()
    if damage == "garbage":
        kept.write_bytes(b"\xff{[")
    elif damage == "wrong version":
        kept.write_text(json.dumps({"version": 99, "answers": [{"key": "x"}]}))
    elif damage == "not a list":
        kept.write_text(json.dumps({"version": 1, "answers": {"a": 1}}))
    elif damage == "bad entries":
        kept.write_text(json.dumps({"version": 1, "answers": [1, "x", {"env": 5}, {"env": []}]}))
    elif damage == "a folder":
        kept.mkdir()
    elif damage == "a fifo":
        os.mkfifo(kept)
    elif damage == "huge":
        kept.write_bytes(b" " * (17 * 1024 * 1024))
    done: list[list[str]] = []
    reader = threading.Thread(target=lambda: done.append(tabsettings.profile_names(env, {})))
    reader.start()
    reader.join(10)
    assert done == [["p"]], "a TAB waited on the file of kept answers"
    assert counted.calls == 1


@pytest.mark.parametrize("where", ["read-only", "a file"])
def test_a_state_folder_that_cannot_be_written_still_answers(
    tmp_path: Path, where: str, counted: Counted
) -> None:
    if where == "read-only" and os.geteuid() == 0:
        pytest.skip("root writes into a read-only folder")
    env, _ = _write(tmp_path, "[profiles.p]\n")
    if where == "read-only":
        (tmp_path / "state").mkdir(mode=0o500)
    else:
        (tmp_path / "state").write_text("")
    assert tabsettings.profile_names(env, {}) == ["p"]
    assert tabsettings.profile_names(env, {}) == ["p"]
    assert counted.calls == 2


def test_settings_code_that_walks_the_environment_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted: Counted
) -> None:
    # The bypass of the watch: code that depends on every variable. Its answer
    # cannot be keyed by the names it looked up, so it is not kept.
    import openai_cli.config as config

    real = config.load_settings

    def walking(overrides: Any, env: Mapping[str, str], io: Any = None, **given: Any) -> Any:
        if any(name.startswith("SOMETHING") for name in env):
            pass
        return real(overrides, env, io, **given)

    monkeypatch.setattr(config, "load_settings", walking)
    env, _ = _write(tmp_path, "[profiles.p]\n")
    tabsettings.id_section(env, {})
    tabsettings.id_section(env, {})
    assert counted.calls == 2
    assert not (tmp_path / "state" / tabsettings.FILE_NAME).exists()


def test_a_variable_the_settings_read_changes_the_answer(tmp_path: Path, counted: Counted) -> None:
    # The key is the names the settings read, with their values: one of them
    # changing misses; a variable they never read does not.
    env, _ = _write(tmp_path, "[profiles.p]\n[profiles.q]\n")
    assert tabsettings.id_section(env, {}) == idcache.section(None, "https://api.openai.com/v1")
    env["OAI_PROFILE"] = "q"
    assert tabsettings.id_section(env, {}) == idcache.section("q", "https://api.openai.com/v1")
    assert counted.calls == 2
    env["UNRELATED_TO_OAI"] = "1"
    assert tabsettings.id_section(env, {}) == idcache.section("q", "https://api.openai.com/v1")
    assert counted.calls == 2
