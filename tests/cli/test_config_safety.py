"""The config file under concurrent writers, in unsafe hands, and output that cannot be written."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import respx

from openai_cli.config import config_path
from openai_cli.config.store import ConfigFile
from tests.helpers import BASE, CANARY_KEY, invoke, subprocess_env, write_config

POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and flock")


def _config() -> dict[str, object]:
    return tomllib.loads(config_path(os.environ).read_text())


# -- creating a profile is not choosing the default ------------------------------------


def test_profile_set_on_a_fresh_config_does_not_choose_the_new_profile(
    api: respx.MockRouter,
) -> None:
    r = invoke("profile", "set", "--profile", "local", "base_url", "http://127.0.0.1:9/v1")
    assert r.code == 0, r
    assert "current_profile" not in _config()
    assert "'local' is not the default profile (there is no default profile)" in r.err
    assert "`oai profile use local`" in r.err
    # The exported key still goes where it went before, not to the new profile's server.
    route = api.get("/models").respond(json={"object": "list", "data": []})
    r = invoke("models", "list", env={"OPENAI_API_KEY": CANARY_KEY, "OPENAI_BASE_URL": BASE})
    assert r.code == 0, r
    assert route.call_count == 1


def test_auth_login_into_a_new_profile_does_not_choose_it() -> None:
    write_config(dict(os.environ), 'current_profile = "home"\n[profiles.home]\n')
    r = invoke("auth", "login", "--profile", "ci", "--with-key-stdin", input=CANARY_KEY)
    assert r.code == 0, r
    assert _config()["current_profile"] == "home"
    assert "'ci' is not the default profile (the default is 'home')" in r.err


@pytest.mark.parametrize(
    ("bad", "what"),
    [
        ("\x00", "the character U+0000"),
        ("\u2011", "the character U+2011"),
        ("\x7f", "the character U+007F"),
    ],
    ids=["nul", "non-breaking-hyphen", "del"],
)
def test_auth_login_refuses_a_key_that_could_never_be_sent(bad: str, what: str) -> None:
    # It was stored, then every command failed with exit 3 (a file holding NULs, a
    # key pasted with a typographic dash): refused where it is given, by the rule
    # that sending it applies.
    key = CANARY_KEY[:10] + bad + CANARY_KEY[10:]
    r = invoke("auth", "login", "--with-key-stdin", "--insecure-storage", input=key)
    assert r.code == 2, r
    assert r.err.splitlines()[0] == f"oai: the key contains {what} at position 11"
    assert not config_path(os.environ).exists()


def test_profile_use_says_which_profile_is_now_the_default() -> None:
    write_config(dict(os.environ), 'current_profile = "home"\n[profiles.home]\n[profiles.work]\n')
    r = invoke("profile", "use", "work")
    assert r.code == 0, r
    assert r.err.splitlines() == ["The default profile is now 'work' (it was 'home')"]
    assert _config()["current_profile"] == "work"
    r = invoke("profile", "use", "home", env={"OAI_PROFILE": "work"})
    assert r.code == 0, r
    assert "OAI_PROFILE in the environment still chooses 'work'" in r.err


# -- concurrent writers ---------------------------------------------------------------------


def _spawn(*args: str, stdin: bytes | None = None) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "openai_cli", *args],
        env=subprocess_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    proc.stdin.write(stdin or b"")
    proc.stdin.close()
    return proc


def _wait_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()


@POSIX
def test_twenty_parallel_profile_sets_keep_all_twenty() -> None:
    procs = [_spawn("profile", "set", "--profile", "p", f"query.k{i}", f"v{i}") for i in range(20)]
    _wait_all(procs)
    profiles = _config()["profiles"]
    assert isinstance(profiles, dict)
    assert profiles["p"]["query"] == {f"k{i}": f"v{i}" for i in range(20)}
    assert sorted(p.name for p in config_path(os.environ).parent.iterdir()) == ["config.toml"]


@POSIX
def test_login_beside_profile_set_never_loses_the_key() -> None:
    procs = []
    for i in range(8):
        procs.append(
            _spawn(
                "auth",
                "login",
                "--profile",
                f"key{i}",
                "--with-key-stdin",
                "--insecure-storage",
                stdin=CANARY_KEY.encode(),
            )
        )
        procs.append(_spawn("profile", "set", "--profile", "shared", f"headers.X-{i}", "v"))
    _wait_all(procs)
    profiles = _config()["profiles"]
    assert isinstance(profiles, dict)
    assert all(profiles[f"key{i}"]["api_key"] == CANARY_KEY for i in range(8))
    assert len(profiles["shared"]["headers"]) == 8


@POSIX
def test_the_lock_helper_refuses_a_second_holder_and_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    from openai_cli.config.lock import LockBusy, exclusive, lock_path

    state = tmp_path / "state" / "run.json"
    with exclusive(state):
        assert lock_path(state).exists()
        busy = pytest.raises(LockBusy, match="run state is in use by another oai process")
        with busy, exclusive(state, wait=0, what="run state"):
            pass
    assert not lock_path(state).exists()
    with exclusive(state, wait=0):
        pass


@POSIX
@pytest.mark.parametrize("planted", ["symlink", "dangling symlink", "fifo", "directory"])
def test_a_lock_file_that_is_not_a_regular_file_is_refused(tmp_path: Path, planted: str) -> None:
    config = config_path(dict(os.environ))
    config.parent.mkdir(parents=True, exist_ok=True)
    lock = config.with_name(config.name + ".lock")
    victim = tmp_path / "victim"
    if planted == "symlink":
        victim.write_text("keep me\n")
        lock.symlink_to(victim)
    elif planted == "dangling symlink":
        lock.symlink_to(victim)
    elif planted == "fifo":
        os.mkfifo(lock)
    else:
        lock.mkdir()
    kind = {"fifo": "a named pipe", "directory": "a directory"}.get(planted, "a symbolic link")
    r = invoke("profile", "set", "model", "m1")
    assert r.code == 2, r
    assert r.err.splitlines()[0] == f"oai: the lock file {lock} is {kind}, not a regular file"
    # Nothing was created, changed or locked through the link.
    assert not config.exists()
    if planted == "symlink":
        assert victim.read_text() == "keep me\n"
    else:
        assert not victim.exists()
    assert os.path.lexists(lock)


# -- a config file others can change --------------------------------------------------------


@POSIX
@pytest.mark.parametrize("mode", [0o664, 0o646, 0o622])
def test_a_config_file_others_can_change_is_refused(unsent: respx.MockRouter, mode: int) -> None:
    path = write_config(dict(os.environ), '[profiles.default]\nbase_url = "https://x.test/v1"\n')
    os.chmod(path, mode)
    r = invoke("models", "list", env={"OPENAI_API_KEY": CANARY_KEY})
    assert r.code == 2, r
    assert r.err.splitlines()[0] == (
        f"oai: refusing to use {path}: other users can change it (mode {mode:o})"
    )
    assert "OAI_ALLOW_UNSAFE_CONFIG=1" in r.err
    assert not unsent.calls
    # Nothing that writes the file runs either.
    r = invoke("profile", "set", "model", "m")
    assert r.code == 2, r
    assert "refusing to use" in r.err


@POSIX
def test_the_override_uses_an_unsafe_config_file_with_a_warning(api: respx.MockRouter) -> None:
    path = write_config(dict(os.environ), f'[profiles.default]\nbase_url = "{BASE}"\n', 0o666)
    route = api.get("/models").respond(json={"object": "list", "data": []})
    r = invoke("models", "list", env={"OPENAI_API_KEY": CANARY_KEY, "OAI_ALLOW_UNSAFE_CONFIG": "1"})
    assert r.code == 0, r
    assert f"warning: using {path} although other users can change it" in r.err
    assert route.call_count == 1


@POSIX
def test_a_config_file_of_another_user_is_refused(
    unsent: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(dict(os.environ), "[profiles.default]\n")
    if os.geteuid() == 0:
        os.chown(path, 65534, -1)
    else:
        # The file stays the tester's; the process pretends to be someone else.
        me = os.geteuid()
        monkeypatch.setattr(os, "geteuid", lambda: me + 1)
    owner = path.stat().st_uid
    r = invoke("auth", "status")
    assert r.code == 2, r
    assert f"oai: refusing to use {path}: it belongs to another user (uid {owner})" in r.err


@POSIX
def test_a_private_file_of_root_or_of_the_user_is_used() -> None:
    path = write_config(dict(os.environ), '[profiles.default]\nmodel = "m"\n')
    assert path.stat().st_uid == os.geteuid()
    cfg = ConfigFile.load(path)
    assert cfg.profile("default") == {"model": "m"}


# -- output that cannot be written --------------------------------------------------------


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args",
    [("--version",), ("completion", "show", "bash"), ("--dry-run", "models", "list")],
)
def test_a_full_disk_on_stdout_is_an_io_error(args: tuple[str, ...]) -> None:
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "openai_cli", *args],
            env=subprocess_env({"OPENAI_API_KEY": CANARY_KEY}),
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    assert proc.returncode == 74, proc.stderr
    assert proc.stderr.decode().splitlines() == [
        "oai: cannot write the output: No space left on device"
    ]


def test_a_password_in_the_base_url_is_masked_by_profile_set_and_show() -> None:
    url = "https://user:s3cret-pass@gateway.example/v1"
    r = invoke("profile", "set", "--profile", "gw", "base_url", url)
    assert r.code == 0, r
    assert "s3cret-pass" not in r.out + r.err
    assert "user:***@gateway.example" in r.err
    for args in (["profile", "show", "gw"], ["profile", "show", "gw", "-o", "json"]):
        shown = invoke(*args, stdout_tty=args[-1] != "json")
        assert shown.code == 0, shown
        assert "s3cret-pass" not in shown.out + shown.err
        assert "user:***@gateway.example" in shown.out


@POSIX
def test_a_config_write_that_finds_no_room_is_an_output_error() -> None:
    """A full disk (here a file-size limit, EFBIG) is exit 74 as for any other file,
    not a usage error: nothing typed was wrong."""
    import resource

    def no_room() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (5, 5))

    proc = subprocess.run(
        [sys.executable, "-m", "openai_cli", "profile", "set", "model", "gpt-x"],
        env=subprocess_env(),
        capture_output=True,
        timeout=60,
        preexec_fn=no_room,
    )
    assert proc.returncode == 74, proc
    assert proc.stderr.decode() == f"oai: cannot write {config_path(os.environ)}: File too large\n"
    assert [p.name for p in config_path(os.environ).parent.iterdir()] in ([], ["config.toml.lock"])
