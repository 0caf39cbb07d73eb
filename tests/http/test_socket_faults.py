"""Faults below HTTP, through the fault-injecting proxy, against the served emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from tests.helpers import SMOKE, settle_until
from zof_async import APIConnectionError, APITimeoutError, AsyncZof, RetryPolicy, Run
from zof_async.testing import Emulator, FaultProxy, RunScript, SystemClock, Toxic, set_testing

pytestmark = [pytest.mark.anyio, pytest.mark.served]


@pytest.fixture
def anyio_backend() -> str:
    """Served tests run once, on asyncio."""
    return "asyncio"


@pytest.fixture
async def setup() -> AsyncIterator[tuple[Emulator, FaultProxy, AsyncZof]]:
    emulator = Emulator(data="minimal", clock=SystemClock())
    emulator.run_script = RunScript(queue_seconds=3600)
    previous = set_testing(True)
    try:
        async with emulator.serve() as base_url, FaultProxy.serving(base_url) as proxy:
            async with AsyncZof(
                api_key=emulator.keys.qa, base_url=proxy.base_url, max_connections=4, timeout=5
            ) as zof:
                yield emulator, proxy, zof
    finally:
        set_testing(previous)


@pytest.mark.parametrize("kind", ["reset_before", "reset_after", "cut_body", "latency"])
async def test_gets_recover_by_retry(
    setup: tuple[Emulator, FaultProxy, AsyncZof], kind: str
) -> None:
    """Resets, a cut body or latency on two gets: the get succeeds, retrying the failures."""
    _, proxy, zof = setup
    run = await zof.runs.create(**SMOKE)
    proxy.add(Toxic(kind, seconds=0.05), count=2)
    fetched = await zof.runs.get(run.id)
    assert fetched == await zof.runs.get(run.id)
    assert proxy.faults_applied == [kind, kind]
    expected_retries = 0 if kind == "latency" else 2
    assert zof.stats.retries == expected_retries


@pytest.mark.parametrize("kind", ["reset_after", "cut_body"])
async def test_a_post_whose_answer_is_lost_creates_exactly_one_run(
    setup: tuple[Emulator, FaultProxy, AsyncZof], kind: str
) -> None:
    """A create whose answer is lost is retried with its key: one run exists."""
    emulator, proxy, zof = setup
    proxy.add(Toxic(kind))
    run = await zof.runs.create(**SMOKE)
    assert isinstance(run, Run)
    runs = emulator.runs_of("org_acme")
    assert [r.id for r in runs] == [run.id], "the retry must replay, not start a second run"
    posts = [r for r in emulator.stats.log if r.method == "POST"]
    assert len(posts) == 2
    assert posts[0].idempotency_key == posts[1].idempotency_key


async def test_a_reset_before_the_server_saw_it_is_simply_resent(
    setup: tuple[Emulator, FaultProxy, AsyncZof],
) -> None:
    """A create reset before reaching the server is resent: one POST, one run."""
    emulator, proxy, zof = setup
    proxy.add(Toxic("reset_before"))
    await zof.runs.create(**SMOKE)
    assert len(emulator.runs_of("org_acme")) == 1
    assert emulator.stats.count(method="POST") == 1


async def test_a_stalled_response_ends_at_the_timeout(
    setup: tuple[Emulator, FaultProxy, AsyncZof],
) -> None:
    """A response that never comes: APITimeoutError at the call's timeout, retried or not."""
    _, proxy, zof = setup
    run = await zof.runs.create(**SMOKE)
    proxy.add(Toxic("stall"), count=10)
    began = anyio.current_time()
    with pytest.raises(APITimeoutError):
        await zof.runs.get(run.id, timeout=0.5)
    assert anyio.current_time() - began < 2.0
    quick = zof.with_options(timeout=0.2, retry=RetryPolicy(max_retries=1))
    with pytest.raises(APITimeoutError):
        await quick.runs.get(run.id)


async def test_a_truncated_body_is_an_error_not_a_half_model(
    setup: tuple[Emulator, FaultProxy, AsyncZof],
) -> None:
    """A body cut after 40 bytes every time: APIConnectionError after 3 retries."""
    _, proxy, zof = setup
    run = await zof.runs.create(**SMOKE)
    proxy.add(Toxic("cut_body", keep_bytes=40), count=10)
    with pytest.raises(APIConnectionError) as caught:
        await zof.runs.get(run.id)
    assert "RemoteProtocolError" in str(caught.value) or "ReadError" in str(caught.value)
    assert zof.stats.retries == 3


async def test_refused_connections_fail_then_recover(
    setup: tuple[Emulator, FaultProxy, AsyncZof],
) -> None:
    """Nothing listening: APIConnectionError from a ConnectError; the proxy back, calls work."""
    _, proxy, zof = setup
    run = await zof.runs.create(**SMOKE)
    fresh: dict[str, Any] = {}
    async with proxy.refusing():
        async with AsyncZof(api_key="zof_emu_qa_acme", base_url=proxy.base_url) as other:
            with pytest.raises(APIConnectionError) as caught:
                await other.runs.get(run.id)
            fresh["cause"] = caught.value.__cause__
    assert type(fresh["cause"]).__name__ == "ConnectError"
    assert (await zof.runs.get(run.id)).id == run.id


async def test_closing_the_client_ends_work_in_flight(
    setup: tuple[Emulator, FaultProxy, AsyncZof],
) -> None:
    """aclose() during 20 stalled gets: each ends with APIConnectionError, some saying closed."""
    emulator, proxy, _ = setup
    run_id = emulator.add_run("proj_abc", suite_id="suite_pr_smoke").id
    proxy.add(Toxic("stall"), count=100)
    outcomes: list[BaseException] = []
    zof = AsyncZof(api_key=emulator.keys.qa, base_url=proxy.base_url, max_connections=8)

    async def get() -> None:
        try:
            await zof.runs.get(run_id)
        except BaseException as exc:
            outcomes.append(exc)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(get)
            # Every slot's request has reached the proxy, which never answers it.
            await settle_until(lambda: len(proxy.faults_applied) == 8)
            await zof.aclose()
    assert len(outcomes) == 20
    assert all(isinstance(exc, APIConnectionError) for exc in outcomes), {type(e) for e in outcomes}
    assert any("closed" in str(exc) for exc in outcomes)
