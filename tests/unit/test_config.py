"""Settings: precedence, provenance, the profiles file and the `oai profile` commands.

Every test runs against a temporary config directory and a file-backed keyring;
nothing here can read or write the real user configuration or OS keyring.
"""

from __future__ import annotations

import itertools
import json
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from openai_cli.config import Overrides, Settings, config_path, load_settings, mask_key
from openai_cli.config import store as store_module
from openai_cli.config.store import ConfigFile
from openai_cli.errors import ApiError, AuthError, ConfigError, OutputError, UsageError
from openai_cli.io import IO
from tests import keyring_backend
from tests.helpers import SettingsFactory, err, make_io, out, write_config

FILE_BACKEND = "tests.keyring_backend.FileKeyring"
HANGING_BACKEND = "tests.keyring_backend.HangingKeyring"


API_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"
ADMIN_KEY = "sk-admin-ABCDEFGHIJKLMNOPQRSTUVWX9876"


# -- fixtures and helpers --------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_permission_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "_warned_permissions", set())


def settings(env: dict[str, str], i: IO | None = None, **flags: Any) -> Settings:
    return load_settings(Overrides(**flags), env, i)


@dataclass
class FakeClient:
    fail_with: Exception | None = None
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    @contextmanager
    def stream(self, method: str, path: str, **kw: Any) -> Iterator[httpx.Response]:
        # What the check asks for; the send path's other keywords are its own.
        self.calls.append((method, path, {"query": kw["query"]}))
        if self.fail_with is not None:
            raise self.fail_with
        yield httpx.Response(200, json={})


class StandInFactory(SettingsFactory):
    """The root app's factory with a client that records what `oai auth` asks it."""

    def __init__(self, io: IO, overrides: Overrides | None = None) -> None:
        super().__init__(io, overrides)
        self.clients: dict[bool, FakeClient] = {}

    def client(self, admin: bool = False) -> FakeClient:  # type: ignore[override]
        return self.clients.setdefault(admin, FakeClient())


def invoke(app_module: str, args: list[str], factory: StandInFactory) -> Result:
    import importlib

    app = importlib.import_module(f"openai_cli.commands.{app_module}").app
    return CliRunner().invoke(app, args, obj=factory)


# -- masking ---------------------------------------------------------------------------


def test_mask_key_keeps_a_prefix_and_the_last_four() -> None:
    assert mask_key(API_KEY) == "sk-proj...0123"
    assert mask_key(ADMIN_KEY) == "sk-admi...9876"
    assert API_KEY[8:-4] not in mask_key(API_KEY)


@pytest.mark.parametrize("key", ["", "sk-", "sk-abc", "x" * 15])
def test_mask_key_hides_short_keys_entirely(key: str) -> None:
    assert mask_key(key) == "****"


def test_mask_key_boundary_at_16_characters() -> None:
    assert mask_key("0123456789abcdef") == "0123456...cdef"


# -- defaults and precedence -----------------------------------------------------------


def test_builtin_defaults_without_file_or_env(env: dict[str, str]) -> None:
    s = settings(env)
    assert s.profile.value is None
    assert (s.base_url.value, s.base_url.source) == ("https://api.openai.com/v1", "default")
    assert s.timeout == type(s.timeout)(600.0, "default")
    assert s.connect_timeout.value == 5.0
    assert s.max_retries.value == 2
    assert s.output.value == "auto"
    assert s.model.value is None
    assert s.organization.value is None and s.project.value is None
    assert not config_path(env).exists(), "loading must never create the file"


SOURCES = ("flag", "explicit", "env", "default_profile", "builtin")

# setting -> (flag keyword, env var, a value maker by source)
SETTINGS_WITH_ENV: dict[str, tuple[str, str, Callable[[str], str]]] = {
    "base_url": ("base_url", "OPENAI_BASE_URL", lambda src: f"https://{src}.test/v1"),
    "organization": ("organization", "OPENAI_ORG_ID", lambda src: f"org-{src}"),
    "project": ("project", "OPENAI_PROJECT_ID", lambda src: f"proj_{src}"),
}


