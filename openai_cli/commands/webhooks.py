"""``oai webhooks verify|unwrap``: check that a webhook really comes from OpenAI.

OpenAI signs webhooks with the Standard Webhooks scheme: an HMAC-SHA256, keyed with
the endpoint's secret (``whsec_`` + base64), over ``{webhook-id}.{webhook-timestamp}.
{body}``, sent base64 in ``webhook-signature`` as ``v1,<sig>``; several signatures,
separated by spaces, may be sent while a secret is being rotated. The check is local:
nothing is sent anywhere.

Exit codes follow ``cmp``/``grep``: 1 when the webhook is not authentic (signature
mismatch, timestamp out of tolerance, malformed signature headers), 2 when the check
could not be made (no secret, a header missing, unreadable input).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

from openai_cli.config.settings_table import Environment
from openai_cli.errors import ExitCode, OaiError, UsageError
from openai_cli.input import reader
from openai_cli.options import PRINTING, add_command, argument, option
from openai_cli.textfmt import human_seconds as _ago
from openai_cli.textfmt import plural

if TYPE_CHECKING:
    from openai_cli.context import Factory

SECRET_ENV = Environment.webhook_secret.env[0]
DEFAULT_TOLERANCE = 300
REQUIRED_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")

app = typer.Typer(
    help="Verify OpenAI webhooks (Standard Webhooks signatures) with OPENAI_WEBHOOK_SECRET.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


class WebhookVerificationError(OaiError):
    """The webhook is not authentic, or not fresh enough to trust."""

    default_exit_code = ExitCode.API_ERROR


# -- the check itself (no I/O) ------------------------------------------------------------


def decode_secret(secret: str) -> bytes:
    """The HMAC key: ``whsec_`` secrets are base64, anything else is used as its bytes."""
    import base64
    import binascii

    secret = secret.strip()
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[len("whsec_") :], validate=True)
        except (binascii.Error, ValueError):
            raise UsageError(
                f"{SECRET_ENV} is not a valid secret: the part after whsec_ is not base64"
            ) from None
    return secret.encode()


def verify(
    body: bytes,
    headers: dict[str, str],
    secret: str,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Raise unless ``body`` with ``headers`` was signed with ``secret`` recently enough.

    ``headers`` must have lower-case names.
    """
    import base64
    import hashlib
    import hmac
    import time

    missing = [h for h in REQUIRED_HEADERS if not headers.get(h, "").strip()]
    if missing:
        raise UsageError(
            f"missing webhook {plural(len(missing), 'header')}: {', '.join(missing)}",
            hint="give the request's headers with -H NAME:VALUE or --headers FILE",
        )
    webhook_id = headers["webhook-id"].strip()
    stamp = headers["webhook-timestamp"].strip()
    # int() also takes "+1", "1_000", " 1" and non-ASCII digits: only plain ASCII digits
    # are a timestamp, so one signed value has one spelling.
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
        raise WebhookVerificationError(
            f"invalid webhook-timestamp {stamp[:40]!r}: expected Unix seconds"
        )
    sent = int(stamp)
    current = time.time() if now is None else now
    age = current - sent
    if age > tolerance:
        raise WebhookVerificationError(
            f"webhook timestamp is too old: signed {_ago(age)} ago, tolerance {tolerance:g} s",
            hint="a replayed or delayed delivery; --tolerance SECONDS allows older ones",
        )
    if -age > tolerance:
        raise WebhookVerificationError(
            f"webhook timestamp is too new: {_ago(-age)} in the future, tolerance {tolerance:g} s",
            hint="check this machine's clock",
        )
    candidates = []
    for part in headers["webhook-signature"].split():
        version, comma, value = part.partition(",")
        if not comma:
            # The official SDKs accept a bare signature as v1.
            version, value = "v1", part
        if version == "v1" and value:
            candidates.append(value)
    if not candidates:
        raise WebhookVerificationError("webhook-signature holds no v1 signature")
    key = decode_secret(secret)
    signed = f"{webhook_id}.{stamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    # Compare every candidate, so the time taken does not tell which one came close.
    matches = [hmac.compare_digest(expected.encode(), c.encode()) for c in candidates]
    if not any(matches):
        hint = (
            "the payload must be the request body byte for byte, with the secret of this endpoint"
        )
        if body.endswith(b"\n"):
            hint = (
                "the payload ends with a newline: if the request body did not, "
                "the file or pipe added it"
            )
        raise WebhookVerificationError(
            f"webhook signature does not match ({len(candidates)} checked): the payload, "
            f"the webhook-id or -timestamp, or {SECRET_ENV} differ from what was signed",
            hint=hint,
        )


# -- reading the input ---------------------------------------------------------------------


