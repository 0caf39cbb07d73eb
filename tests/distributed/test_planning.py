"""Partition planning: disjoint slices whose union is exactly the query."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given, settings, strategies as st

from zof_async import AsyncZof
from zof_async._distributed._partition import ListingQuery, Slice, plan
from zof_async.testing import Emulator, ManualClock

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
SCOPES = ["run_a", "run_b", "run_c", "run_d"]
STATUSES = ["passed", "failed", "error", "skipped"]

instants = st.integers(min_value=-50, max_value=1_050).map(
    lambda us: T0 + timedelta(microseconds=us)
)
queries = st.builds(
    ListingQuery,
    kind=st.sampled_from(["results", "runs"]),
    scopes=st.none() | st.lists(st.sampled_from(SCOPES), min_size=1, max_size=6).map(tuple),
    status=st.none() | st.lists(st.sampled_from(STATUSES), min_size=1, max_size=3).map(tuple),
    created_after=st.none() | instants,
    created_before=st.none() | instants,
)
items = st.lists(
    st.tuples(st.sampled_from([*SCOPES, "run_z"]), st.sampled_from(STATUSES), instants),
    max_size=60,
)


def matches(query: ListingQuery, upper: datetime, scope: str, status: str, at: datetime) -> bool:
    return (
        (query.scopes is None or scope in query.scopes)
        and (query.status is None or status in query.status)
        and (query.created_after is None or at >= query.created_after)
        and at < upper
    )


@settings(max_examples=300, deadline=None)
@given(
    query=queries,
    parts=st.integers(min_value=1, max_value=40),
    now=instants,
    oldest=st.none() | instants,
    points=items,
)
def test_every_item_of_the_query_is_in_exactly_one_slice(
    query: ListingQuery,
    parts: int,
    now: datetime,
    oldest: datetime | None,
    points: list[tuple[str, str, datetime]],
) -> None:
    """Every item the query matches is covered by exactly one slice, and no other item by any."""
    partitions = plan(query, parts, now=now, oldest=oldest)
    slices = [s for partition in partitions for s in partition]
    assert 1 <= len(partitions) <= parts
    assert all(partition for partition in partitions)
    upper = query.created_before or now
    assert all(s.created_before <= upper for s in slices)
    # The instants around every bound are the interesting ones.
    bounds = {s.created_before for s in slices} | {s.created_after for s in slices} - {None}
    probes = [(scope, status, at) for scope, status, at in points]
    probes += [
        (scope, "passed", b + timedelta(microseconds=d))
        for b in bounds
        if b is not None
        for d in (-1, 0, 1)
        for scope in (query.scopes or ("run_a",))[:2]
    ]
    for scope, status, at in probes:
        owners = [s for s in slices if s.covers(scope=scope, status=status, created_at=at)]
        assert len(owners) == int(matches(query, upper, scope, status, at)), (scope, status, at)


@settings(max_examples=100, deadline=None)
@given(query=queries, parts=st.integers(min_value=1, max_value=40), now=instants)
def test_a_plan_is_a_pure_function_of_its_inputs(
    query: ListingQuery, parts: int, now: datetime
) -> None:
    """Planning the same query twice gives the same plan."""
    assert plan(query, parts, now=now) == plan(query, parts, now=now)


def test_a_long_enough_window_gives_as_many_partitions_as_asked() -> None:
    """A 30-day window splits into the asked 8 partitions of adjacent windows."""
    query = ListingQuery(kind="results", created_after=T0, created_before=T0 + timedelta(days=30))
    partitions = plan(query, 8)
    assert len(partitions) == 8
    windows = sorted((s.created_after, s.created_before) for p in partitions for s in p)
    assert windows[0][0] == T0 and windows[-1][1] == T0 + timedelta(days=30)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))


def test_runs_spread_over_partitions_and_a_repeated_run_is_read_once() -> None:
    """run_id scopes spread over partitions, a repeated id once, the oldest window left open."""
    query = ListingQuery(
        kind="results", scopes=("run_a", "run_b", "run_a"), created_before=T0 + timedelta(days=1)
    )
    partitions = plan(query, 4, oldest=T0)
    slices = [s for p in partitions for s in p]
    assert len(partitions) == 4
    assert {s.scope for s in slices} == {"run_a", "run_b"}
    assert all(s.filters()["run_id"] == s.scope for s in slices)
    # Without created_after, the oldest window stays open below: nothing is lost.
    assert sum(s.created_after is None for s in slices) == 2


def test_without_a_lower_bound_or_hint_the_window_is_not_split() -> None:
    """Without created_after or an oldest hint, the plan is one unsplit slice."""
    query = ListingQuery(kind="runs", created_before=T0)
    assert plan(query, 8) == (
        (Slice(kind="runs", scope=None, status=None, created_after=None, created_before=T0),),
    )


@pytest.mark.parametrize("parts", [0, -1, True, 1.5, "4"])
def test_parts_must_be_a_positive_integer(parts: object) -> None:
    """A zero, negative, bool, float or text part count is a ValueError."""
    with pytest.raises(ValueError, match="positive integer"):
        plan(ListingQuery(kind="results", created_before=T0), parts)  # type: ignore[arg-type]


def test_a_live_query_needs_an_upper_bound() -> None:
    """A query without created_before on a live listing is refused."""
    with pytest.raises(ValueError, match="unbounded query on a live listing"):
        plan(ListingQuery(kind="results", created_after=T0), 4)


def test_an_empty_scope_list_is_an_error() -> None:
    """An empty run_id list is refused rather than read as no filter."""
    with pytest.raises(ValueError, match="run_id must name at least one id"):
        plan(ListingQuery(kind="results", scopes=(), created_before=T0), 4)


@pytest.mark.anyio
async def test_slices_read_the_whole_listing_and_resume_from_a_checkpoint() -> None:
    """Slices read part-way then resumed from their checkpoints list every result once."""
    emulator = Emulator(data="minimal", clock=ManualClock(T0 + timedelta(hours=1)))
    emulator.add_bulk_run(600, run_id="run_plan", artifacts_per_result=0)
    query = ListingQuery(kind="results", created_after=T0, created_before=T0 + timedelta(hours=1))
    async with AsyncZof(api_key=emulator.keys.viewer, transport=emulator.transport()) as zof:
        whole = [r.id async for r in zof.results.list(page_size=1000)]
        read: list[str] = []
        for partition in plan(query, 5):
            for part in partition:
                pager = zof.results.list(page_size=7, **part.filters())
                async for result in pager:  # stop part-way, then resume
                    read.append(result.id)
                    if len(read) % 50 == 0:
                        break
                if not pager.exhausted:
                    rest = attrs.evolve(part, resume=pager.checkpoint)
                    read += [r.id async for r in zof.results.list(page_size=7, **rest.filters())]
    assert len(whole) == 600
    assert sorted(read) == sorted(whole)
