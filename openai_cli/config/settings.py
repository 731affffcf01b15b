"""Resolving each setting, and remembering where its value came from.

Precedence, highest first:

1. command-line flags;
2. a profile chosen explicitly (``--profile`` or ``OAI_PROFILE``);
3. environment variables (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ...);
4. the default profile (``current_profile`` in the file, else one named "default");
5. built-in defaults.

An explicitly chosen profile outranks the environment because choosing it is the
more specific act; the default profile ranks below it so that a CI job's
``OPENAI_API_KEY`` is not shadowed by whatever a developer last logged in with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from openai_cli.errors import AuthError, ConfigError, OaiError

if TYPE_CHECKING:
    from openai_cli.config.secrets import KeyKind, Keyring
    from openai_cli.config.store import ConfigFile
    from openai_cli.io import IO

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT = 600.0
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_OUTPUT = "auto"

CONFIG_DIR_ENV = "OAI_CONFIG_DIR"
PROFILE_ENV = "OAI_PROFILE"

# How each flag is spelled in provenance text ("flag --base-url").
FLAG_NAMES = {
    "profile": "--profile",
    "base_url": "--base-url",
    "organization": "--organization",
    "project": "--project",
    "timeout": "--timeout",
    "max_retries": "--max-retries",
    "model": "--default-model",
    "output": "--output",
}

ENV_NAMES = {
    "base_url": "OPENAI_BASE_URL",
    "organization": "OPENAI_ORG_ID",
    "project": "OPENAI_PROJECT_ID",
    "api_key": "OPENAI_API_KEY",
    "admin_key": "OPENAI_ADMIN_KEY",
}

NOT_SET = "(not set)"
_KEY_KINDS: tuple[KeyKind, ...] = ("api_key", "admin_key")


@dataclass(frozen=True)
class Sourced(Generic[T]):
    value: T
    source: str


@dataclass(frozen=True)
class Overrides:
    """Values from the global command-line flags; None means the flag was not given."""

    profile: str | None = None
    base_url: str | None = None
    organization: str | None = None
    project: str | None = None
    timeout: float | None = None
    max_retries: int | None = None
    model: str | None = None
    output: str | None = None


def config_dir(env: Mapping[str, str]) -> Path:
    chosen = env.get(CONFIG_DIR_ENV, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("oai", appauthor=False))


def config_path(env: Mapping[str, str]) -> Path:
    return config_dir(env) / "config.toml"


def mask_key(key: str) -> str:
    """Enough of a key to tell two apart, never enough to use one."""
    if len(key) < 16:
        return "****"
    return f"{key[:7]}...{key[-4:]}"


def chosen_profile(
    overrides: Overrides, env: Mapping[str, str], cfg: ConfigFile
) -> Sourced[str | None]:
    """The profile a command acts on when the user names none, and why."""
    explicit = _explicit_profile(overrides, env)
    if explicit is not None:
        return explicit
    return default_profile(cfg, None)


def _explicit_profile(overrides: Overrides, env: Mapping[str, str]) -> Sourced[str | None] | None:
    if overrides.profile:
        return Sourced(overrides.profile, f"flag {FLAG_NAMES['profile']}")
    from_env = env.get(PROFILE_ENV, "").strip()
    if from_env:
        return Sourced(from_env, f"env {PROFILE_ENV}")
    return None


def default_profile(cfg: ConfigFile, io: IO | None) -> Sourced[str | None]:
    current = cfg.current_profile
    if current is not None:
        if cfg.has_profile(current):
            return Sourced(current, f"current_profile in {cfg.path}")
        if io is not None:
            io.message(
                f"warning: current_profile {current!r} in {cfg.path} names no profile; "
                "ignoring it (`oai profile use NAME` picks another)"
            )
    if cfg.has_profile("default"):
        return Sourced("default", f"profile named 'default' in {cfg.path}")
    return Sourced(None, "no profile")


class Settings:
    """Every setting with its provenance; keys are looked up only when asked for."""

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        config: ConfigFile,
        profile: Sourced[str | None],
        explicit_profile: bool,
        base_url: Sourced[str],
        organization: Sourced[str | None],
        project: Sourced[str | None],
        model: Sourced[str | None],
        output: Sourced[str],
        timeout: Sourced[float],
        connect_timeout: Sourced[float],
        max_retries: Sourced[int],
        keyring: Keyring | None = None,
    ) -> None:
        self.env = env
        self.config = config
        self.profile = profile
        self.explicit_profile = explicit_profile
        self.base_url = base_url
        self.organization = organization
        self.project = project
        self.model = model
        self.output = output
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_retries = max_retries
        self._keyring = keyring
        self._keys: dict[str, Sourced[str] | OaiError] = {}

    @property
    def config_path(self) -> Path:
        return self.config.path

    @property
    def keyring(self) -> Keyring:
        if self._keyring is None:
            from openai_cli.config.secrets import Keyring

            self._keyring = Keyring(self.env)
        return self._keyring

    def api_key(self) -> Sourced[str]:
        return self._key("api_key")

    def admin_key(self) -> Sourced[str]:
        return self._key("admin_key")

    def transport_options(self) -> dict[str, Any]:
        """Extra keyword arguments for the HTTP client; none are configurable yet."""
        return {}

    def extra_headers(self) -> dict[str, str]:
        """Headers sent with every request besides auth; none are configurable yet."""
        return {}

    def describe(self) -> list[tuple[str, str, str]]:
        """(setting, printable value, source) rows; keys masked, never raises for them."""
        rows: list[tuple[str, str, str]] = [
            ("profile", _show(self.profile.value), self.profile.source),
        ]
        for name in (
            "base_url",
            "organization",
            "project",
            "model",
            "output",
            "timeout",
            "connect_timeout",
            "max_retries",
        ):
            item: Sourced[Any] = getattr(self, name)
            rows.append((name, _show(item.value), item.source))
        for kind in _KEY_KINDS:
            try:
                key = self._key(kind)
            except AuthError:
                rows.append((kind, NOT_SET, "-"))
            except ConfigError as exc:
                rows.append((kind, "(unavailable)", exc.message))
            else:
                rows.append((kind, mask_key(key.value), key.source))
        return rows

    # -- keys ------------------------------------------------------------------------

    def _key(self, kind: KeyKind) -> Sourced[str]:
        cached = self._keys.get(kind)
        if cached is None:
            try:
                cached = self._find_key(kind)
            except OaiError as exc:
                cached = exc
            self._keys[kind] = cached
        if isinstance(cached, OaiError):
            raise cached
        return cached

    def _find_key(self, kind: KeyKind) -> Sourced[str]:
        env_var = ENV_NAMES[kind]

        def from_env() -> Sourced[str] | None:
            value = self.env.get(env_var, "").strip()
            return Sourced(value, f"env {env_var}") if value else None

        def from_profile() -> Sourced[str] | None:
            name = self.profile.value
            if name is None:
                return None
            stored = self.config.profile(name).get(kind)
            if stored:
                return Sourced(str(stored), f"profile '{name}' ({self.config.path})")
            secret = self.keyring.get(name, kind)
            if secret:
                return Sourced(secret.strip(), f"keyring (profile '{name}')")
            return None

        order: tuple[Callable[[], Sourced[str] | None], ...] = (
            (from_profile, from_env) if self.explicit_profile else (from_env, from_profile)
        )
        for source in order:
            found = source()
            if found is not None:
                return found
        admin = kind == "admin_key"
        hint = None
        if self.profile.value is not None:
            hint = (
                f"profile '{self.profile.value}' has no {'admin' if admin else 'API'} key "
                f"in {self.config.path} or the OS keyring"
            )
        if admin:
            raise AuthError(
                f"no admin key: set {env_var} or run `oai auth login --admin`", hint=hint
            )
        raise AuthError(f"no API key: set {env_var} or run `oai auth login`", hint=hint)


def _show(value: object) -> str:
    return NOT_SET if value is None else str(value)


def load_settings(overrides: Overrides, env: Mapping[str, str], io: IO | None = None) -> Settings:
    from openai_cli.config.store import ConfigFile

    cfg = ConfigFile.load(config_path(env), io)
    explicit = _explicit_profile(overrides, env)
    if explicit is not None:
        name = explicit.value
        assert name is not None
        if not cfg.has_profile(name):
            raise ConfigError(
                f"no profile named {name!r} (from {explicit.source}) in {cfg.path}",
                hint="`oai profile list` shows the profiles; "
                f"`oai auth login --profile {name}` creates one",
            )
        profile = explicit
    else:
        profile = default_profile(cfg, io)

    values = cfg.profile(profile.value) if profile.value is not None else {}
    profile_source = f"profile '{profile.value}' ({cfg.path})"

    def pick(name: str, flag: Any, default: Any) -> Sourced[Any]:
        if flag is not None:
            return Sourced(flag, f"flag {FLAG_NAMES[name]}")
        if explicit is not None and name in values:
            return Sourced(values[name], profile_source)
        env_var = ENV_NAMES.get(name)
        if env_var is not None:
            from_env = env.get(env_var, "").strip()
            if from_env:
                return Sourced(from_env, f"env {env_var}")
        if name in values:
            return Sourced(values[name], profile_source)
        return Sourced(default, "default")

    o = overrides
    return Settings(
        env=env,
        config=cfg,
        profile=profile,
        explicit_profile=explicit is not None,
        base_url=pick("base_url", o.base_url, DEFAULT_BASE_URL),
        organization=pick("organization", o.organization, None),
        project=pick("project", o.project, None),
        model=pick("model", o.model, None),
        output=pick("output", o.output, DEFAULT_OUTPUT),
        timeout=pick("timeout", o.timeout, DEFAULT_TIMEOUT),
        connect_timeout=pick("connect_timeout", None, DEFAULT_CONNECT_TIMEOUT),
        max_retries=pick("max_retries", o.max_retries, DEFAULT_MAX_RETRIES),
    )
