"""The one HTTP client: headers, timeouts, retries, errors and redaction.

When to retry is decided in :mod:`openai_cli.http.retry`; a stream is never retried
once its body has started.
"""

from __future__ import annotations

import errno
import io
import ipaddress
import json
import os
import stat
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import IO as BinaryFile
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlsplit

import httpx

from openai_cli import __version__
from openai_cli.config import Settings
from openai_cli.config.secrets import key_problem
from openai_cli.config.settings_table import Environment
from openai_cli.errors import (
    ApiError,
    AuthError,
    ConfigError,
    NetworkError,
    ProtocolError,
    UsageError,
)
from openai_cli.http import deadline, retry, tls
from openai_cli.http.errorbody import api_error
from openai_cli.http.paths import check_path
from openai_cli.http.redact import add_secret, redact, redact_url
from openai_cli.http.trace import Trace
from openai_cli.io import IO
from openai_cli.textfmt import count

# An error answer is read up to this much; its message is at the start.
MAX_ERROR_BODY = 256 * 1024
# A successful answer read into memory (not streamed to a file) is parsed as JSON,
# which costs several times its size: 64 MiB holds any page, object or list the API
# returns, and keeps the worst case a few hundred MB. Bigger ones go to a file (-O).
MAX_ANSWER = 64 * 1024 * 1024


@dataclass
class FilePart:
    """A file to send in a multipart form, opened afresh for every attempt."""

    field: str
    filename: str
    opener: Callable[[], BinaryFile[bytes]]
    content_type: str = "application/octet-stream"
    replayable: bool = True  # False for stdin: it cannot be read twice
    path: str | None = None  # where it is read from, as given (shown by --dry-run)


@dataclass
class Multipart:
    fields: Sequence[tuple[str, str]]
    files: Sequence[FilePart]


def _split_base_url(url: str, source: str) -> SplitResult:
    """The base URL's parts, once it is known that every request to it can be made."""
    problem = "expected http(s)://host[/path]"
    hint = None
    try:
        parts = urlsplit(url)
        if "?" in url or "#" in url:
            # A request's path goes after the base URL's text: behind a query or a
            # fragment it would not be a path at all.
            problem += ", without a query or a fragment"
            hint = (
                "a query parameter for every request is a profile's: "
                "oai profile set query.NAME VALUE"
            )
        elif parts.scheme in ("http", "https") and parts.netloc:
            _check_host(url, parts)
            return parts
    except (ValueError, httpx.InvalidURL) as exc:  # UnicodeError is a ValueError
        problem = " ".join(str(exc).split())
    raise UsageError(
        f"invalid base URL {redact_url(url)!r} (from {source}): {redact(problem)}", hint=hint
    )


def _check_host(url: str, parts: SplitResult) -> None:
    """Raise ``ValueError`` for a host and port no connection can be made to.

    Each check raises on what only shows later otherwise, deep in a request: a port
    out of range or not a number (urlsplit), a control character or a malformed IDNA
    label (httpx), an empty or over-long label (the socket layer, which the Realtime
    WebSocket goes through, as do proxies).
    """
    _ = parts.port
    _ = httpx.URL(url).host
    (parts.hostname or "").encode("idna")


_PROXY_VARIABLES = ("https_proxy", "http_proxy", "all_proxy")


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


def _is_loopback(host: str) -> bool:
    """Whether ``host`` (as ``urlsplit`` gives it: lower case, no brackets) is this machine.

    Parsed as an address: a name like ``127.attacker.example`` is any host at all.
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# The headers of every request, set on the HTTP library's client (which adds its own:
# Accept, Accept-Encoding, Connection). --dry-run shows only what a request adds.
COMMON_HEADERS = {"User-Agent": f"oai/{__version__}"}


class _Offline(httpx.BaseTransport):
    """The transport of a client that only builds requests (``--dry-run``)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError("a client with a placeholder key builds requests; it never sends")


