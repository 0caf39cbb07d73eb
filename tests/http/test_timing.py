"""Timing rules in virtual time (trio's MockClock): the 429 gate, Retry-After, deadlines.

Every sleep here is virtual: autojump moves the clock as soon as all tasks
wait, so "2 seconds" costs microseconds and the assertions are exact.
"""

from __future__ import annotations

from email.utils import formatdate
from typing import Any

import anyio
import httpx
import pytest
import respx
import trio
import trio.testing

from tests.helpers import client, run_json
from zof_async import APITimeoutError, InternalServerError, RateLimitError, RetryPolicy

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    """Trio on a MockClock that jumps ahead whenever every task waits."""
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


def limited(retry_after: str) -> httpx.Response:
    return httpx.Response(
        429,
        json={"error": {"code": "rate_limited", "message": "slow down"}},
        headers={"Retry-After": retry_after},
    )


async def test_retry_after_seconds_is_waited(router: respx.MockRouter) -> None:
    """A 429 with Retry-After: 3: the retry goes out 3 s later, plus at most 10% jitter."""
    times: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        times.append(trio.current_time())
        return limited("3") if len(times) == 1 else httpx.Response(200, json=run_json())

    router.get("/runs/run_1").mock(side_effect=handler)
    async with client(router) as zof:
        await zof.runs.get("run_1")
    assert 3.0 <= times[1] - times[0] <= 3.0 + 0.3  # the floor, plus at most 10% jitter


async def test_retry_after_http_date_is_waited(router: respx.MockRouter) -> None:
    """A 429 with Retry-After as an HTTP date 5 s ahead: the retry waits until then."""
    times: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        times.append(trio.current_time())
        if len(times) == 1:
            import time

            return limited(formatdate(time.time() + 5, usegmt=True))
        return httpx.Response(200, json=run_json())

    router.get("/runs/run_1").mock(side_effect=handler)
    async with client(router) as zof:
        await zof.runs.get("run_1")
    # An HTTP date has one-second resolution, so 4 to 5 seconds (plus jitter).
    assert 4.0 <= times[1] - times[0] <= 5.0 + 0.5


async def test_one_429_holds_every_request_of_the_client(router: respx.MockRouter) -> None:
    """Many concurrent requests, one 429: nothing else is sent before its Retry-After."""
    sent: list[float] = []
    first_429_at: list[float] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        now = trio.current_time()
        sent.append(now)
        if not first_429_at:
            first_429_at.append(now)
            return limited("2")
        await trio.sleep(0.05)
        return httpx.Response(200, json=run_json())

    router.get(url__regex=r"/runs/run_\d+$").mock(side_effect=handler)
    async with client(router, max_connections=4) as zof, anyio.create_task_group() as tg:
        for i in range(40):
            tg.start_soon(zof.runs.get, f"run_{i}")
    opened = first_429_at[0] + 2.0
    early = [t for t in sent[1:] if first_429_at[0] < t < opened]
    # Requests already on the wire when the 429 arrived (at most the other 3
    # slots, sent at the same instant) are the only ones before the gate opens.
    assert all(t == first_429_at[0] for t in sent if t < opened)
    assert not early
    assert len(sent) == 41


async def test_total_deadline_bounds_all_attempts(router: respx.MockRouter) -> None:
    """503s with backoff under total_timeout=10: the call gives up before 10 s."""
    times: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        times.append(trio.current_time())
        return httpx.Response(503, json={"error": {"code": "internal_error", "message": "down"}})

    router.get("/runs/run_1").mock(side_effect=handler)
    policy = RetryPolicy(max_retries=100, backoff_base=1.0, backoff_cap=4.0, budget_floor=1000)
    async with client(router, retry=policy, total_timeout=10) as zof:
        began = trio.current_time()
        with pytest.raises(InternalServerError):
            await zof.runs.get("run_1")
        assert trio.current_time() - began < 10
    assert times[-1] - began < 10
    assert 3 <= len(times) < 100


async def test_a_stalled_response_ends_at_the_deadline(router: respx.MockRouter) -> None:
    """A response that never comes: APITimeoutError at the call's 3 s deadline exactly."""

    async def stall(request: httpx.Request) -> httpx.Response:
        await trio.sleep(1000)
        return httpx.Response(200, json=run_json())

    router.get("/runs/run_1").mock(side_effect=stall)
    async with client(router, timeout=60) as zof:
        began = trio.current_time()
        with pytest.raises(APITimeoutError, match="total deadline"):
            await zof.runs.get("run_1", timeout=3)
        assert trio.current_time() - began == pytest.approx(3, abs=0.01)


async def test_retry_after_that_would_pass_the_deadline_is_not_waited(
    router: respx.MockRouter,
) -> None:
    """A Retry-After of 30 s with 10 s left: RateLimitError at once."""
    route = router.get("/runs/run_1").mock(return_value=limited("30"))
    async with client(router, total_timeout=10) as zof:
        began = trio.current_time()
        with pytest.raises(RateLimitError) as caught:
            await zof.runs.get("run_1")
        assert trio.current_time() - began < 0.01
    assert caught.value.retry_after == 30
    assert route.call_count == 1


async def test_a_gate_closed_past_the_deadline_fails_fast(router: respx.MockRouter) -> None:
    """A call meeting a 429 gate closed beyond its deadline fails at once."""
    limits = [limited("50")]

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("run_0") and limits:
            return limits.pop()
        await trio.sleep(0.01)
        return httpx.Response(200, json=run_json())

    router.get(url__regex=r"/runs/run_\d+$").mock(side_effect=handler)
    zof = client(router, retry=RetryPolicy(max_retry_after=100), total_timeout=200)
    async with zof, anyio.create_task_group() as tg:
        tg.start_soon(zof.runs.get, "run_0")
        await trio.sleep(1)
        began = trio.current_time()
        with pytest.raises(APITimeoutError, match="rate limited"):
            await zof.runs.get("run_1", timeout=10)
        assert trio.current_time() - began < 0.01
