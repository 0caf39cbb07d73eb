"""Leaving `async for` over a pager that is kept (issue 21, item 7).

The resume recipe keeps the pager in a variable (`pager = zof.results.list(...)`,
`async for r in pager: break`, then `pager.checkpoint`), so leaving the loop
cannot wait for the pager to be garbage-collected: once the loop is left, no
new page request may start, and iterating the same pager again resumes.
"""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest
import respx

from tests.helpers import client, no_leaks, result_json, settle_until

pytestmark = pytest.mark.anyio

PAGES = 12
EVERYTHING = [f"res_{n}_{i}" for n in range(PAGES) for i in range(2)]


def listing(requested: list[str | None], gate: anyio.Event | None = None) -> Any:
    """A respx side effect: `PAGES` pages of two results; records each request's cursor.

    With `gate`, the requests from the third page on wait for it to be set.
    """

    async def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        requested.append(cursor)
        n = int(cursor[1:]) if cursor else 0
        if gate is not None and n >= 2:
            await gate.wait()
        following = f"p{n + 1}" if n + 1 < PAGES else None
        items = [result_json(f"res_{n}_{i}") for i in range(2)]
        return httpx.Response(200, json={"data": items, "next_cursor": following})

    return handler


async def leave(iterable: Any, how: str) -> list[Any]:
    """Iterate `iterable`, leaving the loop after the first element as `how` says."""
    got: list[Any] = []
    if how == "break":
        async for element in iterable:
            got.append(element)
            break
    elif how == "exception":

        async def fail_in_the_loop_body() -> None:
            async for element in iterable:
                got.append(element)
                raise ZeroDivisionError

        with pytest.raises(ZeroDivisionError):
            await fail_in_the_loop_body()
    else:
        with anyio.CancelScope() as caller:
            async for element in iterable:
                got.append(element)
                caller.cancel()
                await anyio.sleep_forever()
        assert caller.cancelled_caught
    return got


def ids(elements: list[Any], by: str) -> list[str]:
    return [e.id for e in elements] if by == "items" else [r.id for p in elements for r in p.items]


@pytest.mark.parametrize("by", ["items", "pages"])
@pytest.mark.parametrize("how", ["break", "exception", "cancel"])
async def test_no_page_request_starts_after_the_loop_is_left(
    router: respx.MockRouter, by: str, how: str
) -> None:
    """The pager kept, prefetch=3: leaving the loop stops the prefetch; the pager resumes."""
    requested: list[str | None] = []
    gate = anyio.Event()  # holds the third page's request in flight as the loop is left
    router.get("/results").mock(side_effect=listing(requested, gate))
    with no_leaks():
        async with client(router) as zof:
            pager = zof.results.list(prefetch=3)
            iterable: Any = pager if by == "items" else pager.pages()
            first = await leave(iterable, how)
            await anyio.wait_all_tasks_blocked()
            at_exit = list(requested)
            assert len(at_exit) <= 3  # the prefetch had not filled its buffer: p2 is held
            gate.set()  # a page in flight may finish ...
            await anyio.wait_all_tasks_blocked()  # ... but a running prefetch would go on
            assert requested == at_exit
            assert zof.stats.in_flight == 0
            checkpoint = pager.checkpoint
            # The same pager resumes with exactly the next element, prefetching again.
            rest = [e async for e in (pager if by == "items" else pager.pages())]
            assert ids(first, by) + ids(rest, by) == EVERYTHING
            resumed = [r.id async for r in zof.results.list(resume=checkpoint, prefetch=0)]
            assert ids(first, by) + resumed == EVERYTHING
            del pager, iterable


async def test_cancelled_while_waiting_for_a_page_starts_no_new_request(
    router: respx.MockRouter,
) -> None:
    """A caller cancelled inside `__anext__` (waiting for a page) also stops the prefetch."""
    requested: list[str | None] = []
    gate = anyio.Event()
    router.get("/results").mock(side_effect=listing(requested, gate))
    async with client(router) as zof, anyio.create_task_group() as group:
        pager = zof.results.list(prefetch=3)
        seen: list[str] = []
        with anyio.CancelScope() as caller:

            async def cancel_once_waiting() -> None:
                await settle_until(lambda: len(seen) == 4)  # pages 0 and 1 handed out
                await anyio.wait_all_tasks_blocked()  # the pager waits for page 2
                caller.cancel()

            group.start_soon(cancel_once_waiting)
            async for result in pager:
                seen.append(result.id)
        assert caller.cancelled_caught
        assert requested == [None, "p1", "p2"]
        gate.set()
        await anyio.wait_all_tasks_blocked()
        assert requested == [None, "p1", "p2"]
        rest = [r.id async for r in pager]
        assert seen + rest == EVERYTHING


async def test_leaving_one_loop_of_two_keeps_the_other_going(router: respx.MockRouter) -> None:
    """Only the loop last begun stops the prefetch when left; an older one still works."""
    requested: list[str | None] = []
    router.get("/results").mock(side_effect=listing(requested))
    async with client(router) as zof:
        pager = zof.results.list(prefetch=2)
        outer = aiter(pager)
        seen = [(await anext(outer)).id]
        async for result in pager:  # a second loop over the same pager
            seen.append(result.id)
            break
        seen += [r.id async for r in outer]
        assert seen == EVERYTHING
