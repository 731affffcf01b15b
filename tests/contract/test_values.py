"""The value spellings of docs/scripting.md's "Values" section, past Steady: what they
send is what the spec asks for."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from tests.contract.steady import Steady
from tests.contract.test_contract_cases import one_clean_hit, run

MESSAGES = [{"role": "user", "content": "Hi"}]


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    import time

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_costs_with_dates_and_a_json_array(steady: Steady) -> None:
    result, entries = run(
        steady,
        *("admin", "organization", "usage", "costs"),
        *("--start-time", "2026-11-01", "--end-time", "2026-11-02T00:00:00Z"),
        *("--project-ids", '["proj_a","proj_b"]', "--group-by", '["project_id"]'),
    )
    entry = one_clean_hit(result, entries, "GET", "/organization/costs")
    assert parse_qsl(entry["request"]["query"].lstrip("?")) == [
        ("start_time", "1793491200"),
        ("end_time", "1793577600"),
        ("project_ids[]", "proj_a"),
        ("project_ids[]", "proj_b"),
        ("group_by[]", "project_id"),
    ]


def test_messages_from_a_file_and_from_positions(steady: Steady, tmp_path: Path) -> None:
    (tmp_path / "messages.json").write_text(json.dumps(MESSAGES))
    for fields in (
        ("-F", "messages=@messages.json"),
        ("-F", "messages[0].role=user", "-F", "messages[0].content=Hi"),
    ):
        result, entries = run(
            steady, "chat", "completions", "create", "--model", "gpt-4o-mini", *fields
        )
        entry = one_clean_hit(result, entries, "POST", "/chat/completions")
        assert entry["request"]["body"] == {"model": "gpt-4o-mini", "messages": MESSAGES}


def test_video_extended_by_reference(steady: Steady) -> None:
    result, entries = run(
        steady,
        *("videos", "extend", "--video", "video_123", "--prompt", "more", "--seconds", "4"),
    )
    entry = one_clean_hit(result, entries, "POST", "/videos/extensions")
    assert entry["request"]["body"] == {
        "video": {"id": "video_123"},
        "prompt": "more",
        "seconds": "4",
    }


def test_audit_log_bounds_from_dates(steady: Steady) -> None:
    result, entries = run(
        steady,
        *("admin", "organization", "audit-logs", "list"),
        *("--effective-at", '{"gte": "2026-11-01"}'),
    )
    entry = one_clean_hit(result, entries, "GET", "/organization/audit_logs")
    assert parse_qsl(entry["request"]["query"].lstrip("?")) == [("effective_at[gte]", "1793491200")]
