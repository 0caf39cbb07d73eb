"""Pacing to the server's rate: declared, or learned from 429s (issue 30).

Virtual time (trio's MockClock with autojump): the emulator runs on a
`LoopClock`, so its token bucket refills on the same virtual clock, and the
send times a recording transport notes are exact.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import httpx
import pytest
import respx
import trio
import trio.testing

from tests.helpers import client, run_json
from zof_async import APITimeoutError, AsyncZof, ConfigurationError, RateLimitError, ResponseView
from zof_async._http._pacing import PacingPolicy, cubic_rate, guessed_rate, rate_after_cut
from zof_async.testing import Emulator, LoopClock

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    """Trio on a MockClock that jumps ahead whenever every task waits."""
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


class Recording(httpx.AsyncBaseTransport):
    """The emulator's transport, noting the virtual time, status and Retry-After of each request."""

    def __init__(self, emulator: Emulator) -> None:
        self.inner = emulator.transport()
        self.sent: list[float] = []
        self.limited: list[tuple[float, float]] = []  # (answered at, Retry-After)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(trio.current_time())
        response = await self.inner.handle_async_request(request)
        if response.status_code == 429:
            self.limited.append((trio.current_time(), float(response.headers["retry-after"])))
        return response


def most_in_one_second(times: list[float]) -> int:
    """The most sends in any window [t, t + 1)."""
    times = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def fan_out_gets(zof: AsyncZof, count: int) -> list[Any]:
    """`count` gets of one run, 100 at a time; their outcomes."""
    run = await zof.runs.create(
        project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
    )
    fan = zof.map(lambda _: zof.runs.get(run.id), range(count), concurrency=100)
    return [outcome async for outcome in fan]


async def test_a_declared_limit_paces_from_the_first_request() -> None:
    """max_requests_per_second=50: 200 gets, 100 at a time, leave 1/50 s apart, 50 in any second."""
    emulator = Emulator(data="minimal", clock=LoopClock())
    transport = Recording(emulator)
    async with AsyncZof(
        api_key=emulator.keys.admin, transport=transport, max_requests_per_second=50
    ) as zof:
        outcomes = await fan_out_gets(zof, 200)
    assert all(o.ok for o in outcomes) and len(outcomes) == 200
    gaps = [b - a for a, b in itertools.pairwise(transport.sent)]
    assert min(gaps) >= 1 / 50 - 1e-9
    assert most_in_one_second(transport.sent) == 50
    assert transport.sent[-1] - transport.sent[0] == pytest.approx(200 / 50, abs=0.05)


async def test_a_declared_limit_meets_no_429_from_a_bucket_of_its_size() -> None:
    """Paced at the server's own 50/s, a bucket of 10 never runs dry: no 429 at all."""
    emulator = Emulator(data="minimal", clock=LoopClock())
    transport = Recording(emulator)
    async with AsyncZof(
        api_key=emulator.keys.admin, transport=transport, max_requests_per_second=50
    ) as zof:
        emulator.faults.rate_limit = 50.0
        emulator.faults.rate_limit_burst = 10
        outcomes = await fan_out_gets(zof, 300)
    assert all(o.ok for o in outcomes) and len(outcomes) == 300
    assert transport.limited == []


async def test_with_options_declares_a_limit_for_the_copy_only() -> None:
    """A copy at 10/s spaces its own requests 0.1 s apart; the client's go at once."""
    emulator = Emulator(data="minimal", clock=LoopClock())
    transport = Recording(emulator)
    async with AsyncZof(api_key=emulator.keys.admin, transport=transport) as zof:
        run = await zof.runs.create(
            project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
        )
        slow = zof.with_options(max_requests_per_second=10)
        assert slow.with_options(timeout=5)._pipeline.own_pacer is slow._pipeline.own_pacer
        transport.sent.clear()
        began = trio.current_time()
        async with trio.open_nursery() as nursery:
            for _ in range(5):
                nursery.start_soon(slow.runs.get, run.id)
        slow_sent = [at - began for at in transport.sent]
        transport.sent.clear()
        began = trio.current_time()
        async with trio.open_nursery() as nursery:
            for _ in range(5):
                nursery.start_soon(zof.runs.get, run.id)
    assert slow_sent == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert [at - began for at in transport.sent] == [0.0] * 5


