"""Tables for people: the columns that matter for each kind of object, fitted to the width.

Which columns: chosen by the rows' ``object`` field, which the API sends on every
object, so the renderer needs no word from the command. A family lists its columns
in the order shown and the ones to drop first when the terminal is narrow; unknown
objects get their scalar fields, the usual ones first. A column no row has a value
for is left out. Usage and costs pages (time buckets holding results) become one
row per result, under the bucket's start.

How they fit: ids, numbers, times and headers are never cut; text cells are cut
with ``…`` down to a floor, then the least important columns are dropped until the
rest fit. Times (``created``, ``*_at``, a bucket's ``start_time``) are Unix seconds
shown in local time as ``ls -l`` does: ``Nov 29 20:12`` within half a year of now,
``Oct 27  2024`` beyond; twelve columns on every row, where an ISO date-time takes
sixteen and a batch list would lose a column at 80. Off a terminal (``-o table``
piped) nothing is cut or dropped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from openai_cli.terminal import neutralise

GAP = "  "
TEXT_FLOOR = 12  # a text column is never cut narrower than this (or its header)
MAX_COLUMNS = 8
MORE_HINT = "more: --all or --max-items N"
RECENT = 183 * 86400  # seconds; times closer to now than this show the time of day


@dataclass(frozen=True)
class Family:
    columns: tuple[str, ...]
    drop_first: tuple[str, ...] = ()


FAMILIES: dict[str, Family] = {
    "batch": Family(("id", "status", "requests", "endpoint", "created_at"), ("endpoint",)),
    "file": Family(("id", "filename", "purpose", "bytes", "created_at"), ("purpose",)),
    "model": Family(("id", "owned_by", "created")),
    "vector_store": Family(
        ("id", "name", "status", "files", "usage_bytes", "created_at"), ("usage_bytes",)
    ),
    "vector_store.file": Family(("id", "status", "usage_bytes", "created_at")),
    "fine_tuning.job": Family(
        ("id", "model", "status", "fine_tuned_model", "created_at"), ("fine_tuned_model",)
    ),
    "fine_tuning.job.event": Family(("created_at", "level", "message")),
    "fine_tuning.job.checkpoint": Family(
        ("id", "step_number", "fine_tuned_model_checkpoint", "created_at")
    ),
    "response": Family(("id", "status", "model", "created_at")),
    "conversation": Family(("id", "created_at")),
    "message": Family(("id", "role", "status", "text"), ("status",)),
    "organization.project": Family(("id", "name", "status", "created_at")),
    "organization.user": Family(("id", "name", "email", "role", "added_at"), ("added_at",)),
    "organization.invite": Family(("id", "email", "role", "status", "expires_at")),
    "eval": Family(("id", "name", "created_at")),
    "eval.run": Family(("id", "name", "status", "model", "created_at"), ("name",)),
    "container": Family(("id", "name", "status", "created_at")),
    "video": Family(("id", "status", "model", "progress", "created_at")),
}
# Columns of unknown objects, and of usage results, when present: these first.
PREFERRED = (
    "id", "object", "type", "name", "status", "model", "purpose", "filename", "bytes",
    "created_at", "created",
)  # fmt: skip
BUCKET_COLUMNS = (
    "start_time", "amount", "line_item", "model", "input_tokens", "output_tokens",
    "input_cached_tokens", "images", "characters", "seconds", "usage_bytes", "num_sessions",
    "num_model_requests", "quantity", "project_id", "api_key_id", "user_id", "batch",
)  # fmt: skip
NUMERIC_KEYS = frozenset({"requests", "files", "amount"})


def _counts(*keys: str, field: str) -> Callable[[dict[str, Any]], Any]:
    def get(row: dict[str, Any]) -> Any:
        counts = row.get(field)
        if not isinstance(counts, dict):
            return None
        return "/".join(str(counts.get(k, "")) for k in keys)

    return get


def _amount(row: dict[str, Any]) -> Any:
    amount = row.get("amount")
    if not isinstance(amount, dict) or not isinstance(amount.get("value"), (int, float)):
        return None
    value = float(amount["value"])
    shown = f"{value:.2f}" if value == 0 or abs(value) >= 0.01 else f"{value:.4g}"
    return f"{shown} {amount.get('currency') or ''}".rstrip()


def _message_text(row: dict[str, Any]) -> Any:
    parts = row.get("content")
    if isinstance(parts, str):
        return parts
    if not isinstance(parts, list):
        return None
    return " ".join(
        str(p.get("text") or p.get("refusal") or "") for p in parts if isinstance(p, dict)
    ).strip()


# Columns computed from an object field: header -> getter. Each header says what it
# counts, so the slashes need no legend.
DERIVED: dict[str, Callable[[dict[str, Any]], Any]] = {
    "requests": _counts("completed", "failed", "total", field="request_counts"),
    "files": _counts("completed", "total", field="file_counts"),
    "amount": _amount,
    "text": _message_text,
}
HEADERS = {"requests": "ok/failed/all", "files": "files done/total", "start_time": "start"}


def _kind(row: dict[str, Any]) -> str | None:
    kind = row.get("object")
    if kind is None and row.get("type") == "message":
        return "message"
    return kind if isinstance(kind, str) else None


def flatten_buckets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Usage and costs pages: one row per result, under its bucket's start."""
    flat: list[dict[str, Any]] = []
    for bucket in rows:
        results = bucket.get("results")
        results = [r for r in results if isinstance(r, dict)] if isinstance(results, list) else []
        start = {"start_time": bucket.get("start_time")}
        flat.extend({**start, **r} for r in results) if results else flat.append(start)
    return flat


