"""Issue 12 item 11: tables on a terminal fit the width, whole ids, readable times.

Driven through the entry point with a terminal stdout of ``COLUMNS`` columns.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
import respx

from tests.helpers import api_env, invoke

MORE_HINT = "more: --all or --max-items N"

NOW = int(time.time())
FILE_IDS = ("file-AbCdEfGhIjKlMnOpQrStUvWx", "file-ZyXwVuTsRqPoNmLkJiHgFeDc")
FILES = {
    "object": "list",
    "data": [
        {
            "id": FILE_IDS[0],
            "object": "file",
            "bytes": 1234567,
            "created_at": NOW - 3600,
            "filename": "a-rather-long-training-data-file-name-for-the-fine-tune.jsonl",
            "purpose": "fine-tune",
        },
        {
            "id": FILE_IDS[1],
            "object": "file",
            "bytes": 42,
            "created_at": NOW - 3 * 86400,
            "filename": "[draft] notes[/] v2.txt",
            "purpose": "batch_output",
        },
    ],
    "has_more": True,
}
BATCH_IDS = ("batch_67226f5e3a9c8190ad3ba8a0e4fd8f1c", "batch_67226f5e3a9c8190ad3ba8a0e4fd8f1d")
BATCHES = {
    "object": "list",
    "data": [
        {
            "id": BATCH_IDS[0],
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "status": "in_progress",
            "created_at": NOW - 7200,
            "request_counts": {"total": 1000, "completed": 950, "failed": 12},
        },
        {
            "id": BATCH_IDS[1],
            "object": "batch",
            "endpoint": "/v1/embeddings",
            "status": "completed",
            "created_at": NOW - 86400,
            "request_counts": {"total": 10, "completed": 10, "failed": 0},
        },
    ],
    "has_more": False,
}
COSTS = {
    "object": "page",
    "data": [
        {
            "object": "bucket",
            "start_time": 1730000000,
            "end_time": 1730086400,
            "results": [
                {
                    "object": "organization.costs.result",
                    "amount": {"value": 12.3456, "currency": "usd"},
                    "line_item": "gpt-4o-2024-08-06, input",
                    "project_id": "proj_abc123def456ghi789jkl012",
                }
            ],
        },
        {"object": "bucket", "start_time": 1730086400, "end_time": 1730172800, "results": []},
    ],
    "has_more": True,
    "next_page": "page_2",
}
SGR = re.compile(r"\x1b\[[0-9;]*m")


def shown(api: respx.MockRouter, path: str, body: Any, *args: str, columns: int = 80) -> Any:
    api.get(path).respond(200, json=body)
    r = invoke(*args, env={**api_env(), "COLUMNS": str(columns)}, stdout_tty=True)
    assert r.code == 0, r
    lines = SGR.sub("", r.out).splitlines()
    assert all(len(line) <= columns for line in lines), lines
    return r, lines


def local(ts: int) -> str:
    return time.strftime("%b %d %H:%M", time.localtime(ts))


def test_files_at_80_columns(api: respx.MockRouter) -> None:
    r, lines = shown(api, "/files", FILES, "files", "list")
    assert lines[0].split() == ["id", "filename", "bytes", "created_at"], "purpose dropped first"
    assert lines[1].startswith(FILE_IDS[0] + "  a-rather-long-training")
    assert "…" in lines[1] and lines[1].endswith("1234567  " + local(NOW - 3600))
    assert "[draft] notes[/] v2.txt" in lines[2], "data is never markup"
    assert r.err == MORE_HINT + "\n"


def test_files_wide_enough_show_every_column_whole(api: respx.MockRouter) -> None:
    _, lines = shown(api, "/files", FILES, "files", "list", columns=160)
    assert lines[0].split() == ["id", "filename", "purpose", "bytes", "created_at"]
    assert FILES["data"][0]["filename"] in lines[1] and "…" not in lines[1]  # type: ignore[index]


def test_batches_at_80_columns(api: respx.MockRouter) -> None:
    r, lines = shown(api, "/batches", BATCHES, "batches", "list")
    assert lines[0].split() == ["id", "status", "ok/failed/all", "created_at"]
    assert lines[1].split() == [
        BATCH_IDS[0],
        "in_progress",
        "950/12/1000",
        *local(NOW - 7200).split(),
    ]
    assert lines[2].split()[:3] == [BATCH_IDS[1], "completed", "10/0/10"]
    assert r.err == "", "no more pages, no hint"


def test_batches_wide_show_the_endpoint(api: respx.MockRouter) -> None:
    _, lines = shown(api, "/batches", BATCHES, "batches", "list", columns=120)
    assert lines[0].split() == ["id", "status", "ok/failed/all", "endpoint", "created_at"]
    assert "/v1/chat/completions" in lines[1]


def test_costs_show_the_results_not_only_the_window(api: respx.MockRouter) -> None:
    args = ("admin", "organization", "usage", "costs", "--start-time", "1730000000")
    r, lines = shown(api, "/organization/costs", COSTS, *args)
    assert lines[0].split() == ["start", "amount", "line_item", "project_id"]
    day = time.strftime("%b %d  %Y", time.localtime(1730000000))
    assert lines[1].startswith(day) and "12.35 usd" in lines[1]
    assert "gpt-4o-2024-08-06, input" in lines[1] and "proj_abc123def456ghi789jkl012" in lines[1]
    assert lines[2].strip() == time.strftime("%b %d  %Y", time.localtime(1730086400))
    assert r.err == MORE_HINT + "\n"


def test_usage_results_show_tokens_and_model(api: respx.MockRouter) -> None:
    usage = {
        "object": "page",
        "data": [
            {
                "object": "bucket",
                "start_time": 1730000000,
                "end_time": 1730086400,
                "results": [
                    {
                        "object": "organization.usage.completions.result",
                        "input_tokens": 1000,
                        "output_tokens": 500,
                        "input_cached_tokens": 0,
                        "num_model_requests": 3,
                        "project_id": None,
                        "model": "gpt-4o-mini",
                    }
                ],
            }
        ],
        "has_more": False,
        "next_page": None,
    }
    args = ("admin", "organization", "usage", "completions", "--start-time", "1730000000")
    _, lines = shown(api, "/organization/usage/completions", usage, *args, columns=120)
    assert lines[0].split()[:4] == ["start", "model", "input_tokens", "output_tokens"]
    assert "gpt-4o-mini" in lines[1] and "1000" in lines[1] and "500" in lines[1]


def test_piped_table_keeps_everything(api: respx.MockRouter) -> None:
    api.get("/files").respond(200, json=FILES)
    r = invoke("files", "list", "-o", "table", env={**api_env(), "COLUMNS": "40"})
    assert r.code == 0, r
    assert "…" not in r.out
    for f in FILES["data"]:  # type: ignore[attr-defined]
        assert f["id"] in r.out and f["filename"] in r.out and f["purpose"] in r.out


@pytest.mark.parametrize("columns", [80, 40])
def test_ids_are_never_cut(api: respx.MockRouter, columns: int) -> None:
    _, lines = shown(api, "/batches", BATCHES, "batches", "list", columns=columns)
    assert [line.split()[0] for line in lines[1:]] == list(BATCH_IDS)


def test_piped_default_output_is_unchanged(api: respx.MockRouter) -> None:
    body = json.dumps(FILES, indent=1).encode()
    api.get("/files").respond(200, content=body, headers={"content-type": "application/json"})
    r = invoke("files", "list", env={**api_env(), "COLUMNS": "80"})
    assert r.code == 0 and r.err == ""
    assert r.out_bytes == body + b"\n"


def test_a_field_named_like_a_computed_column_is_shown_as_sent(api: respx.MockRouter) -> None:
    body = {"object": "list", "data": [{"id": "x", "object": "thing", "text": "héllo"}]}
    _, lines = shown(api, "/models", body, "models", "list")
    assert lines[1].split() == ["x", "thing", "héllo"]
