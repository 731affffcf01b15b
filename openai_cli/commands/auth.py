"""``oai auth``: store, remove, inspect and print API keys.

No option ever takes a key as its value: argv is visible to every user in ``ps``
and lands in shell history. A key arrives through a hidden prompt, stdin or a file.
``auth token`` is the only command that prints a key; everything else masks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from openai_cli.commands.profile import (
    edit_config,
    keep_default,
    load_config,
    note_not_default,
    print_rows,
    target_profile,
)
from openai_cli.config.secrets import key_problem
from openai_cli.errors import AuthError, ConfigError, OaiError, UsageError
from openai_cli.input import reader
from openai_cli.options import (
    PRINTING,
    OptionSpec,
    add_command,
    complete_profile,
    option,
    reuse,
)

if TYPE_CHECKING:
    from openai_cli.config import Settings
    from openai_cli.config.secrets import KeyKind
    from openai_cli.context import Factory

app = typer.Typer(
    help="Log in, log out and show where the API key comes from.",
    no_args_is_help=True,
    # Loaded under the root app, which owns completion and plain-text help.
    add_completion=False,
    rich_markup_mode=None,
)

PROFILE = OptionSpec(
    "profile",
    str | None,
    ("--profile", "-p"),
    help="Profile to act on (default: the one in effect).",
    completion=complete_profile,
)
ADMIN = OptionSpec(
    "admin",
    bool,
    ("--admin",),
    default=False,
    help="The admin key (for /organization endpoints) instead.",
)


def _kind(admin: bool) -> KeyKind:
    return "admin_key" if admin else "api_key"


def _read_key(f: Factory, with_key_stdin: bool, key_file: Path | None, prompt: str) -> str:
    if with_key_stdin and key_file is not None:
        raise UsageError("use either --with-key-stdin or --key-file, not both")
    if with_key_stdin or (key_file is not None and str(key_file) == "-"):
        text = reader.read_text(f.io, "-", reader.KEY, what="--with-key-stdin")
    elif key_file is not None:
        text = reader.file_text(str(key_file), reader.KEY, what="--key-file")
    elif f.io.stdin_tty:
        import getpass

        try:
            text = getpass.getpass(prompt, stream=f.io.err)
        except EOFError:
            text = ""
    else:
        # Prompting a pipe would block forever or swallow a script's input.
        raise UsageError(
            "stdin is not a terminal, so oai cannot prompt for the key",
            hint="pipe it with --with-key-stdin, or name a file with --key-file PATH",
        )
    key = text.strip()
    if not key:
        raise UsageError("the key is empty")
    if any(c.isspace() for c in key):
        raise UsageError("the key contains whitespace; paste exactly one key")
    problem = key_problem(key)
    if problem is not None:
        # Stored, it would fail every command: refused by the rule sending applies.
        raise UsageError(
            f"the key contains {problem}",
            hint="copy the key again, exactly as shown on platform.openai.com",
        )
    return key


@dataclass(frozen=True, kw_only=True)
class LoginOptions:
    profile: str | None = reuse(PROFILE)
    admin: bool = reuse(ADMIN)
    with_key_stdin: bool = option(
        "--with-key-stdin", default=False, help="Read the key from stdin."
    )
    key_file: Path | None = option(
        "--key-file", metavar="PATH", help="Read the key from a file ('-': stdin)."
    )
    insecure_storage: bool = option(
        "--insecure-storage",
        default=False,
        help="Store the key in plain text in the config file, not the OS keyring.",
    )


def login(f: Factory, opts: LoginOptions) -> None:
    """Store an API key for a profile (in the OS keyring by default).

    On a terminal the key is read from a hidden prompt; in scripts use
    --with-key-stdin or --key-file.
    """
    from openai_cli.config import mask_key
    from openai_cli.config.secrets import LABEL, Keyring
    from openai_cli.config.store import check_profile_name

    profile, admin, key_file = opts.profile, opts.admin, opts.key_file
    with_key_stdin, insecure_storage = opts.with_key_stdin, opts.insecure_storage
    kind = _kind(admin)
    label = LABEL[kind]
    cfg = load_config(f)
    name = target_profile(f, cfg, profile)
    if not cfg.has_profile(name):
        check_profile_name(name)
    key = _read_key(f, with_key_stdin, key_file, f"{label} for profile '{name}' (hidden): ")
    if not admin and key.startswith("sk-admin-"):
        f.io.message("warning: this looks like an admin key; did you mean --admin?")
    elif admin and not key.startswith("sk-admin-"):
        f.io.message("warning: admin keys usually start with 'sk-admin-'")

    # Keyring first: if it fails, nothing has changed on disk.
    if not insecure_storage:
        Keyring(f.io.env).set(name, kind, key)
    with edit_config(f) as cfg:
        created = cfg.ensure_profile(name)
        if insecure_storage:
            cfg.set_value(name, kind, key)
            where = f"in plain text in {cfg.path}"
        else:
            # A plain-text key outranks the keyring, so an old one would shadow this one.
            if cfg.unset_value(name, kind):
                f.io.message(f"Removed the plain-text {label} from {cfg.path}")
            where = "in the OS keyring"
        keep_default(cfg, name)
        cfg.save()
    if insecure_storage:
        f.io.message(
            f"warning: the key is stored in plain text in {cfg.path}; "
            "anyone who can read that file can use it"
        )
    f.io.message(f"Logged in: profile '{name}', {label} {mask_key(key)} stored {where}")
    if created:
        note_not_default(f, cfg, name)


@dataclass(frozen=True, kw_only=True)
class LogoutOptions:
    profile: str | None = reuse(PROFILE)
    admin: bool = reuse(ADMIN)
    all_keys: bool = option("--all", default=False, help="Both the API and admin keys.")


def logout(f: Factory, opts: LogoutOptions) -> None:
    """Remove a profile's stored key from the OS keyring and the config file."""
    from openai_cli.config.secrets import LABEL, Keyring

    profile, admin, all_keys = opts.profile, opts.admin, opts.all_keys
    if admin and all_keys:
        raise UsageError("use either --admin or --all, not both")
    cfg = load_config(f)
    name = target_profile(f, cfg, profile)
    kinds: list[KeyKind] = ["api_key", "admin_key"] if all_keys else [_kind(admin)]
    keyring = Keyring(f.io.env)
    with edit_config(f) as cfg:
        removed_from_file = [k for k in kinds if cfg.unset_value(name, k)]
        if removed_from_file:
            cfg.save()
    if removed_from_file:
        for k in removed_from_file:
            f.io.message(f"Removed the {LABEL[k]} of profile '{name}' from {cfg.path}")
    removed_any = bool(removed_from_file)
    for k in kinds:
        try:
            removed = keyring.delete(name, k)
        except ConfigError as exc:
            if not removed_from_file:
                raise
            f.io.message(f"warning: {exc.message}")
            break
        if removed:
            removed_any = True
            f.io.message(f"Removed the {LABEL[k]} of profile '{name}' from the OS keyring")
    if not removed_any:
        what = " or ".join(LABEL[k] for k in kinds)
        f.io.message(f"No stored {what} for profile '{name}'; nothing to remove")