def _value(row: dict[str, Any], key: str) -> Any:
    value = row.get(key)
    getter = DERIVED.get(key)
    if getter is None or (value is not None and not isinstance(value, (dict, list))):
        return value  # a field of that name that is plain text or a number wins
    return getter(row)


def columns_for(rows: list[dict[str, Any]]) -> tuple[list[str], list[str], list[str]]:
    """(columns in the order shown, those dropped before any cell is cut, and the
    order the others are dropped in when cutting is not enough)."""
    sample = rows[:50]
    present: dict[str, None] = {}
    for r in sample:
        for k, v in r.items():
            if v is not None and not isinstance(v, (dict, list)):
                present.setdefault(k, None)
    family = FAMILIES.get(_kind(sample[0]) or "")
    if family is not None:
        cols = [
            c
            for c in family.columns
            if c in present or any(_value(r, c) not in (None, "") for r in sample)
        ]
        first = [c for c in family.drop_first if c in cols]
        return cols, first, [c for c in reversed(cols) if c not in first]
    order: tuple[str, ...] = PREFERRED
    if "start_time" in present:  # usage and costs results: their kind is noise here
        order = BUCKET_COLUMNS
        present.pop("object", None)
        if any(_amount(r) is not None for r in sample):
            present.setdefault("amount", None)
    cols = [c for c in order if c in present]
    cols += [c for c in present if c not in cols]
    cols = cols[:MAX_COLUMNS] or list(rows[0])[:MAX_COLUMNS]
    return cols, [], list(reversed(cols))


def _is_time(key: str, value: Any) -> bool:
    return (
        (key in ("created", "start_time", "end_time") or key.endswith("_at"))
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
        and 0 < value < 1e11
    )