def parse_header_text(text: str, source: str) -> dict[str, str]:
    """Headers from a JSON object, or from lines as HTTP sends them (``Name: value``).

    A request line (``POST /hook HTTP/1.1``) is skipped and a blank line ends the
    headers, so a raw request dump works as is.
    """
    stripped = text.lstrip("\ufeff").strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError as exc:
            raise UsageError(f"{source}: not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise UsageError(f"{source}: expected a JSON object of header names to values")
        out: dict[str, str] = {}
        for name, value in data.items():
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            if not isinstance(value, str | int):
                raise UsageError(f"{source}: header {name!r} must have a string value")
            out[str(name).strip().lower()] = str(value)
        return out
    out = {}
    for number, line in enumerate(stripped.splitlines(), 1):
        line = line.rstrip("\r")
        if not line.strip():
            break
        if number == 1 and " " in line and ":" not in line.split(" ", 1)[0]:
            continue  # the request line
        name, colon, value = line.partition(":")
        if not colon or not name.strip() or " " in name.strip():
            raise UsageError(
                f"{source}: line {number} is not a header ('Name: value'): {line[:60]!r}"
            )
        out[name.strip().lower()] = value.strip()
    return out


def _read_bytes(factory: Factory, path: str, use: reader.Use, flag: str) -> bytes:
    if path != "-":
        path = os.path.expanduser(path)
    return reader.read_bytes(factory.io, path, use, what=flag)


def collect_headers(
    factory: Factory, header: list[str] | None, headers_file: str | None
) -> dict[str, str]:
    """Headers from --headers FILE, then each -H on top of them."""
    out: dict[str, str] = {}
    if headers_file is not None:
        raw = _read_bytes(factory, headers_file, reader.WEBHOOK_HEADERS, "--headers")
        out.update(parse_header_text(raw.decode("utf-8", "replace"), headers_file))
    for item in header or []:
        name, colon, value = item.partition(":")
        if not colon or not name.strip():
            raise UsageError(f"-H {item!r}: expected NAME:VALUE, e.g. -H webhook-id:msg_123")
        out[name.strip().lower()] = value.strip()
    return out


def _check(
    factory: Factory,
    payload: str,
    header: list[str] | None,
    headers_file: str | None,
    tolerance: float,
) -> tuple[bytes, dict[str, str]]:
    # NaN compares false with everything, so `age > nan` would let any age through.
    if not math.isfinite(tolerance) or tolerance < 0:
        raise UsageError(
            f"--tolerance: {tolerance!r} is not a finite number of seconds (0 or more)"
        )
    if payload == "-" and headers_file == "-":
        raise UsageError("the payload and --headers cannot both come from stdin")
    secret = Environment.webhook_secret.read(factory.io.env)
    if not secret:
        raise UsageError(
            f"{SECRET_ENV} is not set",
            hint="set it to the endpoint's signing secret (whsec_...) from the dashboard",
        )
    headers = collect_headers(factory, header, headers_file)
    body = _read_bytes(factory, payload, reader.WEBHOOK_PAYLOAD, "PAYLOAD")
    verify(body, headers, secret, tolerance=tolerance)
    return body, headers


# -- commands ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CheckOptions:
    payload: str = argument(
        default="-",
        metavar="[PAYLOAD]",
        help="File with the request body exactly as received; - (default) reads stdin.",
        show_default=False,
    )
    header: list[str] | None = option(
        "-H",
        "--header",
        metavar="NAME:VALUE",
        help="A request header (webhook-id, webhook-timestamp, webhook-signature); repeat.",
    )
    headers_file: str | None = option(
        "--headers",
        metavar="FILE",
        help="The request's headers: a JSON object or 'Name: value' lines (- for stdin).",
    )
    tolerance: float = option(
        "--tolerance",
        default=DEFAULT_TOLERANCE,
        metavar="SECONDS",
        help="Accept timestamps this far from now, either way.",
    )


@dataclass(frozen=True, kw_only=True)
class VerifyOptions(CheckOptions):
    quiet: bool = option(
        "--quiet", "-q", default=False, help="Print nothing; the exit code says it."
    )


def verify_run(f: Factory, opts: VerifyOptions) -> None:
    _, headers = _check(f, opts.payload, opts.header, opts.headers_file, opts.tolerance)
    if not opts.quiet:
        f.io.message(f"valid webhook {headers['webhook-id'].strip()}")


def unwrap_run(f: Factory, opts: CheckOptions) -> None:
    body, _ = _check(f, opts.payload, opts.header, opts.headers_file, opts.tolerance)
    try:
        text = body.decode("utf-8")
        event: Any = json.loads(text)
    except ValueError:
        raise UsageError("the webhook is authentic but its payload is not JSON") from None
    f.renderer().answer(event, raw=text.rstrip("\n"))


add_command(
    app,
    "verify",
    VerifyOptions,
    verify_run,
    help="Check a webhook's signature; exit 0 when valid, 1 when not, 2 when it cannot tell."
    "\n\nPrints nothing on stdout; one line on stderr says the webhook is valid.",
    short_help="Check a webhook's signature: exit 0 valid, 1 not.",
    shared=(),
)
add_command(
    app,
    "unwrap",
    CheckOptions,
    unwrap_run,
    help="Check a webhook's signature, then print its event (the JSON body) on stdout.\n\n"
    "Nothing is printed unless the signature is valid. Piped, the body is printed as\n"
    "it was received.",
    short_help="Check the signature, then print the event JSON.",
    # Nothing is sent: only the options that shape what is printed.
    shared=PRINTING,
)