def _scenario(
    env: dict[str, str], setting: str, present: tuple[str, ...], explicit_via: str
) -> tuple[Settings, Path]:
    flag_kw, env_var, value = SETTINGS_WITH_ENV[setting]
    lines = []
    if "default_profile" in present:
        lines.append('current_profile = "home"')
    lines.append("[profiles.home]")
    if "default_profile" in present:
        lines.append(f'{setting} = "{value("default_profile")}"')
    lines.append("[profiles.chosen]")
    if "explicit" in present:
        lines.append(f'{setting} = "{value("explicit")}"')
    path = write_config(env, "\n".join(lines) + "\n")
    e = dict(env)
    flags: dict[str, Any] = {}
    if "explicit" in present:
        if explicit_via == "flag":
            flags["profile"] = "chosen"
        else:
            e["OAI_PROFILE"] = "chosen"
    if "env" in present:
        e[env_var] = value("env")
    if "flag" in present:
        flags[flag_kw] = value("flag")
    return load_settings(Overrides(**flags), e), path


@pytest.mark.parametrize("explicit_via", ["flag", "env"])
@pytest.mark.parametrize("setting", sorted(SETTINGS_WITH_ENV))
@pytest.mark.parametrize(
    "present",
    [c for n in range(1, 5) for c in itertools.combinations(SOURCES[:4], n)],
    ids=lambda c: "+".join(c),
)
def test_precedence_between_every_combination_of_sources(
    env: dict[str, str], setting: str, present: tuple[str, ...], explicit_via: str
) -> None:
    s, path = _scenario(env, setting, present, explicit_via)
    winner = next(src for src in SOURCES if src in present)
    got = getattr(s, setting)
    _, env_var, value = SETTINGS_WITH_ENV[setting]
    expected_source = {
        "flag": f"flag --{setting.replace('_', '-')}",
        "explicit": f"profile 'chosen' ({path})",
        "env": f"env {env_var}",
        "default_profile": f"profile 'home' ({path})",
    }[winner]
    assert got.value == value(winner)
    assert got.source == expected_source


def test_an_explicit_profile_replaces_the_default_one_entirely(env: dict[str, str]) -> None:
    write_config(
        env,
        'current_profile = "home"\n'
        '[profiles.home]\nmodel = "home-model"\ntimeout = 9.0\n'
        "[profiles.chosen]\nmax_retries = 7\n",
    )
    s = settings(env, profile="chosen")
    assert s.max_retries.value == 7
    assert (s.model.value, s.model.source) == (None, "default")
    assert (s.timeout.value, s.timeout.source) == (600.0, "default")


def test_profile_flag_beats_oai_profile_and_both_beat_current(env: dict[str, str]) -> None:
    path = write_config(env, 'current_profile = "a"\n[profiles.a]\n[profiles.b]\n[profiles.c]\n')
    e = {**env, "OAI_PROFILE": "b"}
    assert settings(e).profile.value == "b"
    assert settings(e).profile.source == "env OAI_PROFILE"
    assert settings(e, profile="c").profile.value == "c"
    assert settings(e, profile="c").profile.source == "flag --profile"
    assert settings(env).profile.value == "a"
    assert settings(env).profile.source == f"current_profile in {path}"


def test_profile_named_default_applies_without_current_profile(env: dict[str, str]) -> None:
    write_config(env, '[profiles.default]\nmodel = "gpt-4o-mini"\n[profiles.other]\n')
    s = settings(env)
    assert s.profile.value == "default"
    assert s.model.value == "gpt-4o-mini"


def test_no_profile_applies_when_none_is_current_or_named_default(env: dict[str, str]) -> None:
    write_config(env, '[profiles.other]\nmodel = "m"\n')
    s = settings(env)
    assert s.profile.value is None
    assert s.model.value is None