def cell(key: str, value: Any, show: Callable[[str], str] = neutralise) -> str:
    """``value`` as one line of text; ``show`` neutralises it for a terminal."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_time(key, value):
        # As ls -l: the time of day within half a year of now, the year beyond.
        recent = abs(time.time() - value) < RECENT
        return time.strftime("%b %d %H:%M" if recent else "%b %d  %Y", time.localtime(value))
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False)[:60]
    else:
        text = str(value)
    # A row is one line: line breaks in a message become spaces.
    return show(text.replace("\r\n", " ").replace("\n", " ").replace("\t", " "))


def _never_cut(key: str, values: Sequence[Any]) -> bool:
    """Ids, numbers and times keep every character."""
    if key == "id" or key.endswith("_id") or key in NUMERIC_KEYS:
        return True
    return all(
        v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values
    )


@dataclass
class Layout:
    headers: list[str]
    widths: list[int]
    right: list[bool]
    rows: list[list[str]]


def _same(text: str) -> str:
    return text


def layout(rows: list[dict[str, Any]], width: int | None, *, terminal: bool) -> Layout:
    """The table for ``rows``, fitted to ``width`` cells (None: as wide as it needs).

    On a ``terminal`` cells are neutralised before they are measured; piped, the
    data goes out as it came.
    """
    from rich.cells import cell_len

    if _kind(rows[0]) == "bucket":
        rows = flatten_buckets(rows)
    cols, drop_first, drop_then = columns_for(rows)
    values = {c: [_value(r, c) for r in rows] for c in cols}
    show = neutralise if terminal else _same
    texts = {c: [cell(c, v, show) for v in values[c]] for c in cols}
    heads = {c: show(HEADERS.get(c, c)) for c in cols}
    natural = {c: max([cell_len(heads[c]), *(cell_len(t) for t in texts[c])]) for c in cols}
    fixed = {c: _never_cut(c, values[c]) for c in cols}
    floor = {
        c: natural[c] if fixed[c] else min(natural[c], max(cell_len(heads[c]), TEXT_FLOOR))
        for c in cols
    }

    shown = _columns_that_fit(cols, drop_first, drop_then, natural, floor, width)
    widths = _widths(shown, natural, floor, width)
    right = [_right_aligned(c, values[c]) for c in shown]
    return Layout(
        headers=[heads[c] for c in shown],
        widths=[widths[c] for c in shown],
        right=right,
        rows=[[texts[c][i] for c in shown] for i in range(len(rows))],
    )


def _need(shown: list[str], sizes: dict[str, int]) -> int:
    return sum(sizes[c] for c in shown) + len(GAP) * (len(shown) - 1)


def _columns_that_fit(
    cols: list[str],
    drop_first: list[str],
    drop_then: list[str],
    natural: dict[str, int],
    floor: dict[str, int],
    width: int | None,
) -> list[str]:
    """The columns kept: the expendable ones go before any cell is cut, then the least
    important until the others fit at their floor (one column always stays)."""
    shown = list(cols)
    if width is None:
        return shown
    for c in drop_first:
        if _need(shown, natural) > width:
            shown.remove(c)
    for c in drop_then:
        if _need(shown, floor) <= width or len(shown) == 1:
            break
        shown.remove(c)
    return shown


def _widths(
    shown: list[str], natural: dict[str, int], floor: dict[str, int], width: int | None
) -> dict[str, int]:
    widths = {c: natural[c] for c in shown}
    if width is None or _need(shown, widths) <= width:
        return widths
    widths = {c: floor[c] for c in shown}
    # The room left goes to the cut columns, most important first.
    spare = width - _need(shown, widths)
    for c in shown:
        if spare <= 0:
            break
        grow = min(spare, natural[c] - widths[c])
        widths[c] += grow
        spare -= grow
    return widths


def _right_aligned(key: str, values: list[Any]) -> bool:
    """Numbers line up on the right; times, though numbers, read as text."""
    return key in NUMERIC_KEYS or all(
        isinstance(v, (int, float)) and not _is_time(key, v) for v in values if v is not None
    )


def _fit(text: str, width: int, right: bool) -> str:
    from rich.cells import cell_len, set_cell_size

    size = cell_len(text)
    if size > width:
        return set_cell_size(text, width - 1) + "…"
    pad = " " * (width - size)
    return pad + text if right else text + pad


def lines(table: Layout, bold: bool) -> list[str]:
    """The header and the rows, each a line without its end."""
    heads = zip(table.headers, table.widths, table.right, strict=True)
    head = GAP.join(_fit(h, w, r) for h, w, r in heads).rstrip()
    out = [f"\x1b[1m{head}\x1b[0m" if bold else head]
    for row in table.rows:
        cells = zip(row, table.widths, table.right, strict=True)
        out.append(GAP.join(_fit(t, w, r) for t, w, r in cells).rstrip())
    return out
