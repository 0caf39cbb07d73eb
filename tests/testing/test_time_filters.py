"""Time filters are half-open windows: `created_after` inclusive, `created_before` exclusive."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from zof_async import AsyncZof
from zof_async.testing import Emulator, ManualClock

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
STEP = 300  # bulk_run spreads 12 results over the hour before now: T0, T0+5min, ...


@pytest.fixture
def ticks() -> Emulator:
    """Twelve results five minutes apart, at whole seconds T0, T0+300 s, ... T0+3300 s."""
    emulator = Emulator(data="minimal", clock=ManualClock(T0 + timedelta(hours=1)))
    emulator.add_bulk_run(12, run_id="run_ticks", artifacts_per_result=0)
    return emulator


def stamp(step: int, *, fraction: str = "") -> str:
    """The instant of the `step`-th result (as text), plus a fraction of a second."""
    return (T0 + timedelta(seconds=step * STEP)).strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


async def ids(http: httpx.AsyncClient, path: str, **params: Any) -> list[str]:
    page = (await http.get(path, params={"limit": 1000, **params})).json()
    assert page["next_cursor"] is None
    return [item["id"] for item in page["data"]]


async def test_created_after_is_inclusive_and_created_before_exclusive(ticks: Emulator) -> None:
    """A result at the bound is in created_after and not in created_before."""
    async with ticks.client() as http:
        everything = await ids(http, "/results", run_id="run_ticks")
        assert len(everything) == 12
        at = (await http.get(f"/results/{everything[5]}")).json()["created_at"]
        newer = await ids(http, "/results", created_after=at)
        older = await ids(http, "/results", created_before=at)
        assert everything[5] in newer
        assert everything[5] not in older
        assert sorted(newer + older) == sorted(everything)


@pytest.mark.parametrize("path", ["/results", "/runs"])
async def test_adjacent_windows_split_a_range_exactly(ticks: Emulator, path: str) -> None:
    """Adjacent half-open windows together list a range exactly once."""
    ticks.add_run("proj_abc123", created_at=T0 + timedelta(seconds=6 * STEP))  # a run on a boundary
    bounds = [stamp(-30), stamp(2), stamp(6), stamp(6, fraction=".0000001"), stamp(13)]
    async with ticks.client() as http:
        whole = await ids(http, path, created_after=bounds[0], created_before=bounds[-1])
        parts: list[str] = []
        for after, before in itertools.pairwise(bounds):
            parts += await ids(http, path, created_after=after, created_before=before)
        assert len(parts) == len(set(parts))
        assert sorted(parts) == sorted(whole)
        assert whole


async def test_sub_microsecond_bounds_are_exact(ticks: Emulator) -> None:
    """The result at exactly step 6 is after it, and not after it plus 100 ns."""
    async with ticks.client() as http:
        at_six = await ids(http, "/results", created_after=stamp(6), created_before=stamp(7))
        assert len(at_six) == 1
        after = await ids(http, "/results", created_after=stamp(6, fraction=".0000001"))
        before = await ids(http, "/results", created_before=stamp(6, fraction=".0000001"))
        assert at_six[0] not in after
        assert at_six[0] in before


async def test_offsets_and_any_number_of_fractional_digits(ticks: Emulator) -> None:
    """Offsets and any number of zero fraction digits name the same bound."""
    async with ticks.client() as http:
        utc = await ids(http, "/results", created_after=stamp(6))
        for text in (
            "2026-11-01T02:30:00+02:00",
            "2026-11-01T00:30:00.0Z",
            stamp(6, fraction=".000000000"),
        ):
            assert await ids(http, "/results", created_after=text) == utc


async def test_the_export_uses_the_same_windows(ticks: Emulator) -> None:
    """The export applies the time window exactly as the listing does."""
    async with ticks.client() as http:
        listed = await ids(http, "/results", created_after=stamp(6), created_before=stamp(9))
        exported = await http.post(
            "/results/export",
            json={"format": "json", "created_after": stamp(6), "created_before": stamp(9)},
        )
        assert [row["id"] for row in exported.json()] == listed
        assert len(listed) == 3


async def test_the_sdk_sends_bounds_exactly(ticks: Emulator) -> None:
    """The SDK sends text and datetime bounds to the API without rounding them."""
    async with AsyncZof(api_key=ticks.keys.admin, transport=ticks.transport()) as zof:
        listed = [
            r.id
            async for r in zof.results.list(
                created_after=stamp(6), created_before=stamp(6, fraction=".0000001")
            )
        ]
        assert len(listed) == 1
        aware = [
            r.id async for r in zof.results.list(created_after=T0 + timedelta(seconds=6 * STEP))
        ]
        assert listed[0] in aware and len(aware) == 6


async def test_every_served_created_at_is_the_instant_the_filters_compare() -> None:
    """At float clock times, each item's served created_at is its bound: after includes, before excludes."""
    clock = ManualClock(T0)
    emulator = Emulator(data="minimal", clock=clock)
    for _ in range(40):
        clock.advance(0.8738835)  # float instants whose microseconds round either way
        emulator.add_run("proj_abc123")
    async with emulator.client() as http:
        page = (await http.get("/runs", params={"limit": 1000})).json()
        assert len(page["data"]) == 40
        for run in page["data"]:
            at = run["created_at"]
            assert run["id"] in await ids(http, "/runs", created_after=at), at
            assert run["id"] not in await ids(http, "/runs", created_before=at), at
