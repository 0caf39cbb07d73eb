"""The retry policy's pure functions and the retry budget."""

from __future__ import annotations

import math
import random
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given, strategies as st

from zof_async import RetryPolicy, ZofError
from zof_async._http._budget import RetryBudget
from zof_async._http._retry import (
    Failure,
    GiveUp,
    Retry,
    backoff,
    decide,
    parse_retry_after,
    retry_delay,
)
from zof_async._http._sleep import is_testing, set_testing

NOW = 1_795_000_000.0


@given(attempt=st.integers(0, 200), seed=st.integers(0, 2**32))
def test_backoff_is_full_jitter_under_the_cap(attempt: int, seed: int) -> None:
    """Any attempt: the backoff lies between 0 and min(cap, base * 2**attempt)."""
    policy = RetryPolicy(backoff_base=0.5, backoff_cap=8.0)
    delay = backoff(policy, attempt, random.Random(seed))
    assert 0.0 <= delay <= min(8.0, 0.5 * 2**attempt)


def test_backoff_spreads_across_its_range() -> None:
    """2000 delays for one attempt reach both ends of the range (full jitter)."""
    policy = RetryPolicy(backoff_base=1.0, backoff_cap=100.0)
    rng = random.Random(1)
    delays = [backoff(policy, 3, rng) for _ in range(2000)]
    assert max(delays) > 7.5
    assert min(delays) < 0.5  # full jitter: not "base plus a little"


@given(
    attempt=st.integers(0, 10),
    retry_after=st.floats(0, 1000, allow_nan=False),
    seed=st.integers(0, 2**32),
)
def test_retry_after_is_a_floor_with_bounded_jitter(
    attempt: int, retry_after: float, seed: int
) -> None:
    """A Retry-After is never undercut, and jitter above it is bounded."""
    policy = RetryPolicy()
    delay = retry_delay(policy, attempt, retry_after, random.Random(seed))
    ceiling = max(min(policy.backoff_cap, policy.backoff_base * 2**attempt), retry_after)
    assert (
        retry_after <= delay <= ceiling + min(policy.max_jitter, retry_after * policy.jitter_ratio)
    )


def test_retry_after_jitter_spreads_a_fan_out() -> None:
    """100 waiters told Retry-After 2 wake at ~100 distinct times within 2 to 2.2 s."""
    rng = random.Random(7)
    wakes = {round(retry_delay(RetryPolicy(), 0, 2.0, rng), 5) for _ in range(100)}
    assert len(wakes) > 95
    assert max(wakes) <= 2.2
    assert min(wakes) >= 2.0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        (
            format_datetime(
                datetime.fromtimestamp(NOW, timezone.utc) + timedelta(seconds=30), usegmt=True
            ),
            30.0,
        ),
        (
            format_datetime(
                datetime.fromtimestamp(NOW, timezone.utc) - timedelta(seconds=30), usegmt=True
            ),
            0.0,
        ),
        ("Sunday, 06-Nov-94 08:49:37 GMT", 0.0),  # RFC 850, in the past
        ("Sun Nov  6 08:49:37 1994", 0.0),  # asctime, in the past
        (time.strftime("%A, %d-%b-%y %H:%M:%S GMT", time.gmtime(NOW + 30)), 30.0),
        (time.asctime(time.gmtime(NOW + 30)), 30.0),
        ("-5", None),
        ("nan", None),
        ("inf", None),
        ("soon", None),
        ("", None),
        (None, None),
        ("Wed, 99 Foo 2026 99:99:99 GMT", None),
        ("9" * 100, None),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    """Seconds and all three HTTP-date forms parse; negative, non-finite and garbage are None."""
    assert parse_retry_after(header, now=NOW) == expected


@given(st.text(max_size=80))
def test_parse_retry_after_never_crashes_on_garbage(header: str) -> None:
    """Any text: None or a non-negative number, never an exception."""
    value = parse_retry_after(header, now=NOW)
    assert value is None or value >= 0


def test_budget_allows_the_floor_then_a_ratio_of_traffic() -> None:
    """The retry budget allows its floor, then the ratio of recorded requests."""
    budget = RetryBudget(ratio=0.2, floor=5, window=10)
    now = 100.0
    assert sum(budget.try_retry(now) for _ in range(50)) == 5
    for _ in range(100):
        budget.record_request(now)
    assert sum(budget.try_retry(now) for _ in range(50)) == 20  # 5 + 0.2*100 - 5 spent


