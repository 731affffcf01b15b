"""Keys never reach a terminal or a log: the one place that masks them.

Masking by pattern (``sk-...``, ``Bearer ...``, a password in a URL) catches the
usual keys; a key of another shape (an Azure or API-gateway key sent in its own
header) is masked by its value, which the HTTP client registers here as soon as it
knows it, so every message, log line and traceback of the process is covered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, unquote, urlsplit, urlunsplit

# OpenAI keys (sk-..., sk-proj-..., sk-admin-...), bearer tokens and proxy passwords.
_KEY = re.compile(r"sk-[A-Za-z0-9_\-]{6,}")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"']+")
# Up to the last "@" before the path: a password may hold one.
_USERINFO = re.compile(r"(?<=://)([^/@\s:]+):([^/\s]+)@")
SECRET_HEADERS = frozenset({"authorization", "api-key", "proxy-authorization", "x-api-key"})
# Shorter values are placeholders ("none", "x") of servers that need no key: masking
# them everywhere would garble the log and protect nothing.
MIN_SECRET = 8

_secrets: dict[str, str] = {}  # every spelling of a registered secret -> its mask
_SECRET: re.Pattern[str] | None = None  # any of them


def add_secret(value: str) -> None:
    """Mask ``value`` (as typed, URL-encoded or JSON-escaped) wherever it appears."""
    if len(value) < MIN_SECRET or value in _secrets:
        return
    mask = value[:3] + "***" if value.startswith("sk-") else "***"
    for spelling in (value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]):
        _secrets[spelling] = mask
    global _SECRET
    # Longest first, so a spelling that contains another is replaced whole.
    spellings = sorted(_secrets, key=len, reverse=True)
    _SECRET = re.compile("|".join(re.escape(s) for s in spellings))


def redact(text: str) -> str:
    if _SECRET is not None:
        text = _SECRET.sub(lambda m: _secrets[m.group(0)], text)
    text = _KEY.sub(lambda m: m.group(0)[:3] + "***", text)
    text = _BEARER.sub(lambda m: m.group(1) + "***", text)
    return _USERINFO.sub(r"\1:***@", text)


def redact_headers(items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    out = []
    for k, v in items:
        if k.lower() in SECRET_HEADERS:
            scheme = v.split(" ", 1)[0] + " " if " " in v else ""
            out.append((k, scheme + "***"))
        else:
            out.append((k, redact(v)))
    return out


def redact_url(url: str) -> str:
    """``url`` as it may be shown: the password of its user part masked, keys too."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        user = userinfo.partition(":")[0]
        url = urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    return redact(url)


# Query parameters that carry a credential, by name (case ignored): keys and tokens
# (`key`, `api-key`, `access_token`), and what signs a URL for a while (S3's
# `X-Amz-Signature`/`-Credential`/`-Security-Token`, Azure's `sig`, Google's
# `X-Goog-*`, CloudFront's `Signature`/`Policy`/`Key-Pair-Id`, the `Expires` of all
# of them).
_CREDENTIAL_PARAM = re.compile(
    r"key|token|sig|secret|passw|credential|auth|session|policy|expires|^x-amz-|^x-goog-",
    re.IGNORECASE,
)


def stored_url(url: str, *, query: bool = False) -> str:
    """``url`` as it may be written to disk, with nothing in it that grants access.

    No user name or password and no fragment; no query at all (an attachment's
    signed link keeps only where it pointed), or with ``query`` the parameters
    whose names cannot be credentials (a base URL's ``api-version`` tells servers
    apart). Text that is not a URL is returned as it is, keys masked.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return redact(url)
    if not parts.scheme or not parts.netloc:
        return redact(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if port is not None:
        host += f":{port}"
    kept = ""
    if query and parts.query:
        pairs = [p for p in parts.query.split("&") if p]
        kept = "&".join(
            p for p in pairs if not _CREDENTIAL_PARAM.search(unquote(p.partition("=")[0]))
        )
    return redact(urlunsplit((parts.scheme, host, parts.path, kept, "")))
