"""Edge cases of the client-wide 429 gate and of `Retry-After` (issue 10, item 7).

Virtual time (trio's MockClock with autojump): every sleep is free and the
times asserted are exact. The emulator runs on a `LoopClock`, so its rate
limiter and runs follow the same virtual clock.
"""

from __future__ import annotations

import math
import time
from email.utils import formatdate
from typing import Any

import anyio
import httpx
import pytest
import respx
import trio
import trio.testing

from tests.helpers import client, run_json
from zof_async import AsyncZof, RateLimitError, RetryPolicy
from zof_async.testing import Emulator, LoopClock

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    """Trio on a MockClock that jumps ahead whenever every task waits."""
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


def limited(retry_after: str) -> httpx.Response:
    return httpx.Response(
        429,
        json={"error": {"code": "rate_limited", "message": "slow down"}},
        headers={"Retry-After": retry_after, "X-Request-Id": "req_429"},
    )


class Server:
    """Answers `limits` 429s (Retry-After: `retry_after`) to `/runs/run_0`, else 200.

    Records the virtual time of every request, by path.
    """

    def __init__(self, limits: int, retry_after: str) -> None:
        self.limits = limits
        self.retry_after = retry_after
        self.sent: list[tuple[str, float]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.url.path.rsplit("/", 1)[-1], trio.current_time()))
        if request.url.path.endswith("/run_0") and self.limits:
            self.limits -= 1
            return limited(self.retry_after)
        return httpx.Response(200, json=run_json())

    def times(self, run_id: str) -> list[float]:
        return [at for name, at in self.sent if name == run_id]


@pytest.mark.parametrize(
    ("policy", "limits"),
    [
        pytest.param(RetryPolicy(max_retries=0), 1, id="retries-off"),
        pytest.param(
            RetryPolicy(max_retries=2, max_rate_limit_waits=2), 3, id="429-on-the-last-allowed-wait"
        ),
    ],
)
async def test_a_429_that_ends_a_call_still_closes_the_gate(
    router: respx.MockRouter, policy: RetryPolicy, limits: int
) -> None:
    """The call gives up with RateLimitError; the next call still waits out Retry-After."""
    server = Server(limits, "5")
    router.get(url__regex=r"/runs/run_\d+$").mock(side_effect=server)
    async with client(router, retry=policy) as zof:
        with pytest.raises(RateLimitError):
            await zof.runs.get("run_0")
        await zof.runs.get("run_1")
    last_429 = server.times("run_0")[-1]
    (sent,) = server.times("run_1")
    assert len(server.times("run_0")) == limits
    assert 5.0 <= sent - last_429 <= 5.0 + 0.5  # Retry-After, plus at most 10% jitter


async def test_a_retry_after_beyond_max_retry_after_closes_the_gate(
    router: respx.MockRouter,
) -> None:
    """A Retry-After beyond max_retry_after: later calls fail at once, unsent, until it passes."""
    # A call that meets the gate closed for longer than `max_retry_after` fails
    # with `RateLimitError` (as if the server had answered it), without a request.
    server = Server(1, "45")
    router.get(url__regex=r"/runs/run_\d+$").mock(side_effect=server)
    async with client(router, retry=RetryPolicy(max_retry_after=30), total_timeout=None) as zof:
        began = trio.current_time()
        with pytest.raises(RateLimitError) as first:
            await zof.runs.get("run_0")
        assert first.value.retry_after == 45
        with pytest.raises(RateLimitError) as held:
            await zof.runs.get("run_1")
        assert trio.current_time() == began  # failed at once, nothing slept
        assert held.value.retry_after == pytest.approx(45)
        assert held.value.code == "rate_limited"
        assert held.value.request_id == "req_429"  # of the 429 that closed the gate
        assert held.value.response.json()["error"]["code"] == "rate_limited"
        assert "GET /v1/runs/run_1" in str(held.value)
        await trio.sleep(46.5)
        await zof.runs.get("run_1")
    assert server.times("run_1") == [began + 46.5]
    assert len(server.sent) == 2


