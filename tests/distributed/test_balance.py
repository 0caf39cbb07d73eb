"""Balanced planning: partitions split where the rows are, every item still read once."""

from __future__ import annotations

import bisect
import statistics
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from zof_async import AsyncZof
from zof_async._distributed._balance import Count, balanced, drive, sizes
from zof_async._distributed._partition import ListingQuery, Slice, plan
from zof_async._distributed._probe import balanced_plan, bounds
from zof_async.testing import Emulator, ManualClock

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
SCOPES = ["run_a", "run_b", "run_c"]
Item = tuple[str, datetime]


def us(micros: int) -> datetime:
    return T0 + timedelta(microseconds=micros)


@st.composite
def bursty(draw: st.DrawFn) -> list[Item]:
    """Items in a few bursts (dense clusters, some of one instant) over a long quiet range."""
    items: list[Item] = []
    for _ in range(draw(st.integers(0, 5))):
        start = draw(st.integers(0, 10**9))
        width = draw(st.sampled_from([1, 10, 1_000, 10**6]))
        scope = draw(st.sampled_from(SCOPES))
        for _ in range(draw(st.integers(1, 150))):
            items.append((scope, us(start + draw(st.integers(0, width - 1)))))
    return items


class Oracle:
    """Answers probes and counts slices from a list of items, as the API lists them."""

    def __init__(self, items: list[Item]) -> None:
        self.items = items
        self.requests = 0

    def matching(self, s: Slice) -> list[datetime]:
        return sorted(
            (
                at
                for scope, at in self.items
                if s.covers(scope=scope, status="passed", created_at=at)
            ),
            reverse=True,  # newest first, as the listing
        )

    def count(self, cap: int) -> Callable[[Slice], Count]:
        def answer(s: Slice) -> Count:
            self.requests += 1
            page = self.matching(s)[:cap]
            return Count(rows=len(page), oldest=page[-1] if page else None)

        return answer

    def rows(self, s: Slice) -> int:
        return len(self.matching(s))


@settings(max_examples=150, deadline=None)
@given(
    items=bursty(),
    parts=st.integers(1, 8),
    cap=st.sampled_from([2, 7, 64, 10_000]),
    scoped=st.booleans(),
    below=st.booleans(),
)
def test_every_item_is_in_exactly_one_slice_and_the_bound_holds_where_it_can(
    items: list[Item], parts: int, cap: int, scoped: bool, below: bool
) -> None:
    """Bursty data: exact coverage, no duplicate, and max <= 1.5 x mean when counts are exact.

    The bound is asserted where the data allows it: exact counts (a probe page
    larger than the data), and no single instant holding more than half a
    mean partition (an instant is never split).
    """
    query = ListingQuery(
        kind="results",
        scopes=tuple(SCOPES[:2]) if scoped else None,
        created_after=None if below else us(0),
        created_before=us(10**9 + 10**6),
    )
    oracle = Oracle(items)
    partitions = drive(
        balanced(query, parts, oldest=us(0), cap=cap, max_requests=10_000),
        oracle.count(cap),
    )
    slices = [s for p in partitions for s in p]
    wanted = [(scope, at) for scope, at in items if query.scopes is None or scope in query.scopes]
    for scope, at in [*items, ("run_a", us(-1)), ("run_a", us(10**9 + 10**6))]:
        owners = [s for s in slices if s.covers(scope=scope, status="passed", created_at=at)]
        expected = (scope, at) in wanted or (below and at == us(-1))  # open below: kept
        assert len(owners) == expected, (scope, at)
    counted = sizes(partitions, oracle.rows)
    assert sum(counted) == len(wanted)
    per_instant = max([wanted.count(w) for w in set(wanted)], default=0)
    mean = len(wanted) / parts
    if cap > len(items) and per_instant <= mean / 2:
        assert max(counted) <= 1.5 * mean, counted


def burst_items() -> list[Item]:
    """The issue's shape: a little data over two weeks, then 20,000 results in an hour."""
    quiet = [("run_a", us(i * 97 * 10**6)) for i in range(1_000)]  # ~27 hours apart
    burst_start = 1_000 * 97 * 10**6
    burst = [("run_b", us(burst_start + i * 180_000)) for i in range(20_000)]
    return quiet + burst


def test_a_burst_is_split_into_balanced_partitions_within_the_request_budget() -> None:
    """Equal time windows put the burst in one partition; the balanced plan does not."""
    items = burst_items()
    upper = items[-1][1] + timedelta(microseconds=1)
    query = ListingQuery(kind="results", created_after=us(0), created_before=upper)
    oracle = Oracle(items)
    equal = sizes(plan(query, 4), oracle.rows)
    assert max(equal) / statistics.mean(equal) > 3  # nearly all in the last window
    partitions = drive(balanced(query, 4), oracle.count(250))
    got = sizes(partitions, oracle.rows)
    assert sum(got) == len(items)
    assert max(got) / statistics.mean(got) <= 1.5, got
    assert oracle.requests <= 16 * 4 + 64


def test_one_instant_holding_hundreds_of_items_stays_in_one_partition() -> None:
    """500 items at one microsecond are never cut: one partition holds that instant whole."""
    items = [("run_a", us(5_000))] * 500 + [("run_a", us(i * 1_000)) for i in range(100)]
    query = ListingQuery(kind="results", created_after=us(0), created_before=us(100_000))
    oracle = Oracle(items)
    partitions = drive(balanced(query, 4, cap=16), oracle.count(16))
    owners = [p for p in partitions if any(oracle.rows(s) >= 500 for s in p)]
    assert len(owners) == 1
    assert sum(sizes(partitions, oracle.rows)) == 600
    (holder,) = [s for s in owners[0] if oracle.rows(s) >= 500]
    assert holder.created_after is not None and holder.created_before is not None
    assert bisect.bisect_left([holder.created_after, holder.created_before], us(5_000)) == 1


def test_the_planner_modules_import_no_engine() -> None:
    """Planning (the balance, the partition, the probes) loads neither Ray nor Dask."""
    code = (
        "import sys; import zof_async._distributed._probe, zof_async._distributed._balance; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ray', 'dask', 'dlt')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.anyio
async def test_probes_over_http_balance_the_emulator_s_bursty_data() -> None:
    """Default data plus a 3,000-result burst, served: 4 partitions within 1.5 x the mean."""
    emulator = Emulator(clock=ManualClock(T0))
    emulator.add_bulk_run(3_000, run_id="run_burst", artifacts_per_result=0)
    async with emulator.serve() as base_url:
        key = emulator.keys.viewer
        query, oldest = await bounds(ListingQuery(kind="results"), key, base_url)
        partitions = await balanced_plan(query, 4, key=key, base_url=base_url, oldest=oldest)
        async with AsyncZof(api_key=key, base_url=base_url) as zof:
            whole = [r.id async for r in zof.results.list(page_size=1000)]
            parts: list[list[str]] = []
            for p in partitions:
                parts.append([])
                for s in p:
                    parts[-1] += [
                        r.id async for r in zof.results.list(page_size=1000, **s.filters())
                    ]
    counted = [len(p) for p in parts]
    assert sorted(i for p in parts for i in p) == sorted(whole)
    assert max(counted) / statistics.mean(counted) <= 1.5, counted
