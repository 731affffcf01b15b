"""``oai api METHOD PATH``: any API path, with the runner's full behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

from openai_cli.options import add_command, argument, option

if TYPE_CHECKING:
    from openai_cli.context import Factory
    from openai_cli.input.fields import FieldKind
    from openai_cli.io import IO
    from openai_cli.operations.model import Operation

app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")

HELP = (
    "Call any API path directly, like `gh api`: `oai api /models` is a GET, and a POST "
    "when -f, -F or --body gives fields; `oai api DELETE /files/file-abc` names the "
    "method.\n\n"
    "PATH is relative to the base URL (/models, /files/file-abc/content). Fields from -F and "
    "-f go to the query string for GET and DELETE, to the JSON body otherwise; with a "
    "multipart operation (or --form) `-F file=@path` uploads the file. Admin paths "
    "(/organization, /projects) use the admin key. A {name} in PATH takes the field of that name "
    "as one encoded segment: /files/{id} -f id=file-abc."
)


@dataclass(frozen=True, kw_only=True)
class ApiOptions:
    # `oai api /models` as `gh api` reads it: one word is the PATH.
    method: str = argument(
        metavar="[METHOD]",
        help="GET, POST, DELETE, ...; without it GET, or POST when -f, -F or --body is given.",
    )
    path: str | None = argument(default=None, metavar="PATH", help="API path, e.g. /models.")
    field: list[str] | None = option(
        "-F",
        "--field",
        metavar="KEY=VALUE",
        help="Typed field: true/false/null/numbers/JSON, @file; a.b=c and a[]=x nest.",
    )
    raw_field: list[str] | None = option(
        "-f", "--raw-field", metavar="KEY=VALUE", help="String field, sent as is."
    )
    body: str | None = option(
        "--body", metavar="JSON|@FILE|-", help="Request body (JSON, @file, - for stdin)."
    )
    header: list[str] | None = option(
        "-H", "--header", metavar="NAME:VALUE", help="Extra request header."
    )
    form: bool = option("--form", default=False, help="Send a multipart form.")
    stream: bool = option(
        "--stream", default=False, help="Ask for server-sent events; print each as one JSON line."
    )
    max_items: int | None = option("--max-items", metavar="N", help="Follow pages until N items.")
    all_pages: bool = option("--all", default=False, help="Follow every page.")
    output_file: str | None = option(
        "-O", "--output-file", metavar="PATH", help="Write the answer's bytes to PATH."
    )


def api(factory: Factory, opts: ApiOptions) -> int:
    from openai_cli.errors import UsageError
    from openai_cli.http.paths import fill_from_fields, literal
    from openai_cli.operations.lookup import find
    from openai_cli.operations.request import Answer, Call, Request, is_admin_path
    from openai_cli.operations.runner import execute
    from openai_cli.values import take_typed_parts

    method, path = opts.method, opts.path
    if path is None:
        if method.upper() in _METHODS:
            raise UsageError(f"PATH: missing after {method}", hint=f"e.g. oai api {method} /models")
        method, path = ("POST" if opts.field or opts.raw_field or opts.body else "GET"), method
    m = _method(method)
    path = literal(path)
    op = find(m, path)
    multipart, values, files = _fields(factory.io, op, opts)
    path = fill_from_fields(path, values)
    if multipart and op is not None:
        files.extend(take_typed_parts(op, values))
    headers = _headers(opts.header or [])
    in_query = m in ("GET", "DELETE", "HEAD") and not opts.body and not files
    q: dict[str, object] = dict(values) if in_query else {}
    if opts.stream and not in_query and "stream" not in values and _streams(op):
        values["stream"] = True
    # Unknown paths, and operations whose answer is JSON, go by the answer's content type.
    binary = True if op is not None and op.binary else None
    request = Request(
        method=m,
        path=path,
        query=q,
        body=values if (values or files) and not in_query else None,
        files=files,
        multipart=multipart,
        headers=headers,
        admin=is_admin_path(path),
        stream=opts.stream,
    )
    answer = Answer(
        binary=binary,
        pagination=_pagination(op, opts),
        max_items=opts.max_items,
        all_pages=opts.all_pages,
        output_file=opts.output_file,
    )
    return execute(factory, Call(request, answer))


def _method(method: str) -> str:
    from openai_cli.errors import UsageError

    m = method.upper()
    if m not in _METHODS:
        raise UsageError(f"METHOD: {method!r} is not one of {', '.join(_METHODS)}")
    return m


def _fields(
    io: IO, op: Operation | None, opts: ApiOptions
) -> tuple[bool, dict[str, Any], list[Any]]:
    """Whether the body is a form, and the -F/-f/--body values and files."""
    from openai_cli.input.assemble import collect
    from openai_cli.values import field_kinds

    kinds = field_kinds(op) if op is not None else None
    multipart = _is_multipart(op, opts, kinds)
    values, files = collect(
        io,
        typed=opts.field or [],
        raw=opts.raw_field or [],
        body=opts.body,
        multipart=multipart,
        kinds=kinds,
    )
    return multipart, values, files


def _pagination(op: Operation | None, opts: ApiOptions) -> str | None:
    """The operation's way of paging; a path we do not know pages by cursor when asked."""
    if op is not None and op.pagination:
        return op.pagination
    return "cursor" if opts.all_pages or opts.max_items else None


def _is_multipart(
    op: Operation | None, opts: ApiOptions, kinds: dict[str, FieldKind] | None
) -> bool:
    """A form when asked for, or when the operation takes only a form or a file is given."""
    from openai_cli.input.assemble import is_upload

    return opts.form or (
        op is not None
        and op.multipart
        and (not op.json_body or any(is_upload(f, kinds) for f in opts.field or []))
    )


def _headers(given: list[str]) -> dict[str, str]:
    from openai_cli.errors import UsageError

    headers: dict[str, str] = {}
    for h in given:
        name, sep, value = h.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"-H {h!r}: expected NAME:VALUE")
        headers[name.strip()] = value.strip()
    return headers


def _streams(op: Operation | None) -> bool:
    """Whether the operation's body has a ``stream`` field that --stream can set."""
    return op is not None and any(p.name == "stream" for p in op.body)


add_command(app, "api", ApiOptions, api, help=HELP)
