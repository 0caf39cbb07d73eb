"""Planning a partitioned read on the driver, for every engine: bounds fixed, rows probed.

Imports no engine (Ray, Dask, dlt each call it): one `AsyncZof` with the
driver's key fixes the upper bound of a live query, finds its oldest item,
and answers the probes of `_balance.balanced` (one listing request each).
"""

from __future__ import annotations

import concurrent.futures
import functools
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import anyio
import attrs
import sniffio

from .._client import AsyncZof
from ._balance import CAP, Count, Plan, balanced
from ._partition import ListingQuery, Slice, plan, to_micros

T = TypeVar("T")
_PROBE_HOURS = 20  # the oldest item is looked for up to 2**20 hours (120 years) back


def run_outside_any_loop(fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """`anyio.run(fn, *args)`, in a thread of its own if this one runs an event loop.

    Reads are planned from plain code and from notebooks alike (whose
    thread already runs asyncio).
    """
    try:
        sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return anyio.run(fn, *args)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="zof-plan") as pool:
        return pool.submit(anyio.run, fn, *args).result()


def _client(key: str | None, base_url: str | None) -> AsyncZof:
    return AsyncZof(api_key=key, base_url=base_url)


async def bounds(
    listing: ListingQuery, key: str | None, base_url: str | None
) -> tuple[ListingQuery, datetime | None]:
    """Check the key; fix the upper bound of a live query; find the oldest item.

    The upper bound of a live query is just after the newest item that exists
    now: everything older exists already, and anything created later is newer.
    Returns the query with `created_before` set, and where its items start
    (`None` when `created_after` says so already). 2 to 22 requests.
    """
    async with _client(key, base_url) as zof:
        resource = zof.results if listing.kind == "results" else zof.runs
        scope = listing.scopes[0] if listing.scopes and len(listing.scopes) == 1 else None
        filters: dict[str, Any] = {listing.scope_name: scope, "status": listing.status}

        async def first(**window: Any) -> Any:
            async for item in resource.list(page_size=1, prefetch=0, **filters, **window):
                return item
            return None

        newest = await first()  # also checks the key before any task starts
        if listing.created_before is None:
            fixed = listing.created_after or datetime(1970, 1, 1, tzinfo=timezone.utc)
            if newest is not None:
                fixed = max(fixed, newest.created_at + timedelta(microseconds=1))
            listing = attrs.evolve(listing, created_before=fixed)
        if listing.created_after is not None:
            return listing, None
        upper = listing.created_before
        assert upper is not None
        for power in range(_PROBE_HOURS + 1):
            bound = upper - timedelta(hours=2**power)
            if to_micros(bound) <= 0 or await first(created_before=bound) is None:
                return listing, bound
        return listing, None


def plan_read(
    listing: ListingQuery,
    parts: int,
    *,
    key: str | None,
    base_url: str | None,
    oldest: datetime | None,
) -> Plan:
    """The plan of a bounded read: balanced with the driver's key, else equal windows.

    Without a key on the driver nothing can be probed: each worker reads with
    its own, and the plan is `_partition.plan`'s equal time windows.
    """
    if key is None:
        return plan(listing, parts, oldest=oldest)
    return run_outside_any_loop(
        functools.partial(balanced_plan, key=key, base_url=base_url, oldest=oldest),
        listing,
        parts,
    )


async def balanced_plan(
    listing: ListingQuery,
    parts: int,
    *,
    key: str | None,
    base_url: str | None,
    oldest: datetime | None,
    cap: int = CAP,
) -> Plan:
    """`_balance.balanced`'s plan of a bounded `listing`, its probes sent to the API."""
    planning = balanced(listing, parts, oldest=oldest, cap=cap)
    async with _client(key, base_url) as zof:

        async def count(probe: Slice) -> Count:
            resource = zof.results if probe.kind == "results" else zof.runs
            pager = resource.list(page_size=cap, prefetch=0, **probe.filters())
            rows, last = 0, None
            async for item in pager:
                rows, last = rows + 1, item.created_at
                if rows >= cap:
                    break
            await pager.aclose()
            return Count(rows=rows, oldest=last)

        try:
            probes = next(planning)
            while True:
                probes = planning.send([await count(p) for p in probes])
        except StopIteration as stop:
            result: Plan = stop.value
            return result
