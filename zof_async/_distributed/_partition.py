"""Partition planning: a listing query split into disjoint slices for parallel readers.

Pure (no I/O, no clock): the same query, part count and bounds always give
the same plan, which an engine (Ray Data, or anything else) hands to its
workers. Each slice is one ordinary listing query:

- time windows `[a, b)` on `created_at`, adjacent, so that with the API's
  half-open filters (`created_after` inclusive, `created_before` exclusive)
  every item of the query is in exactly one window;
- one scope (run id for results, project id for runs) per slice when the
  query names several;
- the query's status filter, unchanged.

A query without `created_before` is live: items keep arriving inside it.
Planning fixes its upper bound (`now=`), so items created during the read
belong to the next read (`created_after=` this plan's `created_before`),
never half to this one.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import attrs

__all__ = ["ListingQuery", "Slice", "plan"]

Kind = Literal["results", "runs"]
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def to_micros(when: datetime) -> int:
    """An aware datetime as whole microseconds since the Unix epoch (exactly)."""
    if when.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return (when - EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


@attrs.frozen(kw_only=True)
class ListingQuery:
    """What to read: the filters of `zof.results.list` or `zof.runs.list`.

    Attributes:
        kind: `"results"` or `"runs"`.
        scopes: Run ids (results) or project ids (runs); `None` for all.
        status: Statuses to keep; `None` for all.
        created_after: Inclusive lower bound; `None` for none.
        created_before: Exclusive upper bound; `None` for a live query.
    """

    kind: Kind
    scopes: tuple[str, ...] | None = None
    status: tuple[str, ...] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    @property
    def scope_name(self) -> str:
        """The listing's filter the scopes go to: `run_id` or `project_id`."""
        return "run_id" if self.kind == "results" else "project_id"


@attrs.frozen(kw_only=True)
class Slice:
    """One disjoint part of a query: a listing of one scope in one time window.

    Attributes:
        resume: A `Pager.checkpoint` of this slice's listing, to continue a
            slice that was partly read.
    """

    kind: Kind
    scope: str | None
    status: tuple[str, ...] | None
    created_after: datetime | None
    created_before: datetime
    resume: str | None = None

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for `zof.results.list` / `zof.runs.list`."""
        return {
            "run_id" if self.kind == "results" else "project_id": self.scope,
            "status": None if self.status is None else list(self.status),
            "created_after": self.created_after,
            "created_before": self.created_before,
            "resume": self.resume,
        }

    def covers(self, *, scope: str, status: str, created_at: datetime) -> bool:
        """Whether an item with these fields belongs to this slice."""
        return (
            (self.scope is None or scope == self.scope)
            and (self.status is None or status in self.status)
            and (self.created_after is None or created_at >= self.created_after)
            and created_at < self.created_before
        )


def plan(
    query: ListingQuery,
    parts: int,
    *,
    now: datetime | None = None,
    oldest: datetime | None = None,
) -> tuple[tuple[Slice, ...], ...]:
    """Split `query` into at most `parts` partitions of disjoint slices.

    Every item the query matches is in exactly one slice of one partition.
    There are fewer partitions than `parts` only when the query cannot be
    split further (a window shorter than `parts` microseconds).

    Args:
        query: The filters to split.
        parts: Partitions wanted (read tasks), at least 1.
        now: The upper bound of a query without `created_before`: the
            server's "now" when the read starts (nothing newer exists yet).
        oldest: Where to start splitting a query without `created_after`
            (no item is older, as far as the caller knows). The first window
            stays open below all the same, so nothing is ever lost.

    Raises:
        ValueError: For `parts` < 1, or a query without `created_before`
            planned without `now` (a live listing has no end to split).
    """
    if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
        raise ValueError(f"parts (parallelism) must be a positive integer, got {parts!r}")
    upper = query.created_before or now
    if upper is None:
        raise ValueError(
            "an unbounded query on a live listing cannot be split: give created_before, "
            "or plan with now= (the instant the read starts) to fix its upper bound"
        )
    scopes: tuple[str | None, ...] = (None,)
    if query.scopes is not None:
        if not query.scopes:
            raise ValueError(f"{query.scope_name} must name at least one id")
        scopes = tuple(dict.fromkeys(query.scopes))  # a repeated id would be read twice
    per_scope = -(-parts // len(scopes))
    start = query.created_after or oldest
    windows = _windows(start, upper, per_scope, open_below=query.created_after is None)
    units = [
        Slice(
            kind=query.kind,
            scope=scope,
            status=query.status,
            created_after=after,
            created_before=before,
        )
        for scope in scopes
        for after, before in windows
    ]
    count = min(parts, len(units))
    return tuple(tuple(units[i::count]) for i in range(count))


def _windows(
    start: datetime | None, upper: datetime, count: int, *, open_below: bool
) -> list[tuple[datetime | None, datetime]]:
    """`count` adjacent windows from `start` to `upper` (fewer if too short)."""
    if start is None or start >= upper:
        return [(None if open_below else start, upper)]
    low, high = to_micros(start), to_micros(upper)
    cuts = sorted({low + (high - low) * i // count for i in range(count)} | {high})
    lows: list[datetime | None] = [from_micros(c) for c in cuts[:-1]]
    if open_below:
        lows[0] = None
    return list(zip(lows, [from_micros(c) for c in cuts[1:]], strict=True))
