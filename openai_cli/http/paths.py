"""Request paths: the one place a path is built from text a user or a server gave.

A path is a template of literal segments and ``{name}`` placeholders; :func:`fill`
puts each value in as one percent-encoded segment (``/``, ``#``, ``?`` and ``%``
included), so a value can neither add segments nor end the path early. A value that
is empty or only dots is refused: ``.`` and ``..`` survive percent-encoding
unchanged, and the URL library then resolves them as RFC 3986 dot segments, so
``oai files delete ..`` would send ``DELETE /`` something else entirely.

A path typed whole (``oai api``) is checked by :func:`literal`: a ``#`` or ``?``
would cut it short (``/vector_stores/vs_1#/files/f`` deletes the store), and dot
segments or backslashes would lead to another resource. :func:`check_path` is the
last guard every request passes, whatever built its path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote, unquote

from openai_cli.errors import UsageError

_PLACEHOLDER = re.compile(r"\{([^{}/]+)\}")


def segment(value: str, what: str) -> str:
    """``value`` as one encoded path segment; ``what`` names it in the error."""
    if value == "":
        raise UsageError(f"{what}: must not be empty")
    if value.strip(".") == "":
        raise UsageError(
            f"{what}: {value!r} is not an ID (a path segment of only dots would "
            "address another resource)"
        )
    return quote(value, safe="")


def fill(template: str, values: Mapping[str, str], names: Mapping[str, str] | None = None) -> str:
    """``template`` with each ``{name}`` replaced by ``values[name]`` as one segment.

    ``names`` says how an error names each value (a flag, an argument); by default
    the placeholder's own name.
    """

    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        return segment(values[name], (names or {}).get(name, name))

    return _PLACEHOLDER.sub(one, template)


def placeholders(template: str) -> list[str]:
    """The names of ``template``'s ``{name}`` placeholders, in order."""
    return _PLACEHOLDER.findall(template)


def check_path(path: str, what: str = "PATH") -> None:
    """Refuse a path the URL library would rewrite, cut or could not send.

    ``.``/``..`` segments are resolved away before sending (the request would reach
    another resource than the one written), a ``#`` ends the path (the rest is never
    sent), a backslash is a separator to some servers, and a control character would
    break the request line.
    """
    bare = path.partition("?")[0]
    for c in path:
        if ord(c) < 0x20 or ord(c) == 0x7F:
            raise UsageError(
                f"{what}: {path!r} contains a control character (U+{ord(c):04X}); "
                "a path is one line of text"
            )
    if "#" in path:
        raise UsageError(
            f"{what}: {path!r} contains '#', which would end the path there (nothing "
            "after it is sent); an ID holding one is written %23"
        )
    if "\\" in path:
        raise UsageError(f"{what}: {path!r} contains a backslash, which some servers read as '/'")
    for part in bare.split("/"):
        # Encoded dots too: a server or proxy that decodes before routing resolves them.
        if unquote(part) in (".", ".."):
            raise UsageError(
                f"{what}: {path!r} has a {part!r} segment, which would send the request "
                "to another path; write the path it means"
            )


def literal(path: str, what: str = "PATH") -> str:
    """A path typed whole, checked, with its leading ``/``.

    Stricter than :func:`check_path`: the query is not part of it (``-f`` fields are,
    and they are encoded), and an encoded backslash is refused as a plain one is.
    """
    if not path.startswith(("/", "http://", "https://")):
        path = "/" + path
    check_path(path, what)
    if "?" in path:
        raise UsageError(
            f"{what}: {path!r} contains '?'; give query values as fields "
            "(-f KEY=VALUE, sent as the query string of a GET or DELETE)"
        )
    decoded = unquote(path)
    if "\\" in decoded:
        raise UsageError(f"{what}: {path!r} contains an encoded backslash (%5C)")
    for c in decoded:
        if ord(c) < 0x20 or ord(c) == 0x7F:
            # A server that decodes the path may end it at %00 or split it at %0A.
            raise UsageError(
                f"{what}: {path!r} contains an encoded control character (U+{ord(c):04X})"
            )
    if any(part in (".", "..") for part in decoded.split("/")):
        # %2F..%2F: one segment as sent, a dot segment to a server or proxy that
        # decodes before it routes.
        raise UsageError(
            f"{what}: {path!r} holds an encoded '/' around a dot segment, which would "
            "send the request to another path on a server that decodes it"
        )
    return path


def fill_from_fields(template: str, fields: dict[str, object], what: str = "PATH") -> str:
    """``template`` with each ``{name}`` filled by the field of that name, taken out.

    ``oai api delete '/vector_stores/{vs}/files/{f}' -f vs=vs_1 -f f=file-1``: an ID
    from elsewhere goes in encoded, wherever it came from.
    """
    values: dict[str, str] = {}
    for name in placeholders(template):
        if name not in fields:
            raise UsageError(
                f"{what}: {{{name}}} has no value; give it as a field: -f {name}=VALUE"
            )
        v = fields.pop(name)
        if isinstance(v, bool) or not isinstance(v, str | int | float):
            raise UsageError(f"-F {name}: a path value is text or a number, not {v!r}")
        values[name] = str(v)
    return fill(template, values, {n: f"-f {n}" for n in values})
