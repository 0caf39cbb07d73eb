"""Pagers: exactly once, resume, empty pages, stuck cursors, prefetch, early exit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
import pytest
import respx

from tests.helpers import client, result_json, run_json
from zof_async import AsyncZof, PaginationError, Result, RunStatus
from zof_async.testing import Emulator, RunScript, set_testing

pytestmark = pytest.mark.anyio


async def test_items_newest_first_exactly_once(busy: Emulator, zof: AsyncZof) -> None:
    """Every result of the org, each once, newest first (created_at, then id)."""
    results = [r async for r in zof.results.list(page_size=333)]
    assert all(isinstance(r, Result) for r in results)
    assert len({r.id for r in results}) == len(results) == len(busy.state.store.results) - 50
    keys = [(r.created_at, r.id) for r in results]
    assert keys == sorted(keys, reverse=True)


async def test_filters_and_pages(busy: Emulator, zof: AsyncZof) -> None:
    """Pages are full but the last; project, status and created_after filters hold."""
    pages = [page async for page in zof.runs.list(project_id="proj_abc", page_size=4).pages()]
    assert all(len(p.items) == 4 for p in pages[:-1])
    assert pages[-1].next_cursor is None
    runs = [run for page in pages for run in page.items]
    assert {r.project_id for r in runs} == {"proj_abc"}
    failed = [r async for r in zof.runs.list(status=[RunStatus.FAILED, "error"])]
    assert {r.status for r in failed} <= {RunStatus.FAILED, RunStatus.ERROR}
    middle = runs[len(runs) // 2].created_at
    newer = [r async for r in zof.runs.list(project_id="proj_abc", created_after=middle)]
    assert newer
    assert all(r.created_at >= middle for r in newer)  # created_after is inclusive


async def test_exactly_once_while_results_are_inserted(busy: Emulator, zof: AsyncZof) -> None:
    """Results landing between pages: none read twice, none present at the start missed."""
    before = {r.id async for r in zof.results.list(page_size=1000)}
    busy.script_next_run(RunScript(queue_seconds=0, duration_seconds=40))
    await zof.runs.create(
        project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
    )
    seen: list[str] = []
    async for page in zof.results.list(page_size=40).pages():
        busy.advance(1)  # new results land between pages
        seen.extend(r.id for r in page.items)
    assert len(seen) == len(set(seen))
    assert before <= set(seen)


@pytest.mark.parametrize("prefetch", [0, 1, 3])
async def test_resume_from_a_checkpoint_anywhere_in_a_page(zof: AsyncZof, prefetch: int) -> None:
    """Stopped anywhere in a page, a pager resumed from its checkpoint reads the rest."""
    everything = [r.id async for r in zof.results.list(page_size=50)]
    for stop_after in (1, 49, 50, 51, 137):
        pager = zof.results.list(page_size=50, prefetch=prefetch)
        first: list[str] = []
        async for result in pager:
            first.append(result.id)
            if len(first) == stop_after:
                break
        await pager.aclose()
        resumed = zof.results.list(page_size=50, resume=pager.checkpoint, prefetch=prefetch)
        rest = [r.id async for r in resumed]
        assert first + rest == everything, stop_after
        assert resumed.exhausted
        assert resumed.cursor is None


async def test_resume_by_pages(zof: AsyncZof) -> None:
    """Read by pages, a pager resumes from its checkpoint at a page boundary (offset 0)."""
    everything = [r.id async for r in zof.results.list(page_size=100)]
    pager = zof.results.list(page_size=100)
    first: list[str] = []
    async for page in pager.pages():
        first.extend(r.id for r in page.items)
        if len(first) >= 300:
            break
    assert pager.offset == 0
    rest = [r.id async for r in zof.results.list(page_size=100, resume=pager.checkpoint)]
    assert first + rest == everything


async def test_empty_pages_with_a_cursor_are_not_the_end(router: respx.MockRouter) -> None:
    """Empty pages that carry a next_cursor are followed to the items after them."""
    pages = {
        None: {"data": [], "next_cursor": "c1", "has_more": True},
        "c1": {"data": [], "next_cursor": "c2", "has_more": True},
        "c2": {"data": [result_json("res_1")], "next_cursor": "c3", "has_more": True},
        "c3": {"data": [], "next_cursor": None, "has_more": False},
    }
    router.get("/results").mock(
        side_effect=lambda request: httpx.Response(
            200, json=pages[request.url.params.get("cursor")]
        )
    )
    async with client(router) as zof:
        assert [r.id async for r in zof.results.list()] == ["res_1"]


@pytest.mark.parametrize("prefetch", [0, 2])
async def test_a_cursor_that_does_not_advance_raises(
    router: respx.MockRouter, prefetch: int
) -> None:
    """A cursor that comes back: PaginationError after the three distinct pages."""

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        following = {None: "a", "a": "b", "b": "a"}[cursor]
        return httpx.Response(
            200,
            json={
                "data": [result_json(f"res_{cursor}")],
                "next_cursor": following,
                "has_more": True,
            },
        )

    router.get("/results").mock(side_effect=handler)
    async with client(router) as zof:
        seen: list[str] = []

        async def collect() -> None:
            async for result in zof.results.list(prefetch=prefetch):
                seen.append(result.id)

        with pytest.raises(PaginationError):
            await collect()
        assert seen == ["res_None", "res_a", "res_b"]
        assert len(router.calls) == 3


async def test_retries_mid_listing_reuse_the_cursor(busy: Emulator, zof: AsyncZof) -> None:
    """5xx mid-listing are retried with the same cursor: every result exactly once."""
    previous = set_testing(True)
    try:
        everything = [r.id async for r in zof.results.list(page_size=500)]
        busy.stats.reset()
        busy.faults.fail_next(2, status=503, route="/results")
        pager = zof.results.list(page_size=500)
        seen: list[str] = []
        async for page in pager.pages():
            seen.extend(r.id for r in page.items)
            if len(seen) == 1000:
                busy.faults.fail_next(1, status=502, route="/results")
        assert seen == everything
        cursors = [r for r in busy.stats.log if r.route == "/results"]
        assert len(cursors) == len(everything) // 500 + 1 + 3
    finally:
        set_testing(previous)


async def test_prefetch_overlaps_the_callers_work(router: respx.MockRouter) -> None:
    """Page 2 is requested while the caller is still working on page 1."""
    second_requested = anyio.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        if cursor == "p2":
            second_requested.set()
        following = {None: "p2", "p2": None}[cursor]
        return httpx.Response(
            200,
            json={
                "data": [result_json(f"res_{cursor}")],
                "next_cursor": following,
                "has_more": bool(following),
            },
        )

    router.get("/results").mock(side_effect=handler)
    async with client(router) as zof:
        async for result in zof.results.list(prefetch=1):
            if result.id == "res_None":
                with anyio.fail_after(5):  # virtual on trio; instant either way when it works
                    await second_requested.wait()


async def test_without_prefetch_nothing_is_fetched_ahead(router: respx.MockRouter) -> None:
    """prefetch=0: the next page is requested only when the caller asks."""
    router.get("/results").mock(
        side_effect=lambda r: httpx.Response(
            200,
            json={
                "data": [result_json("r")],
                "next_cursor": "x" + (r.url.params.get("cursor") or ""),
                "has_more": True,
            },
        )
    )
    async with client(router) as zof:
        pager = zof.results.list(prefetch=0)
        await pager.__anext__()
        await anyio.wait_all_tasks_blocked()  # anything fetching ahead would have sent
        assert len(router.calls) == 1
        await pager.__anext__()
        assert len(router.calls) == 2


@pytest.mark.parametrize("prefetch", [1, 3])
async def test_memory_is_bounded_by_prefetch(router: respx.MockRouter, prefetch: int) -> None:
    """A caller that stops reading: exactly `prefetch` pages are fetched ahead."""
    router.get("/results").mock(
        side_effect=lambda r: httpx.Response(
            200,
            json={
                "data": [result_json("r")],
                "next_cursor": "x" + (r.url.params.get("cursor") or ""),
                "has_more": True,
            },
        )
    )
    async with client(router) as zof:
        pager = zof.results.list(prefetch=prefetch)
        await pager.__anext__()  # the caller holds page 1 and stops reading
        await anyio.wait_all_tasks_blocked()  # the prefetch has filled its buffer
        assert len(router.calls) == 1 + prefetch
        await pager.aclose()


async def test_leaving_the_loop_cancels_the_prefetch(router: respx.MockRouter) -> None:
    """`break` cancels the page being prefetched; the client works afterwards."""
    started = anyio.Event()
    cancelled = anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("cursor") == "p2":
            started.set()
            try:
                await anyio.sleep_forever()
            finally:
                cancelled.set()
        return httpx.Response(
            200,
            json={
                "data": [result_json("a"), result_json("b")],
                "next_cursor": "p2",
                "has_more": True,
            },
        )

    router.get("/results").mock(side_effect=handler)
    async with client(router) as zof:
        async for _ in zof.results.list():
            await started.wait()
            break
        with anyio.fail_after(1):
            await cancelled.wait()
        assert zof.stats.in_flight == 0
        # The pool is healthy afterwards.
        router.get("/runs/run_1").mock(return_value=httpx.Response(200, json=run_json()))
        for _ in range(100):
            await zof.runs.get("run_1")


async def test_an_exception_in_the_loop_body_cancels_the_prefetch(router: respx.MockRouter) -> None:
    """An exception raised in the loop body cancels the page being prefetched."""
    started, cancelled = anyio.Event(), anyio.Event()

    router.get("/results").mock(side_effect=stall_on_page_two(started, cancelled))
    async with client(router) as zof:

        async def fail_in_the_loop_body() -> None:
            async for _ in zof.results.list():
                await started.wait()  # page two is being fetched
                raise ZeroDivisionError

        with pytest.raises(ZeroDivisionError):
            await fail_in_the_loop_body()
        with anyio.fail_after(1):
            await cancelled.wait()


async def test_cancelling_the_caller_cancels_the_prefetch(router: respx.MockRouter) -> None:
    """The caller's scope cancelled mid-loop: the page being prefetched is cancelled."""
    started, cancelled = anyio.Event(), anyio.Event()

    router.get("/results").mock(side_effect=stall_on_page_two(started, cancelled))
    async with client(router) as zof:
        with anyio.CancelScope() as caller:
            async for _ in zof.results.list():
                await started.wait()  # page two is being fetched
                caller.cancel()
                await anyio.sleep_forever()
        assert caller.cancelled_caught
        with anyio.fail_after(1):
            await cancelled.wait()


