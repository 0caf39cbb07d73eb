"""`Pager` for sync code: items in batches of the page in hand, the checkpoint exact.

Each step into the loop takes the next item (waiting for its page if need
be) and then every item the async pager already holds (`Pager.ready`), so a
page costs one round trip between threads, not one per item; prefetch keeps
fetching the next page in the loop meanwhile. Each item is handed out with
the pager's place right after it, so `checkpoint`, `cursor`, `offset` and
`last_request_id` describe exactly what the caller has been given. Items
taken from the async pager and not yet handed out stay with this pager: the
next loop over it hands them out first. Like an `async for`, leaving a
`for` loop stops the prefetch (in the loop, when the loop object is freed).
"""

from __future__ import annotations

import collections
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, NamedTuple, TypeVar

from .._models import Page
from .._streaming._pagination import Pager
from ._pump import SyncIterator
from ._runner import ClosedOnExit, Runner

__all__ = ["SyncPager", "SyncPages"]

T = TypeVar("T")
E = TypeVar("E")
BATCH = 1000  # items per round trip at most (a page holds 1,000 at most)


class Place(NamedTuple):
    """Where a pager is, right after handing out one item or page."""

    cursor: str | None
    offset: int
    exhausted: bool
    last_request_id: str | None
    checkpoint: str


def _place(pager: Pager[Any]) -> Place:
    return Place(
        pager.cursor, pager.offset, pager.exhausted, pager.last_request_id, pager.checkpoint
    )


class _Steps(Generic[E]):
    """One `for` loop's hold on an async `Loop` (made and freed in the client's loop)."""

    def __init__(self, runner: Runner, make: Callable[[], AsyncIterator[E]]) -> None:
        self.runner = runner
        self.make = make
        self.held: list[AsyncIterator[E]] = []
        weakref.finalize(self, runner.soon, self.held.clear).atexit = False

    async def take(self, pager: Pager[Any], batch: int) -> list[tuple[E, Place]]:
        """In the loop: the next step (waiting if need be), then those ready; `[]` at the end."""
        if not self.held:
            self.held.append(self.make())
        steps = self.held[0]
        taken: list[tuple[E, Place]] = []
        try:
            taken.append((await steps.__anext__(), _place(pager)))
            while len(taken) < batch and pager.ready:
                taken.append((await steps.__anext__(), _place(pager)))
        except StopAsyncIteration:
            pass
        return taken


class _Handing(Generic[E]):
    """The iterator of one `for` loop: hands out a pager's buffer, then takes more."""

    def __init__(self, owner: SyncPager[Any], buffer: collections.deque[tuple[E, Place]],
                 steps: _Steps[E], batch: int) -> None:  # fmt: skip
        self._owner, self._buffer, self._steps, self._batch = owner, buffer, steps, batch

    def __iter__(self) -> Iterator[E]:
        return self

    def __next__(self) -> E:
        buffer, owner = self._buffer, self._owner
        if owner.closed:
            raise StopIteration
        if not buffer:
            buffer.extend(owner.runner.call(self._steps.take, owner.pager, self._batch))
            if not buffer:
                raise StopIteration
        item, self._owner.place = buffer.popleft()
        return item


