"""Every setting, described once.

One :class:`Setting` per setting: its root flags, its environment variables, its
key in a profile, its type (how text becomes a value and how a value is checked),
its default and its help. The root options (``app.py``), the flag values
(:class:`Overrides`), the provenance names, the profile keys (``store.py``),
``oai profile set`` and ``oai auth status`` are all read from here, so a new
setting is one more row in :class:`SettingsTable`.

This module imports nothing beyond the standard library, ``errors`` and
``formats``: the config package stays cheap to import.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, overload

from openai_cli.dirs import CONFIG, DATA, STATE, VARIABLES
from openai_cli.errors import ConfigError, OaiError, UsageError
from openai_cli.formats import OUTPUT_FORMATS as OUTPUT_FORMATS

T = TypeVar("T")

# -- checks: a value from the config file (TOML types) or parsed from text -----------


def spelled(value: object) -> str:
    """A setting's value as the config file writes it: ``true``, not Python's ``True``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def nonempty_string(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value.strip()


def _base_url(value: object) -> str:
    text = nonempty_string(value)
    if not text.startswith(("http://", "https://")):
        raise ValueError("must start with https:// (or http://)")
    return text


def _output(value: object) -> str:
    text = nonempty_string(value)
    if text not in OUTPUT_FORMATS:
        raise ValueError("must be one of " + ", ".join(OUTPUT_FORMATS))
    return text


MAX_TIMEOUT = 1_000_000


def _seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number of seconds")
    # inf would wait forever and nan compares false with everything: neither is a
    # timeout.
    if not math.isfinite(value) or value <= 0:
        raise ValueError("must be a positive number of seconds")
    # The socket layer turns a timeout into a C time: 1e10 overflows it.
    if value > MAX_TIMEOUT:
        raise ValueError(f"must be at most {MAX_TIMEOUT:,} seconds (about 11 days)")
    return float(value)


def _interval(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number of seconds")
    if not math.isfinite(value) or value < 0:
        raise ValueError("must be a number of seconds, 0 or more")
    return float(value)


def _retries(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number")
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


# The APIs `ask` and `repl` speak (openai_cli/commands/conversation.py).
CONVERSATION_APIS = ("responses", "chat")


def _conversation_api(value: object) -> str:
    text = nonempty_string(value)
    if text not in CONVERSATION_APIS:
        raise ValueError("must be one of " + ", ".join(CONVERSATION_APIS))
    return text


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
# A key in one of these headers would sit in plain text in the profile; keys belong
# in the keyring, sent under `api_key_header`.
_SECRET_HEADER_NAMES = frozenset(
    {"authorization", "api-key", "x-api-key", "proxy-authorization", "cookie"}
)


def _header_name(value: object) -> str:
    text = nonempty_string(value)
    if not all(c in _TOKEN_CHARS for c in text):
        raise ValueError(f"{text!r} is not a valid header name")
    return text


def _plain_value(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("values must be strings")
    if any(c in value for c in "\r\n\0"):
        raise ValueError("values must be one line")
    return value


def _headers(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError("must be a table of header names to values")
    out: dict[str, str] = {}
    for name, item in value.items():
        header = _header_name(name)
        if header.lower() in _SECRET_HEADER_NAMES:
            raise ValueError(
                f"must not hold {header}: keys are kept out of the profile's plain text; "
                "set api_key_header and use `oai auth login`"
            )
        out[header] = _plain_value(item)
    return out


def _query(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError("must be a table of query parameter names to values")
    out: dict[str, str] = {}
    for name, item in value.items():
        out[nonempty_string(name)] = _plain_value(item)
    return out


# -- parsers: text from a flag, an environment variable or `oai profile set` --------


def _text(text: str) -> object:
    return text


def _number(text: str) -> object:
    try:
        return float(text)
    except ValueError:
        raise ValueError("must be a number of seconds") from None


def _whole(text: str) -> object:
    try:
        return int(text)
    except ValueError:
        raise ValueError("must be a whole number") from None


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def _yes_no(text: str) -> object:
    lowered = text.strip().lower()
    if lowered not in _TRUE + _FALSE:
        raise ValueError("must be true or false")
    return lowered in _TRUE


def _any_value(text: str) -> object:
    """A switch that any value turns on."""
    return True


def _only_one(text: str) -> object:
    """A switch that only ``1`` turns on: it lowers a safety check."""
    return text == "1"


def _json_object(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        raise ValueError("takes a JSON object") from None


# -- the row type ----------------------------------------------------------------------


class _Holder(Protocol):
    """What a setting reads its resolved value from (``Settings``)."""

    def sourced(self, name: str) -> Sourced[Any]: ...


@dataclass(frozen=True)
class Sourced(Generic[T]):
    value: T
    source: str


class Setting(Generic[T]):
    """One setting. As a class attribute of :class:`SettingsTable` it reads as ``Sourced[T]``.

    ``kind`` says how ``oai profile set`` takes it: ``text``, ``table`` (a JSON
    object, or one entry as ``NAME.ENTRY``), ``path`` (stored absolute) or ``bool``.
    """

    name: str

    def __init__(
        self,
        *,
        help: str,
        check: Callable[[object], Any],
        default: T,
        parse: Callable[[str], object] = _text,
        flags: tuple[str, ...] = (),
        env: tuple[str, ...] = (),
        key: str | None = "",
        metavar: str | None = None,
        kind: str = "text",
        root_option: bool = True,
        always_shown: bool = True,
        env_below_profile: bool = False,
        text_checked_later: bool = False,
    ) -> None:
        self.help = help
        self.check = check
        self.default = default
        self.parse = parse
        self.flags = flags
        self.env = env
        self._key = key
        self.metavar = metavar
        self.kind = kind
        # False when the option is built with other options rather than with the
        # root's settings (`-o`: options.py makes it from this row, with the other
        # output options every command takes).
        self.root_option = root_option
        self.always_shown = always_shown
        # Variables systems set for everything (SSL_CERT_FILE) never outrank a profile.
        self.env_below_profile = env_below_profile
        # A flag or variable taken as typed, for a check made where the value is
        # used (the base URL: the client parses it whole and masks a password in it).
        self.text_checked_later = text_checked_later

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @property
    def key(self) -> str | None:
        """The key in a profile (None: not a profile setting)."""
        if self._key == "":
            return self.name
        return self._key

    @property
    def flag(self) -> str:
        """The spelling that names the flag in messages: the first long one."""
        return next((f for f in self.flags if f.startswith("--")), self.flags[0])

    @overload
    def __get__(self, obj: None, owner: type) -> Setting[T]: ...
    @overload
    def __get__(self, obj: _Holder, owner: type) -> Sourced[T]: ...
    def __get__(self, obj: _Holder | None, owner: type) -> Setting[T] | Sourced[T]:
        if obj is None:
            return self
        sourced: Sourced[T] = obj.sourced(self.name)
        return sourced

    def from_text(self, text: str, where: str) -> T:
        """A value typed as text, checked; a usage error naming ``where`` if it is not."""
        try:
            value: T = self.check(self.parse(text))
        except ValueError as exc:
            raise UsageError(f"{where} {exc}, got {text!r}") from None
        return value

    def given(self, text: str, where: str) -> Any:
        """A value from a flag or an environment variable (named by ``where``)."""
        if self.text_checked_later:
            return self.parse(text)
        value = self.from_text(text, where)
        # Text is used as typed (not trimmed): a character the request cannot carry
        # is refused where the header is built, which names the header.
        return text if isinstance(value, str) else value

    def from_env(self, env: Mapping[str, str]) -> Sourced[T] | None:
        """The value of the first of its variables that is set, checked (a bad one is
        an error naming the variable); None when none is."""
        for var in self.env:
            text = env.get(var, "").strip()
            if text:
                try:
                    return Sourced(self.given(text, var), f"env {var}")
                except OaiError as exc:
                    raise ConfigError(exc.message) from None
        return None

    def read(self, env: Mapping[str, str]) -> T:
        """The value of an :class:`Environment` knob: its variable's, or the default."""
        found = self.from_env(env)
        return self.default if found is None else found.value

    def from_file(self, value: object) -> T:
        """A value from the config file (TOML types), checked; ValueError if it is not."""
        checked: T = self.check(value)
        return checked

    def help_line(self) -> str:
        """The option's help in ``oai --help``: what it is, its variable, its default."""
        notes = [f"env {v}" for v in self.env]
        default = self.default
        if default not in (None, "", {}, False):
            shown = f"{default:g}" if isinstance(default, float) else spelled(default)
            notes.append(f"default {shown}")
        return self.help + (f" ({'; '.join(notes)})" if notes else "") + "."


# -- the table ---------------------------------------------------------------------------

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class SettingsTable:
    """The settings, one row each, in the order `oai auth status` shows them."""

    profile: Setting[str | None] = Setting(
        help="Profile to use",
        check=nonempty_string,
        default=None,
        flags=("--profile", "-p"),
        env=("OAI_PROFILE",),
        key=None,
        metavar="NAME",
    )
    base_url: Setting[str] = Setting(
        help="API base URL",
        check=_base_url,
        default=DEFAULT_BASE_URL,
        flags=("--base-url",),
        env=("OPENAI_BASE_URL",),
        metavar="URL",
        text_checked_later=True,
    )
    organization: Setting[str | None] = Setting(
        help="Organization ID",
        check=nonempty_string,
        default=None,
        flags=("--organization", "--org"),
        env=("OPENAI_ORG_ID",),
        metavar="ID",
    )
    project: Setting[str | None] = Setting(
        help="Project ID",
        check=nonempty_string,
        default=None,
        flags=("--project",),
        env=("OPENAI_PROJECT_ID",),
        metavar="ID",
    )
    model: Setting[str | None] = Setting(
        help="Model for commands that need one and got none",
        check=nonempty_string,
        default=None,
        flags=("--default-model",),
        metavar="MODEL",
    )
    api: Setting[str] = Setting(
        help="API of ask and repl: responses, or chat for servers without /responses",
        check=_conversation_api,
        default="responses",
        always_shown=False,
    )
    log: Setting[bool] = Setting(
        help="Keep ask and repl conversations in the local log (oai logs)",
        check=_boolean,
        parse=_yes_no,
        default=True,
        kind="bool",
        always_shown=False,
    )
    validate: Setting[bool] = Setting(
        help="Check request bodies against the API's schemas before sending "
        "(batches run, map, --dry-run); false for a gateway that takes more",
        check=_boolean,
        parse=_yes_no,
        default=True,
        env=("OAI_VALIDATE",),
        kind="bool",
        always_shown=False,
    )
    prices: Setting[str | None] = Setting(
        help="TOML file of prices over the shipped table (oai prices), for another "
        "server or negotiated prices",
        check=nonempty_string,
        default=None,
        env=("OAI_PRICES",),
        kind="path",
        always_shown=False,
    )
    id_cache: Setting[bool] = Setting(
        help="Remember the IDs of objects in answers, for completing ID arguments on TAB",
        check=_boolean,
        parse=_yes_no,
        default=True,
        env=("OAI_ID_CACHE",),
        kind="bool",
        always_shown=False,
    )
    output: Setting[str] = Setting(
        help="Output format: " + ", ".join(OUTPUT_FORMATS),
        check=_output,
        default="auto",
        flags=("-o", "--output"),
        metavar="FORMAT",
        root_option=False,
    )
    timeout: Setting[float] = Setting(
        help="Seconds to wait for an answer",
        check=_seconds,
        parse=_number,
        default=600.0,
        flags=("--timeout",),
        metavar="SECONDS",
    )
    connect_timeout: Setting[float] = Setting(
        help="Seconds to wait for a connection", check=_seconds, parse=_number, default=5.0
    )
    max_retries: Setting[int] = Setting(
        help="Retries on 408/409/429/5xx and network errors",
        check=_retries,
        parse=_whole,
        default=2,
        flags=("--max-retries",),
        metavar="N",
    )
    api_key_header: Setting[str | None] = Setting(
        help="Header that carries the key instead of Authorization: Bearer",
        check=_header_name,
        default=None,
        always_shown=False,
    )
    api_key_optional: Setting[bool] = Setting(
        help="The server needs no key",
        check=_boolean,
        parse=_yes_no,
        default=False,
        kind="bool",
        always_shown=False,
    )
    headers: Setting[dict[str, str]] = Setting(
        help="Extra headers sent with every request",
        check=_headers,
        parse=_json_object,
        default={},
        kind="table",
        always_shown=False,
    )
    query: Setting[dict[str, str]] = Setting(
        help="Query parameters added to every request",
        check=_query,
        parse=_json_object,
        default={},
        kind="table",
        always_shown=False,
    )
    ca_bundle: Setting[str | None] = Setting(
        help="PEM file of CA certificates to trust",
        check=nonempty_string,
        default=None,
        env=("SSL_CERT_FILE",),
        kind="path",
        always_shown=False,
        env_below_profile=True,
    )
    client_cert: Setting[str | None] = Setting(
        help="Client certificate (PEM) for mutual TLS",
        check=nonempty_string,
        default=None,
        env=("OPENAI_MTLS_CLIENT_CERT_FILE",),
        key="mtls_client_cert_file",
        kind="path",
        always_shown=False,
    )
    client_key: Setting[str | None] = Setting(
        help="Unencrypted client key (PEM) for mutual TLS",
        check=nonempty_string,
        default=None,
        env=("OPENAI_MTLS_CLIENT_KEY_FILE",),
        key="mtls_client_key_file",
        kind="path",
        always_shown=False,
    )


class _Keys:
    # Keys never come from the command line (argv shows in `ps`) and are looked up
    # only when asked for, so they are rows of their own, outside `SettingsTable`.
    api_key: Setting[str] = Setting(
        help="API key", check=nonempty_string, default="", env=("OPENAI_API_KEY",)
    )
    admin_key: Setting[str] = Setting(
        help="Admin key, for /organization endpoints",
        check=nonempty_string,
        default="",
        env=("OPENAI_ADMIN_KEY",),
    )


class Environment:
    """Knobs that only an environment variable sets: where oai keeps its files, and
    switches for tests and unusual setups. Nothing resolves them with the settings
    (some are needed before there are settings: the config folder); where they are
    used, ``Environment.NAME.read(env)`` gives the value."""

    config_dir: Setting[str | None] = Setting(
        help="Folder holding config.toml",
        check=nonempty_string,
        default=None,
        env=(VARIABLES[CONFIG],),
        key=None,
    )
    data_dir: Setting[str | None] = Setting(
        help="Folder holding logs.db, the local log of ask and repl",
        check=nonempty_string,
        default=None,
        env=(VARIABLES[DATA],),
        key=None,
    )
    state_dir: Setting[str | None] = Setting(
        help="Folder of the state that lets batches run, map and uploads resume",
        check=nonempty_string,
        default=None,
        env=(VARIABLES[STATE],),
        key=None,
    )
    ca_dir: Setting[str | None] = Setting(
        help="Folder of CA certificates to trust when no CA bundle is set",
        check=nonempty_string,
        default=None,
        env=("SSL_CERT_DIR",),
        key=None,
    )
    keyring_timeout: Setting[float] = Setting(
        help="Seconds to wait for the OS keyring before giving up",
        check=_seconds,
        parse=_number,
        default=3.0,
        env=("OAI_KEYRING_TIMEOUT",),
        key=None,
    )
    poll_interval: Setting[float | None] = Setting(
        help="Seconds between the polls of --wait, fixed (default: 1, doubling up to 30)",
        check=_interval,
        parse=_number,
        default=None,
        env=("OAI_POLL_INTERVAL",),
        key=None,
    )
    no_progress: Setting[bool] = Setting(
        help="Any value: no progress bars, even on a terminal",
        check=_boolean,
        parse=_any_value,
        default=False,
        env=("OAI_NO_PROGRESS",),
        key=None,
        kind="bool",
    )
    allow_insecure_http: Setting[bool] = Setting(
        help="Any value: send the key over plain http to a host other than this machine",
        check=_boolean,
        parse=_any_value,
        default=False,
        env=("OAI_ALLOW_INSECURE_HTTP",),
        key=None,
        kind="bool",
    )
    allow_unsafe_config: Setting[bool] = Setting(
        help="1: use a config file that another user owns or may change",
        check=_boolean,
        parse=_only_one,
        default=False,
        env=("OAI_ALLOW_UNSAFE_CONFIG",),
        key=None,
        kind="bool",
    )
    webhook_secret: Setting[str | None] = Setting(
        help="The secret webhooks are signed with (oai webhooks verify, unwrap)",
        check=nonempty_string,
        default=None,
        env=("OPENAI_WEBHOOK_SECRET",),
        key=None,
    )


def _rows(cls: type) -> tuple[Setting[Any], ...]:
    return tuple(v for v in vars(cls).values() if isinstance(v, Setting))


SETTINGS: tuple[Setting[Any], ...] = _rows(SettingsTable)
KEYS: tuple[Setting[Any], ...] = _rows(_Keys)
ENVIRONMENT: tuple[Setting[Any], ...] = _rows(Environment)
BY_NAME: dict[str, Setting[Any]] = {s.name: s for s in SETTINGS + KEYS}
BY_KEY: dict[str, Setting[Any]] = {s.key: s for s in SETTINGS + KEYS if s.key}
FLAGGED: tuple[Setting[Any], ...] = tuple(s for s in SETTINGS if s.flags)

# Derived names other modules use.
SETTING_KEYS: tuple[str, ...] = tuple(s.key for s in SETTINGS if s.key)
SECRET_KEYS: tuple[str, ...] = tuple(s.key for s in KEYS if s.key)
TABLE_KEYS: tuple[str, ...] = tuple(s.key for s in SETTINGS if s.key and s.kind == "table")
PATH_KEYS: tuple[str, ...] = tuple(s.key for s in SETTINGS if s.key and s.kind == "path")
# How each flag is spelled in provenance text ("flag --base-url").
FLAG_NAMES: dict[str, str] = {s.name: s.flag for s in FLAGGED}
ENV_NAMES: dict[str, str] = {
    s.key or s.name: s.env[0] for s in SETTINGS + KEYS if s.env and not s.env_below_profile
}


class Overrides:
    """Values of the root flags, parsed; a flag that was not given is absent."""

    __slots__ = ("_given",)

    def __init__(self, **given: Any) -> None:
        unknown = [name for name in given if name not in FLAG_NAMES]
        if unknown:
            raise TypeError(f"not a flag setting: {', '.join(unknown)}")
        self._given: dict[str, Any] = {k: v for k, v in given.items() if v is not None}

    @classmethod
    def from_flags(cls, texts: Mapping[str, str | None]) -> Overrides:
        """Flag values as typed on the command line, checked (a usage error names the flag)."""
        given = {}
        for name, text in texts.items():
            if text is not None:
                given[name] = BY_NAME[name].given(text, BY_NAME[name].flag)
        return cls(**given)

    def get(self, name: str) -> Any:
        return self._given.get(name)

    @property
    def profile(self) -> str | None:
        value = self._given.get("profile")
        return value if isinstance(value, str) else None

    @property
    def output(self) -> str | None:
        value = self._given.get("output")
        return value if isinstance(value, str) else None

    def replace(self, **given: Any) -> Overrides:
        """A copy where ``given`` replaces what was there (None removes a value)."""
        merged = {**self._given, **given}
        return Overrides(**merged)

    def merged(self, other: Overrides) -> Overrides:
        """``other`` wins where it was given (the flag nearer to the command)."""
        return Overrides(**{**self._given, **other._given})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Overrides) and other._given == self._given

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._given.items(), key=lambda kv: kv[0])))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._given.items())
        return f"Overrides({inner})"