async def test_a_gate_closed_within_max_retry_after_is_waited(
    router: respx.MockRouter,
) -> None:
    """A call meeting a gate closed for 10 s more (under max_retry_after) waits, then goes out."""
    server = Server(1, "20")
    router.get(url__regex=r"/runs/run_\d+$").mock(side_effect=server)
    async with client(router, retry=RetryPolicy(max_retries=0), total_timeout=None) as zof:
        with pytest.raises(RateLimitError):
            await zof.runs.get("run_0")
        await trio.sleep(10)
        await zof.runs.get("run_1")  # 10 s left: under max_retry_after, so waited
    (sent,) = server.times("run_1")
    assert 20.0 <= sent - server.times("run_0")[0] <= 20.0 + 1.0


@pytest.mark.parametrize(
    "style",
    [
        pytest.param("imf", id="IMF-fixdate"),
        pytest.param("rfc850", id="obsolete-RFC-850"),
        pytest.param("asctime", id="asctime"),
    ],
)
async def test_every_http_date_form_of_retry_after_is_honoured(
    router: respx.MockRouter, style: str
) -> None:
    """RFC 9110 section 5.6.7: recipients accept all three HTTP-date forms."""
    times: list[float] = []

    def http_date(when: float) -> str:
        stamp = time.gmtime(when)
        if style == "imf":
            return formatdate(when, usegmt=True)
        if style == "rfc850":
            return time.strftime("%A, %d-%b-%y %H:%M:%S GMT", stamp)
        return time.asctime(stamp)  # "Sun Nov  6 08:49:37 1994", no zone: always GMT

    def handler(request: httpx.Request) -> httpx.Response:
        times.append(trio.current_time())
        if len(times) == 1:  # a whole second, 6 s ahead of the real clock
            return limited(http_date(math.floor(time.time()) + 6))
        return httpx.Response(200, json=run_json())

    router.get("/runs/run_1").mock(side_effect=handler)
    async with client(router) as zof:
        await zof.runs.get("run_1")
    # 5 to 6 s (less the real time the parse takes), plus jitter. An ignored
    # date would retry after the plain backoff, under 0.5 s.
    assert 4.5 <= times[1] - times[0] <= 6.0 + 0.6


async def test_a_fan_out_against_a_plain_rate_limit_completes_every_item() -> None:
    """300 gets, 100 at a time, against 1 request/s: every item ends with its value."""
    # An unlucky call may meet 429 several times in a row: each is a wait the
    # server asked for, not a failure. (Paced to the rate learned from them,
    # the waiters no longer race for one token a second: far fewer 429s.)
    emulator = Emulator(data="minimal", clock=LoopClock())
    async with AsyncZof(api_key=emulator.keys.admin, transport=emulator.transport()) as zof:
        run = await zof.runs.create(
            project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
        )
        emulator.faults.rate_limit = 1.0
        emulator.faults.rate_limit_burst = 1
        began = trio.current_time()
        fan = zof.map(lambda _: zof.runs.get(run.id), range(300))
        outcomes = [outcome async for outcome in fan]
        elapsed = trio.current_time() - began
    assert [o.error for o in outcomes if not o.ok] == []
    assert len(outcomes) == 300
    assert fan.stats.rate_limited > 0
    # 300 requests at 1/s take about 300 s; in step with Retry-After, not much more
    # (paced, each probe above 1/s costs a 1 s Retry-After against a bucket of 1).
    assert 290 <= elapsed <= 390


async def test_burst_of_creates_each_losing_its_first_answer_returns_every_run() -> None:
    """40 concurrent creates, each answer lost to a 502 after the run was made: 40 runs returned."""
    # Each retry replays its Idempotency-Key and gets its run; the retry budget's
    # floor must cover a burst that size, or runs exist that nobody got back. (Real
    # backoff in virtual time: all 40 first attempts go out at t=0, before any
    # retry, so each call loses exactly its first answer.)
    emulator = Emulator(data="minimal", clock=LoopClock())
    before = {r.id for r in emulator.runs_of("org_acme")}
    emulator.faults.fail_next(40, status=502, method="POST", route="/runs", after_handler=True)
    runs: list[str] = []
    async with (
        AsyncZof(api_key=emulator.keys.admin, transport=emulator.transport()) as zof,
        anyio.create_task_group() as tg,
    ):

        async def create() -> None:
            run = await zof.runs.create(
                project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
            )
            runs.append(run.id)

        for _ in range(40):
            tg.start_soon(create)
    created = {r.id for r in emulator.runs_of("org_acme")} - before
    assert emulator.stats.count(method="POST", route="/runs", status=502) == 40
    assert len(runs) == len(set(runs)) == 40
    assert created == set(runs), "runs were created that no caller got back"