class SyncPager(ClosedOnExit, Generic[T]):
    """A listing for sync code: iterate items (or `.pages()`); resume from `checkpoint`.

    ```python
    for result in zof.results.list(run_id=run.id):
        ...
    ```

    The same listing as the async `Pager`, walked in the client's loop with
    the same prefetch, retries and checks. For one thread at a time.
    """

    def __init__(self, runner: Runner, pager: Pager[T], *, keep: object = None) -> None:
        self.runner = runner
        self._held = [pager]  # the async pager: let go of in the loop's thread only
        self._keep = keep  # the client: an open pager keeps it from being collected
        self.place = _place(pager)
        self.closed = False
        self._items: collections.deque[tuple[T, Place]] = collections.deque()
        runner.resources.add(self)
        # Freed in another thread, the pager would cancel its prefetch from there.
        weakref.finalize(self, runner.soon, self._held.clear).atexit = False

    @property
    def pager(self) -> Pager[T]:
        """The async pager this one hands out (for the loop's thread)."""
        return self._held[0]

    @property
    def cursor(self) -> str | None:
        """The cursor of the page holding the next item (`None` at the start and the end)."""
        return self.place.cursor

    @property
    def offset(self) -> int:
        """Items of that page already handed out."""
        return self.place.offset

    @property
    def exhausted(self) -> bool:
        """Whether every item has been handed out."""
        return self.place.exhausted

    @property
    def last_request_id(self) -> str | None:
        """The `X-Request-Id` of the page holding the last item handed out."""
        return self.place.last_request_id

    @property
    def checkpoint(self) -> str:
        """Where to resume, exactly after the last item handed out: `list(..., resume=...)`."""
        return self.place.checkpoint

    def __iter__(self) -> Iterator[T]:
        """One `for` loop over the items; leaving it stops the prefetch."""
        return _Handing(self, self._items, _Steps(self.runner, self.pager.__aiter__), BATCH)

    def pages(self) -> SyncPages[T]:
        """Iterate whole pages instead of items."""
        if self._items or self.offset:
            raise ValueError("pages() hands out whole pages: it cannot start at an offset")
        return SyncPages(self)

    def next_page(self) -> Page[T] | None:
        """The next whole page; `None` after the last (see `Pager.next_page`)."""
        if self._items:
            raise ValueError("next_page() hands out whole pages: finish the current one first")
        return self._call(self.pager.next_page)

    def to_list(self) -> list[T]:
        """The rest of the listing as a list (every page at once: iterate a long one)."""
        return [*self]

    def arrow_batches(self) -> SyncIterator[Any]:
        """The rest of the listing as `pyarrow.RecordBatch`es, one per page.

        See `Pager.arrow_batches`; at most two batches are fetched ahead of
        the one handed out, so memory stays bounded.
        """
        self._check_at_a_page_boundary()
        return SyncIterator(self.runner, self.pager.arrow_batches(), keep=self, ahead=2)

    def to_arrow(self) -> Any:
        """The rest of the listing as one `pyarrow.Table`; see `zof_async.to_arrow`."""
        self._check_at_a_page_boundary()
        return self._call(self.pager.to_arrow)

    def to_pandas(self) -> Any:
        """The rest of the listing as one pandas DataFrame; see `zof_async.to_pandas`."""
        self._check_at_a_page_boundary()
        return self._call(self.pager.to_pandas)

    def _check_at_a_page_boundary(self) -> None:
        """The rest as a whole (a table, batches) starts after the items handed out."""
        if self._items:
            raise ValueError("finish the items taken first, or start a new listing")

    def _call(self, method: Callable[[], Awaitable[E]]) -> E:
        async def step() -> tuple[E, Place]:
            return await method(), _place(self.pager)

        taken: tuple[E, Place] = self.runner.call(step)
        value, self.place = taken
        return value

    def as_async(self) -> AsyncIterator[T] | Pager[T]:
        """The rest of the listing for an async method (the input of a fan-out)."""
        self.runner.resources.discard(self)
        if not self._items:
            return self.pager
        return _chain([item for item, _ in self._items], self.pager)

    def close(self) -> None:
        """Stop prefetching; the pager hands out nothing more. Idempotent."""
        self.closed = True
        self._items.clear()
        if self.runner.started:
            self.runner.call(self.pager.aclose)

    async def aclose(self) -> None:
        """In the loop: close the async pager (the client's `close()` does)."""
        self.closed = True
        self._items.clear()
        await self.pager.aclose()


async def _chain(first: list[T], rest: Pager[T]) -> AsyncIterator[T]:
    for item in first:
        yield item
    async for item in rest:
        yield item


class SyncPages(ClosedOnExit, Generic[T]):
    """`pager.pages()` for sync code: the same listing, a page at a time."""

    def __init__(self, pager: SyncPager[T]) -> None:
        self._pager = pager
        self._pages: collections.deque[tuple[Page[T], Place]] = collections.deque()

    def __iter__(self) -> Iterator[Page[T]]:
        """One `for` loop over the pages; leaving it stops the prefetch."""
        pages = self._pager.pager.pages()
        return _Handing(self._pager, self._pages, _Steps(self._pager.runner, pages.__aiter__), 1)

    def close(self) -> None:
        """Stop prefetching; hand out nothing more."""
        self._pager.close()
