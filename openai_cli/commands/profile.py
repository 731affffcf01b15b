"""``oai profile``: named sets of settings in the config file.

``list`` and ``show`` print JSON when stdout is not a terminal, so scripts can
read them, and aligned text when a person is looking.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

from openai_cli.errors import ConfigError, OaiError, UsageError
from openai_cli.http.redact import redact_url
from openai_cli.options import (
    PRINTING,
    OptionSpec,
    add_command,
    argument,
    complete_profile,
    option,
    reuse,
)

if TYPE_CHECKING:
    from openai_cli.config.secrets import KeyKind, Keyring
    from openai_cli.config.store import ConfigFile
    from openai_cli.context import Factory

app = typer.Typer(
    help="Manage profiles: base URL, organization, project, model and defaults.",
    no_args_is_help=True,
    # Loaded under the root app, which owns completion and plain-text help.
    add_completion=False,
    rich_markup_mode=None,
)


# -- helpers shared with `oai auth` ---------------------------------------------------


def print_rows(f: Factory, rows: list[tuple[str, ...]], header: tuple[str, ...] | None) -> None:
    table = [header, *rows] if header else rows
    if not table:
        return
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for row in table:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=True)]
        f.io.out.write("  ".join(cells).rstrip() + "\n")


def load_config(f: Factory) -> ConfigFile:
    from openai_cli.config import config_path
    from openai_cli.config.store import ConfigFile

    return ConfigFile.load(config_path(f.io.env), f.io)


@contextmanager
def edit_config(f: Factory) -> Iterator[ConfigFile]:
    """The config file for a change: locked from before it is read until the block ends."""
    from openai_cli.config import config_path
    from openai_cli.config.store import ConfigFile

    with ConfigFile.edit(config_path(f.io.env), f.io) as cfg:
        yield cfg


def keep_default(cfg: ConfigFile, name: str) -> None:
    """Creating a profile never changes which profile is the default.

    The file records ``current_profile`` only when it had none and ``name`` is in
    effect anyway (the profile called "default"); choosing another is `profile use`.
    """
    if cfg.current_profile is None and default_profile_name(cfg) == name:
        cfg.set_current(name)


def note_not_default(f: Factory, cfg: ConfigFile, name: str) -> None:
    """Tell the user a new profile is not the one commands will use."""
    current = default_profile_name(cfg)
    if current == name:
        return
    now = f"the default is '{current}'" if current else "there is no default profile"
    f.io.message(
        f"'{name}' is not the default profile ({now}): pass --profile {name}, "
        f"or make it the default with `oai profile use {name}`"
    )


def target_profile(f: Factory, cfg: ConfigFile, given: str | None) -> str:
    """The profile a command acts on: the option, else the one in effect, else "default"."""
    from openai_cli.config.settings import chosen_profile

    if given:
        return given
    return chosen_profile(f.overrides, f.io.env, cfg).value or "default"


def require_profile(cfg: ConfigFile, name: str) -> None:
    if not cfg.has_profile(name):
        raise UsageError(
            f"no profile named {name!r} in {cfg.path}",
            hint="`oai profile list` shows the profiles",
        )


def default_profile_name(cfg: ConfigFile) -> str | None:
    from openai_cli.config.settings import default_profile

    return default_profile(cfg, None).value


# -- commands --------------------------------------------------------------------------

PROFILE = OptionSpec(
    "profile",
    str | None,
    ("--profile", "-p"),
    help="Profile to change (default: the one in effect).",
    completion=complete_profile,
)


@dataclass(frozen=True, kw_only=True)
class ListOptions:
    pass


def list_(f: Factory, opts: ListOptions) -> None:
    """List the profiles; the default one is marked with '*'."""
    cfg = load_config(f)
    current = default_profile_name(cfg)
    names = cfg.profile_names()

    def view() -> None:
        if not names:
            f.io.message(
                f"no profiles in {cfg.path}; `oai auth login` or `oai profile set` creates one"
            )
        print_rows(f, [("*" if n == current else " ", n) for n in names], None)

    f.renderer().answer([{"name": n, "current": n == current} for n in names], view=view)


@dataclass(frozen=True, kw_only=True)
class ShowOptions:
    name: str | None = argument(
        default=None,
        metavar="NAME",
        help="Profile (default: the one in effect).",
        completion=complete_profile,
    )


def show(f: Factory, opts: ShowOptions) -> None:
    """Show a profile's settings and where its keys are stored (keys masked)."""
    from openai_cli.config.secrets import KEY_KINDS, Keyring
    from openai_cli.config.settings_table import spelled
    from openai_cli.config.store import SETTING_KEYS

    cfg = load_config(f)
    name = opts.name or default_profile_name(cfg)
    if name is None:
        raise UsageError(
            f"no profile to show: {cfg.path} has none",
            hint="`oai auth login` or `oai profile set KEY VALUE` creates one",
        )
    require_profile(cfg, name)
    values = cfg.profile(name)
    keyring = Keyring(f.io.env)
    keys: dict[str, dict[str, str] | None] = {}
    for kind in KEY_KINDS:
        keys[kind] = _describe_key(values, keyring, name, kind)
    settings = {k: values[k] for k in SETTING_KEYS if k in values}
    if isinstance(settings.get("base_url"), str):
        # A gateway's URL may carry a password; it is never shown.
        settings["base_url"] = redact_url(settings["base_url"])
    current = name == default_profile_name(cfg)

    def view() -> None:
        rows: list[tuple[str, ...]] = [("profile", name + (" (current)" if current else ""))]
        for k, v in settings.items():
            if isinstance(v, dict):
                rows += [(f"{k}.{item}", str(value)) for item, value in v.items()]
            else:
                rows.append((k, spelled(v)))
        for key_name, info in keys.items():
            if info is None:
                rows.append((key_name, "(not set)"))
            elif "error" in info:
                rows.append((key_name, f"(unavailable: {info['error']})"))
            else:
                rows.append((key_name, f"{info['value']} ({info['stored_in']})"))
        print_rows(f, rows, None)

    data = {"name": name, "current": current, "path": str(cfg.path), "settings": settings, **keys}
    f.renderer().answer(data, view=view)


