"""Naming the endpoint a server lacks, and the way around it, on a 404 or 405.

OpenAI-compatible servers (llama.cpp, vLLM, gateways, mocks) implement part of the
API; asked for the rest they answer 404 or 405, often with a body that says only
"Not Found". A command that knows what it asked for, and what it could use
instead, adds that to the error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from openai_cli.errors import ApiError

if TYPE_CHECKING:
    from openai_cli.operations.deps import Deps


def endpoint_missing(exc: ApiError) -> bool:
    """True when a 404/405 says the path does not exist, not that something in it does not.

    The OpenAI API answers a missing model or response id with 404 too, naming the
    parameter or an error code; a server without the endpoint names neither.
    """
    if exc.status == 405:
        return True
    return exc.status == 404 and not exc.param and (exc.code is None or exc.code.isdigit())


def full_path(factory: Deps, path: str) -> str:
    """``/v1/responses`` for ``/responses``: the path as the server sees it."""
    from urllib.parse import urlsplit

    base = urlsplit(factory.settings().base_url.value).path.rstrip("/")
    return base + path


def missing_note(factory: Deps, method: str, path: str) -> str:
    return f"this server has no {method} {full_path(factory, path)}"


@contextlib.contextmanager
def naming_missing(
    factory: Deps, method: str, path: str, instead: str | None = None
) -> Iterator[None]:
    """Add to a 404/405 that the server lacks ``method path``, and ``instead`` if given."""
    try:
        yield
    except ApiError as exc:
        if endpoint_missing(exc):
            note = missing_note(factory, method, path)
            if instead:
                note += f"; {instead}"
            exc.hint = note if not exc.hint else f"{note}; {exc.hint}"
        raise
