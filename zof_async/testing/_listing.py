"""Query parameters and the one cursor-paginated listing every endpoint uses."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from ._clock import parse_micros
from ._cursor import CursorCodec, InvalidCursor
from ._index import Index, Key
from ._wire import bad_request

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def single(query: dict[str, list[str]], name: str) -> str | None:
    """The one value of a query parameter; repeating it is a 400."""
    values = query.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise bad_request(f"{name} may be given only once", name)
    return values[0]


def parse_limit(query: dict[str, list[str]]) -> int:
    raw = single(query, "limit")
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise bad_request("limit must be an integer", "limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_request(f"limit must be between 1 and {MAX_LIMIT}", "limit")
    return limit


def parse_statuses(raw: Iterable[str], allowed: Collection[str]) -> frozenset[str] | None:
    """Statuses from repeated or comma-separated values; `None` if none given."""
    statuses = {part.strip() for value in raw for part in value.split(",")}
    if not statuses:
        return None
    unknown = sorted(s for s in statuses if s not in allowed)
    if unknown:
        raise bad_request(f"status must be one or more of: {', '.join(sorted(allowed))}", "status")
    return frozenset(statuses)


def parse_time(raw: str | None, name: str) -> int | None:
    """An RFC 3339 timestamp as epoch microseconds."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise bad_request(f"{name} must be an RFC 3339 timestamp", name)
    try:
        return parse_micros(raw.strip())
    except ValueError:
        raise bad_request(f"{name} must be an RFC 3339 timestamp with an offset", name) from None


def listing_id(*parts: object) -> str:
    """The identity a cursor is bound to: org, endpoint, scope and filters."""
    return "|".join(
        ",".join(sorted(p)) if isinstance(p, frozenset) else "" if p is None else str(p)
        for p in parts
    )


def paginate(
    *,
    index: Index,
    codec: CursorCodec,
    listing: str,
    query: dict[str, list[str]],
    load: Callable[[Key], Any],
    keep: Callable[[Any], bool] | None,
    render: Callable[[Any], dict[str, Any]],
    lower: int | None = None,
    upper: int | None = None,
) -> dict[str, Any]:
    """One page of a listing, newest first.

    A filtered listing scans at most a bounded number of items per page; when
    it stops early it returns what it found (possibly nothing) with a cursor,
    which is why an empty page with a non-null `next_cursor` is not the end.
    """
    limit = parse_limit(query)
    raw_cursor = single(query, "cursor")
    before: Key | None = None
    if raw_cursor:
        try:
            before = codec.decode(listing, raw_cursor)
        except InvalidCursor as exc:
            raise bad_request(str(exc), "cursor") from None
    scan_budget = max(limit * 20, 5_000)
    data: list[dict[str, Any]] = []
    last: Key | None = None
    more = False
    for key in index.newest_first(before=before, lower=lower, upper=upper):
        if len(data) == limit or scan_budget == 0:
            more = True
            break
        scan_budget -= 1
        item = load(key)
        if keep is None or keep(item):
            data.append(render(item))
        last = key
    next_cursor = codec.encode(listing, last) if more and last is not None else None
    return {"data": data, "next_cursor": next_cursor, "has_more": next_cursor is not None}
