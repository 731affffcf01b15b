"""The request ``--dry-run`` shows, as a ``curl`` command a shell runs as it stands.

Every word is quoted for a POSIX shell; the one exception is the variable that holds
the key, left for the shell to fill in, so the key itself is never printed.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field

# Inside double quotes these are still special to the shell.
_DOUBLE_QUOTED_SPECIAL = frozenset('$`"\\!')
# What ends or changes an unquoted value in curl's -F syntax (`;type=`, `,` between
# files, a leading quote); such a value is written in curl's own double quotes.
_FORM_SPECIAL = frozenset(';,"\\')
# An indented continuation is easier to copy than a line wider than the terminal.
ONE_LINE_MAX = 100


def _with_variable(prefix: str, variable: str) -> str:
    """``prefix`` followed by the value of ``$variable``, as one shell word."""
    if _DOUBLE_QUOTED_SPECIAL.isdisjoint(prefix):
        return f'"{prefix}${variable}"'
    return f'{shlex.quote(prefix)}"${variable}"'


def _form_word(text: str) -> str:
    """``text`` as curl's -F parser reads it back unchanged."""
    if not text or (_FORM_SPECIAL.isdisjoint(text) and text[0] not in " \t"):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Curl:
    """A curl command built option by option; each item of ``groups`` is one option."""

    method: str
    url: str
    groups: list[list[str]] = field(default_factory=list)

    def option(self, *words: str) -> None:
        self.groups.append([shlex.quote(w) for w in words])

    def header(self, name: str, value: str) -> None:
        self.option("-H", f"{name}: {value}")

    def secret_header(self, name: str, prefix: str, variable: str) -> None:
        """A header whose value ends in the key, taken from ``$variable`` when run."""
        self.groups.append(["-H", _with_variable(f"{name}: {prefix}", variable)])

    def field(self, name: str, value: str) -> None:
        # --form-string takes the value literally: one starting with @ or < is not a
        # file to read, and ; is not the start of an attribute.
        if value[:1] in ("@", "<") or not _FORM_SPECIAL.isdisjoint(value):
            self.option("--form-string", f"{name}={value}")
        else:
            self.option("-F", f"{name}={value}")

    def typed_part(self, name: str, value: str, content_type: str) -> None:
        """A part with its own content type and no file name (a JSON field)."""
        self.option("-F", f"{name}={_form_word(value)};type={content_type}")

    def file(self, name: str, path: str | None, filename: str) -> None:
        """A file part: read from ``path``, or from stdin when there is none."""
        source = path if path is not None else "-"
        spec = f"{name}=@{_form_word(source)}"
        if os.path.basename(source) != filename:
            spec += f";filename={_form_word(filename)}"
        self.option("-F", spec)

    def _head(self, *, explicit_method: bool) -> list[str]:
        head = ["curl"]
        if explicit_method or self.method != "GET":
            head += ["-X", shlex.quote(self.method)]
        return [*head, shlex.quote(self.url)]

    def line(self) -> str:
        """The whole command on one line."""
        return " ".join(self._head(explicit_method=True) + [w for g in self.groups for w in g])

    def text(self) -> str:
        """The command for a terminal: one line if it is short, else one option a line."""
        lines = [" ".join(self._head(explicit_method=False))]
        lines += [" ".join(g) for g in self.groups]
        whole = " ".join(lines)
        return whole if len(whole) <= ONE_LINE_MAX else " \\\n  ".join(lines)
