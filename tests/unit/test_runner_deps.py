"""The runner needs a few services, not a command: it runs with plain fakes.

``runner.execute`` takes ``operations.deps.Deps`` (IO, settings, a client, a printer and
the shared options). These tests hand it fakes and no flags at all, as gh tests a
command's run function apart from its flag parsing.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import httpx
import pytest

from openai_cli.errors import UsageError
from openai_cli.idcache import Seen
from openai_cli.io import IO
from openai_cli.operations import runner
from openai_cli.operations.request import Answer, Call, Request

if TYPE_CHECKING:
    from openai_cli.config import Settings
    from openai_cli.http.client import Client


@dataclass
class Printer:
    printed: list[Any] = field(default_factory=list)
    effective: str = "json"
    query: str | None = None

    def answer(self, data: Any, raw: str | None = None) -> None:
        self.printed.append(data)

    def pages(self, pages: Iterable[Any]) -> None:
        self.printed.extend(pages)

    def event(self, data: Any, raw: str | None = None) -> None:
        self.printed.append(data)


class Answers:
    """A client that answers each request with the next body, and notes what it got."""

    def __init__(self, *bodies: Any) -> None:
        self.bodies = list(bodies)
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    @contextmanager
    def stream(self, method: str, path: str, **kw: Any) -> Iterator[httpx.Response]:
        self.sent.append((method, path, kw))
        request = httpx.Request(method, f"https://api.test{path}")
        yield httpx.Response(200, json=self.bodies.pop(0), request=request)


@dataclass(frozen=True)
class Shared:
    output: str | None = None
    query: str | None = None
    dry_run: bool | None = None


@dataclass
class Deps:
    client_: Any = None
    printer: Printer = field(default_factory=Printer)
    shared: Shared = field(default_factory=Shared)
    stdout_tty: bool = False
    seen: Seen = field(default_factory=Seen)

    @property
    def io(self) -> IO:
        return IO(
            stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(), env={},
            stdin_tty=False, stdout_tty=self.stdout_tty,
        )  # fmt: skip

    def settings(self) -> Settings:
        raise AssertionError("the runner asked for settings it does not need")

    def client(self, admin: bool = False) -> Client:
        if self.client_ is None:
            raise AssertionError("the runner asked for a client before refusing")
        return cast("Client", self.client_)

    def renderer(self) -> Printer:
        return self.printer


def test_pages_are_fetched_with_the_command_s_query_and_printed() -> None:
    client = Answers(
        {"data": [{"id": "a"}], "has_more": True, "last_id": "a"},
        {"data": [{"id": "b"}], "has_more": False, "last_id": "b"},
    )
    deps = Deps(client_=client)
    req = Request("GET", "/files", query={"purpose": "batch"})
    assert runner.execute(deps, Call(req, Answer(pagination="cursor", all_pages=True))) == 0
    assert [q["query"] for _, _, q in client.sent] == [
        [("purpose", "batch")],
        [("purpose", "batch"), ("after", "a")],
    ]
    assert [page["data"] for page in deps.printer.printed] == [[{"id": "a"}], [{"id": "b"}]]


def test_raw_bytes_for_a_terminal_are_refused_before_a_client_is_made() -> None:
    deps = Deps(stdout_tty=True)
    with pytest.raises(UsageError, match="-O/--output-file"):
        runner.execute(deps, Call(Request("GET", "/files/f/content"), Answer(binary=True)))
    assert deps.printer.printed == []