async def test_learned_pacing_honours_retry_after_and_leaves_the_gate_spaced() -> None:
    """50/s with a bucket of 5, no limit declared: every item, never inside a Retry-After.

    Before pacing, every reopening of the gate let the waiting requests out at
    once, and a small bucket refused almost all of them again (hundreds of
    429s); paced, only the first wave and a few probes meet a 429.
    """
    emulator = Emulator(data="minimal", clock=LoopClock())
    transport = Recording(emulator)
    async with AsyncZof(api_key=emulator.keys.admin, transport=transport) as zof:
        emulator.faults.rate_limit = 50.0
        emulator.faults.rate_limit_burst = 5
        began = trio.current_time()
        outcomes = await fan_out_gets(zof, 300)
        elapsed = trio.current_time() - began
        rate = zof._pipeline.channel.pacer.rate
    assert all(o.ok for o in outcomes) and len(outcomes) == 300
    for answered, retry_after in transport.limited:
        inside = [at for at in transport.sent if answered < at < answered + retry_after]
        assert inside == [], f"sent inside the window announced at {answered}"
    reopened = transport.limited[0][0] + transport.limited[0][1]
    after = [at for at in transport.sent if at >= reopened]
    gaps = [b - a for a, b in itertools.pairwise(after)]
    assert min(gaps) >= 1 / (2 * 50), "requests left the reopened gate in a burst"
    # A first 429 with nothing measurable (this transport answers one request
    # at a time) is a guess: slow start to the limit, one more 429, then CUBIC.
    assert len(transport.limited) <= 5
    assert rate is not None and 0.5 * 50 <= rate <= 50
    # Virtual seconds: the gate alone (a 1 s Retry-After per refill of 5) made it ~60 s.
    assert elapsed <= 3 * 300 / 50


async def test_a_429_without_retry_after_paces_too(router: respx.MockRouter) -> None:
    """A bare 429 (no Retry-After, no gate): the client still paces from then on."""
    answers = iter([httpx.Response(429, json={"error": {"code": "rate_limited"}})])
    sent: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(trio.current_time())
        return next(answers, None) or httpx.Response(200, json=run_json())

    router.get("/runs/run_1").mock(side_effect=handler)
    async with client(router) as zof:
        await zof.runs.get("run_1")
        assert zof._pipeline.channel.pacer.active
        began = trio.current_time()
        async with trio.open_nursery() as nursery:
            for _ in range(3):
                nursery.start_soon(zof.runs.get, "run_1")
    later = [at - began for at in sent[2:]]
    assert len(later) == 3 and later[0] < later[1] < later[2]


async def test_a_retry_after_beyond_the_maximum_still_raises_at_once_when_paced(
    router: respx.MockRouter,
) -> None:
    """Paced (declared), a Retry-After of 120 s over max_retry_after 60: raised, nothing slept."""
    router.get("/runs/run_1").mock(
        return_value=httpx.Response(
            429, json={"error": {"code": "rate_limited"}}, headers={"Retry-After": "120"}
        )
    )
    async with client(router, max_requests_per_second=5) as zof:
        began = trio.current_time()
        with pytest.raises(RateLimitError) as raised:
            await zof.runs.get("run_1")
        with pytest.raises(RateLimitError):
            await zof.runs.get("run_1")  # held at the gate, not sent
    assert raised.value.retry_after == 120
    assert trio.current_time() - began < 1.0
    assert router.calls.call_count == 1


async def test_a_slot_past_the_deadline_fails_without_sending() -> None:
    """At 1/s with a 2.5 s total timeout: slots at 1 s and 2 s are sent, at 3 s and 4 s not."""
    emulator = Emulator(data="minimal", clock=LoopClock())
    transport = Recording(emulator)
    errors: list[BaseException] = []
    async with AsyncZof(
        api_key=emulator.keys.admin,
        transport=transport,
        max_requests_per_second=1,
        total_timeout=2.5,
    ) as zof:
        run = await zof.runs.create(
            project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
        )
        transport.sent.clear()

        async def get() -> None:
            try:
                await zof.runs.get(run.id)
            except APITimeoutError as exc:
                errors.append(exc)

        async with trio.open_nursery() as nursery:
            for _ in range(4):
                nursery.start_soon(get)
    assert transport.sent == [1.0, 2.0]  # the create took the slot at 0
    assert len(errors) == 2 and all("paced" in str(error) for error in errors)