def test_budget_window_slides() -> None:
    """Retries leave the budget's window after `window` seconds and free their room."""
    budget = RetryBudget(ratio=0.0, floor=3, window=10)
    assert [budget.try_retry(0.0) for _ in range(4)] == [True, True, True, False]
    assert not budget.try_retry(9.9)
    assert budget.try_retry(10.5)  # the retries of second 0 have left the window


@given(st.lists(st.tuples(st.booleans(), st.floats(0, 60, allow_nan=False)), max_size=300))
def test_budget_is_never_exceeded(events: list[tuple[bool, float]]) -> None:
    """Any sequence of requests and retries: retries in a window stay within floor + ratio."""
    budget = RetryBudget(ratio=0.1, floor=2, window=10)
    log: list[tuple[float, str]] = []
    now = 0.0
    for is_request, step in events:
        now += step / 10
        if is_request:
            budget.record_request(now)
            log.append((now, "request"))
        elif budget.try_retry(now):
            log.append((now, "retry"))
            recent = [kind for t, kind in log if int(t) > int(now) - 10]
            assert recent.count("retry") <= 2 + 0.1 * recent.count("request")


def _failure(*, retryable: bool, rate_limited: bool, retry_after: float | None) -> Failure:
    return Failure(
        ZofError("failed"), retryable=retryable, retry_after=retry_after, rate_limited=rate_limited
    )


@pytest.mark.parametrize(
    ("retryable", "rate_limited", "retry_after", "retries", "waits", "expected"),
    [
        (False, False, None, 0, 0, None),
        (True, False, None, 0, 0, "retry"),
        (True, False, None, 3, 0, None),  # max_retries spent
        (True, True, None, 0, 0, "retry"),  # a 429 without Retry-After is a failure
        (True, True, 2.0, 3, 0, "wait"),  # waits do not spend max_retries
        (True, True, 2.0, 0, 20, None),  # max_rate_limit_waits spent
        (True, True, 61.0, 0, 0, None),  # beyond max_retry_after
        (True, False, 61.0, 0, 0, None),  # a 503's Retry-After too
    ],
)
def test_decide_retries_waits_or_gives_up(
    retryable: bool,
    rate_limited: bool,
    retry_after: float | None,
    retries: int,
    waits: int,
    expected: str | None,
) -> None:
    """`decide` spends retries on failures and waits on 429s with Retry-After, each capped."""
    policy = RetryPolicy(max_retries=3, max_rate_limit_waits=20, max_retry_after=60)
    decision = decide(
        policy,
        _failure(retryable=retryable, rate_limited=rate_limited, retry_after=retry_after),
        retries=retries,
        waits=waits,
        now=0.0,
        deadline=math.inf,
        rng=random.Random(0),
    )
    assert (decision.kind if isinstance(decision, Retry) else None) == expected
    if isinstance(decision, Retry) and retry_after is not None:
        assert decision.delay >= retry_after  # Retry-After is a floor


def test_retries_off_turns_rate_limit_waits_off_too() -> None:
    """With max_retries=0 (per call or in the policy) even a polite 429 is not waited on."""
    failure = _failure(retryable=True, rate_limited=True, retry_after=1.0)
    for max_retries, policy in [(0, RetryPolicy()), (None, RetryPolicy(max_retries=0))]:
        decision = decide(
            policy, failure, retries=0, waits=0, now=0.0, deadline=math.inf,
            rng=random.Random(0), max_retries=max_retries,
        )  # fmt: skip
        assert isinstance(decision, GiveUp)


@given(now=st.floats(0, 1e6), room=st.floats(0, 20), seed=st.integers(0, 2**32))
def test_decide_never_plans_an_attempt_past_the_deadline(
    now: float, room: float, seed: int
) -> None:
    """A retry is planned only if it can start before the deadline; else the call gives up."""
    failure = _failure(retryable=True, rate_limited=False, retry_after=None)
    decision = decide(
        RetryPolicy(), failure, retries=2, waits=0, now=now, deadline=now + room,
        rng=random.Random(seed),
    )  # fmt: skip
    if isinstance(decision, Retry):
        assert now + decision.delay < now + room
    else:
        assert decision.reason.startswith("the next attempt could not start")


def test_set_testing_restores_as_a_context_manager() -> None:
    """`with set_testing(True)` turns sleeping off inside and restores the previous setting."""
    assert not is_testing()
    with set_testing(True) as switch:
        assert is_testing() and not switch.previous
        with set_testing(False):
            assert not is_testing()
        assert is_testing()
    assert not is_testing()
