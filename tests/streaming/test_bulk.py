"""bulk_artifacts and zof.map: outcomes, order, adaptive concurrency, cancellation."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
import respx

from tests.helpers import client, run_json
from zof_async import (
    AsyncZof,
    AuthenticationError,
    InternalServerError,
    NotFoundError,
    Outcome,
    PaginationError,
    PermissionDeniedError,
    Result,
)
from zof_async.testing import Emulator, RunScript, set_testing

pytestmark = pytest.mark.anyio

ARTIFACTS = re.compile(r"/results/([^/]+)/artifacts$")


def artifact(result_id: str, n: int = 0) -> dict[str, Any]:
    return {
        "id": f"art_{result_id}_{n}", "object": "artifact", "run_id": "run_1", "result_id": result_id,
        "kind": "log", "name": "x.log", "content_type": "text/plain", "size_bytes": 10,
        "download_url": f"https://api.zof.ai/v1/artifacts/art_{result_id}_{n}/content",
        "created_at": "2026-11-22T10:00:00Z",
    }  # fmt: skip


def page(result_id: str, count: int = 2) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "data": [artifact(result_id, i) for i in range(count)],
            "next_cursor": None,
            "has_more": False,
        },
    )


async def test_against_the_emulator_from_a_pager(busy: Emulator, zof: AsyncZof) -> None:
    """Fed a pager, one batch per result of the run, each with its result's artifacts."""
    busy.script_next_run(RunScript(outcome="failed", queue_seconds=0, duration_seconds=5))
    run = await zof.runs.create(
        project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
    )
    busy.advance(10)
    expected = {r.id: r.status async for r in zof.results.list(run_id=run.id)}
    batches = [
        b async for b in zof.results.bulk_artifacts(zof.results.list(run_id=run.id), concurrency=8)
    ]
    assert sorted(b.result_id for b in batches) == sorted(expected)
    for batch in batches:
        assert batch.ok
        assert batch.artifacts is not None
        kinds = sorted(a.kind for a in batch.artifacts)
        assert kinds == (
            ["log", "screenshot", "trace"] if expected[batch.result_id] == "failed" else ["log"]
        )
        assert {a.result_id for a in batch.artifacts} == {batch.result_id}


async def test_mixed_outcomes(router: respx.MockRouter) -> None:
    """404s fail their item, a 429 or 503 is retried; every input gets an outcome; stats count."""
    calls: dict[str, int] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        rid = _result_id(request)
        calls[rid] = calls.get(rid, 0) + 1
        kind = int(rid.split("_")[1]) % 4
        if kind == 1:
            return httpx.Response(404, json={"error": {"code": "not_found", "message": "gone"}})
        if kind == 2 and calls[rid] == 1:
            return httpx.Response(
                429,
                json={"error": {"code": "rate_limited", "message": "x"}},
                headers={"Retry-After": "0"},
            )
        if kind == 3 and calls[rid] == 1:
            return httpx.Response(503, json={"error": {"code": "internal_error", "message": "x"}})
        return page(rid)

    router.get(path__regex=ARTIFACTS.pattern).mock(side_effect=handler)
    ids = [f"res_{i}" for i in range(40)]
    previous = set_testing(True)
    try:
        async with client(router) as zof:
            stream = zof.results.bulk_artifacts(ids, concurrency=6)
            batches = {b.result_id: b async for b in stream}
    finally:
        set_testing(previous)
    assert sorted(batches) == sorted(ids)
    for rid, batch in batches.items():
        if int(rid.split("_")[1]) % 4 == 1:
            assert isinstance(batch.error, NotFoundError)
            assert batch.artifacts is None
        else:
            assert batch.ok
            assert [a.id for a in batch.artifacts or ()] == [f"art_{rid}_0", f"art_{rid}_1"]
    stats = stream.stats
    assert stats.started == stats.completed == 40
    assert stats.failed == 10
    assert stats.requests == sum(calls.values()) == 40 + 20
    assert stats.retries == 20
    assert stats.rate_limited == 10


async def test_ordered_follows_input_order(router: respx.MockRouter) -> None:
    """ordered=True yields in input order; otherwise in completion order."""

    async def handler(request: httpx.Request) -> httpx.Response:
        rid = _result_id(request)
        # Later inputs yield to the scheduler fewer times, so they finish first.
        for _ in range(50 - int(rid.split("_")[1]) % 50):
            await anyio.lowlevel.checkpoint()
        return page(rid, 1)

    router.get(path__regex=ARTIFACTS.pattern).mock(side_effect=handler)
    ids = [f"res_{i}" for i in range(120)]
    async with client(router) as zof:
        ordered = [
            b.result_id async for b in zof.results.bulk_artifacts(ids, concurrency=10, ordered=True)
        ]
        unordered = [b.result_id async for b in zof.results.bulk_artifacts(ids, concurrency=10)]
    assert ordered == ids
    assert sorted(unordered) == sorted(ids)
    assert unordered != ids


