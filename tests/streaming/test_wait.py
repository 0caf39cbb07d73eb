"""wait_until_complete and watch, in virtual time (trio MockClock + LoopClock emulator)."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import anyio
import httpx
import pytest
import respx
import trio
import trio.testing

from tests.helpers import client, run_json
from zof_async import (
    AsyncZof,
    NotFoundError,
    PermissionDeniedError,
    Run,
    RunStatus,
    WaitPolicy,
    WaitTimeoutError,
)
from zof_async.testing import Emulator, LoopClock, ManualClock, RunScript

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    """Trio on a MockClock that jumps ahead whenever every task waits."""
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


@pytest.fixture
def emulator() -> Emulator:
    """A small emulator on the event loop's (virtual) clock, without poll hints."""
    return Emulator(data="minimal", clock=LoopClock(), poll_hint=None)


async def start(emulator: Emulator, zof: AsyncZof, **script: Any) -> Run:
    emulator.script_next_run(RunScript(**script))
    return await zof.runs.create(
        project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
    )


async def test_waits_until_terminal_and_reports_every_change(emulator: Emulator) -> None:
    """A wait returns the finished run, reports each status once, notices within 15 s."""
    async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
        run = await start(emulator, zof, outcome="failed", queue_seconds=20, duration_seconds=100)
        seen: list[RunStatus] = []
        began = trio.current_time()
        done = await zof.runs.wait_until_complete(
            run.id, timeout=1800, on_update=lambda r: seen.append(r.status)
        )
        waited = trio.current_time() - began
    assert done.status is RunStatus.FAILED
    assert seen == [RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.FAILED]
    # The last of 25 results lands between 20 + 96 and 20 + 100 s; it is
    # noticed within one max interval (15 s).
    assert 116 <= waited <= 120 + 15
    polls = emulator.stats.count(route="/runs/{id}")
    assert polls <= 20


async def test_first_polls_are_spread_and_the_client_rate_is_bounded(emulator: Emulator) -> None:
    """300 waits started together: polls spread, at most polls_per_second."""
    async with AsyncZof(
        api_key=emulator.keys.qa,
        transport=emulator.transport(),
        polls_per_second=50,
        max_connections=200,
    ) as zof:
        runs = [
            await start(emulator, zof, queue_seconds=5, duration_seconds=60) for _ in range(300)
        ]
        emulator.stats.reset()
        async with anyio.create_task_group() as tg:
            for run in runs:
                tg.start_soon(zof.runs.wait_until_complete, run.id)
    times = [record.at for record in emulator.stats.log if record.route == "/runs/{id}"]
    per_second = Counter(int(t) for t in times)
    assert max(per_second.values()) <= 50 + 10  # rate plus burst
    assert len(set(times)) > 250, "waiters started together must not poll together"
    assert all(emulator.run(r.id).status in ("passed", "failed", "error") for r in runs)


async def test_retry_after_hints_space_the_polls(emulator: Emulator) -> None:
    """A Retry-After hint of 30 s on each poll: polls at least 30 s apart."""
    emulator.poll_hint = 30
    async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
        run = await start(emulator, zof, queue_seconds=0, duration_seconds=200)
        emulator.stats.reset()
        await zof.runs.wait_until_complete(run.id)
    times = [record.at for record in emulator.stats.log if record.route == "/runs/{id}"]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps
    assert min(gaps) >= 30


async def test_hints_are_capped(router: respx.MockRouter) -> None:
    """A Retry-After hint of 100000 s with max_hint=45: polls 45 s apart."""
    times: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        times.append(trio.current_time())
        status = "running" if len(times) < 3 else "passed"
        return httpx.Response(200, json=run_json(status=status), headers={"Retry-After": "100000"})

    router.get("/runs/run_1").mock(side_effect=handler)
    async with client(router) as zof:
        await zof.runs.wait_until_complete("run_1", policy=WaitPolicy(max_hint=45))
    assert [round(b - a) for a, b in itertools.pairwise(times)] == [45, 45]


async def test_transient_failures_are_absorbed(emulator: Emulator) -> None:
    """429s and 40% 5xx answers to the polls: the wait still returns the passed run."""
    async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
        run = await start(emulator, zof, outcome="passed", queue_seconds=1, duration_seconds=60)
        emulator.faults.error_rate = 0.4
        emulator.faults.error_statuses = (500, 502, 503)
        emulator.faults.fail_next(3, status=429, retry_after=5, route="/runs/{id}")
        done = await zof.runs.wait_until_complete(run.id)
    assert done.status is RunStatus.PASSED
    failures = sum(emulator.stats.count(route="/runs/{id}", status=s) for s in (429, 500, 502, 503))
    assert failures > 3


