"""What to tell the user about a TLS failure, judged from OpenSSL's message.

Shared by the HTTP client and the Realtime WebSocket.
"""

from __future__ import annotations

import ssl

from openai_cli.config import Settings


def tls_hint(text: str, settings: Settings) -> str | None:
    """What to do about a TLS failure, judged from OpenSSL's message."""
    upper = text.upper()
    refused = ("CERTIFICATE_REQUIRED", "CERTIFICATE REQUIRED", "ALERT UNKNOWN CA")
    if any(a in upper for a in (*refused, "ALERT BAD CERTIFICATE", "HANDSHAKE FAILURE")):
        cert = settings.client_cert
        if cert.value:
            return f"the server rejected the client certificate {cert.value} (from {cert.source})"
        return (
            "the server "
            + ("requires" if any(a in upper for a in refused[:2]) else "may require")
            + " a client certificate (mTLS): set OPENAI_MTLS_CLIENT_CERT_FILE and "
            "OPENAI_MTLS_CLIENT_KEY_FILE"
        )
    if any(e in upper for e in ("EOF OCCURRED IN VIOLATION", "UNEXPECTED EOF", "CLOSED (EOF)")):
        return tls_dropped_hint(settings)
    if "CONNECTION RESET" in upper and settings.base_url.value.startswith("https:"):
        # With TLS 1.3 the client sends its request before the server has judged the
        # certificate; a server that refuses it then resets the connection.
        return tls_dropped_hint(settings)
    if "CERTIFICATE" in upper or "SSL" in upper:
        return "TLS verification failed: set SSL_CERT_FILE to a CA bundle that trusts the server"
    return None


def tls_dropped_hint(settings: Settings) -> str:
    """For a TLS connection the server dropped at its start without saying why.

    Servers do that when the client certificate is missing or not trusted.
    """
    if settings.client_cert.value:
        return (
            "the server closed the TLS connection at once: it may have rejected the client "
            f"certificate {settings.client_cert.value} (from {settings.client_cert.source})"
        )
    return (
        "the server closed the TLS connection at once: it may require a client certificate "
        "(mTLS): set OPENAI_MTLS_CLIENT_CERT_FILE and OPENAI_MTLS_CLIENT_KEY_FILE"
    )


def verify_failed(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):  # httpx wraps httpcore wraps ssl; the chain is short
        if seen is None:
            break
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)
