"""Pagination edge cases (issue 10, item 8): long cursor cycles, iterating
again after an error, and closing a prefetching pager mid-page."""

from __future__ import annotations

import contextlib
from typing import Any

import anyio
import httpx
import pytest
import respx

from tests.helpers import client, no_leaks, result_json
from zof_async import InternalServerError, PaginationError

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("prefetch", [0, 1, 3])
@pytest.mark.parametrize("cycle", [2, 65, 300])
async def test_a_cursor_cycle_of_any_length_is_caught(
    router: respx.MockRouter, prefetch: int, cycle: int
) -> None:
    """c1 -> c2 -> ... -> c{cycle} -> c1: caught when c1 comes back, nothing read twice."""

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        n = int(cursor[1:]) if cursor else 0
        following = f"c{n % cycle + 1}"
        return httpx.Response(
            200,
            json={"data": [result_json(f"res_{n}")], "next_cursor": following, "has_more": True},
        )

    router.get("/results").mock(side_effect=handler)
    seen: list[str] = []
    async with client(router) as zof:

        async def read_all() -> None:
            async for result in zof.results.list(prefetch=prefetch):
                seen.append(result.id)
                if len(seen) > 2 * cycle + 10:
                    return  # not caught: pytest.raises below fails

        with pytest.raises(PaginationError):
            await read_all()
    assert seen == [f"res_{n}" for n in range(cycle + 1)]
    assert len(set(seen)) == len(seen)


@pytest.mark.parametrize("prefetch", [0, 1, 2])
@pytest.mark.parametrize("by", ["items", "pages"])
async def test_iterating_again_after_a_failed_page_resumes_there(
    router: respx.MockRouter, prefetch: int, by: str
) -> None:
    """Iterating a pager again after a failed page resumes there: all items once."""
    failures = {"p2": 1, "p4": 2}  # p4 fails twice in a row

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        if failures.get(cursor or ""):
            failures[cursor or ""] -= 1
            return httpx.Response(500, json={"error": {"code": "internal", "message": "boom"}})
        n = int(cursor[1:]) if cursor else 0
        following = f"p{n + 1}" if n < 5 else None
        items = [result_json(f"res_{n}_{i}") for i in range(3)]
        return httpx.Response(200, json={"data": items, "next_cursor": following})

    router.get("/results").mock(side_effect=handler)
    everything = [f"res_{n}_{i}" for n in range(6) for i in range(3)]
    seen: list[str] = []
    errors = 0
    with no_leaks():
        async with client(router, max_retries=0) as zof:
            pager = zof.results.list(prefetch=prefetch)
            iterator: Any = pager if by == "items" else pager.pages()
            while True:
                try:
                    async for got in iterator:
                        seen.extend([got.id] if by == "items" else [r.id for r in got.items])
                except InternalServerError:
                    errors += 1
                    assert not pager.exhausted
                    continue  # iterate the same pager again
                break
            assert pager.exhausted
            del pager, iterator
    assert errors == 3
    assert seen == everything


@pytest.mark.parametrize("prefetch", [0, 2])
async def test_a_stuck_listing_keeps_raising(router: respx.MockRouter, prefetch: int) -> None:
    """A cursor stuck on itself raises PaginationError on every later read, never ends quietly."""

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        following = {None: "a", "a": "a"}[cursor]
        return httpx.Response(
            200, json={"data": [result_json(f"res_{cursor}")], "next_cursor": following}
        )

    router.get("/results").mock(side_effect=handler)
    async with client(router) as zof:
        pager = zof.results.list(prefetch=prefetch)
        assert [(await pager.__anext__()).id for _ in range(2)] == ["res_None", "res_a"]
        for _ in range(3):  # never a silent end
            with pytest.raises(PaginationError):
                await pager.__anext__()
        await pager.aclose()


@pytest.mark.parametrize("how", ["pager", "pages", "aclosing pager", "aclosing pages"])
async def test_leaving_a_prefetching_pager_cancels_its_prefetch_at_once(
    router: respx.MockRouter, how: str
) -> None:
    """Closing a prefetching pager (`async with`, `aclosing`) cancels its request at once."""
    # At once: while the caller still holds the pager, without garbage collection.
    started, cancelled = anyio.Event(), anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        if cursor == "p2":
            started.set()
            try:
                await anyio.sleep_forever()
            finally:
                cancelled.set()
        following = {None: "p1", "p1": "p2"}[cursor]
        return httpx.Response(
            200, json={"data": [result_json(f"res_{cursor}")], "next_cursor": following}
        )

    router.get("/results").mock(side_effect=handler)
    with no_leaks():
        async with client(router) as zof:
            pager = zof.results.list(prefetch=2)
            iterable: Any = pager.pages() if how.endswith("pages") else pager
            closing: Any = contextlib.aclosing(iterable) if how.startswith("aclosing") else iterable
            async with closing as opened:
                async for _ in opened:
                    await started.wait()
                    break
            # The caller still holds the pager (used below): no garbage collection helped.
            with anyio.fail_after(1):
                await cancelled.wait()
            assert zof.stats.in_flight == 0
            with pytest.raises(StopAsyncIteration):
                await pager.__anext__()
            assert pager.cursor == "p1"  # where to resume
