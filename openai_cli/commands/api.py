"""``oai api METHOD PATH``: any API path, with the runner's full behaviour."""

from __future__ import annotations

from typing import Annotated

import typer

from openai_cli.options import CommonOptions

app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")


@app.command(
    "api",
    help="Call any API path directly, like `gh api`.\n\n"
    "PATH is relative to the base URL (/models, /files/file-abc/content). Fields from -F and "
    "-f go to the query string for GET and DELETE, to the JSON body otherwise; with a "
    "multipart operation (or --form) `-F file=@path` uploads the file. Admin paths "
    "(/organization, /projects) use the admin key.",
)
def api(
    ctx: typer.Context,
    method: Annotated[str, typer.Argument(metavar="METHOD", help="GET, POST, DELETE, ...")],
    path: Annotated[str, typer.Argument(metavar="PATH", help="API path, e.g. /models.")],
    field: Annotated[
        list[str] | None,
        typer.Option(
            "-F",
            "--field",
            metavar="KEY=VALUE",
            help="Typed field: true/false/null/numbers/JSON, @file; a.b=c and a[]=x nest.",
        ),
    ] = None,
    raw_field: Annotated[
        list[str] | None,
        typer.Option("-f", "--raw-field", metavar="KEY=VALUE", help="String field, sent as is."),
    ] = None,
    body: Annotated[
        str | None,
        typer.Option(
            "--body", metavar="JSON|@FILE|-", help="Request body (JSON, @file, - for stdin)."
        ),
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option("-H", "--header", metavar="NAME:VALUE", help="Extra request header."),
    ] = None,
    form: Annotated[bool, typer.Option("--form", help="Send a multipart form.")] = False,
    stream: Annotated[
        bool,
        typer.Option("--stream", help="Ask for server-sent events; print each as one JSON line."),
    ] = False,
    max_items: Annotated[
        int | None, typer.Option("--max-items", metavar="N", help="Follow pages until N items.")
    ] = None,
    all_pages: Annotated[bool, typer.Option("--all", help="Follow every page.")] = False,
    output_file: Annotated[
        str | None,
        typer.Option("--output-file", metavar="PATH", help="Write the answer's bytes to PATH."),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "-o", "--output", metavar="FORMAT", help="auto, json, jsonl, yaml, table or raw."
        ),
    ] = None,
    query: Annotated[
        str | None,
        typer.Option(
            "--query", metavar="JMESPATH", help="JMESPath expression applied to the answer."
        ),
    ] = None,
    include: Annotated[
        bool | None,
        typer.Option("-i", "--include", help="Print status and useful headers on stderr."),
    ] = None,
    debug: Annotated[
        bool | None,
        typer.Option("--debug", help="Log requests and responses on stderr (keys masked)."),
    ] = None,
    dry_run: Annotated[
        bool | None, typer.Option("--dry-run", help="Print the request instead of sending it.")
    ] = None,
    verbose: Annotated[
        bool | None, typer.Option("-v", "--verbose", help="Say more on stderr.")
    ] = None,
) -> None:
    from openai_cli.api.lookup import find
    from openai_cli.api.request import Request, is_admin_path
    from openai_cli.api.runner import execute
    from openai_cli.context import Factory
    from openai_cli.errors import UsageError
    from openai_cli.input.assemble import collect

    factory = ctx.find_object(Factory)
    assert factory is not None
    factory.use(
        CommonOptions(
            output=output,
            query=query,
            include=include,
            debug=debug,
            dry_run=dry_run,
            verbose=verbose,
        )
    )
    m = method.upper()
    if m not in _METHODS:
        raise UsageError(f"METHOD: {method!r} is not one of {', '.join(_METHODS)}")
    if not path.startswith(("/", "http://", "https://")):
        path = "/" + path
    path, _, raw_query = path.partition("?")
    op = find(m, path)
    multipart = form or (
        op is not None
        and op.multipart
        and (not op.json_body or any(f.partition("=")[2].startswith("@") for f in field or []))
    )
    values, files = collect(
        factory.io, typed=field or [], raw=raw_field or [], body=body, multipart=multipart
    )
    if multipart and op is not None:
        from openai_cli.api.values import take_typed_parts

        files.extend(take_typed_parts(op, values))
    headers: dict[str, str] = {}
    for h in header or []:
        name, sep, value = h.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"-H {h!r}: expected NAME:VALUE")
        headers[name.strip()] = value.strip()
    q: dict[str, object] = {}
    if raw_query:
        from urllib.parse import parse_qsl

        q.update(parse_qsl(raw_query, keep_blank_values=True))
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
        output_file=output_file,
    )
    raise typer.Exit(execute(factory, request))