class Client:
    def __init__(
        self,
        settings: Settings,
        io: IO,
        *,
        admin: bool = False,
        debug: bool = False,
        include: bool = False,
        verbose: bool = False,
        sleep: Callable[[float], None] | None = None,
        placeholder: str | None = None,
    ) -> None:
        """``placeholder`` makes a client that builds requests with it for the key,
        which it never reads, and sends nothing: what ``--dry-run`` shows."""
        self.settings = settings
        self.io = io
        self.admin = admin
        self.placeholder = placeholder
        self.debug = debug
        self.include = include
        self.verbose = verbose
        # Looked up at call time so tests can patch time.sleep.
        self._sleep = sleep or (lambda s: time.sleep(s))
        self.base_url = settings.base_url.value.rstrip("/")
        parts = _split_base_url(self.base_url, settings.base_url.source)
        if (
            parts.scheme == "http"
            and not _is_loopback(parts.hostname or "")
            and not Environment.allow_insecure_http.read(io.env)
        ):
            raise UsageError(
                f"refusing to send the API key over plain http to {parts.hostname} "
                f"(base URL from {settings.base_url.source})",
                hint=f"use https, or set {Environment.allow_insecure_http.env[0]}=1 "
                "if this is really intended",
            )
        self._origin = (parts.scheme, parts.netloc)
        self._home = _origin(httpx.URL(self.base_url))
        self._http: httpx.Client | None = None
        # Set once the command is ending (a reader gone, Ctrl-C): requests still in
        # flight on other threads then fail quietly instead of retrying or reporting.
        self._closed = False
        self._credentials: frozenset[str] | None = None

    # -- plumbing -----------------------------------------------------------------

    @property
    def max_retries(self) -> int:
        return int(self.settings.max_retries.value)

    @property
    def http(self) -> httpx.Client:
        if self._closed:
            raise NetworkError("the command is ending; no more requests are sent")
        if self._http is None and self.placeholder is not None:
            self._http = httpx.Client(headers=COMMON_HEADERS, transport=_Offline(), trust_env=False)
        if self._http is None:
            s = self.settings
            options = s.transport_options()
            trace = Trace(self.io.err, debug=self.debug, include=self.include)
            try:
                self._check_proxies()
                self._http = httpx.Client(
                    timeout=httpx.Timeout(s.timeout.value, connect=s.connect_timeout.value),
                    follow_redirects=True,
                    headers=COMMON_HEADERS,
                    # Every hop of a redirect passes here, the first request too: the
                    # log shows what was sent, once the credentials are kept home.
                    event_hooks={
                        "request": [self._keep_credentials_home, *trace.requests],
                        "response": trace.responses,
                    },
                    **options,
                )
            except (ValueError, httpx.InvalidURL, ImportError) as exc:
                # The proxy variables are parsed here; their text may hold a password.
                # (A SOCKS proxy needs a package oai does not install: ImportError.)
                raise UsageError(
                    f"cannot use the proxy settings: {redact(str(exc))}",
                    hint="proxy settings: " + (", ".join(self._proxy_settings()) or "none"),
                ) from None
        return self._http

    def _keep_credentials_home(self, request: httpx.Request) -> None:
        """Strip what identifies the caller from a request to another origin.

        httpx drops only Authorization on a cross-origin redirect; the key may travel
        in the profile's own header, and the organisation, project and profile
        headers say who is calling, so none of them leaves the base URL's origin.
        """
        if _origin(request.url) == self._home:
            return
        names = self._credential_names()
        secrets = self.secrets()
        for name, value in list(request.headers.items()):
            if name.lower() in names or any(s in value for s in secrets):
                del request.headers[name]

    def _credential_names(self) -> frozenset[str]:
        if self._credentials is None:
            s = self.settings
            names = {"authorization", "cookie", "openai-organization", "openai-project"}
            if s.api_key_header.value:
                names.add(s.api_key_header.value.lower())
            names.update(k.lower() for k in s.extra_headers())
            self._credentials = frozenset(names)
        return self._credentials

    def secrets(self) -> tuple[str, ...]:
        """The key values this client sends, to be masked and kept home wherever they are."""
        s = self.settings
        try:
            key = (s.admin_key() if self.admin else s.api_key()).value
        except (AuthError, ConfigError):
            return ()
        add_secret(key)
        return (key,) if key else ()

    def _check_proxies(self) -> None:
        """Raise ``ValueError`` for a proxy whose host no connection can be made to,
        which httpx would only find when the first request fails."""
        for name, value in self.io.env.items():
            if name.lower() in _PROXY_VARIABLES and value.strip():
                # As httpx reads it: a bare host:port is an http:// proxy.
                url = value.strip() if "://" in value else "http://" + value.strip()
                _check_host(url, urlsplit(url))

    def _proxy_settings(self) -> list[str]:
        return [
            f"{k}={redact(v)}"
            for k, v in sorted(self.io.env.items())
            if k.lower() in (*_PROXY_VARIABLES, "no_proxy") and v
        ]

    def close(self) -> None:
        self._closed = True
        if self._http is not None:
            self._http.close()
            self._http = None

    def headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Every header of a request (``extra`` last), checked that it can be sent."""
        s = self.settings
        if self.placeholder is not None:
            h = s.auth_header_template(self.placeholder)
        else:
            h = s.auth_headers(self.admin)
            if h:
                self._check_key()
        if s.organization.value:
            h["OpenAI-Organization"] = s.organization.value
        if s.project.value and not self.admin:
            h["OpenAI-Project"] = s.project.value
        h.update(s.extra_headers())
        h.update(extra or {})
        _check_headers(h, self._header_sources())
        return h

    def _header_sources(self) -> dict[str, str]:
        s = self.settings
        sources = dict.fromkeys(s.extra_headers(), s.headers.source)
        sources["OpenAI-Organization"] = s.organization.source
        sources["OpenAI-Project"] = s.project.source
        return sources

    def _check_key(self) -> None:
        # A pasted key often brings a typographic dash, a quote or a line break; the
        # HTTP library would fail with an encoding error that quotes the header.
        k = self.settings.admin_key() if self.admin else self.settings.api_key()
        add_secret(k.value)
        problem = key_problem(k.value)
        if problem is not None:
            label = "admin key" if self.admin else "API key"
            raise AuthError(
                f"the {label} from {k.source} cannot be sent: it contains {problem}",
                hint="copy the key again, exactly as shown on platform.openai.com",
            )

    def url(self, path: str) -> str:
        # Every request passes here: the last guard against a path that the URL
        # library would resolve to another resource.
        check_path(path)
        if path.startswith(("http://", "https://")):
            p = urlsplit(path)
            if (p.scheme, p.netloc) != self._origin:
                raise UsageError(
                    f"{redact_url(path)}: not under the configured base URL "
                    f"{redact_url(self.base_url)}; the API key is only sent there"
                )
            return path
        if not path.startswith("/"):
            path = "/" + path
        return self.base_url + path

    def build(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] | None = None,
        json_body: Any = None,
        multipart: Multipart | None = None,
        headers: Mapping[str, str] | None = None,
        accept: str | None = None,
    ) -> httpx.Request:
        h = self.headers({"Accept": accept, **(headers or {})} if accept else headers)
        kwargs: dict[str, Any] = {}
        if multipart is not None:
            kwargs["data"] = _form_dict(multipart.fields)
            kwargs["files"] = [
                (f.field, (f.filename, _PartFile(f.opener(), f.path or f.filename), f.content_type))
                for f in multipart.files
            ]
            if not multipart.files:
                # httpx sends urlencoded without files; the API wants multipart.
                kwargs["files"] = {}
                kwargs["data"] = None
                kwargs["content"], ctype = _encode_multipart_fields(multipart.fields)
                h["Content-Type"] = ctype
        elif json_body is not None:
            kwargs["content"] = json_bytes(json_body)
            h["Content-Type"] = "application/json"
        url = self.url(path)
        return self.http.build_request(
            method.upper(), url, params=self._params(url, query), headers=h, **kwargs
        )

    def _params(self, url: str, query: Sequence[tuple[str, str]] | None) -> httpx.QueryParams:
        """The request's query plus the profile's, which never overrides a given name."""
        params = list(query or [])
        extra = self.settings.query_params()
        if extra:
            given = {k for k, _ in params}
            given.update(k for k, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True))
            params = [(k, v) for k, v in extra if k not in given] + params
        return httpx.QueryParams(tuple(params))

    @staticmethod
    def with_idempotency_key(method: str, headers: Mapping[str, str] | None) -> dict[str, str]:
        """``headers`` with a new Idempotency-Key for a POST that has none.

        Made once per request and kept for every attempt: a retried POST is not
        billed twice by servers that honour it.
        """
        extra = dict(headers or {})
        if method.upper() == "POST" and "Idempotency-Key" not in extra:
            extra["Idempotency-Key"] = f"oai-{uuid.uuid4()}"
        return extra

    # -- sending -------------------------------------------------------------------

    @contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] | None = None,
        json_body: Any = None,
        multipart: Multipart | None = None,
        headers: Mapping[str, str] | None = None,
        accept: str | None = None,
        raise_for_status: bool = True,
        retry_rate_limits: bool = True,
    ) -> Iterator[httpx.Response]:
        """Open a response whose body is read by the caller.

        Retries happen only before the body is handed over; once the caller reads,
        a failure is the caller's to report (a stream is never replayed).
        ``retry_rate_limits=False`` hands a 429 straight back, for a caller that
        paces many requests itself (``oai map``).
        """
        extra = self.with_idempotency_key(method, headers)
        replayable = multipart is None or all(f.replayable for f in multipart.files)
        attempt = 0
        while True:
            request = self.build(
                method,
                path,
                query=query,
                json_body=json_body,
                multipart=multipart,
                headers=extra,
                accept=accept,
            )
            sent_at = _note_sent(request)
            resp = self._send(request, attempt, replayable)
            if resp is None:  # a broken connection, worth another attempt
                attempt += 1
                continue
            deadline.guard(resp, float(self.settings.timeout.value), sent_at[0])
            if resp.status_code < 400:
                yield from self._hand_over(resp, request)
                return
            resp, error, verdict = self._judge(resp, request, attempt, replayable)
            if (
                verdict.wait is not None
                and (resp.status_code != 429 or retry_rate_limits)
                and not self._closed
            ):
                attempt += 1
                self.io.message(
                    f"oai: HTTP {resp.status_code}"
                    + (f" (request id {error.request_id})" if error.request_id else "")
                    + f"; retrying in {verdict.wait:.1f} s"
                    + f" (attempt {attempt + 1} of {self.max_retries + 1})"
                )
                self._sleep(verdict.wait)
                continue
            if error.hint is None:
                error.hint = verdict.hint
            if raise_for_status:
                raise error
            yield resp
            return

    def _send(
        self, request: httpx.Request, attempt: int, replayable: bool
    ) -> httpx.Response | None:
        """The answer's head; None after a transport failure that is retried (once paused)."""
        try:
            return self.http.send(request, stream=True)
        except httpx.TooManyRedirects as exc:
            _close_files(request)
            raise ProtocolError(
                f"too many redirects: {redact(str(exc.request.url))} led to more than "
                f"{count(self.http.max_redirects, 'hop')} (a redirect loop?)"
            ) from exc
        except httpx.TransportError as exc:
            _close_files(request)
            if self._closed:
                # Cut by close() on another thread: nothing to retry, nothing to say.
                raise NetworkError("the command is ending; no more requests are sent") from exc
            if attempt < self.max_retries and replayable and _retryable_transport(exc):
                delay = retry.backoff(attempt + 1)
                self.io.message(
                    f"oai: {_describe_transport(exc)}; retrying in {delay:.1f} s "
                    f"(attempt {attempt + 2} of {self.max_retries + 1})"
                )
                self._sleep(delay)
                return None
            raise self._network_error(exc) from exc

    def _hand_over(self, resp: httpx.Response, request: httpx.Request) -> Iterator[httpx.Response]:
        """Give a successful answer to the caller, who reads its body; then close it."""
        try:
            yield resp
        except httpx.TransportError as exc:
            # The body broke off while the caller read it (a stall, a reset):
            # the same report as a failure before the answer, never a traceback.
            raise self._network_error(exc, reading=True) from exc
        finally:
            resp.close()
            _close_files(request)

    def _judge(
        self, resp: httpx.Response, request: httpx.Request, attempt: int, replayable: bool
    ) -> tuple[httpx.Response, ApiError, retry.Verdict]:
        """An error answer, read up to its start (a proxy's error page may be huge), and
        what the retry policy makes of it."""
        try:
            start = _head_of(resp, MAX_ERROR_BODY)
        except httpx.TransportError as exc:
            raise self._network_error(exc) from exc
        finally:
            resp.close()
            _close_files(request)
        resp = _with_body(resp, start)
        error = self.api_error(resp)
        verdict = retry.decide(
            attempt,
            resp.status_code,
            resp.headers,
            self.max_retries,
            error_code=error.code,
            replayable=replayable,
        )
        return resp, error, verdict

    # -- errors ----------------------------------------------------------------------

    def api_error(self, resp: httpx.Response) -> ApiError:
        """What the error answer ``resp`` says, as every command reports it."""
        return api_error(
            resp.status_code,
            resp.reason_phrase,
            resp.headers,
            resp.text if resp.content else "",
            key=self.settings.admin_key if self.admin else self.settings.api_key,
        )

    def _network_error(self, exc: httpx.TransportError, *, reading: bool = False) -> NetworkError:
        hint_parts = []
        proxies = self._proxy_settings()
        text = str(exc) or type(exc).__name__
        hint = tls.tls_hint(text, self.settings)
        if hint:
            hint_parts.append(hint)
        what = _describe_transport(exc)
        if reading and not isinstance(exc, deadline.AnswerTimeout):
            what = (
                "the answer stalled (read timeout)"
                if isinstance(exc, httpx.ReadTimeout)
                else f"the answer broke off: {what}"
            )
        if isinstance(exc, httpx.TimeoutException):
            t = self.settings.timeout.value
            c = self.settings.connect_timeout.value
            msg = (
                f"{what} talking to {redact_url(self.base_url)} "
                f"(timeout {t:g} s, connect {c:g} s; change with --timeout)"
            )
        else:
            msg = f"{what} talking to {redact_url(self.base_url)}"
        hint_parts.append("proxy settings: " + (", ".join(proxies) if proxies else "none"))
        return NetworkError(redact(msg), hint="; ".join(hint_parts))


