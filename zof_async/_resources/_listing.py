"""Listings: a `Pager` over `GET path`, and one page fetched at a cursor."""

from __future__ import annotations

from typing import TypeVar

from .._converter import RawPage, parse_page
from .._http._pipeline import Pipeline
from .._http._raw_response import Capture
from .._http._requests import Params
from .._http._settings import Call
from .._streaming._background import Background
from .._streaming._checkpoint import Checkpoint
from .._streaming._page_walk import Fetch
from .._streaming._pagination import Pager
from . import _arguments as arguments
from ._options import ListingOptions, resolve

T = TypeVar("T")

_WALK_KEYS = ("page_size", "prefetch", "resume")


def listing(
    pipeline: Pipeline,
    background: Background,
    path: str,
    model: type[T],
    *,
    params: Params,
    options: ListingOptions,
    capture: Capture | None = None,
) -> Pager[T]:
    """A pager over `GET path` with `params`, walked as `options` say.

    Each page's answer is recorded on `capture` (a `with_raw_response` twin's).

    Raises:
        TypeError, ValueError: Before any request, for options that cannot be valid.
    """
    walk = {key: options[key] for key in _WALK_KEYS if key in options}  # type: ignore[literal-required]
    per_call = {key: value for key, value in options.items() if key not in _WALK_KEYS}
    call = resolve(per_call, capture=capture)
    limit = arguments.page_size(walk.get("page_size", 100))
    resume = walk.get("resume")
    if resume is not None and not isinstance(resume, str):
        raise TypeError("resume must be a Pager.checkpoint (a str)")
    return Pager(
        page_fetcher(pipeline, path, model, params=params, limit=limit, options=call),
        background=background,
        prefetch=walk.get("prefetch"),
        resume=None if resume is None else Checkpoint.decode(resume),
        model=model,
    )


def page_fetcher(
    pipeline: Pipeline,
    path: str,
    model: type[T],
    *,
    params: Params,
    limit: int,
    options: Call,
) -> Fetch[T]:
    """Fetches one page of `GET path` (with `params`) at a cursor; `decode()` makes the models."""

    async def fetch(cursor: str | None) -> RawPage[T]:
        request = pipeline.build(
            "GET",
            path,
            params={**params, "limit": limit, "cursor": cursor},
            call=options,
        )
        return parse_page(await pipeline.send(request, options), model, pipeline.redactor)

    return fetch