def test_unknown_explicit_profile_is_an_error(env: dict[str, str]) -> None:
    write_config(env, "[profiles.a]\n")
    with pytest.raises(ConfigError, match=r"no profile named 'nope'.*OAI_PROFILE"):
        settings({**env, "OAI_PROFILE": "nope"})
    with pytest.raises(ConfigError, match="flag --profile"):
        settings(env, profile="nope")


def test_stale_current_profile_warns_and_falls_back(env: dict[str, str]) -> None:
    write_config(env, 'current_profile = "gone"\n[profiles.default]\nmodel = "m"\n')
    i = make_io(env)
    s = settings(env, i)
    assert s.profile.value == "default"
    assert "current_profile 'gone'" in err(i)


def test_empty_environment_variables_count_as_unset(env: dict[str, str]) -> None:
    write_config(env, 'current_profile = "p"\n[profiles.p]\nbase_url = "https://profile.test/v1"\n')
    e = {**env, "OPENAI_BASE_URL": "", "OPENAI_API_KEY": "  ", "OAI_PROFILE": ""}
    s = settings(e)
    assert s.base_url.value == "https://profile.test/v1"
    assert s.profile.value == "p"


def test_flags_beat_profiles_for_every_flag(env: dict[str, str]) -> None:
    write_config(
        env,
        'current_profile = "p"\n[profiles.p]\n'
        'model = "pm"\noutput = "json"\ntimeout = 1.0\nmax_retries = 5\n',
    )
    s = settings(env, model="fm", output="yaml", timeout=2.5, max_retries=0)
    assert (s.model.value, s.model.source) == ("fm", "flag --default-model")
    assert (s.output.value, s.output.source) == ("yaml", "flag --output")
    assert (s.timeout.value, s.timeout.source) == (2.5, "flag --timeout")
    assert (s.max_retries.value, s.max_retries.source) == (0, "flag --max-retries")


def test_profile_values_are_typed(env: dict[str, str]) -> None:
    write_config(
        env,
        'current_profile = "p"\n[profiles.p]\n'
        'timeout = 120\nconnect_timeout = 2\nmax_retries = 3\noutput = "json"\n',
    )
    s = settings(env)
    assert s.timeout.value == 120.0 and isinstance(s.timeout.value, float)
    assert s.connect_timeout.value == 2.0
    assert s.max_retries.value == 3
    assert s.output.value == "json"


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('timeout = "fast"', "timeout"),
        ("timeout = -1", "timeout"),
        ("timeout = true", "timeout"),
        ("max_retries = 1.5", "max_retries"),
        ("max_retries = -2", "max_retries"),
        ('output = "pdf"', "output"),
        ('base_url = "ftp://example.com"', "base_url"),
        ("model = 4", "model"),
        ('organization = ""', "organization"),
    ],
)
def test_bad_values_in_the_file_name_the_key_and_the_file(
    env: dict[str, str], line: str, key: str
) -> None:
    path = write_config(env, f'current_profile = "p"\n[profiles.p]\n{line}\n')
    with pytest.raises(ConfigError) as info:
        settings(env)
    assert key in info.value.message
    assert str(path) in info.value.message
    assert "'p'" in info.value.message


@pytest.mark.parametrize(
    "text",
    ["current_profile = 3\n", "profiles = 1\n", "profiles = { a = 1 }\n"],
)
def test_bad_file_shape_is_a_config_error(env: dict[str, str], text: str) -> None:
    write_config(env, text)
    with pytest.raises(ConfigError):
        settings(env)


def test_unknown_keys_are_ignored_and_kept_on_rewrite(env: dict[str, str]) -> None:
    path = write_config(
        env,
        'future_option = "x"\ncurrent_profile = "p"\n'
        '[profiles.p]\nmodel = "m"\nfancy = [1, 2]\n[other_table]\nk = 1\n',
    )
    assert settings(env).model.value == "m"
    f = StandInFactory(make_io(env))
    r = invoke("profile", ["set", "timeout", "30"], f)
    assert r.exit_code == 0, r.exception
    import tomllib

    data = tomllib.loads(path.read_text())
    assert data["future_option"] == "x"
    assert data["other_table"] == {"k": 1}
    assert data["profiles"]["p"] == {"model": "m", "fancy": [1, 2], "timeout": 30.0}


