"""Balanced planning: partitions of about equal rows, found by probing where the rows are.

Equal time is not equal work: results come in bursts (a regression run
writes thousands in minutes, then nothing for hours), so `_partition.plan`'s
equal windows can put nearly every row in one partition. This planner
splits the time range where the rows are instead. It is pure and imports no
engine: it is a generator that yields the probes it wants answered (each a
`Slice`, to be listed with `page_size=cap`) and is sent back their `Count`s;
`_probe` answers them with an `AsyncZof`, tests with a function over data.

The algorithm, per scope (run id or project id):

1. Cut `[oldest, upper)` into `2 * parts` equal cells (fewer per scope when
   the query names several scopes) and probe each: one listing request of
   at most `cap` items. Fewer than `cap` items is an exact count; `cap`
   items is an estimate, `cap` times the cell's length over the span of
   those newest `cap` items (the density at its top, spread over the cell).
2. While a cell that can be split (longer than one microsecond) holds more
   than a quarter of a mean partition, bisect the largest one by time and
   probe its halves (one probe when the cell's count was exact: the other
   half is the difference). Dense bursts are thus cut finely, empty hours
   not at all.
3. Otherwise, while more than `2 * parts + 12` requests are left, look
   under the estimates: cut the estimated cell with the longest unseen part
   at its oldest seen item and probe the part below (one request), since a
   burst under a quiet top is invisible to the estimate. Then back to 2.
4. Group the cells, in (scope, time) order, into at most `parts` contiguous
   runs with the smallest possible largest run (a binary search over the
   bound with greedy packing). Cells of at most a quarter of the mean give
   partitions of at most 1.25 times the mean where the counts hold.

Cost: at most `max_requests` listing requests of at most `cap` (250) items
each, by default `16 * parts + 64` (128 for 4 partitions; 105 measured on
the emulator's default data plus a burst). Finding a burst of minutes in
months takes ~20 bisections, and a burst under a quiet top is found only by
looking below it. When the budget runs out the cells found so far are
grouped on their estimates, and the balance may miss the bound.

Many items at one instant cannot be split by time: a one-microsecond cell
is never cut, and the partition holding it holds that instant whole (it may
then exceed the bound; nothing else can be done with half-open time windows).

Windows stay half-open, adjacent and disjoint, and cover `[oldest, upper)`
of every scope exactly once (the first one open below when the query has no
`created_after`), so a read of the plan still equals one listing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Generator, Sequence
from datetime import datetime

import attrs

from ._partition import ListingQuery, Slice, from_micros, plan, to_micros

__all__ = ["Count", "balanced", "drive", "sizes"]

Plan = tuple[tuple[Slice, ...], ...]
Planning = Generator[list[Slice], list["Count"], Plan]
CAP = 250


@attrs.frozen(kw_only=True)
class Count:
    """The answer to one probe: a listing of the probe's slice with `page_size=cap`.

    Attributes:
        rows: Items the page held (at most `cap`).
        oldest: `created_at` of the page's last (oldest) item; `None` when empty.
    """

    rows: int
    oldest: datetime | None = None


@attrs.frozen(kw_only=True)
class _Cell:
    scope: str | None
    low: int  # microseconds since the epoch, inclusive
    high: int  # exclusive
    rows: float  # exact when `exact`, else an estimate
    exact: bool
    top: int | None = None  # an estimate's oldest item seen: below it is unseen


def _unseen(cell: _Cell) -> int:
    """The length of an estimated cell below the items its probe saw."""
    return 0 if cell.top is None else cell.top - cell.low


def _bisect(cell: _Cell, at: int, cap: int) -> tuple[tuple[_Cell, bool], tuple[_Cell, bool]]:
    """`cell` cut at `at`: each half, and whether its rows are known without a probe.

    Cut at its top (the oldest item its probe saw), an estimated cell's upper
    half holds the probe's page: about `cap` rows (more when items share the
    instant `at`), no probe needed. Of an exact cell, the upper half is the
    difference.
    """
    left = attrs.evolve(cell, high=at, top=None)
    right = attrs.evolve(cell, low=at, top=None)
    if cell.top == at:
        return (left, False), (attrs.evolve(right, rows=cap, exact=True), True)
    return (left, False), (right, cell.exact)


def balanced(
    query: ListingQuery,
    parts: int,
    *,
    now: datetime | None = None,
    oldest: datetime | None = None,
    cap: int = CAP,
    max_requests: int | None = None,
) -> Planning:
    """Plan `query` into at most `parts` partitions of about equal rows (see the module).

    Args:
        query: The filters to split.
        parts: Partitions wanted, at least 1.
        now: The upper bound of a query without `created_before`.
        oldest: Where a query without `created_after` starts (nothing older).
        cap: Items per probe (its `page_size`), at least 2.
        max_requests: Probes at most; default `16 * parts + 64`.

    Returns:
        A generator: it yields probes, is sent their counts, returns the plan.

    Raises:
        ValueError: As `_partition.plan`, or for a `cap` below 2.
    """
    fallback = plan(query, parts, now=now, oldest=oldest)  # checks the arguments
    if cap < 2:
        raise ValueError("cap must be at least 2")
    upper = query.created_before or now
    start = query.created_after or oldest
    if upper is None or start is None or start >= upper or parts == 1:
        return fallback
    budget = 16 * parts + 64 if max_requests is None else max_requests
    scopes = tuple({s.scope: None for p in fallback for s in p})
    per_scope = max(1, -(-2 * parts // len(scopes)))
    low, high = to_micros(start), to_micros(upper)
    cells = [
        _Cell(scope=scope, low=a, high=b, rows=0, exact=True)
        for scope in scopes
        for a, b in _cuts(low, high, per_scope)
    ]
    counts = yield [_probe(query, c) for c in cells]
    budget -= len(cells)
    reserve = 2 * parts + 12  # kept for cutting the bursts that looking finds
    cells = [_counted(c, n, cap) for c, n in zip(cells, counts, strict=True)]
    while budget > 0:
        chosen = _next_split(cells, parts, cap, look=budget > reserve)
        if chosen is None:
            break
        i, halves = chosen
        asked = [c for c, known in halves if not known]
        if len(asked) > budget:
            break
        answers = iter((yield [_probe(query, c) for c in asked]))
        budget -= len(asked)
        left, right = (c if known else _counted(c, next(answers), cap) for c, known in halves)
        if cells[i].exact:  # the other half is the difference
            right = attrs.evolve(right, rows=cells[i].rows - left.rows, exact=True, top=None)
        cells[i : i + 1] = [left, right]
    return _group(query, cells, parts) or fallback


def _next_split(
    cells: list[_Cell], parts: int, cap: int, *, look: bool
) -> tuple[int, tuple[tuple[_Cell, bool], tuple[_Cell, bool]]] | None:
    """The cell to cut next and its halves (steps 2 and 3 of the module), or `None`."""
    target = sum(c.rows for c in cells) / parts
    big = [i for i, c in enumerate(cells) if c.high - c.low > 1 and c.rows > target / 4]
    if big:
        i = max(big, key=lambda j: cells[j].rows)
        return i, _bisect(cells[i], cells[i].low + (cells[i].high - cells[i].low) // 2, cap)
    # Then the estimates: a burst below a cell's quiet top is found only by looking.
    hidden = [i for i, c in enumerate(cells) if c.top is not None and c.top > c.low]
    if hidden and look:
        i = max(hidden, key=lambda j: _unseen(cells[j]))
        return i, _bisect(cells[i], _unseen(cells[i]) + cells[i].low, cap)
    return None


def _cuts(low: int, high: int, count: int) -> list[tuple[int, int]]:
    points = sorted({low + (high - low) * i // count for i in range(count)} | {high})
    return list(itertools.pairwise(points))


def _probe(query: ListingQuery, cell: _Cell) -> Slice:
    return Slice(
        kind=query.kind,
        scope=cell.scope,
        status=query.status,
        created_after=from_micros(cell.low),
        created_before=from_micros(cell.high),
    )


def _counted(cell: _Cell, count: Count, cap: int) -> _Cell:
    """`cell` with its rows: exact below `cap`, else the density at its top, spread."""
    if count.rows < cap or count.oldest is None:
        return attrs.evolve(cell, rows=count.rows, exact=True, top=None)
    top = to_micros(count.oldest)
    span = max(1, cell.high - top)
    estimate = max(float(count.rows), count.rows * (cell.high - cell.low) / span)
    return attrs.evolve(cell, rows=estimate, exact=False, top=top)


def _group(query: ListingQuery, cells: list[_Cell], parts: int) -> Plan:
    """Cells in order, in at most `parts` contiguous runs of the smallest largest sum."""
    weights = [c.rows for c in cells]
    if not sum(weights):
        return ()
    lo, hi = max(weights), sum(weights)
    for _ in range(60):  # binary search on the bound; greedy packing is exact for runs
        mid = (lo + hi) / 2
        if len(_pack(weights, mid)) <= parts:
            hi = mid
        else:
            lo = mid
    runs = _pack(weights, hi)
    open_below = query.created_after is None
    first = {c.scope: c.low for c in reversed(cells)}
    return tuple(
        tuple(
            Slice(
                kind=query.kind,
                scope=scope,
                status=query.status,
                created_after=None if open_below and a == first[scope] else from_micros(a),
                created_before=from_micros(b),
            )
            for scope, a, b in _merged([cells[i] for i in run])
        )
        for run in runs
    )


def _pack(weights: Sequence[float], bound: float) -> list[list[int]]:
    runs: list[list[int]] = [[]]
    total = 0.0
    for i, w in enumerate(weights):
        if runs[-1] and total + w > bound:
            runs.append([])
            total = 0.0
        runs[-1].append(i)
        total += w
    return runs


def _merged(cells: list[_Cell]) -> list[tuple[str | None, int, int]]:
    """Adjacent cells of one scope as one window."""
    windows: list[tuple[str | None, int, int]] = []
    for c in cells:
        if windows and windows[-1][0] == c.scope and windows[-1][2] == c.low:
            windows[-1] = (c.scope, windows[-1][1], c.high)
        else:
            windows.append((c.scope, c.low, c.high))
    return windows


def drive(planning: Planning, count: Callable[[Slice], Count]) -> Plan:
    """Run a `balanced` planning, answering its probes with `count` (synchronously)."""
    try:
        probes = next(planning)
        while True:
            probes = planning.send([count(p) for p in probes])
    except StopIteration as stop:
        result: Plan = stop.value
        return result


def sizes(partitions: Plan, rows: Callable[[Slice], int]) -> list[int]:
    """Rows per partition, given the rows of each slice."""
    return [sum(rows(s) for s in p) for p in partitions]
