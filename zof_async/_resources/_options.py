"""The keyword arguments that methods share, each defined once.

Every method that sends a request takes the `RequestOptions` as keywords;
listings take `ListingOptions` too, and the result filters are one
`ResultFilters` wherever results are filtered. Precedence of settings,
lowest first: the client, `with_options`, then these per-call options.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict

from .._http._raw_response import Capture
from .._http._settings import Call
from .._http._traffic import Meter
from .._http._transport._transports import refuse_credentials
from . import _arguments as arguments

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # pragma: no cover
    from typing_extensions import Unpack

__all__ = ["CallOptions", "ListingOptions", "RequestOptions", "ResultFilters", "Unpack"]


class CallOptions(TypedDict, total=False):
    """Options of one call, over the client's (`with_options`) settings.

    Attributes:
        max_retries: Retries of this call (0: none); for a wait, of each poll.
        extra_headers: Headers added to the SDK's, overriding same-named ones
            (`Authorization` is always the client's key).
        extra_query: Query parameters added to the request's.
    """

    max_retries: int
    extra_headers: Mapping[str, str]
    extra_query: Mapping[str, str]


class RequestOptions(CallOptions, total=False):
    """`CallOptions`, plus the call's time limit.

    Attributes:
        timeout: Seconds the whole call may take across its attempts and
            backoff (`None`: the client's `total_timeout`).
    """

    timeout: float | None


class ListingOptions(RequestOptions, total=False):
    """How a listing is walked; see `Pager`. Per-call options apply to each page.

    Attributes:
        page_size: Items per request (1 to 1000; default 100).
        prefetch: Pages fetched ahead while you work (0: none). By default
            one when the pager has a task group to run in (`async with
            AsyncZof()` or `async with pager`), else none; asking for more
            without one is a `RuntimeError` when iteration starts, as for a
            fan-out.
        resume: Continue exactly after the last item a pager handed out (its
            `checkpoint`), even while new items are being created: the one
            way to resume a listing.
    """

    page_size: int
    prefetch: int | None
    resume: str | None


class ResultFilters(TypedDict, total=False):
    """Which results: every filter given must hold.

    Attributes:
        run_id: Only results of this run.
        status: Only results in this status, or any of these statuses.
        created_after: Only results created at or after this instant.
        created_before: Only results created before this instant.
    """

    run_id: str | None
    status: arguments.Statuses
    created_after: datetime | str | None
    created_before: datetime | str | None


_REQUEST_KEYS = frozenset(RequestOptions.__annotations__)  # CallOptions' keys included


def resolve(
    options: Mapping[str, Any],
    *,
    timeout: float | None = None,
    meter: Meter | None = None,
    capture: Capture | None = None,
) -> Call:
    """Check `options` (a method's `**options`) and turn them into the call's `Call`.

    Raises:
        TypeError: For an option no method takes (a typo), or a wrong type.
        ValueError: For a value that cannot be valid.
    """
    unknown = set(options) - _REQUEST_KEYS
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    limit = arguments.timeout(options.get("timeout", timeout))
    retries = arguments.retries(options.get("max_retries"))
    headers = options.get("extra_headers")
    query = options.get("extra_query")
    for name, given in (("extra_headers", headers), ("extra_query", query)):
        if given is not None and not (
            isinstance(given, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in given.items())
        ):
            raise TypeError(f"{name} must be a mapping of strings to strings")
    if headers:
        refuse_credentials(headers, argument="extra_headers")
    return Call(
        total_timeout=limit,
        max_retries=retries,
        meter=meter,
        capture=capture,
        extra_headers=headers,
        extra_query=query,
    )


def result_filters(filters: ResultFilters) -> dict[str, Any]:
    """The result filters as query parameters, checked."""
    unknown = set(filters) - set(ResultFilters.__annotations__)
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    run_id = filters.get("run_id")
    return {
        "run_id": None if run_id is None else arguments.text("run_id", run_id),
        "status": arguments.statuses(filters.get("status")),
        "created_after": arguments.timestamp("created_after", filters.get("created_after")),
        "created_before": arguments.timestamp("created_before", filters.get("created_before")),
    }