_CHECKS: tuple[tuple[KeyKind, bool, str, list[tuple[str, str]]], ...] = (
    ("api_key", False, "/models", []),
    ("admin_key", True, "/organization/projects", [("limit", "1")]),
)


@dataclass(frozen=True, kw_only=True)
class StatusOptions:
    check: bool = option("--check", default=False, help="Also try each key against the API.")


def status(f: Factory, opts: StatusOptions) -> None:
    """Show each setting, its value (keys masked) and where it comes from."""
    from openai_cli.config.settings import NOT_SET
    from openai_cli.http.redact import redact_url

    check = opts.check
    settings = f.settings()
    rows = [(n, redact_url(v), source) for n, v, source in settings.describe()]
    results: list[tuple[str, str, str]] = []
    failure: OaiError | None = None
    if check:
        results, failure = _check_keys(f, settings)
    data: dict[str, Any] = {
        name: {"value": None if value == NOT_SET else value, "source": source}
        for name, value, source in rows
    }
    if check:
        data["check"] = {
            kind: {"request": request, "result": result} for kind, request, result in results
        }

    def view() -> None:
        table: list[tuple[str, ...]] = list(rows)
        table += [(f"check {kind}", result, request) for kind, request, result in results]
        print_rows(f, table, ("setting", "value", "source"))

    f.renderer().answer(data, view=view)
    if failure is not None:
        raise failure


def _check_keys(
    f: Factory, settings: Settings
) -> tuple[list[tuple[str, str, str]], OaiError | None]:
    from openai_cli.operations.request import Request
    from openai_cli.operations.send import send

    client_of = getattr(f, "client", None)
    if client_of is None:
        f.io.message("warning: --check is not available here: no HTTP client")
        return [], None
    results: list[tuple[str, str, str]] = []
    failure: OaiError | None = None
    missing: list[AuthError] = []
    for kind, admin, path, query in _CHECKS:
        request = "GET " + path + "".join(f"?{k}={v}" for k, v in query)
        try:
            settings.admin_key() if admin else settings.api_key()
        except AuthError as exc:
            missing.append(exc)
            continue
        except OaiError as exc:
            failure = failure or exc
            results.append((kind, request, "failed: " + "; ".join(exc.lines())))
            continue
        try:
            send(client_of(admin=admin), Request("GET", path, query=dict(query), admin=admin))
        except OaiError as exc:
            failure = failure or exc
            results.append((kind, request, "failed: " + "; ".join(exc.lines())))
        else:
            results.append((kind, request, "ok"))
    if not results and missing:
        # Nothing could be checked: fail the way any API command would without a key.
        return results, missing[0]
    return results, failure


@dataclass(frozen=True, kw_only=True)
class TokenOptions:
    admin: bool = reuse(ADMIN)


def token(f: Factory, opts: TokenOptions) -> None:
    """Print the key in effect to stdout (for `curl -H "Authorization: Bearer ..."`)."""
    settings = f.settings()
    key = settings.admin_key() if opts.admin else settings.api_key()
    f.io.out.write(key.value + "\n")
    f.io.out.flush()


# Only `status` prints data; `token` prints the bare key, which no format reshapes.
add_command(app, "login", LoginOptions, login, shared=())
add_command(app, "logout", LogoutOptions, logout, shared=())
add_command(app, "status", StatusOptions, status, shared=PRINTING)
add_command(app, "token", TokenOptions, token, shared=())