async def test_a_pager_with_its_own_task_group(router: respx.MockRouter) -> None:
    """A client not entered with `async with` still prefetches inside `async with pager`."""
    router.get("/results").mock(
        side_effect=lambda r: httpx.Response(
            200,
            json={
                "data": [result_json("r")],
                "next_cursor": "x" + (r.url.params.get("cursor") or ""),
                "has_more": True,
            },
        )
    )
    zof = client(router)
    try:
        async with zof.results.list(prefetch=2) as pager:
            await pager.__anext__()
            await anyio.wait_all_tasks_blocked()  # the prefetch has filled its buffer
            assert len(router.calls) == 3
        bare = zof.results.list()  # no task group anywhere: by default, fetch on demand
        await bare.__anext__()
        await anyio.wait_all_tasks_blocked()
        assert len(router.calls) == 4
        asked = zof.results.list(prefetch=2)  # asked for, with nowhere to run: as a fan-out
        with pytest.raises(RuntimeError, match="needs a task group"):
            await asked.__anext__()
        assert len(router.calls) == 4
    finally:
        await zof.aclose()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"page_size": 0}, "page_size"),
        ({"page_size": 1001}, "page_size"),
        ({"prefetch": -1}, "prefetch"),
        ({"status": "failed,error"}, "status"),
        ({"status": []}, "status"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"resume": "not a checkpoint"}, "resume"),
        ({"resume": "WyIiLCAwLCBudWxsXQ=="}, "resume"),  # ["", 0, null]: an empty cursor
    ],
)
async def test_invalid_listing_arguments_fail_before_any_request(
    router: respx.MockRouter, kwargs: dict[str, Any], message: str
) -> None:
    """Bad page_size, prefetch, status, created_after or resume: ValueError, nothing sent."""
    async with client(router) as zof:
        with pytest.raises(ValueError, match=message):
            zof.results.list(**kwargs)
    assert not router.calls