# -- provenance and describe -----------------------------------------------------------


def test_describe_masks_keys_and_names_sources(env: dict[str, str]) -> None:
    path = write_config(env, f'current_profile = "p"\n[profiles.p]\nadmin_key = "{ADMIN_KEY}"\n')
    s = settings({**env, "OPENAI_API_KEY": API_KEY})
    rows = {name: (value, source) for name, value, source in s.describe()}
    assert rows["api_key"] == (mask_key(API_KEY), "env OPENAI_API_KEY")
    assert rows["admin_key"] == (mask_key(ADMIN_KEY), f"profile 'p' ({path})")
    assert rows["profile"] == ("p", f"current_profile in {path}")
    assert rows["base_url"] == ("https://api.openai.com/v1", "default")
    assert rows["organization"] == ("(not set)", "default")
    text = repr(s.describe())
    assert API_KEY not in text and ADMIN_KEY not in text


def test_describe_does_not_raise_without_keys(env: dict[str, str]) -> None:
    rows = {name: value for name, value, _ in settings(env).describe()}
    assert rows["api_key"] == "(not set)"
    assert rows["admin_key"] == "(not set)"


def test_missing_keys_raise_auth_errors_with_the_documented_text(env: dict[str, str]) -> None:
    s = settings(env)
    with pytest.raises(AuthError) as api:
        s.api_key()
    assert api.value.message == "no API key: set OPENAI_API_KEY or run `oai auth login`"
    with pytest.raises(AuthError) as admin:
        s.admin_key()
    assert "OPENAI_ADMIN_KEY" in admin.value.message
    assert "`oai auth login --admin`" in admin.value.message


def test_env_keys_are_stripped_and_sourced(env: dict[str, str]) -> None:
    s = settings({**env, "OPENAI_API_KEY": f"  {API_KEY}\n", "OPENAI_ADMIN_KEY": ADMIN_KEY})
    assert s.api_key().value == API_KEY
    assert s.api_key().source == "env OPENAI_API_KEY"
    assert s.admin_key().source == "env OPENAI_ADMIN_KEY"


@pytest.mark.parametrize(
    ("present", "winner"),
    [
        (("explicit", "env", "default_profile"), "explicit"),
        (("env", "default_profile"), "env"),
        (("explicit", "env"), "explicit"),
        (("explicit", "default_profile"), "explicit"),
        (("default_profile",), "default_profile"),
        (("env",), "env"),
    ],
)
def test_key_precedence_with_plain_file_keys(
    env: dict[str, str], present: tuple[str, ...], winner: str
) -> None:
    keys = {
        "explicit": "sk-explicit-0000000000000001",
        "env": "sk-env-000000000000000000002",
        "default_profile": "sk-default-00000000000000003",
    }
    text = 'current_profile = "home"\n[profiles.home]\n'
    if "default_profile" in present:
        text += f'api_key = "{keys["default_profile"]}"\n'
    text += "[profiles.chosen]\n"
    if "explicit" in present:
        text += f'api_key = "{keys["explicit"]}"\n'
    write_config(env, text)
    e = dict(env)
    if "env" in present:
        e["OPENAI_API_KEY"] = keys["env"]
    flags: dict[str, Any] = {"profile": "chosen"} if "explicit" in present else {}
    assert settings(e, **flags).api_key().value == keys[winner]


# -- the file on disk ------------------------------------------------------------------


def test_corrupt_toml_names_the_file_and_position_and_is_never_rewritten(
    env: dict[str, str],
) -> None:
    text = 'current_profile = "p"\n[profiles.p]\ntimeout = = 3\n'
    path = write_config(env, text)
    before = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    with pytest.raises(ConfigError) as info:
        settings(env)
    assert str(path) in info.value.message
    assert "line 3" in info.value.message and "column" in info.value.message

    for args in (
        ["profile", "set", "model", "m"],
        ["profile", "use", "p"],
        ["profile", "delete", "p", "--yes"],
        ["auth", "login", "--with-key-stdin", "--insecure-storage"],
    ):
        f = StandInFactory(make_io(env, stdin=API_KEY))
        r = invoke(args[0], args[1:], f)
        assert isinstance(r.exception, ConfigError), (args, r.exception)
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml"]


