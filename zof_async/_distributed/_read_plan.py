"""A partitioned read's arguments, checked on the driver for every engine (none imported).

`zof_async.ray` and `zof_async.dask` take the same filters and options; this
module checks them, builds the workers' `Settings` (the key inside never
shown) and fixes the query's bounds with `_probe.bounds`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import datetime, timezone

from .._resources import _arguments as arguments
from ._partition import Kind, ListingQuery
from ._probe import bounds, run_outside_any_loop
from ._ray_tasks import Key, Settings

log = logging.getLogger("zof_async.distributed")


def scopes(name: str, value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (arguments.text(name, value),)
    values = tuple(arguments.text(f"{name}[]", v) for v in value)
    if not values:
        raise ValueError(f"{name} must name at least one id")
    return values


def _bound(name: str, value: datetime | str | None) -> datetime | None:
    """A bound as an aware datetime, refusing what a datetime cannot hold exactly."""
    text = arguments.timestamp(name, value)
    if text is None:
        return None
    seconds, _, fraction = text[:-1].partition(".")
    if fraction[6:].strip("0"):
        raise ValueError(f"{name} is finer than a microsecond: a partitioned read cannot split it")
    micros = fraction[:6].ljust(6, "0") if fraction else "000000"
    return datetime.fromisoformat(f"{seconds}.{micros}+00:00")


def _check_counts(parallelism: int | None, block_rows: int, page_size: int) -> None:
    if parallelism is not None and (
        isinstance(parallelism, bool) or not isinstance(parallelism, int) or parallelism < 1
    ):
        raise ValueError(f"parallelism must be a positive integer or None, got {parallelism!r}")
    if isinstance(block_rows, bool) or not isinstance(block_rows, int) or block_rows < 1:
        raise ValueError("block_rows must be a positive integer")
    arguments.page_size(page_size)


def prepare(
    kind: Kind,
    scopes: tuple[str, ...] | None,
    status: arguments.Statuses,
    created_after: datetime | str | None,
    created_before: datetime | str | None,
    parallelism: int | None,
    api_key: str | None,
    base_url: str | None,
    page_size: int,
    block_rows: int,
    max_retries: int | None,
) -> tuple[ListingQuery, Settings, datetime | None]:
    """The query checked and its bounds fixed on the driver, the workers' settings.

    Raises ValueError before any request for a bad argument; with a key on
    the driver, fixes a live query's upper bound and finds its oldest item
    (`_probe.bounds`).
    """
    _check_counts(parallelism, block_rows, page_size)
    listing = ListingQuery(
        kind=kind,
        scopes=scopes,
        status=None if (s := arguments.statuses(status)) is None else tuple(s),
        created_after=_bound("created_after", created_after),
        created_before=_bound("created_before", created_before),
    )
    if listing.created_before is not None and listing.created_before > datetime.now(timezone.utc):
        raise ValueError(
            "created_before is in the future: that window is still filling, so tasks "
            "reading it at different times would disagree; omit created_before to fix "
            "the upper bound when the read starts"
        )
    # The driver's settings travel with the tasks (workers on other machines
    # do not share its environment); without any, each worker uses its own.
    driver_key = api_key or os.environ.get("ZOF_API_KEY") or None
    settings = Settings(
        key=Key(driver_key),
        base_url=base_url or os.environ.get("ZOF_BASE_URL") or None,
        page_size=page_size,
        block_rows=block_rows,
        max_retries=max_retries,
    )
    oldest = None
    if driver_key is not None:
        listing, oldest = run_outside_any_loop(bounds, listing, driver_key, settings.base_url)
    elif listing.created_before is None or listing.created_after is None:
        raise ValueError(
            "without created_before and created_after the read is planned with a "
            "request, which needs a key on the driver: pass api_key= or set ZOF_API_KEY"
        )
    log.info(
        "planned a read of %s in [%s, %s)", kind, listing.created_after, listing.created_before
    )
    return listing, settings, oldest
