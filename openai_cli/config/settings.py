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

import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openai_cli.config.settings_table import (
    DEFAULT_BASE_URL,
    ENV_NAMES,
    FLAG_NAMES,
    SETTINGS,
    Environment,
    Overrides,
    Setting,
    SettingsTable,
    Sourced,
    spelled,
)
from openai_cli.dirs import CONFIG, CONFIG_FILE
from openai_cli.dirs import folder as user_folder
from openai_cli.errors import AuthError, ConfigError, OaiError
from openai_cli.input.reader import read_kept

if TYPE_CHECKING:
    import ssl

    from openai_cli.config.secrets import KeyKind, Keyring
    from openai_cli.config.store import ConfigFile
    from openai_cli.io import IO

__all__ = ["DEFAULT_BASE_URL", "ENV_NAMES", "FLAG_NAMES", "Overrides", "Settings", "Sourced"]

CONFIG_DIR_ENV = Environment.config_dir.env[0]
PROFILE_ENV = SettingsTable.profile.env[0]
# Read when no profile names a ca_bundle. Systems often set them for everything, so
# unlike the other variables they never outrank a profile.
CA_FILE_ENV = SettingsTable.ca_bundle.env[0]
CA_DIR_ENV = Environment.ca_dir.env[0]

NOT_SET = "(not set)"
_KEY_KINDS: tuple[KeyKind, ...] = ("api_key", "admin_key")


def config_dir(env: Mapping[str, str]) -> Path:
    return Path(user_folder(CONFIG, env))


def config_path(env: Mapping[str, str]) -> Path:
    return config_dir(env) / CONFIG_FILE


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


