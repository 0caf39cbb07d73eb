"""The client owns its concurrency: bounded in-flight requests, no PoolTimeout."""

from __future__ import annotations

import anyio
import httpx
import pytest
import respx

from tests.helpers import client, run_json
from zof_async import AsyncZof, NotFoundError, Run
from zof_async.testing import Emulator, SystemClock

pytestmark = pytest.mark.anyio


async def test_never_more_in_flight_than_max_connections(router: respx.MockRouter) -> None:
    """300 concurrent gets on max_connections=5: exactly 5 reach the transport at once."""
    in_flight = peak = 0
    release = anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await release.wait()
        in_flight -= 1
        return httpx.Response(200, json=run_json())

    router.get("/runs/run_1").mock(side_effect=handler)
    async with client(router, max_connections=5) as zof:
        copy = zof.with_options(max_retries=0)
        async with anyio.create_task_group() as tg:
            for i in range(300):
                tg.start_soon((zof if i % 2 else copy).runs.get, "run_1")
            await anyio.wait_all_tasks_blocked()  # every call holds a slot or waits for one
            assert (in_flight, zof.stats.in_flight) == (5, 5)
            release.set()
        assert zof.stats.in_flight == 0
    assert peak == 5
    assert zof.stats.requests_sent == 300


@pytest.mark.served
async def test_default_pool_fans_out_over_real_http_without_pool_timeouts() -> None:
    """1000 gets over real HTTP with max_connections=8: all succeed, at most 8 connections."""
    emulator = Emulator(data="minimal", clock=SystemClock())
    emulator.faults.latency = 0.002
    async with (
        emulator.serve() as base_url,
        AsyncZof(api_key=emulator.keys.viewer, base_url=base_url, max_connections=8) as zof,
    ):
        run_id = emulator.add_run("proj_abc", suite_id="suite_pr_smoke").id
        results: list[str] = []

        async def fetch() -> None:
            results.append((await zof.runs.get(run_id)).id)

        async with anyio.create_task_group() as tg:
            for _ in range(1000):
                tg.start_soon(fetch)
        assert results == [run_id] * 1000
        assert zof.stats.retries == 0
        assert 1 <= zof.stats.connections <= 8  # one single-connection transport per slot
        assert zof.stats.idle_connections == zof.stats.connections  # all given back
    assert emulator.stats.count(route="/runs/{id}", status=200) == 1000


@pytest.mark.served
async def test_aiohttp_transport_against_the_served_emulator() -> None:
    """The aiohttp transport over real HTTP: 200 concurrent gets, then a 404 as NotFoundError."""
    emulator = Emulator(data="minimal", clock=SystemClock())
    async with (
        emulator.serve() as base_url,
        AsyncZof(
            api_key=emulator.keys.qa,
            base_url=base_url,
            transport="aiohttp",
            max_connections=16,
        ) as zof,
    ):
        run = await zof.runs.create(
            project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
        )
        fetched: list[Run] = []

        async def fetch() -> None:
            fetched.append(await zof.runs.get(run.id))

        async with anyio.create_task_group() as tg:
            for _ in range(200):
                tg.start_soon(fetch)
        assert {r.id for r in fetched} == {run.id}
        assert len(fetched) == 200
        with pytest.raises(NotFoundError):
            await zof.runs.get("run_missing")