def test_invalid_utf8_is_a_config_error(env: dict[str, str]) -> None:
    path = config_path(env)
    path.parent.mkdir(parents=True)
    path.write_bytes(b'model = "\xff"\n')
    with pytest.raises(ConfigError, match="UTF-8"):
        settings(env)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_file_readable_by_others_warns_once(env: dict[str, str]) -> None:
    path = write_config(env, "[profiles.default]\n", mode=0o644)
    i = make_io(env)
    settings(env, i)
    settings(env, i)
    warning = err(i)
    assert warning.count("warning:") == 1
    assert str(path) in warning and f"chmod 600 {path}" in warning


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_private_file_does_not_warn(env: dict[str, str]) -> None:
    write_config(env, "[profiles.default]\n", mode=0o600)
    i = make_io(env)
    settings(env, i)
    assert err(i) == ""


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_saving_creates_a_private_file_in_a_private_directory(env: dict[str, str]) -> None:
    old = os.umask(0o022)
    try:
        cfg = ConfigFile(config_path(env))
        cfg.set_value("p", "model", "m")
        cfg.save()
    finally:
        os.umask(old)
    path = config_path(env)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_rewriting_replaces_the_file_and_tightens_its_mode(env: dict[str, str]) -> None:
    path = write_config(env, "[profiles.p]\n", mode=0o644)
    inode = path.stat().st_ino
    cfg = ConfigFile.load(path)
    cfg.set_value("p", "model", "m")
    cfg.save()
    assert path.stat().st_ino != inode, "written beside and renamed, not in place"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ConfigFile.load(path).profile("p") == {"model": "m"}


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(env, '[profiles.p]\nmodel = "old"\n')
    before = path.read_bytes()
    cfg = ConfigFile.load(path)
    cfg.set_value("p", "model", "new")

    def boom(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    # A full disk is an output error (exit 74), as for every file oai writes.
    with pytest.raises(OutputError, match="No space left"):
        cfg.save()
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml"]


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_a_symlinked_config_file_stays_a_symlink(env: dict[str, str], tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "oai.toml"
    real.parent.mkdir()
    real.write_text("[profiles.p]\n")
    link = config_path(env)
    link.parent.mkdir(parents=True)
    link.symlink_to(real)
    cfg = ConfigFile.load(link)
    cfg.set_value("p", "model", "m")
    cfg.save()
    assert link.is_symlink()
    assert 'model = "m"' in real.read_text()


def test_config_dir_defaults_to_the_platform_location() -> None:
    import platformdirs

    from openai_cli.config import config_dir

    assert config_dir({}) == Path(platformdirs.user_config_dir("oai", appauthor=False))
    assert config_dir({"OAI_CONFIG_DIR": "~/x"}) == Path("~/x").expanduser()


# -- oai profile -----------------------------------------------------------------------


@pytest.fixture
def two_profiles(env: dict[str, str]) -> Path:
    return write_config(
        env,
        'current_profile = "work"\n'
        '[profiles.work]\nbase_url = "https://work.test/v1"\nmodel = "gpt-4o-mini"\n'
        f'api_key = "{API_KEY}"\n'
        "[profiles.home]\n",
    )


def test_profile_list_is_json_when_piped(env: dict[str, str], two_profiles: Path) -> None:
    f = StandInFactory(make_io(env))
    r = invoke("profile", ["list"], f)
    assert r.exit_code == 0, r.exception
    assert json.loads(out(f.io)) == [
        {"name": "work", "current": True},
        {"name": "home", "current": False},
    ]


def test_profile_list_is_text_on_a_terminal(env: dict[str, str], two_profiles: Path) -> None:
    f = StandInFactory(make_io(env, stdout_tty=True))
    invoke("profile", ["list"], f)
    assert out(f.io).splitlines() == ["*  work", "   home"]


def test_profile_list_output_flag_wins_over_the_terminal(
    env: dict[str, str], two_profiles: Path
) -> None:
    f = StandInFactory(make_io(env, stdout_tty=True), Overrides(output="json"))
    invoke("profile", ["list"], f)
    assert json.loads(out(f.io))[0]["name"] == "work"


def test_profile_list_without_profiles(env: dict[str, str]) -> None:
    f = StandInFactory(make_io(env, stdout_tty=True))
    r = invoke("profile", ["list"], f)
    assert r.exit_code == 0
    assert out(f.io) == ""
    assert "no profiles" in err(f.io)


def test_profile_show_masks_keys(env: dict[str, str], two_profiles: Path) -> None:
    keyring_backend_set("work", "admin_key", ADMIN_KEY)
    f = StandInFactory(make_io(env))
    r = invoke("profile", ["show"], f)
    assert r.exit_code == 0, r.exception
    data = json.loads(out(f.io))
    assert data["name"] == "work" and data["current"] is True
    assert data["settings"] == {"base_url": "https://work.test/v1", "model": "gpt-4o-mini"}
    assert data["api_key"] == {
        "value": mask_key(API_KEY),
        "stored_in": "config file (plain text)",
    }
    assert data["admin_key"] == {"value": mask_key(ADMIN_KEY), "stored_in": "OS keyring"}
    assert API_KEY not in out(f.io) and ADMIN_KEY not in out(f.io)

    f = StandInFactory(make_io(env, stdout_tty=True))
    invoke("profile", ["show", "home"], f)
    text = out(f.io)
    assert "home" in text and "(not set)" in text


def keyring_backend_set(profile: str, kind: str, value: str) -> None:
    keyring_backend.store("oai-cli", f"{profile}:{kind}", value)


def test_profile_show_unknown(env: dict[str, str], two_profiles: Path) -> None:
    r = invoke("profile", ["show", "nope"], StandInFactory(make_io(env)))
    assert isinstance(r.exception, UsageError)


def test_profile_set_creates_the_profile_without_making_it_the_default(
    env: dict[str, str],
) -> None:
    f = StandInFactory(make_io(env))
    r = invoke("profile", ["set", "timeout", "120", "--profile", "work"], f)
    assert r.exit_code == 0, r.exception
    assert settings(env).profile.value is None, "creating a profile does not choose it"
    s = settings(env, profile="work")
    assert s.timeout.value == 120.0
    assert "Set timeout = 120.0 in profile 'work'" in err(f.io)
    assert "`oai profile use work`" in err(f.io)


def test_profile_set_targets_the_profile_in_effect(env: dict[str, str], two_profiles: Path) -> None:
    f = StandInFactory(make_io(env), Overrides(profile="home"))
    invoke("profile", ["set", "model", "o3"], f)
    assert ConfigFile.load(two_profiles).profile("home") == {"model": "o3"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["timeout", "soon"], "timeout"),
        (["max_retries", "2.5"], "max_retries"),
        (["output", "pdf"], "output"),
        (["base_url", "api.openai.com"], "base_url"),
        (["colour", "blue"], "unknown setting"),
        (["api_key", "sk-x"], "oai auth login"),
    ],
)
def test_profile_set_validates(env: dict[str, str], args: list[str], needle: str) -> None:
    r = invoke("profile", ["set", *args], StandInFactory(make_io(env)))
    assert isinstance(r.exception, UsageError)
    assert needle in " ".join(r.exception.lines())
    assert not config_path(env).exists()