def _describe_key(
    values: dict[str, Any], keyring: Keyring, name: str, kind: KeyKind
) -> dict[str, str] | None:
    from openai_cli.config import mask_key as mask

    if kind in values:
        return {"value": mask(values[kind]), "stored_in": "config file (plain text)"}
    try:
        secret = keyring.get(name, kind)
    except ConfigError as exc:
        return {"error": exc.message}
    if secret:
        return {"value": mask(secret), "stored_in": "OS keyring"}
    return None


@dataclass(frozen=True, kw_only=True)
class SetOptions:
    key: str = argument(
        metavar="KEY",
        help="base_url, organization, project, model, ..., headers.NAME, query.NAME "
        "(see docs/compatible-servers.md).",
    )
    value: str = argument(metavar="VALUE", help="The new value.")
    profile: str | None = reuse(PROFILE)


def set_(f: Factory, opts: SetOptions) -> None:
    """Set one setting in a profile, creating the profile if needed."""
    from openai_cli.config.settings_table import spelled
    from openai_cli.config.store import parse_setting

    key, value, profile = opts.key, opts.value, opts.profile
    parsed = parse_setting(key, value)
    with edit_config(f) as cfg:
        name = target_profile(f, cfg, profile)
        created = cfg.ensure_profile(name)
        cfg.set_value(name, key, parsed)
        keep_default(cfg, name)
        cfg.save()
    if created:
        f.io.message(f"Created profile '{name}' in {cfg.path}")
    shown = redact_url(parsed) if key == "base_url" and isinstance(parsed, str) else parsed
    f.io.message(f"Set {key} = {spelled(shown)} in profile '{name}'")
    if created:
        note_not_default(f, cfg, name)