async def test_in_flight_never_exceeds_the_cap_and_adapts_to_429(router: respx.MockRouter) -> None:
    """Never more than `concurrency` requests out; 429s cut the limit at least in half."""
    in_flight = peak = 0
    served = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak, served
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            for _ in range(3):  # let the other workers in while this request is out
                await anyio.lowlevel.checkpoint()
            served += 1
            if 100 <= served < 110:
                return httpx.Response(
                    429,
                    json={"error": {"code": "rate_limited", "message": "x"}},
                    headers={"Retry-After": "0"},
                )
            return page("r", 1)
        finally:
            in_flight -= 1

    router.get(path__regex=ARTIFACTS.pattern).mock(side_effect=handler)
    previous = set_testing(True)
    try:
        async with client(router, max_connections=64) as zof:
            stream = zof.results.bulk_artifacts((f"res_{i}" for i in range(300)), concurrency=16)
            lowest = 16
            async for _ in stream:
                lowest = min(lowest, stream.stats.concurrency)
    finally:
        set_testing(previous)
    assert peak <= 16
    assert lowest <= 8, "a 429 must cut concurrency multiplicatively"
    assert stream.stats.rate_limited == 10
    assert stream.stats.completed == 300
    assert stream.stats.peak_in_flight <= 16


@pytest.mark.parametrize(
    ("status", "error"), [(401, AuthenticationError), (403, PermissionDeniedError)]
)
async def test_auth_failures_stop_everything(
    router: respx.MockRouter, status: int, error: type[Exception]
) -> None:
    """A 401 or 403 on one item raises, cancelling every request still out."""
    waiting = cancelled = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal waiting, cancelled
        rid = _result_id(request)
        if rid == "res_5":
            return httpx.Response(status, json={"error": {"code": "x", "message": "no"}})
        waiting += 1
        try:
            await anyio.sleep_forever()  # answered only by the cancellation
        finally:
            cancelled += 1
        raise AssertionError("never answered")

    router.get(path__regex=ARTIFACTS.pattern).mock(side_effect=handler)
    async with client(router) as zof:
        with pytest.raises(error):
            await _drain(zof.results.bulk_artifacts([f"res_{i}" for i in range(50)], concurrency=8))
        assert zof.stats.in_flight == 0
    assert waiting >= 1
    assert cancelled == waiting


async def test_breaking_out_cancels_in_flight_and_leaves_the_pool_healthy(
    router: respx.MockRouter,
) -> None:
    """Leaving the loop cancels the requests out; the client then works."""
    waiting: set[str] = set()
    five_waiting = anyio.Event()
    all_cancelled = anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        rid = _result_id(request)
        if int(rid.split("_")[1]) < 3:
            return page(rid)
        waiting.add(rid)
        if len(waiting) == 5:
            five_waiting.set()
        try:
            await anyio.sleep_forever()
        finally:
            waiting.discard(rid)
            if not waiting:
                all_cancelled.set()
        raise AssertionError

    router.get(path__regex=ARTIFACTS.pattern).mock(side_effect=handler)
    router.get("/runs/run_1").mock(return_value=httpx.Response(200, json=run_json()))
    async with client(router, max_connections=8) as zof:
        async for _batch in zof.results.bulk_artifacts(
            [f"res_{i}" for i in range(1000)], concurrency=8
        ):
            with anyio.fail_after(1):
                await five_waiting.wait()
            break
        with anyio.fail_after(1):
            await all_cancelled.wait()
        await anyio.lowlevel.checkpoint()
        assert zof.stats.in_flight == 0
        for _ in range(100):
            await zof.runs.get("run_1")


async def test_cancelling_the_caller_cancels_in_flight(router: respx.MockRouter) -> None:
    """The caller cancelled with 10 requests out: every one is cancelled, every slot freed."""
    in_flight = 0
    caller = anyio.CancelScope()

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight
        in_flight += 1
        if in_flight == 10:  # every worker's request is out
            caller.cancel()
        try:
            await anyio.sleep_forever()
        finally:
            in_flight -= 1
        raise AssertionError("never answered")

    router.get(path__regex=ARTIFACTS.pattern).mock(side_effect=handler)
    async with client(router) as zof:
        with caller:
            await _drain(
                zof.results.bulk_artifacts([f"res_{i}" for i in range(100)], concurrency=10)
            )
        assert caller.cancelled_caught
        await anyio.wait_all_tasks_blocked()  # the workers, in the client's task group, end
        assert in_flight == 0
        assert zof.stats.in_flight == 0


async def test_inputs_are_pulled_lazily(router: respx.MockRouter) -> None:
    """An endless input iterator is read only about `concurrency` ahead of the consumer."""
    pulled = 0

    def inputs() -> Iterator[str]:
        nonlocal pulled
        for i in itertools.count():
            pulled += 1
            yield f"res_{i}"

    router.get(path__regex=ARTIFACTS.pattern).mock(side_effect=lambda r: page("r", 1))
    async with client(router) as zof:
        seen = 0
        async for _ in zof.results.bulk_artifacts(inputs(), concurrency=8):
            seen += 1
            if seen == 1000:
                break
    # About `concurrency` in flight plus what the bounded output buffer holds.
    assert 1000 <= pulled <= 1000 + 3 * 8