class Settings(SettingsTable):
    """Every setting with its provenance; keys are looked up only when asked for.

    Each row of :class:`SettingsTable` reads as an attribute: ``settings.timeout`` is a
    ``Sourced[float]``.
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        config: ConfigFile,
        values: Mapping[str, Sourced[Any]],
        explicit_profile: bool,
        keyring: Keyring | None = None,
    ) -> None:
        self.env = env
        self.config = config
        self.explicit_profile = explicit_profile
        # Rows not given fall back to their defaults, so code building Settings by
        # hand names only what it needs.
        self._values: dict[str, Sourced[Any]] = {
            s.name: values.get(s.name, Sourced(s.default, "default")) for s in SETTINGS
        }
        self._keyring = keyring
        self._keys: dict[str, Sourced[str] | OaiError] = {}
        self._ssl: ssl.SSLContext | None = None

    def sourced(self, name: str) -> Sourced[Any]:
        return self._values[name]

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

    def auth_headers(self, admin: bool = False) -> dict[str, str]:
        """The header carrying the key: ``Authorization: Bearer`` or the profile's own.

        Empty when the profile says the server needs no key and none is set.
        """
        try:
            key = (self.admin_key() if admin else self.api_key()).value
        except (AuthError, ConfigError):
            # A keyring that is missing or stuck (a container, a CI runner) only
            # matters when a key is required.
            if self.api_key_optional.value:
                return {}
            raise
        name = self.api_key_header.value
        if name:
            return {name: key}
        return {"Authorization": f"Bearer {key}"}

    def auth_header_template(self, placeholder: str) -> dict[str, str]:
        """The key's header as ``--dry-run`` shows it: ``placeholder`` instead of the key."""
        name = self.api_key_header.value
        if name:
            return {name: placeholder}
        return {"Authorization": f"Bearer {placeholder}"}

    def extra_headers(self) -> dict[str, str]:
        """The profile's ``headers`` table, sent with every request besides auth."""
        return dict(self.headers.value)

    def query_params(self) -> list[tuple[str, str]]:
        """The profile's ``query`` table, added to every request (``api-version``)."""
        return list(self.query.value.items())

    def tls_configured(self) -> bool:
        """True when a CA bundle or a client certificate replaces the library defaults."""
        return bool(
            self.ca_bundle.value
            or self.client_cert.value
            or self.client_key.value
            or Environment.ca_dir.read(self.env)
        )

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS settings for every connection (HTTP and WebSocket), built once."""
        if self._ssl is None:
            self._ssl = _build_ssl_context(self)
        return self._ssl

    def transport_options(self) -> dict[str, Any]:
        """Extra keyword arguments for the HTTP client: TLS trust and client certificate."""
        if not self.tls_configured():
            # httpx's own default (certifi, or SSL_CERT_FILE from the environment).
            return {}
        return {"verify": self.ssl_context()}

    def describe(self) -> list[tuple[str, str, str]]:
        """(setting, printable value, source) rows; keys masked, never raises for them."""
        rows: list[tuple[str, str, str]] = []
        for setting in SETTINGS:
            item = self.sourced(setting.name)
            # Settings most people never use are shown only when set.
            if not setting.always_shown and item.source == "default":
                continue
            shown = item.value
            if isinstance(shown, dict):
                shown = ", ".join(f"{k}={v}" for k, v in shown.items())
            rows.append((setting.key or setting.name, _show(shown), item.source))
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

    def key_place(self, kind: KeyKind) -> str:
        """Where :meth:`_find_key` would take the key from: ``env``, ``profile`` (its
        file or the OS keyring) or ``none``, decided without opening the keyring, which
        ``--dry-run`` must never wait on."""
        in_env = bool(self.env.get(ENV_NAMES[kind], "").strip())
        name = self.profile.value
        if in_env and not (self.explicit_profile and name is not None):
            return "env"
        if name is not None:
            return "profile"
        return "none"

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
            try:
                found = source()
            except ConfigError:
                # A keyring that cannot be read must not block a key given in the
                # environment (a CI job with OAI_PROFILE); the source says why.
                env_key = from_env() if source is from_profile else None
                if env_key is None:
                    raise
                return Sourced(env_key.value, f"{env_key.source} (the OS keyring failed)")
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
    return NOT_SET if value is None else spelled(value)


def _readable(item: Sourced[str | None], what: str) -> str | None:
    """The path of a certificate or key file, once the reader has read it as a file
    oai keeps: a regular file within its limit. OpenSSL then opens it itself; a
    named pipe or a device there would have held it forever."""
    if not item.value:
        return None
    path = Path(item.value).expanduser()
    try:
        read_kept(path)
    except OSError as exc:
        raise ConfigError(
            f"cannot read the {what} {path} (from {item.source}): {exc.strerror or exc}"
        ) from None
    return str(path)


def _ca_dir(env: Mapping[str, str]) -> str | None:
    """``SSL_CERT_DIR``, once each of its folders (``:`` between them) is a folder."""
    value = Environment.ca_dir.read(env)
    if not value:
        return value
    for folder in value.split(os.pathsep):
        try:
            mode = os.stat(folder).st_mode if folder else stat.S_IFDIR
        except OSError as exc:
            raise ConfigError(
                f"cannot read the CA folder {folder} (from env {CA_DIR_ENV}): {exc.strerror or exc}"
            ) from None
        if not stat.S_ISDIR(mode):
            raise ConfigError(
                f"the CA folder {folder} (from env {CA_DIR_ENV}) is not a folder",
                hint=f"{CA_DIR_ENV} names folders of certificates; a single file goes in "
                "SSL_CERT_FILE",
            )
    return value


def _no_passphrase() -> bytes:
    # Without a callback OpenSSL would prompt on the terminal, even in CI.
    raise ValueError("encrypted private keys are not supported")


def _build_ssl_context(s: Settings) -> ssl.SSLContext:
    import ssl

    cafile = _readable(s.ca_bundle, "CA bundle")
    capath = _ca_dir(s.env) if cafile is None else None
    try:
        if cafile is not None:
            ctx = ssl.create_default_context(cafile=cafile)
        elif capath is not None:
            ctx = ssl.create_default_context(capath=capath)
        else:
            import certifi

            # The same trust store httpx uses by default.
            ctx = ssl.create_default_context(cafile=certifi.where())
    except (ssl.SSLError, OSError) as exc:
        where = f"{cafile} (from {s.ca_bundle.source})" if cafile else f"{capath} ({CA_DIR_ENV})"
        raise ConfigError(f"cannot load the CA certificates in {where}: {exc}") from None
    cert = _readable(s.client_cert, "mTLS client certificate")
    key = _readable(s.client_key, "mTLS client key")
    if key is not None and cert is None:
        raise ConfigError(
            f"an mTLS client key is set (from {s.client_key.source}) but no client certificate",
            hint="set OPENAI_MTLS_CLIENT_CERT_FILE or the profile's mtls_client_cert_file",
        )
    if cert is not None:
        try:
            ctx.load_cert_chain(cert, key, password=_no_passphrase)
        except (ssl.SSLError, OSError, ValueError) as exc:
            pair = f"{cert}" + (f" with the key {key}" if key else "")
            raise ConfigError(
                f"cannot use the mTLS client certificate {pair}: {exc}",
                hint="both must be PEM files, the key unencrypted and matching the certificate"
                + (
                    ""
                    if key
                    else "; a certificate file without the key needs OPENAI_MTLS_CLIENT_KEY_FILE"
                ),
            ) from None
    return ctx


def load_settings(
    overrides: Overrides,
    env: Mapping[str, str],
    io: IO | None = None,
    *,
    config: ConfigFile | None = None,
) -> Settings:
    """The settings; ``config`` is the config file when the caller has loaded it."""
    from openai_cli.config.store import ConfigFile

    cfg = ConfigFile.load(config_path(env), io, env=env) if config is None else config
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

    def pick(setting: Setting[Any]) -> Sourced[Any]:
        flag = overrides.get(setting.name)
        if flag is not None:
            return Sourced(flag, f"flag {setting.flag}")
        stored = values.get(setting.key) if setting.key else None
        if stored is not None and (explicit is not None or setting.env_below_profile):
            return Sourced(stored, profile_source)
        from_env = setting.from_env(env)
        if from_env is not None:
            return from_env
        if stored is not None:
            return Sourced(stored, profile_source)
        return Sourced(setting.default, "default")

    resolved = {s.name: pick(s) for s in SETTINGS if s is not SettingsTable.profile}
    resolved["profile"] = profile
    return Settings(env=env, config=cfg, values=resolved, explicit_profile=explicit is not None)
