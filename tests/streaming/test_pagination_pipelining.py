"""Prefetch pipelining: the next page's request goes out before this page's
models are built, and a page whose models fail is still where it was."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from tests.helpers import client, no_leaks, result_json
from zof_async import APIResponseValidationError, PaginationError

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("by", ["items", "pages"])
async def test_the_next_request_is_sent_before_a_pages_models_are_built(
    router: respx.MockRouter, by: str
) -> None:
    """Prefetching, page 2's request reaches the transport before page 1's bad item is found."""
    requested: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        requested.append(cursor)
        if cursor is None:
            bad = {**result_json("res_0"), "duration_ms": "not a number"}
            return httpx.Response(200, json={"data": [bad], "next_cursor": "p1"})
        return httpx.Response(200, json={"data": [result_json("res_1")], "next_cursor": None})

    router.get("/results").mock(side_effect=handler)
    async with client(router) as zof:
        pager = zof.results.list(prefetch=1)
        take = pager.__anext__ if by == "items" else pager.next_page
        with pytest.raises(APIResponseValidationError):
            await take()
        assert requested == [None, "p1"]
        await pager.aclose()


@pytest.mark.parametrize("prefetch", [0, 1, 2])
@pytest.mark.parametrize("by", ["items", "pages"])
async def test_a_page_with_a_bad_item_is_fetched_again_when_iterating_again(
    router: respx.MockRouter, prefetch: int, by: str
) -> None:
    """A bad item fails its page when it is handed out; iterating again refetches that page."""
    bad_once = {"p2"}

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        n = int(cursor[1:]) if cursor else 0
        items = [result_json(f"res_{n}_{i}") for i in range(3)]
        if cursor in bad_once:
            bad_once.discard(cursor)
            items[1] = {**items[1], "status": 7}
        following = f"p{n + 1}" if n < 4 else None
        return httpx.Response(200, json={"data": items, "next_cursor": following})

    router.get("/results").mock(side_effect=handler)
    everything = [f"res_{n}_{i}" for n in range(5) for i in range(3)]
    seen: list[str] = []
    with no_leaks():
        async with client(router) as zof:
            pager = zof.results.list(prefetch=prefetch)
            iterator: Any = pager if by == "items" else pager.pages()

            async def read(iterator: Any) -> None:
                async for got in iterator:
                    seen.extend([got.id] if by == "items" else [r.id for r in got.items])

            with pytest.raises(APIResponseValidationError):
                await read(iterator)
            assert seen == everything[:6]  # pages 0 and 1, nothing of page 2
            assert pager.cursor == "p2" and pager.offset == 0
            await read(iterator)
            assert pager.exhausted
            del pager, iterator
    assert seen == everything


@pytest.mark.parametrize("prefetch", [0, 1, 2])
async def test_a_refetched_page_is_not_taken_for_a_cursor_cycle(
    router: respx.MockRouter, prefetch: int
) -> None:
    """A page refetched after a bad item keeps the cycle check: a real cycle is still caught."""
    bad_once = {"p1"}

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        item = result_json(f"res_{cursor}")
        if cursor in bad_once:
            bad_once.discard(cursor)
            item["created_at"] = "yesterday"
        following = {None: "p1", "p1": "p2", "p2": "p3", "p3": "p1"}[cursor]
        return httpx.Response(200, json={"data": [item], "next_cursor": following})

    router.get("/results").mock(side_effect=handler)
    seen: list[str] = []
    async with client(router) as zof:
        pager = zof.results.list(prefetch=prefetch)

        async def read() -> None:
            async for result in pager:
                seen.append(result.id)

        with pytest.raises(APIResponseValidationError):
            await read()
        with pytest.raises(PaginationError):
            await read()
        await pager.aclose()
    assert seen == ["res_None", "res_p1", "res_p2", "res_p3"]