async def test_map_runs_any_coroutine_function(router: respx.MockRouter) -> None:
    """zof.map over an async iterable: one Outcome per input, in order, errors kept."""
    router.get(url__regex=r"/runs/run_\d+$").mock(
        side_effect=lambda r: httpx.Response(200, json=run_json(r.url.path.rsplit("/", 1)[1]))
    )

    async with client(router) as zof:

        async def status(run_id: str) -> str:
            if run_id == "run_13":
                raise InternalServerError.__new__(InternalServerError)
            return (await zof.runs.get(run_id)).status.value

        async def ids() -> AsyncIterator[str]:
            for i in range(30):
                yield f"run_{i}"

        outcomes = [o async for o in zof.map(status, ids(), concurrency=4, ordered=True)]
    assert [o.input for o in outcomes] == [f"run_{i}" for i in range(30)]
    assert all(isinstance(o, Outcome) for o in outcomes)
    assert [o.ok for o in outcomes].count(False) == 1
    assert outcomes[13].error is not None
    assert outcomes[0].value == "queued"


async def test_a_fan_out_owns_a_task_group_with_async_with(router: respx.MockRouter) -> None:
    """Without any task group: RuntimeError; `async with` the fan-out works."""
    router.get(path__regex=ARTIFACTS.pattern).mock(side_effect=lambda r: page("r", 1))
    zof = client(router)
    try:
        with pytest.raises(RuntimeError, match="task group"):
            await _drain(zof.results.bulk_artifacts(["res_1"]))
        async with zof.results.bulk_artifacts([f"res_{i}" for i in range(20)]) as stream:
            assert len([b async for b in stream]) == 20
    finally:
        await zof.aclose()


async def test_artifact_cursors_that_cycle_fail_that_item(router: respx.MockRouter) -> None:
    """An artifacts listing whose cursors cycle: that item fails with PaginationError."""
    following = {None: "a", "a": "b", "b": "a"}

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        return httpx.Response(
            200,
            json={
                "data": [artifact("res_1", len(cursor or ""))],
                "next_cursor": following[cursor],
                "has_more": True,
            },
        )

    router.get(path__regex=ARTIFACTS.pattern).mock(side_effect=handler)
    async with client(router) as zof:
        with anyio.fail_after(5):
            (batch,) = [b async for b in zof.results.bulk_artifacts(["res_1"])]
    assert isinstance(batch.error, PaginationError)
    assert len(router.calls) == 3


async def test_artifacts_over_several_pages_are_walked_in_order(router: respx.MockRouter) -> None:
    """A first page that hands a cursor on: every further page is fetched with it, in order."""
    following = {None: "p2", "p2": "p3", "p3": None}

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        n = {None: 0, "p2": 1, "p3": 2}[cursor]
        return httpx.Response(
            200,
            json={
                "data": [artifact(ARTIFACTS.search(request.url.path)[1], n)],  # type: ignore[index]
                "next_cursor": following[cursor],
                "has_more": following[cursor] is not None,
            },
        )

    router.get(path__regex=ARTIFACTS.pattern).mock(side_effect=handler)
    async with client(router) as zof:
        batches = [b async for b in zof.results.bulk_artifacts(["res_1", "res_2"], ordered=True)]
    assert [b.result_id for b in batches] == ["res_1", "res_2"]
    for batch in batches:
        assert batch.ok
        assert batch.artifacts is not None
        assert [a.id for a in batch.artifacts] == [f"art_{batch.result_id}_{n}" for n in range(3)]
    for result_id in ("res_1", "res_2"):
        cursors = [
            c.request.url.params.get("cursor")
            for c in router.calls
            if f"/{result_id}/" in c.request.url.path
        ]
        assert cursors == [None, "p2", "p3"]


async def test_a_cursor_repeated_by_the_second_page_fails_that_item(
    router: respx.MockRouter,
) -> None:
    """The first page's cursor handed back again by the next: PaginationError, no third fetch."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"data": [artifact("res_1")], "next_cursor": "same", "has_more": True}
        )

    router.get(path__regex=ARTIFACTS.pattern).mock(side_effect=handler)
    async with client(router) as zof:
        with anyio.fail_after(5):
            (batch,) = [b async for b in zof.results.bulk_artifacts(["res_1"])]
    assert isinstance(batch.error, PaginationError)
    assert batch.artifacts is None
    assert [c.request.url.params.get("cursor") for c in router.calls] == [None, "same"]


async def test_result_objects_are_accepted(busy: Emulator, zof: AsyncZof) -> None:
    """Result objects as inputs: one batch per result, by its id."""
    results: list[Result] = []
    async for result in zof.results.list(page_size=20):
        results.append(result)
        if len(results) == 20:
            break
    batches = [b async for b in zof.results.bulk_artifacts(results, ordered=True)]
    assert [b.result_id for b in batches] == [r.id for r in results]


def _result_id(request: httpx.Request) -> str:
    """The result id in an artifacts listing's path."""
    found = ARTIFACTS.search(request.url.path)
    assert found is not None, request.url.path
    return found[1]


async def _drain(stream: AsyncIterable[object]) -> None:
    async for _ in stream:
        pass
