"""``oai api METHOD PATH``: any API path, with the runner's full behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

from openai_cli.options import add_command, argument, option

if TYPE_CHECKING:
    from openai_cli.context import Factory

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
    from openai_cli.api.lookup import find
    from openai_cli.api.request import Request, is_admin_path
    from openai_cli.api.runner import execute
    from openai_cli.errors import UsageError
    from openai_cli.http.paths import fill_from_fields, literal
    from openai_cli.input.assemble import collect

    method, path, field, body = opts.method, opts.path, opts.field, opts.body
    if path is None:
        if method.upper() in _METHODS:
            raise UsageError(f"PATH: missing after {method}", hint=f"e.g. oai api {method} /models")
        method, path = ("POST" if field or opts.raw_field or body else "GET"), method
    stream, max_items, all_pages = opts.stream, opts.max_items, opts.all_pages
    m = method.upper()
    if m not in _METHODS:
        raise UsageError(f"METHOD: {method!r} is not one of {', '.join(_METHODS)}")
    path = literal(path)
    op = find(m, path)
    from openai_cli.api.values import field_kinds, take_typed_parts
    from openai_cli.input.assemble import is_upload

    kinds = field_kinds(op) if op is not None else None
    multipart = opts.form or (
        op is not None
        and op.multipart
        and (not op.json_body or any(is_upload(f, kinds) for f in field or []))
    )
    values, files = collect(
        factory.io,
        typed=field or [],
        raw=opts.raw_field or [],
        body=body,
        multipart=multipart,
        kinds=kinds,
    )
    path = fill_from_fields(path, values)
    if multipart and op is not None:
        files.extend(take_typed_parts(op, values))
    headers: dict[str, str] = {}
    for h in opts.header or []:
        name, sep, value = h.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"-H {h!r}: expected NAME:VALUE")
        headers[name.strip()] = value.strip()
    q: dict[str, object] = {}
    in_query = m in ("GET", "DELETE", "HEAD") and not body and not files
    if in_query:
        q.update(values)
    if (
        stream
        and not in_query
        and "stream" not in values
        and op is not None
        and any(p.name == "stream" for p in op.body)
    ):
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
        stream=stream,
        binary=binary,
        pagination=(op and op.pagination) or ("cursor" if (all_pages or max_items) else None),
        max_items=max_items,
        all_pages=all_pages,
        output_file=opts.output_file,
    )
    return execute(factory, request)


add_command(app, "api", ApiOptions, api, help=HELP)