def test_profile_unset(env: dict[str, str], two_profiles: Path) -> None:
    f = StandInFactory(make_io(env))
    r = invoke("profile", ["unset", "model"], f)
    assert r.exit_code == 0, r.exception
    assert "model" not in ConfigFile.load(two_profiles).profile("work")
    f = StandInFactory(make_io(env))
    invoke("profile", ["unset", "model"], f)
    assert "was not set" in err(f.io)
    r = invoke("profile", ["unset", "api_key"], StandInFactory(make_io(env)))
    assert isinstance(r.exception, UsageError) and "logout" in r.exception.message


def test_profile_use(env: dict[str, str], two_profiles: Path) -> None:
    invoke("profile", ["use", "home"], StandInFactory(make_io(env)))
    assert settings(env).profile.value == "home"
    r = invoke("profile", ["use", "nope"], StandInFactory(make_io(env)))
    assert isinstance(r.exception, UsageError)
    assert settings(env).profile.value == "home"


def test_profile_delete_needs_yes_when_not_a_terminal(
    env: dict[str, str], two_profiles: Path
) -> None:
    r = invoke("profile", ["delete", "home"], StandInFactory(make_io(env)))
    assert isinstance(r.exception, UsageError)
    assert "--yes" in " ".join(r.exception.lines())
    assert ConfigFile.load(two_profiles).has_profile("home")


