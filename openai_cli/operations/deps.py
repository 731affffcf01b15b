"""What the request layer needs from a running command, and nothing more.

The sending, paging, streaming and ``batches run`` code takes one of these rather
than the command's whole factory (``context.Factory``, two layers up): the IO
streams, the settings, a client, something that prints, and the shared output
options. The factory provides all of them as it is; a test can hand a run
function plain fakes instead (``tests/unit/test_runner_deps.py``), as gh's run
functions take their options struct rather than the command.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from openai_cli.config import Settings
    from openai_cli.http.client import Client
    from openai_cli.idcache import Seen
    from openai_cli.io import IO


class Printer(Protocol):
    """Prints API data in the chosen format (``render.Renderer`` is one)."""

    @property
    def effective(self) -> str: ...

    @property
    def query(self) -> str | None: ...

    def answer(self, data: Any, raw: str | None = None) -> None: ...

    def pages(self, pages: Iterable[Any]) -> None: ...

    def event(self, data: Any, raw: str | None = None) -> None: ...


class Shared(Protocol):
    """The shared options that change what is sent or printed."""

    @property
    def output(self) -> str | None: ...

    @property
    def query(self) -> str | None: ...

    @property
    def dry_run(self) -> bool | None: ...


class Deps(Protocol):
    """A running command's services, each made on first use."""

    @property
    def io(self) -> IO: ...

    @property
    def shared(self) -> Shared: ...

    def settings(self) -> Settings: ...

    def client(self, admin: bool = False) -> Client: ...

    def renderer(self) -> Printer: ...

    @property
    def seen(self) -> Seen:
        """The IDs of this invocation's answers, for completion on TAB."""
        ...