@dataclass(frozen=True, kw_only=True)
class UnsetOptions:
    key: str = argument(metavar="KEY", help="The setting to remove.")
    profile: str | None = reuse(PROFILE)


def unset(f: Factory, opts: UnsetOptions) -> None:
    """Remove one setting from a profile, so the next source applies."""
    from openai_cli.config.store import SECRET_KEYS, check_setting_key

    key, profile = opts.key, opts.profile
    if key in SECRET_KEYS:
        flag = " --admin" if key == "admin_key" else ""
        raise UsageError(f"keys are removed with `oai auth logout{flag}`")
    check_setting_key(key)
    with edit_config(f) as cfg:
        name = target_profile(f, cfg, profile)
        require_profile(cfg, name)
        removed = cfg.unset_value(name, key)
        if removed:
            cfg.save()
    if not removed:
        f.io.message(f"{key} was not set in profile '{name}'")
        return
    f.io.message(f"Removed {key} from profile '{name}'")


@dataclass(frozen=True, kw_only=True)
class UseOptions:
    name: str = argument(
        metavar="NAME", help="The profile to make the default.", completion=complete_profile
    )


def use(f: Factory, opts: UseOptions) -> None:
    """Make a profile the default (current_profile in the config file)."""
    from openai_cli.config.settings import PROFILE_ENV

    name = opts.name
    with edit_config(f) as cfg:
        require_profile(cfg, name)
        before = default_profile_name(cfg)
        cfg.set_current(name)
        cfg.save()
    was = f" (it was '{before}')" if before and before != name else ""
    f.io.message(f"The default profile is now '{name}'{was}")
    chosen = f.overrides.profile or f.io.env.get(PROFILE_ENV, "").strip()
    if chosen and chosen != name:
        where = "--profile" if f.overrides.profile else f"{PROFILE_ENV} in the environment"
        f.io.message(f"note: {where} still chooses '{chosen}' for this command line or shell")


@dataclass(frozen=True, kw_only=True)
class DeleteOptions:
    name: str = argument(metavar="NAME", help="The profile to delete.", completion=complete_profile)
    yes: bool = option("--yes", "-y", default=False, help="Do not ask for confirmation.")


def delete(f: Factory, opts: DeleteOptions) -> None:
    """Delete a profile and the keys stored for it in the OS keyring."""
    from openai_cli.config.secrets import KEY_KINDS, LABEL, Keyring

    name, yes = opts.name, opts.yes
    cfg = load_config(f)
    require_profile(cfg, name)
    if not yes:
        if not f.io.stdin_tty:
            raise UsageError(
                f"refusing to delete profile '{name}' without confirmation",
                hint="pass --yes (stdin is not a terminal, so oai cannot ask)",
            )
        f.io.err.write(f"Delete profile '{name}' and its stored keys? [y/N] ")
        f.io.err.flush()
        answer = f.io.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            f.io.message("Not deleted.")
            raise typer.Exit(1)
    # The file first: a broken keyring must not make a profile undeletable.
    with edit_config(f) as cfg:
        require_profile(cfg, name)
        cfg.delete_profile(name)
        cfg.save()
    f.io.message(f"Deleted profile '{name}' from {cfg.path}")
    keyring = Keyring(f.io.env)
    for kind in KEY_KINDS:
        try:
            removed = keyring.delete(name, kind)
        except OaiError as exc:
            f.io.message(f"warning: {exc.message}")
            break
        if removed:
            f.io.message(f"Removed the {LABEL[kind]} of profile '{name}' from the OS keyring")


# Profiles are settings, not requests: list and show print data, the rest nothing.
add_command(app, "list", ListOptions, list_, shared=PRINTING)
add_command(app, "show", ShowOptions, show, shared=PRINTING)
add_command(app, "set", SetOptions, set_, shared=())
add_command(app, "unset", UnsetOptions, unset, shared=())
add_command(app, "use", UseOptions, use, shared=())
add_command(app, "delete", DeleteOptions, delete, shared=())