# -- helpers ---------------------------------------------------------------------------


def json_bytes(value: Any) -> bytes:
    """``value`` as strict JSON in UTF-8, or a usage error.

    Every JSON body is encoded here, whatever it was built from (flags, -F, --body,
    YAML): NaN and Infinity are not JSON, and a server answers them with a 400 after
    the request. (Text that is not Unicode fails in ``encode``, as any argument that
    is not UTF-8 does, and ``main`` says so.)
    """
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise UsageError(
            "the request body holds NaN or Infinity, which JSON cannot carry; give a "
            "finite number (nothing was sent)"
        ) from None
    return text.encode()


def _form_dict(fields: Sequence[tuple[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in fields:
        if k in out:
            prev = out[k]
            out[k] = [*prev, v] if isinstance(prev, list) else [prev, v]
        else:
            out[k] = v
    return out


def _encode_multipart_fields(fields: Sequence[tuple[str, str]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    chunks = []
    for k, v in fields:
        name = k.replace('"', "%22")
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + v.encode()
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


# What RFC 9110 allows in a header name.
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _check_headers(headers: Mapping[str, str], sources: Mapping[str, str]) -> None:
    """Refuse, before sending, a header the HTTP library cannot encode (it raises a
    UnicodeEncodeError) or the wire cannot carry (a line break ends the header)."""
    for name, value in headers.items():
        where = f" (from {sources[name]})" if name in sources else ""
        if not name or not set(name) <= _TOKEN:
            raise UsageError(
                f"{name!r}{where} cannot be sent as a header name",
                hint="a header name is ASCII letters, digits and - (like X-Trace-Id)",
            )
        for i, c in enumerate(value):
            if not (" " <= c <= "~" or c == "\t"):
                # The value is not quoted: a custom header may carry a key.
                what = "a line break" if c in "\r\n" else f"the character U+{ord(c):04X}"
                raise UsageError(
                    f"the {name} header{where} cannot be sent: its value contains {what} "
                    f"at position {i + 1}",
                    hint="a header value is ASCII text on one line",
                )


class _PartFile:
    """A file part's bytes, exactly as many as its request declares.

    httpx declares a part's length from its file's size. A pipe has none (its size
    says 0), so it is given no length and its part goes out chunked. A regular file
    must then give exactly its size: one that gives fewer or more bytes (cut short or
    grown while it is sent, a sysfs file whose size is a page) is an input error,
    raised before the body is complete, so no request is ever finished with other
    bytes than the file holds.
    """

    def __init__(self, file: BinaryFile[bytes], name: str) -> None:
        self._file = file
        self._name = name
        self._read = 0
        self._size: int | None = None
        self._seekable = False
        try:
            st = os.fstat(file.fileno())
        except (AttributeError, OSError, ValueError):
            # In memory (BytesIO): its length is its content.
            self._seekable = True
        else:
            if stat.S_ISREG(st.st_mode):
                self._size = st.st_size
                self._seekable = True

    def fileno(self) -> int:
        if self._size is None:
            raise OSError(errno.ESPIPE, "a pipe has no length")
        return self._file.fileno()

    def tell(self) -> int:
        if not self._seekable:
            raise io.UnsupportedOperation("a pipe has no length")
        return self._file.tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if not self._seekable:
            raise io.UnsupportedOperation("a pipe cannot seek")
        at = self._file.seek(offset, whence)
        self._read = at
        return at

    def read(self, n: int = -1) -> bytes:
        chunk = self._file.read(n)
        self._read += len(chunk)
        if self._size is not None and (
            self._read > self._size or (not chunk and self._read < self._size)
        ):
            more = " or more" if self._read > self._size else ""
            raise UsageError(
                f"{self._name} changed while it was sent: "
                f"it gave {count(self._read, 'byte', sep=True)}{more} "
                f"where its size said {self._size:,}; nothing was uploaded"
            )
        return chunk

    def close(self) -> None:
        self._file.close()


def _close_files(request: httpx.Request) -> None:
    stream = getattr(request, "stream", None)
    for f in getattr(stream, "fields", []) or []:
        fh = getattr(f, "file", None)
        close = getattr(fh, "close", None)
        if close is not None:
            with suppress(Exception):
                close()


def _retryable_transport(exc: httpx.TransportError) -> bool:
    if tls.verify_failed(exc):
        # An untrusted certificate stays untrusted: retrying only delays the advice.
        return False
    # A read timeout may mean the server is working on it; the SDKs retry those too.
    return isinstance(
        exc,
        (
            httpx.ConnectError,
            httpx.TimeoutException,
            httpx.RemoteProtocolError,
            httpx.ReadError,
            httpx.WriteError,
        ),
    )


class AnswerTooLarge(ProtocolError):
    """A successful answer larger than the CLI holds in memory."""


def read_answer(resp: httpx.Response, limit: int | None = None) -> None:
    """Read a successful answer's body into ``resp``, at most ``limit`` bytes (decoded).

    Every answer that is not streamed (to a file, to stdout, as events) is read here,
    so no server can make the CLI hold more: a larger one fails as soon as it is
    known to be larger, before it is parsed.
    """
    limit = MAX_ANSWER if limit is None else limit
    declared = resp.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit and "content-encoding" not in resp.headers:
        raise _too_large(resp, limit)
    buf = bytearray()
    for chunk in resp.iter_bytes():
        buf += chunk
        if len(buf) > limit:
            raise _too_large(resp, limit)
    resp._content = bytes(buf)  # what httpx's own read() sets; .content and .text follow


def _too_large(resp: httpx.Response, limit: int) -> AnswerTooLarge:
    rid = resp.headers.get("x-request-id")
    return AnswerTooLarge(
        f"the answer is larger than {limit // (1024 * 1024)} MiB, the most oai reads "
        "into memory" + (f" (request id {rid})" if rid else ""),
        hint="stream it to a file instead with -O FILE (-O - for stdout); a command "
        "without -O can send the same request with oai api METHOD PATH -O FILE",
    )


def _head_of(resp: httpx.Response, limit: int) -> bytes:
    """The first ``limit`` bytes of the body (decoded); the rest is never read."""
    buf = bytearray()
    for chunk in resp.iter_bytes():
        buf += chunk
        if len(buf) >= limit:
            break
    return bytes(buf[:limit])


def _with_body(resp: httpx.Response, body: bytes) -> httpx.Response:
    """``resp`` as if ``body`` were all it had sent, for callers that read it."""
    framing = ("content-encoding", "content-length", "transfer-encoding")
    return httpx.Response(
        resp.status_code,
        headers=[(k, v) for k, v in resp.headers.multi_items() if k.lower() not in framing],
        content=body,
        request=resp.request,
        extensions=resp.extensions,
    )


def _note_sent(request: httpx.Request) -> list[float]:
    """When the request (its body too) had been sent, filled in as that happens.

    An answer's deadline starts there, so a long upload does not eat into it.
    """
    sent = [time.monotonic()]

    def trace(name: str, info: Mapping[str, Any]) -> None:
        if name == "http11.send_request_body.complete":
            sent[0] = time.monotonic()

    request.extensions["trace"] = trace
    return sent


def _describe_transport(exc: httpx.TransportError) -> str:
    if isinstance(exc, deadline.AnswerTimeout):
        return str(exc)
    if isinstance(exc, httpx.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, httpx.ReadTimeout):
        return "no answer in time (read timeout)"
    if isinstance(exc, httpx.WriteTimeout):
        return "write timed out"
    if isinstance(exc, httpx.PoolTimeout):
        return "connection pool timed out"
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect ({exc or 'connection refused'})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the connection broke ({exc})"
    return f"network error ({type(exc).__name__}: {exc})"
