"""``--debug`` and ``-i``: what went out and what came back, on stderr.

Hooked into the HTTP client (httpx event hooks), so every request is shown as
sent, each hop of a redirect included, and everything passes through
:mod:`openai_cli.http.redact` first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

import httpx

from openai_cli.http.redact import redact, redact_headers

# Headers worth seeing with -i: the ones support asks for and the rate limits.
INCLUDED_HEADERS = ("x-request-id", "openai-processing-ms", "openai-version", "openai-organization")
# A JSON body is shown up to this many characters.
BODY_EXCERPT = 4000


class Trace:
    def __init__(self, err: TextIO, *, debug: bool, include: bool) -> None:
        self.err = err
        self.debug = debug
        self.include = include

    @property
    def requests(self) -> list[Callable[[httpx.Request], None]]:
        return [self.request] if self.debug else []

    @property
    def responses(self) -> list[Callable[[httpx.Response], None]]:
        return [self.response] if self.debug or self.include else []

    def request(self, request: httpx.Request) -> None:
        err = self.err
        err.write(f"> {request.method} {redact(str(request.url))}\n")
        for k, v in redact_headers(request.headers.items()):
            err.write(f"> {k}: {v}\n")
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("application/json"):
            text = request.content.decode("utf-8", "replace")[:BODY_EXCERPT]
            err.write("> " + redact(text) + "\n")
        elif ctype:
            err.write(f"> ({ctype} body)\n")
        err.flush()

    def response(self, resp: httpx.Response) -> None:
        err = self.err
        if self.debug:
            err.write(f"< HTTP {resp.status_code} {resp.reason_phrase}\n")
            for k, v in redact_headers(resp.headers.items()):
                err.write(f"< {k}: {v}\n")
        else:
            err.write(f"HTTP {resp.status_code} {resp.reason_phrase}\n")
            for k, v in resp.headers.items():
                lk = k.lower()
                if lk in INCLUDED_HEADERS or lk.startswith("x-ratelimit-"):
                    err.write(f"{lk}: {redact(v)}\n")
        err.flush()
