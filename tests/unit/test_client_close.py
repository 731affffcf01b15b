"""A client closed while other threads still use it (``oai map ... | head -1``)."""

from __future__ import annotations

import io

import httpx
import pytest
import respx

from openai_cli.config import Overrides, load_settings
from openai_cli.errors import NetworkError
from openai_cli.http.client import Client
from openai_cli.io import IO
from openai_cli.operations.request import Request
from openai_cli.operations.send import send
from tests.helpers import api_env


def _client(env: dict[str, str]) -> tuple[Client, io.StringIO]:
    err = io.StringIO()
    the_io = IO(
        stdin=io.StringIO(), stdout=io.StringIO(), stderr=err, env=env,
        stdin_tty=False, stdout_tty=False,
    )  # fmt: skip
    return Client(load_settings(Overrides(), env, the_io), the_io, sleep=lambda s: None), err


def test_a_request_cut_by_close_is_neither_retried_nor_reported(
    env: dict[str, str], api: respx.MockRouter
) -> None:
    client, err = _client({**env, **api_env()})

    def cut(request: httpx.Request) -> httpx.Response:
        client.close()  # the main thread ends the command meanwhile
        raise httpx.ReadError("[Errno 9] Bad file descriptor")

    route = api.get("/models").mock(side_effect=cut)
    with pytest.raises(NetworkError, match="ending"):
        send(client, Request("GET", "/models"))
    assert route.call_count == 1
    assert err.getvalue() == ""


def test_a_closed_client_sends_nothing_more(env: dict[str, str], unsent: respx.MockRouter) -> None:
    route = unsent.get("/models")
    client, err = _client({**env, **api_env()})
    client.close()
    with pytest.raises(NetworkError):
        send(client, Request("GET", "/models"))
    assert not route.called
    assert err.getvalue() == ""
