"""The types of the operation catalogue (``operations/catalogue``, generated from the spec).

Every fact here is decided by ``tools/gen_catalogue.py``, once: readers use the
fields as they are and guess nothing. The generated modules write only the fields
that differ from the defaults below, which keeps them small and cheap to import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

# How a value is given on the command line: scalars, a repeated flag (``array``, whose
# element kind is ``Param.items``), a path to upload, JSON text, or text that may be JSON.
ParamType = Literal[
    "string", "integer", "number", "boolean", "array", "file", "json", "string_or_json"
]
ItemType = Literal["string", "integer", "number", "boolean", "file"]
ContentTag = Literal["json", "multipart"]


@dataclass(frozen=True, slots=True)
class Param:
    """A query, header or body field, as one option of its command."""

    name: str  # as the API spells it (``include[]`` for a bracketed query array)
    flag: str  # ``--include``; renamed ``--query-...``/``--header-...`` on a clash
    type: ParamType
    items: ItemType | None = None  # element kind of an ``array``
    required: bool = False
    enum: tuple[Any, ...] | None = None
    open_enum: bool = False  # values outside ``enum`` are accepted too
    default: str | int | float | bool | None = None  # the API's, for help only
    deprecated: bool = False
    content: tuple[ContentTag, ...] = ()  # body fields: the content types that have it
    # A multipart form sends the field as one part of this Content-Type (the spec's
    # ``encoding``): an object as JSON text, not flattened into ``a[b]`` fields.
    part_type: str | None = None
    # Facts for the help, decided from types and names alone: the allowed range, the
    # unit (``Unix seconds``) and, for a JSON flag, the keys it takes with their types.
    minimum: int | float | None = None
    maximum: int | float | None = None
    unit: str | None = None
    shape: str | None = None

    @property
    def is_file(self) -> bool:
        """A path to upload (or several)."""
        return self.type == "file" or self.items == "file"

    @property
    def closed(self) -> bool:
        """Only the values of ``enum`` are valid as text."""
        return bool(self.enum) and not self.open_enum


@dataclass(frozen=True, slots=True)
class PathParam:
    """A path parameter, as one positional argument of its command."""

    name: str
    metavar: str  # as the usage line reads it, e.g. ``FILE_ID``
    type: ParamType = "string"


@dataclass(frozen=True, slots=True)
class Operation:
    """One API operation and the command that calls it."""

    command: tuple[str, ...]  # ("fine-tuning", "jobs", "list-events")
    method: str
    path: str  # with ``{name}`` placeholders, without the fixed query
    operation_id: str
    fixed_query: tuple[tuple[str, str], ...] = ()  # part of the operation (``?beta=true``)
    path_params: tuple[PathParam, ...] = ()
    query: tuple[Param, ...] = ()
    headers: tuple[Param, ...] = ()
    body: tuple[Param, ...] = ()
    body_required: bool = False
    content_types: tuple[str, ...] = ()  # request content types, as the spec names them
    streams: bool = False  # can answer with server-sent events
    binary: bool = False  # answers with bytes, not JSON
    pagination: Literal["cursor", "page"] | None = None
    admin: bool = False  # needs the admin key
    docs: str | None = None  # the API reference page
    example: str | None = None  # a command line making a minimal valid request

    @property
    def multipart(self) -> bool:
        return "multipart/form-data" in self.content_types

    @property
    def json_body(self) -> bool:
        return "application/json" in self.content_types

    @property
    def params(self) -> tuple[Param, ...]:
        """Every option field: query, then headers, then body."""
        return self.query + self.headers + self.body

    @property
    def full_path(self) -> str:
        """The path with its fixed query, as the reference lists it."""
        query = "&".join(f"{k}={v}" for k, v in self.fixed_query)
        return self.path + (f"?{query}" if query else "")
