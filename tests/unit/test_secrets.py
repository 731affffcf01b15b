"""Keys in the OS keyring: lookup order, timeouts, broken backends, login and logout.

The keyring is always a test backend from tests/keyring_backend.py, chosen through
PYTHON_KEYRING_BACKEND; the real OS keyring is never touched.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from openai_cli.config import Overrides, config_path, load_settings, mask_key
from openai_cli.config.secrets import Keyring, keyring_timeout
from openai_cli.config.store import ConfigFile
from openai_cli.errors import AuthError, ConfigError, UsageError
from tests import keyring_backend
from tests.helpers import SettingsFactory, err, make_io, out, write_config

ROOT = Path(__file__).resolve().parents[2]
FILE_BACKEND = "tests.keyring_backend.FileKeyring"
HANGING_BACKEND = "tests.keyring_backend.HangingKeyring"
BROKEN_BACKEND = "tests.keyring_backend.BrokenKeyring"
FAIL_BACKEND = "keyring.backends.fail.Keyring"

API_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"
ADMIN_KEY = "sk-admin-ABCDEFGHIJKLMNOPQRSTUVWX9876"
OTHER_KEY = "sk-proj-zyxwvutsrqponmlkjihgfedcba9999"


def with_backend(env: dict[str, str], backend: str, timeout: str | None = "0.3") -> dict[str, str]:
    e = {**env, "PYTHON_KEYRING_BACKEND": backend}
    if timeout is not None:
        e["OAI_KEYRING_TIMEOUT"] = timeout
    return e


def stored() -> dict[str, str]:
    return keyring_backend.read_all().get("oai-cli", {})


def auth(args: list[str], factory: SettingsFactory) -> Result:
    from openai_cli.commands.auth import app

    return CliRunner().invoke(app, args, obj=factory)


# -- lookup order ----------------------------------------------------------------------


def test_key_comes_from_the_keyring_of_the_default_profile(env: dict[str, str]) -> None:
    write_config(env, 'current_profile = "work"\n[profiles.work]\n')
    keyring_backend.store("oai-cli", "work:api_key", API_KEY)
    keyring_backend.store("oai-cli", "work:admin_key", ADMIN_KEY)
    s = load_settings(Overrides(), env)
    assert s.api_key().value == API_KEY
    assert s.api_key().source == "keyring (profile 'work')"
    assert s.admin_key().value == ADMIN_KEY


def test_env_key_beats_the_default_profile_without_touching_the_keyring(
    env: dict[str, str],
) -> None:
    write_config(env, 'current_profile = "work"\n[profiles.work]\n')
    # A hanging keyring would turn any access into a ConfigError.
    e = {**with_backend(env, HANGING_BACKEND), "OPENAI_API_KEY": OTHER_KEY}
    s = load_settings(Overrides(), e)
    assert s.api_key().value == OTHER_KEY
    assert s.api_key().source == "env OPENAI_API_KEY"


def test_explicit_profile_keyring_key_beats_env(env: dict[str, str]) -> None:
    write_config(env, "[profiles.work]\n")
    keyring_backend.store("oai-cli", "work:api_key", API_KEY)
    e = {**env, "OPENAI_API_KEY": OTHER_KEY}
    assert load_settings(Overrides(profile="work"), e).api_key().value == API_KEY
    assert load_settings(Overrides(), {**e, "OAI_PROFILE": "work"}).api_key().value == API_KEY


def test_explicit_profile_without_a_key_falls_back_to_env(env: dict[str, str]) -> None:
    write_config(env, "[profiles.work]\n")
    e = {**env, "OPENAI_API_KEY": OTHER_KEY}
    assert load_settings(Overrides(profile="work"), e).api_key().source == "env OPENAI_API_KEY"


def test_plain_file_key_beats_the_keyring(env: dict[str, str]) -> None:
    path = write_config(env, f'current_profile = "work"\n[profiles.work]\napi_key = "{API_KEY}"\n')
    e = with_backend(env, HANGING_BACKEND)
    s = load_settings(Overrides(), e)
    assert s.api_key().value == API_KEY
    assert s.api_key().source == f"profile 'work' ({path})"


def test_key_not_found_in_the_keyring_is_an_auth_error(env: dict[str, str]) -> None:
    write_config(env, 'current_profile = "work"\n[profiles.work]\n')
    with pytest.raises(AuthError) as info:
        load_settings(Overrides(), env).api_key()
    assert "OPENAI_API_KEY" in info.value.message
    assert info.value.hint is not None and "profile 'work'" in info.value.hint


def test_keys_are_looked_up_once(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(env, 'current_profile = "work"\n[profiles.work]\n')
    keyring_backend.store("oai-cli", "work:api_key", API_KEY)
    s = load_settings(Overrides(), env)
    assert s.api_key().value == API_KEY
    os.remove(env["OAI_TEST_KEYRING_FILE"])
    assert s.api_key().value == API_KEY


# -- a keyring that hangs or fails ---------------------------------------------------


def test_a_hanging_keyring_times_out_with_a_config_error(env: dict[str, str]) -> None:
    write_config(env, 'current_profile = "work"\n[profiles.work]\n')
    s = load_settings(Overrides(), with_backend(env, HANGING_BACKEND, "0.5"))
    started = time.monotonic()
    with pytest.raises(ConfigError) as info:
        s.api_key()
    assert time.monotonic() - started < 5
    message = info.value.message
    assert message.startswith("the OS keyring did not answer within 0.5 s")
    assert "OPENAI_API_KEY" in message and "--insecure-storage" in message
    # The backend is still stuck: the next question fails at once.
    started = time.monotonic()
    with pytest.raises(ConfigError, match="did not answer"):
        s.admin_key()
    assert time.monotonic() - started < 0.2


def test_describe_survives_a_hanging_keyring(env: dict[str, str]) -> None:
    write_config(env, 'current_profile = "work"\n[profiles.work]\n')
    s = load_settings(Overrides(), with_backend(env, HANGING_BACKEND, "0.2"))
    rows = {name: (value, source) for name, value, source in s.describe()}
    assert rows["api_key"][0] == "(unavailable)"
    assert "did not answer" in rows["api_key"][1]


def test_the_default_timeout_is_three_seconds_and_never_hangs(
    env: dict[str, str], tmp_path: Path
) -> None:
    write_config(env, 'current_profile = "work"\n[profiles.work]\n')
    script = textwrap.dedent(
        """
        import os, sys
        from openai_cli.config import Overrides, load_settings
        from openai_cli.errors import ConfigError
        try:
            load_settings(Overrides(), os.environ).api_key()
        except ConfigError as exc:
            print(exc.message)
            sys.exit(2)
        """
    )
    child_env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "OAI_CONFIG_DIR": env["OAI_CONFIG_DIR"],
        "PYTHON_KEYRING_BACKEND": HANGING_BACKEND,
    }
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 2, proc.stderr
    assert "did not answer within 3 s" in proc.stdout
    assert 2.5 < elapsed < 5, "the process must exit despite the stuck keyring thread"


@pytest.mark.parametrize("backend", [FAIL_BACKEND, BROKEN_BACKEND])
def test_a_failing_backend_is_a_one_line_config_error(env: dict[str, str], backend: str) -> None:
    write_config(env, 'current_profile = "work"\n[profiles.work]\n')
    with pytest.raises(ConfigError) as info:
        load_settings(Overrides(), with_backend(env, backend)).api_key()
    lines = info.value.lines()
    assert len(lines) == 1 and "\n" not in lines[0]
    assert "OPENAI_API_KEY" in lines[0]


def test_no_keyring_at_all_says_so(env: dict[str, str]) -> None:
    write_config(env, 'current_profile = "work"\n[profiles.work]\n')
    with pytest.raises(ConfigError, match="no OS keyring is available"):
        load_settings(Overrides(), with_backend(env, FAIL_BACKEND)).api_key()


def test_an_unloadable_backend_is_a_config_error(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=r"PYTHON_KEYRING_BACKEND=no\.such\.Backend"):
        Keyring(with_backend(env, "no.such.Backend")).get("work", "api_key")


@pytest.mark.parametrize(("raw", "seconds"), [(None, 3.0), ("", 3.0), ("0.5", 0.5), ("10", 10.0)])
def test_keyring_timeout_from_env(raw: str | None, seconds: float) -> None:
    assert keyring_timeout({} if raw is None else {"OAI_KEYRING_TIMEOUT": raw}) == seconds


@pytest.mark.parametrize("raw", ["0", "-1", "soon", "nan", "inf"])
def test_bad_keyring_timeout_is_a_config_error(raw: str) -> None:
    with pytest.raises(ConfigError, match="OAI_KEYRING_TIMEOUT"):
        keyring_timeout({"OAI_KEYRING_TIMEOUT": raw})


def test_keyring_round_trip(env: dict[str, str]) -> None:
    k = Keyring(env)
    assert k.get("p", "api_key") is None
    k.set("p", "api_key", API_KEY)
    assert k.get("p", "api_key") == API_KEY
    assert stored() == {"p:api_key": API_KEY}
    assert k.delete("p", "api_key") is True
    assert k.delete("p", "api_key") is False
    assert Keyring(with_backend(env, FAIL_BACKEND)).delete("p", "api_key") is False


def test_keyring_is_never_imported_when_the_env_key_is_present(env: dict[str, str]) -> None:
    # A default profile exists, so only precedence keeps the keyring out of it.
    write_config(
        env, 'current_profile = "work"\n[profiles.work]\nbase_url = "https://work.test/v1"\n'
    )
    script = textwrap.dedent(
        """
        import os, sys
        from openai_cli.config import Overrides, load_settings
        s = load_settings(Overrides(), os.environ)
        assert s.api_key().value == os.environ["OPENAI_API_KEY"]
        assert s.base_url.value == "https://work.test/v1"
        """
    )
    child_env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "OAI_CONFIG_DIR": env["OAI_CONFIG_DIR"],
        "PYTHON_KEYRING_BACKEND": HANGING_BACKEND,
        "OPENAI_API_KEY": API_KEY,
    }
    script += "\nprint(sorted(m for m in sys.modules if m.split('.')[0] in "
    script += "('keyring', 'httpx', 'rich', 'platformdirs')))\n"
    proc = subprocess.run(
        [sys.executable, "-c", script], env=child_env, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_importing_the_config_and_command_modules_stays_light() -> None:
    script = (
        "import sys\n"
        "import openai_cli.config, openai_cli.config.store, openai_cli.config.secrets\n"
        "import openai_cli.commands.auth, openai_cli.commands.profile\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('keyring', 'httpx', 'rich', 'platformdirs', 'tomllib', 'tomli_w')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


# -- oai auth login --------------------------------------------------------------------


def test_login_from_stdin_stores_in_the_keyring(env: dict[str, str]) -> None:
    f = SettingsFactory(make_io(env, stdin=f"  {API_KEY}\n"))
    r = auth(["login", "--with-key-stdin"], f)
    assert r.exit_code == 0, r.exception
    assert stored() == {"default:api_key": API_KEY}
    cfg = ConfigFile.load(config_path(env))
    assert cfg.profile_names() == ["default"]
    assert cfg.current_profile == "default"
    assert "api_key" not in cfg.profile("default")
    assert (
        err(f.io)
        .strip()
        .endswith(
            f"Logged in: profile 'default', API key {mask_key(API_KEY)} stored in the OS keyring"
        )
    )
    assert API_KEY not in err(f.io) + out(f.io)
    s = load_settings(Overrides(), env)
    assert (s.api_key().value, s.api_key().source) == (API_KEY, "keyring (profile 'default')")


def test_login_from_a_key_file_into_a_named_profile(env: dict[str, str], tmp_path: Path) -> None:
    write_config(env, 'current_profile = "home"\n[profiles.home]\n')
    key_file = tmp_path / "key.txt"
    key_file.write_text(ADMIN_KEY + "\n")
    f = SettingsFactory(make_io(env))
    r = auth(["login", "--admin", "--profile", "work", "--key-file", str(key_file)], f)
    assert r.exit_code == 0, r.exception
    assert stored() == {"work:admin_key": ADMIN_KEY}
    cfg = ConfigFile.load(config_path(env))
    assert cfg.current_profile == "home", "an existing current profile is kept"
    assert cfg.has_profile("work")
    assert "admin key" in err(f.io)


def test_login_targets_the_global_profile_flag(env: dict[str, str]) -> None:
    write_config(env, 'current_profile = "home"\n[profiles.home]\n')
    f = SettingsFactory(make_io(env, stdin=API_KEY), Overrides(profile="ci"))
    assert auth(["login", "--with-key-stdin"], f).exit_code == 0
    assert stored() == {"ci:api_key": API_KEY}


def test_login_prompts_only_on_a_terminal(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str = "", stream: Any = None) -> str:
        prompts.append(prompt)
        return API_KEY

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    f = SettingsFactory(make_io(env, stdin_tty=True))
    r = auth(["login"], f)
    assert r.exit_code == 0, r.exception
    assert prompts and "hidden" in prompts[0]
    assert stored() == {"default:api_key": API_KEY}

    prompts.clear()
    f = SettingsFactory(make_io(env, stdin=API_KEY, stdin_tty=False))
    r = auth(["login"], f)
    assert isinstance(r.exception, UsageError)
    text = " ".join(r.exception.lines())
    assert "--with-key-stdin" in text and "--key-file" in text
    assert prompts == []


@pytest.mark.parametrize(
    ("stdin", "args", "needle"),
    [
        ("", ["--with-key-stdin"], "empty"),
        ("  \n\n", ["--with-key-stdin"], "empty"),
        ("sk-one\nsk-two\n", ["--with-key-stdin"], "whitespace"),
        (API_KEY, ["--with-key-stdin", "--key-file", "k"], "not both"),
        (API_KEY, ["--key-file", "/nonexistent/key"], "--key-file: file not found"),
        (API_KEY, ["--with-key-stdin", "--profile", "bad name"], "invalid profile name"),
    ],
)
def test_login_rejects_bad_input(
    env: dict[str, str], stdin: str, args: list[str], needle: str
) -> None:
    r = auth(["login", *args], SettingsFactory(make_io(env, stdin=stdin)))
    assert isinstance(r.exception, UsageError)
    assert needle in r.exception.message
    assert stored() == {}
    assert not config_path(env).exists()


def test_no_option_takes_the_key_itself() -> None:
    from openai_cli.commands.auth import app

    r = CliRunner().invoke(app, ["login", "--key", API_KEY])
    assert r.exit_code == 2


def test_login_with_insecure_storage(env: dict[str, str]) -> None:
    e = with_backend(env, HANGING_BACKEND)  # the point of this flag: no keyring at all
    f = SettingsFactory(make_io(e, stdin=API_KEY))
    r = auth(["login", "--with-key-stdin", "--insecure-storage"], f)
    assert r.exit_code == 0, r.exception
    path = config_path(env)
    assert ConfigFile.load(path).profile("default")["api_key"] == API_KEY
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert f"plain text in {path}" in err(f.io)
    assert "warning:" in err(f.io)
    assert API_KEY not in err(f.io)


def test_login_into_the_keyring_removes_an_old_plain_text_key(env: dict[str, str]) -> None:
    path = write_config(env, f'current_profile = "p"\n[profiles.p]\napi_key = "{OTHER_KEY}"\n')
    f = SettingsFactory(make_io(env, stdin=API_KEY))
    assert auth(["login", "--with-key-stdin"], f).exit_code == 0
    assert "api_key" not in ConfigFile.load(path).profile("p")
    assert load_settings(Overrides(), env).api_key().value == API_KEY


def test_login_with_a_hanging_keyring_fails_fast_and_changes_nothing(
    env: dict[str, str],
) -> None:
    f = SettingsFactory(make_io(with_backend(env, HANGING_BACKEND), stdin=API_KEY))
    started = time.monotonic()
    r = auth(["login", "--with-key-stdin"], f)
    assert time.monotonic() - started < 5
    assert isinstance(r.exception, ConfigError)
    assert "--insecure-storage" in r.exception.message
    assert not config_path(env).exists()


def test_login_warns_about_a_key_of_the_wrong_kind(env: dict[str, str]) -> None:
    f = SettingsFactory(make_io(env, stdin=ADMIN_KEY))
    auth(["login", "--with-key-stdin"], f)
    assert "did you mean --admin" in err(f.io)


# -- oai auth logout -------------------------------------------------------------------


def test_logout_removes_the_key_from_the_keyring(env: dict[str, str]) -> None:
    write_config(env, 'current_profile = "work"\n[profiles.work]\n')
    keyring_backend.store("oai-cli", "work:api_key", API_KEY)
    keyring_backend.store("oai-cli", "work:admin_key", ADMIN_KEY)
    f = SettingsFactory(make_io(env))
    r = auth(["logout"], f)
    assert r.exit_code == 0, r.exception
    assert stored() == {"work:admin_key": ADMIN_KEY}
    assert "Removed the API key of profile 'work' from the OS keyring" in err(f.io)


def test_logout_all_removes_both_from_keyring_and_file(env: dict[str, str]) -> None:
    path = write_config(env, f'current_profile = "work"\n[profiles.work]\napi_key = "{API_KEY}"\n')
    keyring_backend.store("oai-cli", "work:admin_key", ADMIN_KEY)
    f = SettingsFactory(make_io(env))
    r = auth(["logout", "--all"], f)
    assert r.exit_code == 0, r.exception
    assert stored() == {}
    assert ConfigFile.load(path).profile("work") == {}
    assert f"from {path}" in err(f.io)
    assert "admin key" in err(f.io)


def test_logout_with_nothing_stored(env: dict[str, str]) -> None:
    f = SettingsFactory(make_io(env))
    r = auth(["logout", "--admin", "--profile", "x"], f)
    assert r.exit_code == 0, r.exception
    assert "nothing to remove" in err(f.io)


def test_logout_admin_and_all_conflict(env: dict[str, str]) -> None:
    r = auth(["logout", "--admin", "--all"], SettingsFactory(make_io(env)))
    assert isinstance(r.exception, UsageError)


def test_logout_with_a_hanging_keyring_still_removes_the_plain_key(env: dict[str, str]) -> None:
    path = write_config(env, f'current_profile = "w"\n[profiles.w]\napi_key = "{API_KEY}"\n')
    f = SettingsFactory(make_io(with_backend(env, HANGING_BACKEND)))
    r = auth(["logout"], f)
    assert r.exit_code == 0, r.exception
    assert ConfigFile.load(path).profile("w") == {}
    assert "did not answer" in err(f.io)


def test_logout_with_a_hanging_keyring_and_nothing_else_fails(env: dict[str, str]) -> None:
    write_config(env, 'current_profile = "w"\n[profiles.w]\n')
    r = auth(["logout"], SettingsFactory(make_io(with_backend(env, HANGING_BACKEND))))
    assert isinstance(r.exception, ConfigError)


# -- through the real entry point ------------------------------------------------------


def test_entry_point_login_status_token_logout(env: dict[str, str]) -> None:
    from openai_cli.main import run

    i = make_io(env, stdin=API_KEY + "\n")
    assert run(["auth", "login", "--with-key-stdin", "--profile", "work"], i) == 0, err(i)
    i = make_io(env)
    assert run(["profile", "use", "work"], i) == 0, err(i)
    i = make_io(env)
    assert run(["auth", "status"], i) == 0, err(i)
    data = json.loads(out(i))
    assert data["api_key"] == {"value": mask_key(API_KEY), "source": "keyring (profile 'work')"}
    i = make_io(env)
    assert run(["auth", "token"], i) == 0, err(i)
    assert out(i) == API_KEY + "\n"
    i = make_io(env)
    assert run(["auth", "logout"], i) == 0, err(i)
    i = make_io(env)
    assert run(["auth", "token"], i) == 3
    assert "no API key" in err(i)
    i = make_io(env)
    assert run(["auth", "login"], i) == 2
    assert "--with-key-stdin" in err(i)
