"""The retry policy as a pure function of (attempt, status, headers, max_retries)."""

from __future__ import annotations

import email.utils

import pytest

from openai_cli.http.retry import Verdict, backoff, decide, retry_after


def no_jitter() -> float:
    return 0.0


def verdict(
    status: int,
    headers: dict[str, str] | None = None,
    *,
    attempt: int = 0,
    max_retries: int = 2,
    error_code: str | None = None,
    replayable: bool = True,
) -> Verdict:
    return decide(
        attempt,
        status,
        headers or {},
        max_retries,
        error_code=error_code,
        replayable=replayable,
        rand=no_jitter,
    )


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 599])
def test_retried_statuses_wait_the_backoff(status: int) -> None:
    assert verdict(status) == Verdict(0.5)
    assert verdict(status, attempt=1) == Verdict(1.0)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 501])
def test_other_statuses_are_not_retried(status: int) -> None:
    assert verdict(status) == Verdict(None)


def test_should_retry_overrules_the_status_but_never_a_501() -> None:
    assert verdict(400, {"x-should-retry": "true"}) == Verdict(0.5)
    assert verdict(503, {"x-should-retry": "false"}) == Verdict(None)
    assert verdict(501, {"x-should-retry": "true"}) == Verdict(None)


def test_retries_run_out_and_a_body_that_cannot_be_sent_again_is_not_retried() -> None:
    assert verdict(500, attempt=2) == Verdict(None)
    assert verdict(500, max_retries=0) == Verdict(None)
    assert verdict(500, replayable=False) == Verdict(None)


def test_insufficient_quota_is_final() -> None:
    assert verdict(429, {"retry-after": "1"}, error_code="insufficient_quota") == Verdict(None)


def test_the_server_s_wait_is_obeyed_up_to_two_minutes() -> None:
    assert verdict(429, {"retry-after-ms": "1500"}) == Verdict(1.5)
    assert verdict(503, {"retry-after": "2"}) == Verdict(2.0)
    assert verdict(429, {"retry-after-ms": "250", "retry-after": "9"}) == Verdict(0.25)
    assert verdict(429, {"retry-after": "0"}) == Verdict(0.0)
    longer = verdict(429, {"retry-after": "3600"})
    assert longer == Verdict(None, "the server asks to wait 1.0 h before retrying")
    # Named even when no retry was left, and for a 429 that is not to be retried.
    assert verdict(429, {"retry-after": "3600"}, attempt=2).hint == longer.hint
    assert verdict(429, {"retry-after": "3600", "x-should-retry": "false"}).hint == longer.hint
    assert verdict(400, {"retry-after": "3600"}) == Verdict(None)


@pytest.mark.parametrize(
    "value",
    ["soon", "inf", "-inf", "nan", "-5", "1e3", "0x10", "", "Fri, 99 Foo 2024 25:61:00 GMT"],
)
@pytest.mark.parametrize("name", ["retry-after", "retry-after-ms"])
def test_a_malformed_wait_is_ignored(name: str, value: str) -> None:
    assert retry_after({name: value}) is None
    assert verdict(429, {name: value}) == Verdict(0.5)


def test_an_absurd_wait_is_clamped_and_named() -> None:
    assert retry_after({"retry-after": "9" * 400}) == 86400.0
    assert retry_after({"retry-after-ms": "9" * 20}) == 86400.0
    assert verdict(429, {"retry-after": "9" * 400}) == Verdict(
        None, "the server asks to wait more than a day before retrying"
    )


def test_an_http_date_counts_from_now() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert retry_after({"retry-after": date}, now=now) == 30.0
    assert retry_after({"retry-after": email.utils.formatdate(now - 30)}, now=now) == 0.0


def test_backoff_doubles_up_to_eight_seconds_less_up_to_a_quarter() -> None:
    assert [backoff(n, no_jitter) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert backoff(1, lambda: 1.0) == 0.375
