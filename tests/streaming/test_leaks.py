"""Nothing the SDK opens is left for the garbage collector: no `ResourceWarning`.

Regressions of issue 10, item 1: an exhausted pager, a pager without a task
group, a failed listing, an unused fan-out and a stream left mid-body each
left an anyio memory stream or an async generator unclosed, which `python
-X dev` or `pytest -W error` reports in the user's own tests.
"""

from __future__ import annotations

import anyio
import httpx
import pytest
import respx

from tests.helpers import client, no_leaks, result_json
from zof_async import AsyncZof, NotFoundError

pytestmark = pytest.mark.anyio

CURSORS: dict[str | None, str | None] = {None: "p1", "p1": "p2", "p2": None}


def three_pages(request: httpx.Request) -> httpx.Response:
    cursor = request.url.params.get("cursor")
    following = CURSORS[cursor]
    return httpx.Response(
        200,
        json={"data": [result_json(f"res_{cursor}")], "next_cursor": following, "has_more": True},
    )


@pytest.mark.parametrize("prefetch", [0, 1, 3])
async def test_a_pager_read_to_the_end_leaves_nothing_open(
    router: respx.MockRouter, prefetch: int
) -> None:
    """A pager read to the end, by items or pages, leaves nothing for the garbage collector."""
    router.get("/results").mock(side_effect=three_pages)
    with no_leaks():
        async with client(router) as zof:
            items = [r.id async for r in zof.results.list(prefetch=prefetch)]
            pages = [p async for p in zof.results.list(prefetch=prefetch).pages()]
    assert items == ["res_None", "res_p1", "res_p2"]
    assert [p.next_cursor for p in pages] == ["p1", "p2", None]


async def test_pagers_without_a_task_group_leave_nothing_open(router: respx.MockRouter) -> None:
    """Pagers of a client without `async with`, bare or in their own block: nothing left open."""
    router.get("/results").mock(side_effect=three_pages)
    with no_leaks():
        zof = client(router)  # no `async with`: pagers fetch on demand by default
        try:
            assert len([r async for r in zof.results.list()]) == 3
            async with zof.results.list(prefetch=2) as pager:  # its own task group
                assert len([r async for r in pager]) == 3
        finally:
            await zof.aclose()


@pytest.mark.parametrize("prefetch", [0, 1, 2])
async def test_a_failed_listing_leaves_nothing_open(
    router: respx.MockRouter, prefetch: int
) -> None:
    """A listing that fails on its second page leaves nothing open."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("cursor") == "p1":
            return httpx.Response(404, json={"error": {"code": "not_found", "message": "gone"}})
        return three_pages(request)

    router.get("/results").mock(side_effect=handler)
    with no_leaks():
        async with client(router) as zof:

            async def read_all() -> None:
                async for _ in zof.results.list(prefetch=prefetch):
                    pass

            with pytest.raises(NotFoundError):
                await read_all()


async def test_an_unused_fan_out_leaves_nothing_open(router: respx.MockRouter) -> None:
    """Fan-outs made and dropped, or entered and never iterated, leave nothing open."""

    async def double(value: int) -> int:
        return 2 * value

    with no_leaks():
        async with client(router) as zof:
            zof.map(double, [1, 2, 3])  # made and dropped
            zof.results.bulk_artifacts(["res_1"])
            async with zof.map(double, [1, 2, 3]):  # entered, never iterated
                pass
            outcomes = [o.value async for o in zof.map(double, [1, 2, 3], ordered=True)]
    assert outcomes == [2, 4, 6]


async def test_a_pager_left_mid_listing_is_closed_with_its_client(
    router: respx.MockRouter,
) -> None:
    """No `aclose()`, and the pager still referenced: the client's exit closes it all."""
    in_flight, cancelled = anyio.Event(), anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("cursor") == "p1":
            in_flight.set()
            try:
                await anyio.sleep_forever()
            finally:
                cancelled.set()
        return three_pages(request)

    router.get("/results").mock(side_effect=handler)
    with no_leaks():

        async def leave_early() -> None:
            async with client(router) as zof:
                pager = zof.results.list(prefetch=2)
                async for _ in pager:
                    await in_flight.wait()
                    break
            assert cancelled.is_set()  # the client's exit cancelled the prefetch
            assert pager.cursor == "p1"  # (kept alive until here)

        await leave_early()


async def test_a_stream_left_mid_body_leaves_nothing_open(router: respx.MockRouter) -> None:
    """A log stream left after three lines frees its slot and leaves nothing open."""
    log = "".join(f"line {n}\n" for n in range(1000))
    router.get("/runs/run_1/logs").mock(return_value=httpx.Response(200, text=log))
    first = []

    async def read_three(zof: AsyncZof) -> None:
        async with zof.runs.logs("run_1") as lines:
            async for line in lines:
                first.append(line)
                if len(first) == 3:
                    break

    with no_leaks():
        async with client(router) as zof:
            await read_three(zof)  # the stream is dropped on return
            assert zof.stats.in_flight == 0
    assert first == ["line 0", "line 1", "line 2"]