async def test_not_found_and_forbidden_raise_at_once(router: respx.MockRouter) -> None:
    """404 and 403 end a wait at its first poll."""
    router.get("/runs/run_gone").mock(
        return_value=httpx.Response(404, json={"error": {"code": "not_found", "message": "x"}})
    )
    router.get("/runs/run_secret").mock(
        return_value=httpx.Response(403, json={"error": {"code": "forbidden", "message": "x"}})
    )
    async with client(router) as zof:
        began = trio.current_time()
        with pytest.raises(NotFoundError):
            await zof.runs.wait_until_complete("run_gone")
        with pytest.raises(PermissionDeniedError):
            await zof.runs.wait_until_complete("run_secret")
        assert trio.current_time() - began <= 2  # two jittered first polls, nothing more
    assert len(router.calls) == 2


async def test_timeout_raises_with_the_last_run(emulator: Emulator) -> None:
    """A run that outlasts timeout=300: WaitTimeoutError at 300 s, holding the running run."""
    async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
        run = await start(emulator, zof, queue_seconds=1, duration_seconds=10_000)
        began = trio.current_time()
        with pytest.raises(WaitTimeoutError) as caught:
            await zof.runs.wait_until_complete(run.id, timeout=300)
        assert trio.current_time() - began == pytest.approx(300, abs=0.01)
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.run is not None
    assert caught.value.run.status is RunStatus.RUNNING
    assert "300" in str(caught.value)


async def test_watch_yields_each_status_change(emulator: Emulator) -> None:
    """watch() yields the run once per status: queued, running, passed."""
    async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
        run = await start(emulator, zof, outcome="passed", queue_seconds=30, duration_seconds=60)
        statuses = [r.status async for r in zof.runs.watch(run.id)]
    assert statuses == [RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PASSED]


async def test_polls_per_run_and_detection_lag_for_a_long_run(emulator: Emulator) -> None:
    """A 600 s run: noticed within 15 s of its end, in at most 55 polls."""
    async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
        run = await start(emulator, zof, queue_seconds=0, duration_seconds=600)
        emulator.stats.reset()
        done = await zof.runs.wait_until_complete(run.id)
        noticed = emulator.clock.now()
    assert done.completed_at is not None
    lag = noticed - done.completed_at.timestamp()
    assert 0 <= lag <= 15
    # 600 s at intervals of at most 15 s (jittered down to 12): ~6 ramp-up polls + ~45.
    assert emulator.stats.count(route="/runs/{id}") <= 55


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_wait_on_asyncio_with_real_short_intervals() -> None:
    """On asyncio, polling every 10 to 20 ms of real time: the wait returns the passed run."""
    emulator = Emulator(data="minimal", clock=ManualClock(), poll_hint=None)
    policy = WaitPolicy(initial_interval=0.01, max_interval=0.02)
    seen: list[RunStatus] = []

    def finish_once_seen_queued(run: Run) -> None:
        seen.append(run.status)
        emulator.advance(60)  # the run ends before the next poll

    async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
        run = await start(emulator, zof, outcome="passed", queue_seconds=1, duration_seconds=10)
        done = await zof.runs.wait_until_complete(
            run.id, policy=policy, timeout=10, on_update=finish_once_seen_queued
        )
    assert done.status is RunStatus.PASSED
    assert seen == [RunStatus.QUEUED, RunStatus.PASSED]


async def test_a_far_ahead_poll_does_not_hold_back_other_waiters(emulator: Emulator) -> None:
    """A waiter whose next poll is far ahead does not delay the other waiters' polls."""
    # Far ahead: a long interval, a Retry-After hint, or one that then times out.
    # The client-wide rate is reserved when a poll is sent, not when it is planned.
    cases = emulator.state.store.projects["proj_abc"].case_ids[:3]
    slow = emulator.add_run(
        "proj_abc", cases=cases, script=RunScript(queue_seconds=0, duration_seconds=1000)
    )
    fast = emulator.add_run(
        "proj_abc", cases=cases, script=RunScript(queue_seconds=0, duration_seconds=31)
    )
    async with AsyncZof(api_key=emulator.keys.viewer, transport=emulator.transport()) as zof:
        long_policy = WaitPolicy(initial_interval=1, max_interval=300, growth=100)
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: zof.runs.wait_until_complete(slow.id, policy=long_policy))
            await trio.sleep(10)  # the slow waiter's next poll is ~100 s ahead
            await zof.runs.wait_until_complete(fast.id)
            noticed = emulator.clock.now()
            tg.cancel_scope.cancel()
        with pytest.raises(WaitTimeoutError):  # and one that times out frees its slot too
            await zof.runs.wait_until_complete(slow.id, policy=long_policy, timeout=150)
        began = trio.current_time()
        with pytest.raises(NotFoundError):
            await zof.runs.wait_until_complete("run_missing")
        assert trio.current_time() - began <= 1  # the first poll comes within initial_interval
    assert noticed - emulator.state.store.runs[fast.id].finish_at[-1] <= 15  # as documented
