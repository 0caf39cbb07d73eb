"""`with_raw_response`: any method's value together with its answers' metadata.

One mechanism for every shape of method: the twin runs the ordinary method
on a copy of its resource whose calls name a fresh `Capture`
(`_http._raw_response`), which the pipeline fills in as each call succeeds.
A copy per invocation, so concurrent calls never share one. By shape:

- `raw`: a coroutine (`get`, `download`...) returns `RawResponse[T]`, the
  metadata of its last successful call (for a wait, its last poll);
- `raw_stream`: a stream (`logs`, `export`, `open`) gives, on entering its
  block, `RawResponse[stream]`: its answer's metadata, the body unread;
- `raw_pages`: a listing yields one `RawResponse[Page]` per page, each
  page's own answer (pages are fetched one at a time for that);
- `raw_items`: an iterator of one or more answers (`watch`, `export_rows`)
  yields `RawResponse[item]`, with the answer each item came from;
- `raw_fan_out`: a fan-out hands out an `Outcome` per input whose value is
  `RawResponse[value]`, that input's own answer (each item's calls name a
  capture of their own; see `Resource._fan_out`).

Each resource lists its twins (a test walks the public API for one missing).
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, cast

from .._http._raw_response import Capture, RawResponse
from .._models import Page
from .._streaming._fanout import FanOut, Outcome
from .._streaming._pagination import Pager
from .._streaming._streams import ByteStream, LineStream

if TYPE_CHECKING:
    from ._resource import Resource

__all__ = ["RawOpening", "RawPages", "raw", "raw_fan_out", "raw_items", "raw_pages", "raw_stream"]

P = ParamSpec("P")
T = TypeVar("T")
I = TypeVar("I")  # noqa: E741
R = TypeVar("R")
O = TypeVar("O")  # noqa: E741
S = TypeVar("S", bound="ByteStream | LineStream")


def _recording(method: Callable[..., Any]) -> tuple[Callable[..., Any], Capture]:
    """`method` bound to a copy of its resource whose calls are recorded on a fresh capture."""
    resource: Resource = method.__self__  # type: ignore[attr-defined]
    holder = Capture()
    recording = copy.copy(resource)
    recording._capture = holder
    return getattr(recording, method.__name__), holder


def _twin(method: Callable[..., Any], twin: Callable[..., Any], returns: str) -> None:
    """Give `twin` the name, docs and parameters of `method`, and its own return."""
    functools.update_wrapper(twin, method)
    signature = inspect.signature(method)
    result = signature.return_annotation
    returned = getattr(result, "__name__", result)
    twin.__signature__ = signature.replace(  # type: ignore[attr-defined]
        return_annotation=returns.format(returned)
    )


def raw(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[RawResponse[T]]]:
    """`method`, returning its value with the metadata of the answer it came from.

    For a method that sends more than one request, the metadata is that of
    the last call that succeeded.
    """

    async def with_metadata(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        bound, holder = _recording(method)
        value: T = await bound(*args, **kwargs)
        return holder.result(value)

    _twin(method, with_metadata, "RawResponse[{}]")
    return with_metadata


class RawOpening(Generic[S]):
    """`async with`: opens a stream; the block gets `RawResponse[stream]`, the body unread."""

    def __init__(self, stream: S, holder: Capture) -> None:
        self._stream = stream
        self._holder = holder

    async def __aenter__(self) -> RawResponse[S]:
        await self._stream.__aenter__()
        return self._holder.result(self._stream)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stream.aclose()


def raw_stream(method: Callable[P, S]) -> Callable[P, RawOpening[S]]:
    """`method` (returning a stream), giving its answer's metadata as its block opens."""

    def with_metadata(*args: P.args, **kwargs: P.kwargs) -> RawOpening[S]:
        bound, holder = _recording(method)
        return RawOpening(bound(*args, **kwargs), holder)

    _twin(method, with_metadata, "RawOpening[{}]")
    return with_metadata


class RawPages(Generic[T]):
    """A listing's pages, each as `RawResponse[Page]` with its own answer's metadata.

    Pages are fetched one at a time, as each is asked for (no prefetch), so
    that each page's metadata is its own. `aclose()` (or `async with`) ends it.
    """

    def __init__(self, pager: Pager[T], holder: Capture) -> None:
        self._pager = pager
        self._holder = holder

    def __aiter__(self) -> RawPages[T]:
        return self

    async def __anext__(self) -> RawResponse[Page[T]]:
        page = await self._pager.next_page()
        if page is None:
            raise StopAsyncIteration
        return self._holder.result(page)

    async def aclose(self) -> None:
        """Hand out nothing more."""
        await self._pager.aclose()

    async def __aenter__(self) -> RawPages[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def raw_pages(method: Callable[P, Pager[T]]) -> Callable[P, RawPages[T]]:
    """`method` (a listing), yielding each page with its answer's metadata."""

    def with_metadata(*args: P.args, **kwargs: P.kwargs) -> RawPages[T]:
        bound, holder = _recording(method)
        return RawPages(bound(*args, **{**kwargs, "prefetch": 0}), holder)

    _twin(method, with_metadata, "RawPages[{}]")
    return with_metadata


def raw_items(method: Callable[P, AsyncIterator[T]]) -> Callable[P, AsyncIterator[RawResponse[T]]]:
    """`method` (an iterator), yielding each item with the answer it came from."""

    async def with_metadata(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[RawResponse[T]]:
        bound, holder = _recording(method)
        items: AsyncIterator[T] = bound(*args, **kwargs)
        try:
            async for item in items:
                yield holder.result(item)
        finally:
            close = getattr(items, "aclose", None)
            if close is not None:
                await close()

    _twin(method, with_metadata, "AsyncIterator[RawResponse[{}]]")
    return with_metadata


def raw_fan_out(
    method: Callable[P, FanOut[I, R, O]],
) -> Callable[P, FanOut[I, RawResponse[R], Outcome[I, RawResponse[R]]]]:
    """`method` (a fan-out), each input's outcome an `Outcome` of its own answer's metadata."""

    def with_metadata(
        *args: P.args, **kwargs: P.kwargs
    ) -> FanOut[I, RawResponse[R], Outcome[I, RawResponse[R]]]:
        bound, _ = _recording(method)  # a recording resource captures per item
        return cast("FanOut[I, RawResponse[R], Outcome[I, RawResponse[R]]]", bound(*args, **kwargs))

    _twin(method, with_metadata, "FanOut[Outcome[RawResponse]]")
    return with_metadata
