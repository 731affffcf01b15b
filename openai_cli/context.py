"""The factory handed to every command as ``ctx.obj``.

Each member is built on first use, so ``--help`` and usage errors never read the
config file, touch the keyring or import httpx.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from openai_cli.formats import OUTPUT_FORMATS
from openai_cli.idcache import Seen
from openai_cli.io import IO
from openai_cli.options import SharedOptions

if TYPE_CHECKING:
    from openai_cli.config import Overrides, Settings
    from openai_cli.http.client import Client
    from openai_cli.render import Renderer


@dataclass
class Factory:
    io: IO
    flags: Overrides | None = None  # the root's connection flags; output comes from shared
    # The copies of those flags given after the command, as typed, the last of each:
    # a TAB resolves the line's flags as typed (tabsettings.py), valid or not.
    typed_after: dict[str, object] = field(default_factory=dict)
    shared: SharedOptions = field(default_factory=SharedOptions)
    # The -o formats the running command prints in (options.command says which).
    formats: tuple[str, ...] = OUTPUT_FORMATS
    _settings: Settings | None = None
    _clients: dict[bool, Client] = field(default_factory=dict)
    # The objects in the answers this run printed, for completing IDs (idcache.py).
    seen: Seen = field(default_factory=Seen)

    @property
    def debug(self) -> bool:
        return bool(self.shared.debug)

    def use(self, shared: SharedOptions) -> None:
        """Apply a command's own copies of the shared options over the root ones."""
        self.shared = self.shared.merged(shared)

    @property
    def overrides(self) -> Overrides:
        from openai_cli.config import Overrides

        return (self.flags or Overrides()).replace(output=self.shared.output)

    def settings(self) -> Settings:
        if self._settings is None:
            from openai_cli.config import load_settings

            self._settings = load_settings(self.overrides, self.io.env, self.io)
        return self._settings

    def client(self, admin: bool = False) -> Client:
        if admin not in self._clients:
            from openai_cli.http.client import Client

            self._clients[admin] = Client(
                self.settings(),
                self.io,
                admin=admin,
                debug=self.debug,
                include=bool(self.shared.include),
                verbose=bool(self.shared.verbose),
            )
        return self._clients[admin]

    def output_format(self, default: str | None = None) -> str:
        """``-o`` as given; else the command's own ``default`` (``oai explore``); else the
        profile's format where the command prints in it."""
        fmt = self.shared.output or default
        if fmt is None:
            fmt = self.settings().output.value
            if fmt not in self.formats:
                fmt = "auto"
        return fmt

    def renderer(self, default: str | None = None) -> Renderer:
        """The renderer of -o; ``default`` is a command's own format when -o is not given."""
        from openai_cli.render import Renderer

        return Renderer(
            self.io,
            fmt=self.output_format(default),
            query=self.shared.query,
            observe=self.seen.answer,
        )

    def close(self) -> None:
        for c in self._clients.values():
            c.close()
        self._clients.clear()
        self._remember()

    def _remember(self) -> None:
        # Only after an answer, which means the settings were read for its request.
        settings, seen = self._settings, self.seen
        self.seen = Seen()
        if not seen or settings is None or not settings.id_cache.value:
            return
        from openai_cli import idcache

        try:
            idcache.save(
                self.io.env, idcache.section(settings.profile.value, settings.base_url.value), seen
            )
        except Exception as exc:
            # A cache for TAB is never worth failing the command that filled it.
            if self.debug:
                self.io.message(f"oai: the ID cache was not updated: {exc}")

    def __enter__(self) -> Factory:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