async def test_stats_and_hooks_show_the_send_rate() -> None:
    """`send_rate`: None while unpaced; the learned rate once a 429 came; on_rate_limited fires."""
    emulator = Emulator(data="minimal", clock=LoopClock())
    views: list[ResponseView] = []
    limited: list[float | None] = []
    async with AsyncZof(
        api_key=emulator.keys.admin,
        transport=emulator.transport(),
        on_response=views.append,
        on_rate_limited=limited.append,
    ) as zof:
        run = await zof.runs.create(
            project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
        )
        fan = zof.map(lambda _: zof.runs.get(run.id), range(100))
        assert fan.stats.send_rate is None
        emulator.faults.rate_limit = 20.0
        emulator.faults.rate_limit_burst = 2
        outcomes = [outcome async for outcome in fan]
    assert all(outcome.ok for outcome in outcomes)
    assert views[0].send_rate is None
    assert limited and all(after == 1.0 for after in limited)
    stats = fan.stats
    assert stats.send_rate is not None and stats.send_rate > 0
    assert views[-1].send_rate is not None


def test_max_requests_per_second_must_be_positive() -> None:
    """0, a negative or an infinite limit is refused where it is given."""
    for bad in (0, -1, math.inf):
        with pytest.raises(ConfigurationError):
            AsyncZof(api_key="k", max_requests_per_second=bad)
        with pytest.raises(ConfigurationError):
            AsyncZof(api_key="k").with_options(max_requests_per_second=bad)


def test_the_learned_rate_falls_below_the_accepted_rate_and_grows_back() -> None:
    """CUBIC: beta * w_max right after a cut, w_max at K, and above it only later."""
    policy = PacingPolicy(beta=0.9, growth=0.004)
    k = ((1 - 0.9) / 0.004) ** (1 / 3)
    assert cubic_rate(policy, 400.0, 0.0) == pytest.approx(360.0)
    assert cubic_rate(policy, 400.0, k / 2) < 400.0
    assert cubic_rate(policy, 400.0, k) == pytest.approx(400.0)
    assert cubic_rate(policy, 400.0, k + 1) == pytest.approx(400.0 * 1.004)
    assert guessed_rate(policy, 10.0, 1.0) == pytest.approx(9.0 * 4)
    assert rate_after_cut(policy, measured=380.0, paced=420.0) == 380.0
    assert rate_after_cut(policy, measured=None, paced=None) == policy.initial_rate


async def test_requests_woken_late_by_a_busy_loop_leave_spaced_not_together() -> None:
    """A stalled event loop wakes many paced requests at once: they still leave 1/rate apart.

    The server's bucket does not refill past its size while nothing arrives,
    so a burst of late wakers would meet 429s from a bucket of 10 at the
    declared rate. The stall is a jump of the virtual clock while every
    request sleeps for its slot.
    """
    emulator = Emulator(data="minimal", clock=LoopClock())
    emulator.faults.rate_limit = 50
    emulator.faults.rate_limit_burst = 10
    transport = Recording(emulator)
    clock = trio.lowlevel.current_clock()
    assert isinstance(clock, trio.testing.MockClock)

    async def stall() -> None:
        await trio.sleep(1.0)
        clock.jump(0.5)  # as if the loop were busy for half a second

    async with AsyncZof(
        api_key=emulator.keys.admin, transport=transport, max_requests_per_second=50
    ) as zof:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(stall)
            outcomes = await fan_out_gets(zof, 150)
    assert all(o.ok for o in outcomes) and len(outcomes) == 150
    assert transport.limited == []
    gaps = [b - a for a, b in itertools.pairwise(transport.sent)]
    assert sum(1 for gap in gaps if gap < 1 / 50 - 1e-9) <= 1  # at most the first after the stall