def test_profile_delete_asks_on_a_terminal(env: dict[str, str], two_profiles: Path) -> None:
    f = StandInFactory(make_io(env, stdin="n\n", stdin_tty=True))
    r = invoke("profile", ["delete", "home"], f)
    assert r.exit_code == 1
    assert ConfigFile.load(two_profiles).has_profile("home")
    f = StandInFactory(make_io(env, stdin="y\n", stdin_tty=True))
    r = invoke("profile", ["delete", "home"], f)
    assert r.exit_code == 0, r.exception
    assert not ConfigFile.load(two_profiles).has_profile("home")


def test_profile_delete_removes_keyring_entries_and_current(
    env: dict[str, str], two_profiles: Path
) -> None:
    keyring_backend_set("work", "api_key", API_KEY)
    keyring_backend_set("work", "admin_key", ADMIN_KEY)
    keyring_backend_set("home", "api_key", API_KEY)
    f = StandInFactory(make_io(env))
    r = invoke("profile", ["delete", "work", "--yes"], f)
    assert r.exit_code == 0, r.exception
    cfg = ConfigFile.load(two_profiles)
    assert cfg.profile_names() == ["home"]
    assert cfg.current_profile is None
    assert keyring_backend.read_all() == {"oai-cli": {"home:api_key": API_KEY}}
    assert "Removed the API key of profile 'work' from the OS keyring" in err(f.io)


def test_profile_delete_survives_a_hanging_keyring(env: dict[str, str], two_profiles: Path) -> None:
    e = {**env, "PYTHON_KEYRING_BACKEND": HANGING_BACKEND, "OAI_KEYRING_TIMEOUT": "0.2"}
    f = StandInFactory(make_io(e))
    r = invoke("profile", ["delete", "home", "--yes"], f)
    assert r.exit_code == 0, r.exception
    assert not ConfigFile.load(two_profiles).has_profile("home")
    assert "did not answer" in err(f.io)


# -- oai auth status / token -----------------------------------------------------------


def test_auth_status_json(env: dict[str, str], two_profiles: Path) -> None:
    f = StandInFactory(make_io({**env, "OPENAI_ORG_ID": "org-env"}))
    r = invoke("auth", ["status"], f)
    assert r.exit_code == 0, r.exception
    data = json.loads(out(f.io))
    assert data["profile"]["value"] == "work"
    assert data["base_url"] == {
        "value": "https://work.test/v1",
        "source": f"profile 'work' ({two_profiles})",
    }
    assert data["organization"] == {"value": "org-env", "source": "env OPENAI_ORG_ID"}
    assert data["api_key"]["value"] == mask_key(API_KEY)
    assert data["admin_key"]["value"] is None
    assert API_KEY not in out(f.io)


