"""Thousands of random cancellations, then: no leaks, nothing running, a healthy pool."""

from __future__ import annotations

import asyncio
import random

import anyio
import anyio.lowlevel
import pytest

from zof_async import AsyncZof
from zof_async.testing import Emulator, SystemClock

pytestmark = [pytest.mark.anyio, pytest.mark.served]

ROUNDS = 2000


@pytest.fixture
def anyio_backend() -> str:
    """asyncio only: the test counts the loop's tasks with `asyncio.all_tasks`."""
    return "asyncio"


@pytest.mark.slow
async def test_random_cancellations_leave_the_client_healthy() -> None:
    """2000 gets, listings and bulk reads cancelled at random: no slot, transport or task lost."""
    emulator = Emulator(clock=SystemClock())
    emulator.faults.latency = lambda rng: rng.uniform(0, 0.004)
    rng = random.Random(1234)
    run_id = next(iter(emulator.state.store.runs))
    result_ids = list(emulator.state.store.results)[:200]
    baseline = len(asyncio.all_tasks())
    cancelled = completed = 0
    async with emulator.serve() as base_url:
        async with AsyncZof(api_key=emulator.keys.qa, base_url=base_url, max_connections=4) as zof:

            async def get() -> None:
                await zof.runs.get(run_id)

            async def page() -> None:
                async for _ in zof.results.list(
                    page_size=rng.choice([5, 50]), prefetch=rng.choice([0, 1, 2])
                ):
                    await anyio.lowlevel.checkpoint()

            async def bulk() -> None:
                async for _ in zof.results.bulk_artifacts(
                    result_ids[: rng.randint(1, 40)], concurrency=rng.choice([1, 4, 16])
                ):
                    pass

            for round_ in range(ROUNDS):
                work = rng.choice([get, page, bulk])
                limit = rng.uniform(0, 0.01)
                if round_ % 5 == 0:
                    # A GET run to the end, so the share that completes does
                    # not depend on how busy this (shared) machine is.
                    work, limit = get, 30.0
                with anyio.move_on_after(limit) as scope:
                    await work()
                if scope.cancelled_caught:
                    cancelled += 1
                else:
                    completed += 1
            await anyio.wait_all_tasks_blocked()
            stats = zof.stats
            assert stats.in_flight == 0, "a cancelled request kept its slot"
            assert stats.idle_connections == stats.connections <= 4, "a transport was lost"
            # Only the client's own task group host remains beside the test's tasks.
            assert len(asyncio.all_tasks()) <= baseline + 1
            with anyio.fail_after(30):
                for _ in range(100):
                    assert (await zof.runs.get(run_id)).id == run_id
    assert cancelled > ROUNDS // 4
    assert completed > ROUNDS // 10
    print(f"{ROUNDS} rounds: {cancelled} cancelled, {completed} completed")


def test_a_client_entered_and_left_in_two_tasks_still_closes() -> None:
    """pytest-asyncio runs a fixture's setup and teardown in two tasks: the client copes."""
    import asyncio

    from tests.helpers import SMOKE
    from zof_async.testing import Emulator

    async def main() -> int:
        emulator = Emulator(data="minimal")
        zof = AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport())
        await asyncio.ensure_future(zof.__aenter__())  # the fixture's setup, one task
        await zof.runs.create(**SMOKE)
        runs = [run async for run in zof.runs.list(page_size=2, prefetch=1)]
        await asyncio.ensure_future(zof.__aexit__(None, None, None))  # its teardown, another
        assert zof.is_closed
        return len(runs)

    assert asyncio.run(main()) > 0
