"""Path parameters: one value, one URL segment, whatever the value holds.

A value is percent-encoded whole (``/`` included), so it cannot add segments. A
value that is only dots is refused: ``.`` and ``..`` survive percent-encoding
unchanged, and the URL library then resolves them as RFC 3986 dot segments, so
``oai files delete ..`` would send ``DELETE /`` something else entirely (a
vector store's files list, or the vector store itself).
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from openai_cli.errors import UsageError


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


def check_path(path: str, what: str = "PATH") -> None:
    """Refuse a literal path the URL library would rewrite or could not send.

    ``.``/``..`` segments are resolved away before sending (the request would reach
    another resource than the one written) and a control character would break the
    request line.
    """
    bare = path.partition("?")[0]
    for c in path:
        if ord(c) < 0x20 or ord(c) == 0x7F:
            raise UsageError(
                f"{what}: {path!r} contains a control character (U+{ord(c):04X}); "
                "a path is one line of text"
            )
    for part in bare.split("/"):
        # Encoded dots too: a server or proxy that decodes before routing resolves them.
        if unquote(part) in (".", ".."):
            raise UsageError(
                f"{what}: {path!r} has a {part!r} segment, which would send the request "
                "to another path; write the path it means"
            )