def test_auth_status_text_on_a_terminal(env: dict[str, str], two_profiles: Path) -> None:
    f = StandInFactory(make_io(env, stdout_tty=True))
    invoke("auth", ["status"], f)
    lines = out(f.io).splitlines()
    assert lines[0].split() == ["setting", "value", "source"]
    api = next(line for line in lines if line.startswith("api_key"))
    assert mask_key(API_KEY) in api and "profile 'work'" in api
    # Aligned: every value starts in the same column.
    assert len({line.index(line.split()[1]) for line in lines[:3]}) == 1


def test_auth_status_check_reports_ok_and_failures(env: dict[str, str], two_profiles: Path) -> None:
    f = StandInFactory(make_io({**env, "OPENAI_ADMIN_KEY": ADMIN_KEY}))
    f.clients[True] = FakeClient(fail_with=ApiError(401, "Incorrect API key provided"))
    r = invoke("auth", ["status", "--check"], f)
    assert isinstance(r.exception, ApiError)
    data = json.loads(out(f.io))
    assert data["check"]["api_key"] == {"request": "GET /models", "result": "ok"}
    assert data["check"]["admin_key"]["request"] == "GET /organization/projects?limit=1"
    assert "HTTP 401" in data["check"]["admin_key"]["result"]
    assert f.clients[False].calls == [("GET", "/models", {"query": []})]
    assert f.clients[True].calls == [("GET", "/organization/projects", {"query": [("limit", "1")]})]


def test_auth_status_check_without_any_key(env: dict[str, str]) -> None:
    f = StandInFactory(make_io(env))
    r = invoke("auth", ["status", "--check"], f)
    assert isinstance(r.exception, AuthError)
    assert f.clients == {}


def test_auth_status_check_without_a_client(env: dict[str, str]) -> None:
    f = SettingsFactory(make_io({**env, "OPENAI_API_KEY": API_KEY}))
    r = CliRunner().invoke(_app("auth"), ["status", "--check"], obj=f)
    assert r.exit_code == 0, r.exception
    assert "not available" in err(f.io)


def _app(name: str) -> Any:
    import importlib

    return importlib.import_module(f"openai_cli.commands.{name}").app


def test_auth_token_prints_the_key_and_only_the_key(env: dict[str, str]) -> None:
    f = StandInFactory(make_io({**env, "OPENAI_API_KEY": API_KEY, "OPENAI_ADMIN_KEY": ADMIN_KEY}))
    invoke("auth", ["token"], f)
    assert out(f.io) == API_KEY + "\n"
    f = StandInFactory(make_io({**env, "OPENAI_API_KEY": API_KEY, "OPENAI_ADMIN_KEY": ADMIN_KEY}))
    invoke("auth", ["token", "--admin"], f)
    assert out(f.io) == ADMIN_KEY + "\n"


def test_auth_token_without_a_key(env: dict[str, str]) -> None:
    f = StandInFactory(make_io(env))
    r = invoke("auth", ["token"], f)
    assert isinstance(r.exception, AuthError)
    assert out(f.io) == ""


# -- through the real entry point ------------------------------------------------------


def _main_run() -> Callable[..., int] | None:
    try:
        from openai_cli.main import run
    except ImportError:
        return None
    return run


@pytest.fixture
def run_main() -> Iterator[Callable[..., int]]:
    run = _main_run()
    if run is None:
        pytest.skip("openai_cli.main.run is not available")
    yield run


def test_entry_point_profile_and_status(
    env: dict[str, str], two_profiles: Path, run_main: Callable[..., int]
) -> None:
    i = make_io(env)
    assert run_main(["profile", "list"], i) == 0, err(i)
    assert [p["name"] for p in json.loads(out(i))] == ["work", "home"]

    i = make_io(env)
    assert (
        run_main(["--profile", "home", "--base-url", "https://flag.test/v1", "auth", "status"], i)
        == 0
    ), err(i)
    data = json.loads(out(i))
    assert data["profile"] == {"value": "home", "source": "flag --profile"}
    assert data["base_url"] == {"value": "https://flag.test/v1", "source": "flag --base-url"}

    i = make_io(env)
    assert run_main(["--profile", "nope", "auth", "status"], i) == 2
    assert "no profile named 'nope'" in err(i)