@pytest.mark.parametrize("name", ["cursor", "offset"])
async def test_a_listing_resumes_only_from_a_checkpoint(
    router: respx.MockRouter, name: str
) -> None:
    """cursor= and offset= are gone (one way to resume: resume=pager.checkpoint)."""
    options: dict[str, Any] = {name: "x"}
    async with client(router) as zof:
        with pytest.raises(TypeError, match=name):
            zof.results.list(**options)
    assert not router.calls


def stall_on_page_two(
    started: anyio.Event, cancelled: anyio.Event
) -> Callable[[httpx.Request], Awaitable[httpx.Response]]:
    """A /results handler: page one at once; page two never (`started`, then `cancelled`)."""

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("cursor") == "p2":
            started.set()
            try:
                await anyio.sleep_forever()
            finally:
                cancelled.set()
        return httpx.Response(
            200, json={"data": [result_json("a")], "next_cursor": "p2", "has_more": True}
        )

    return handler


async def test_a_closed_pager_is_not_exhausted_and_resumes(zof: AsyncZof) -> None:
    """Regression (found by the state machine): aclose() must not claim the end."""
    everything = [r.id async for r in zof.results.list(page_size=10)]
    pager = zof.results.list(page_size=10)
    first = [(await pager.__anext__()).id for _ in range(3)]
    await pager.aclose()
    assert not pager.exhausted
    with pytest.raises(StopAsyncIteration):
        await pager.__anext__()
    rest = [r.id async for r in zof.results.list(page_size=10, resume=pager.checkpoint)]
    assert first + rest == everything


@pytest.mark.parametrize("read", [1, 7, 8, 9, 30])
async def test_checkpoint_resumes_exactly_while_new_results_push_the_first_page(
    busy: Emulator, zof: AsyncZof, read: int
) -> None:
    """A checkpoint resumes exactly though newer results push the first page."""
    # Regression (found by the state machine): the first page has no cursor, so
    # more than a page of new results must not make a resume re-read or skip.
    before = [r.id async for r in zof.results.list(page_size=8)]
    pager = zof.results.list(page_size=8)
    first = [(await pager.__anext__()).id for _ in range(read)]
    checkpoint = pager.checkpoint
    await pager.aclose()
    busy.script_next_run(RunScript(queue_seconds=0, duration_seconds=1))
    await zof.runs.create(
        project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
    )
    busy.advance(5)  # 25 newer results: three pages' worth above the checkpoint
    resumed = zof.results.list(page_size=8, resume=checkpoint)
    again = resumed.checkpoint  # checkpointing before reading keeps the position
    rest = [r.id async for r in resumed]
    assert first + rest == before
    rest_again = [r.id async for r in zof.results.list(page_size=8, resume=again)]
    assert first + rest_again == before


@pytest.mark.parametrize("page_size", [8, 1000])
async def test_a_checkpoint_after_the_last_item_resumes_to_nothing(
    busy: Emulator, zof: AsyncZof, page_size: int
) -> None:
    """Saving a checkpoint after every item works on the last one; it resumes to nothing."""
    everything = [r.id async for r in zof.results.list(page_size=page_size)]
    pager = zof.results.list(page_size=page_size)
    seen: list[str] = []
    checkpoints: list[str] = []
    async for result in pager:
        seen.append(result.id)
        checkpoints.append(pager.checkpoint)  # the crash-safe loop's pattern
    assert seen == everything and pager.exhausted
    checkpoints.append(pager.checkpoint)
    busy.script_next_run(RunScript(queue_seconds=0, duration_seconds=1))
    await zof.runs.create(
        project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
    )
    busy.advance(5)  # newer results: a finished listing stays finished
    for checkpoint in checkpoints[-2:]:
        done = zof.results.list(page_size=page_size, resume=checkpoint)
        assert [r.id async for r in done] == [] and done.exhausted
        assert [r.id async for r in zof.results.list(resume=done.checkpoint)] == []
    before_last = zof.results.list(page_size=page_size, resume=checkpoints[-3])
    assert [r.id async for r in before_last] == everything[-1:]


async def test_next_page_hands_out_whole_pages_and_moves_the_checkpoint(
    router: respx.MockRouter,
) -> None:
    """next_page() returns each whole page once, None at the end, and moves the cursor."""
    pages = {None: ("a", "p1"), "p1": ("b", None)}
    router.get("/results").mock(
        side_effect=lambda r: httpx.Response(
            200,
            json={
                "data": [result_json(pages[r.url.params.get("cursor")][0])],
                "next_cursor": pages[r.url.params.get("cursor")][1],
                "has_more": pages[r.url.params.get("cursor")][1] is not None,
            },
        )
    )
    async with client(router) as zof:
        pager = zof.results.list(page_size=1)
        first = await pager.next_page()
        assert first is not None and [r.id for r in first.items] == ["a"]
        assert pager.cursor == "p1" and pager.offset == 0
        second = await pager.next_page()
        assert second is not None and [r.id for r in second.items] == ["b"]
        assert await pager.next_page() is None and pager.exhausted
        mid = zof.results.list(page_size=1, prefetch=0)
        await mid.__anext__()  # the first page's only item: the page is finished
        assert (await mid.next_page()) is not None
