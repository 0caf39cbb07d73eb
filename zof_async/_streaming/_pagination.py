"""Cursor pagination: a `Pager` iterates items (or `.pages()`) of a listing.

Exactly once: every page is fetched with the cursor the previous page handed
back (a retried page reuses its cursor inside the pipeline), an empty page
with a non-null `next_cursor` is not the end, and a cursor that repeats, after
any number of pages, raises `PaginationError` instead of looping forever.
A failed page is raised; iterating again fetches that page again.

Prefetch: with `prefetch=n` a task fetches up to `n` pages ahead while the
caller works. The task lives in the client's task group (`async with
AsyncZof()`) or the pager's own (`async with pager:`), never in an async
generator frame. `aclose()`, the `async with`
block, or leaving an `async for` (each iterates its own `Loop`, stopped the
moment CPython frees it) cancels it at once, even while the pager is kept to
resume from; iterating again starts a new task where the pager stands. A pager
iterated by hand and dropped cancels it when collected, the client's ending in
any case. By default (`prefetch=None`) a pager prefetches one page when it has
a task group and fetches on demand when it has none; an explicit `prefetch=n`
without one raises `RuntimeError` when iteration starts, as a fan-out does.

Memory: the page being handed out plus at most `prefetch` pages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio

from .. import _numbers as numbers
from .._models import Page
from ._background import Background, BackgroundWork, cancel_when_dropped
from ._checkpoint import Checkpoint, Position
from ._loop import Loop
from ._page_walk import Fetch, PageWalk, Prefetcher, Step

if TYPE_CHECKING:
    from ._arrow import ArrowBatches

T = TypeVar("T")
B = TypeVar("B")


def _nothing(page: object) -> None:
    """A `build` that makes nothing of a page."""


class Pager(BackgroundWork, Generic[T]):
    """An async iterator over the items of a cursor-paginated listing.

    ```python
    async for result in zof.results.list(run_id=run.id):
        ...
    async for page in zof.results.list(run_id=run.id).pages():
        page.items, page.next_cursor
    ```

    Resume a listing from `pager.checkpoint` (`list(..., resume=...)`).

    Attributes:
        last_request_id: The `X-Request-Id` of the page the pager is on (the
            one holding the last item handed out); `None` before the first.
            Each `Page` of `.pages()` carries its own as `Page.request_id`.
    """

    def __init__(
        self,
        fetch: Fetch[T],
        *,
        background: Background,
        prefetch: int | None = None,
        resume: Checkpoint | None = None,
        model: type[Any] | None = None,
    ) -> None:
        if prefetch is not None and numbers.integer("prefetch", prefetch) < 0:
            raise ValueError("prefetch must be None or an integer, 0 or more")
        start = resume or Checkpoint()
        self._model = model  # what an empty listing's table holds
        self._init_background(background)
        self._prefetch = prefetch
        self._at: Position[T] = Position(start)
        self.last_request_id: str | None = None
        self._walk = PageWalk(fetch, start.cursor)  # shared by the prefetch task, one at a time
        self._closed = False
        self._prefetcher: Prefetcher[T] | None = None
        self._loops = 0  # `async for` loops begun: only the last one's end stops the prefetch

    @property
    def cursor(self) -> str | None:
        """The cursor of the page holding the next item (`None` at the start and the end)."""
        return self._at.cursor

    @property
    def offset(self) -> int:
        """Items of that page already handed out."""
        return self._at.offset

    @property
    def ready(self) -> int:
        """Items of the page in hand not handed out yet: that many steps come without waiting."""
        page = self._at.page
        return 0 if page is None or self._closed else len(page.items) - self._at.offset

    @property
    def exhausted(self) -> bool:
        """Whether every item has been handed out (then `cursor` is `None`)."""
        return self._at.finished

    def pages(self) -> _Pages[T]:
        """Iterate whole pages instead of items."""
        if self.offset:
            raise ValueError("pages() hands out whole pages: it cannot start at an offset")
        return _Pages(self)

    def __aiter__(self) -> Loop[T]:
        """One `async for` over the items; leaving it stops the prefetch (see `Loop`)."""
        return Loop(self, self.__anext__)

    async def to_list(self) -> list[T]:
        """The rest of the listing as a list, for the short listings a list suits.

        Every remaining page is fetched and held at once: iterate a long
        listing instead. The pager is exhausted afterwards, as after an
        `async for` to the end.
        """
        return [item async for item in self]

    def arrow_batches(self) -> ArrowBatches:
        """The rest of the listing as `pyarrow.RecordBatch`es, one per page.

        ```python
        async for batch in zof.results.list(run_id=run.id, page_size=1000).arrow_batches():
            ...  # batch.schema == the schema of to_arrow()
        ```

        Every batch has the one schema of `to_arrow()` (see
        `zof_async.to_arrow`): memory holds the batch handed out and the
        pages being fetched, never the listing. A page whose items do not fit
        the schema raises `APIResponseValidationError` naming the field, and
        the pager stays before it. See `ArrowBatches`.

        Raises:
            TypeError: The listing is not of results or runs.
        """
        from ._arrow import ArrowBatches

        return ArrowBatches(self, self._model)

    async def to_arrow(self) -> Any:
        """The rest of the listing as one `pyarrow.Table`: the `arrow_batches()` together."""
        from ._arrow import to_arrow

        return await to_arrow(self, model=self._model)  # type: ignore[arg-type]

    async def to_pandas(self) -> Any:
        """The rest of the listing as one pandas DataFrame; see `zof_async.to_pandas`."""
        from ._arrow import to_pandas

        return await to_pandas(self, model=self._model)  # type: ignore[arg-type]

    async def __anext__(self) -> T:
        at = self._at
        while True:
            if self._closed:
                raise StopAsyncIteration
            item = at.next_item()
            if item is not None:
                return item
            if at.page is not None:
                at.finish_page(at.page)
            next_page = await self._next_page()
            if next_page is None:
                raise StopAsyncIteration
            at.arrive(next_page)

    @property
    def checkpoint(self) -> str:
        """Where to resume, as one opaque string: `list(..., resume=checkpoint)`.

        The one way to resume a listing: continues with exactly the next
        item, neither re-reading nor skipping any item that existed when this
        pager started, even on the first page, which items created since push
        down. Taken after the last item (or of an empty listing), it resumes
        to an empty listing: items created since are newer than where the
        listing ended. See `_checkpoint`.
        """
        return self._at.checkpoint().encode()

    async def next_page(self) -> Page[T] | None:
        """The next whole page, handed out as a whole; `None` after the last.

        What `pages()` iterates. The pager's `cursor`, `offset` and
        `checkpoint` then point after this page.

        Raises:
            ValueError: Some items of the current page were handed out already.
        """
        if self._at.offset or self._at.page is not None:
            raise ValueError("next_page() hands out whole pages: finish the current one first")
        page = await self._next_page()
        if page is not None:
            self._at.finish_page(page)
        return page

    async def _next_page(self) -> Page[T] | None:
        """The next page from the network or the prefetcher; `None` at the end.

        A failed fetch is raised and changes nothing: calling again fetches
        the same cursor (with a new prefetch task when prefetching).
        """
        step = await self._next_step()
        return None if step is None else self._accept(step, _nothing)[0]

    async def _next_built(self, build: Callable[[Page[T]], B]) -> tuple[Page[T], B] | None:
        """As `_next_page`, with what `build` makes of the page; `None` at the end.

        A `ValueError` from `build` fails the page as an invalid one does
        (`APIResponseValidationError`): calling again fetches it again.
        """
        step = await self._next_step()
        return None if step is None else self._accept(step, build)

    async def _next_step(self) -> Step[T] | None:
        if self._at.finished or self._closed:
            return None
        self._started = True
        if self._prefetcher is None:
            self._prefetcher = self._start_prefetch()
        prefetcher = self._prefetcher
        if prefetcher is None:
            return await self._walk.next()
        try:
            received = await prefetcher.receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            # The prefetch task was stopped from outside (its task group,
            # the client's, closed): carry on from here, on demand.
            self._drop_prefetcher()
            self._walk = self._walk.rewound()
            return await self._walk.next()
        if isinstance(received, Exception):
            self._drop_prefetcher()
            raise received
        if prefetcher.request_in_flight_first(received[1]):
            await prefetcher.let_next_request_out()
        return received

    def _accept(self, step: Step[T], build: Callable[[Page[T]], B]) -> tuple[Page[T], B]:
        """Decode a fetched page (and `build` on it) and move on to it; on failure, stay."""
        cursor, pending = step
        try:
            page = pending.decode()
            try:
                built = build(page)
            except ValueError as exc:
                raise pending.invalid(exc) from exc
        except Exception:
            self._drop_prefetcher()
            self._walk = self._walk.rewound()  # calling again fetches this page again
            raise
        self._walk.taken()
        if page.next_cursor is None:
            self._drop_prefetcher()  # the last page: nothing more will come
        self._at.cursor = cursor
        self.last_request_id = page.request_id
        return page, built

    async def _next_rows(self, build: Callable[[Sequence[T]], B]) -> B | None:
        """What `build` makes of the next page's items not handed out yet, handed out at once.

        `None` at the end; a page with none left is skipped. Begun inside a
        page, the pager goes back to its checkpoint and fetches that page again.
        """
        if self._at.page is not None:
            self._back_to_checkpoint(self._at.page)
        at = self._at
        while True:
            got = await self._next_built(lambda page: build(page.items[at.start_in(page) :]))
            if got is None:
                return None
            page, built = got
            handed = len(page.items) - at.start_in(page)
            at.arrive(page)
            at.take_rest()
            if handed:
                return built

    def _back_to_checkpoint(self, held: Page[T]) -> None:
        """Start again from `checkpoint`, as a pager resumed there would (`held` is dropped)."""
        checkpoint = self._at.checkpoint()
        self._drop_prefetcher()
        self._walk = self._walk.back_to(self._at.cursor, held.next_cursor)
        self._at = Position(checkpoint)

    def _start_prefetch(self) -> Prefetcher[T] | None:
        """A prefetch task on the pager's walk; `None` without prefetch.

        Raises:
            RuntimeError: `prefetch` was asked for, but there is no task
                group to run it in (as a fan-out without one).
        """
        has_group = self._own.available or self._background.available
        depth = self._prefetch
        if depth is None:
            depth = 1 if has_group else 0
        if depth == 0:
            return None
        if not has_group:
            raise RuntimeError(
                f"prefetch={depth} needs a task group: use `async with AsyncZof() as zof:` "
                "or enter the pager (`async with zof.results.list(...) as pager:`), "
                "or pass prefetch=0"
            )
        prefetcher = Prefetcher(self._walk, depth)
        if not self._start_work(prefetcher.run):  # pragma: no cover - checked just above
            prefetcher.release()
            return None
        prefetcher.dropped = cancel_when_dropped(self, prefetcher.scope)
        return prefetcher

    def _drop_prefetcher(self) -> None:
        prefetcher, self._prefetcher = self._prefetcher, None
        if prefetcher is not None:
            prefetcher.release()

    def _loop_begun(self) -> int:
        self._loops += 1
        return self._loops

    def _loop_left(self, loop: int) -> None:
        """An `async for` was left: stop prefetching until the pager is iterated again.

        The pages the task fetched and the pager did not take are walked
        again then (the task may still finish a fetch on the old walk).
        Only the loop begun last counts: an older one left meanwhile is not
        the one iterating.
        """
        if loop == self._loops and self._prefetcher is not None:
            self._drop_prefetcher()
            self._walk = self._walk.rewound()

    async def aclose(self) -> None:
        """Stop prefetching; the pager hands out nothing more.

        `checkpoint` keeps saying where it stopped, to resume from.
        """
        self._closed = True
        self._drop_prefetcher()

    def _wants_task_group(self) -> bool:
        return self._prefetch != 0


class _Pages(Generic[T]):
    """`pager.pages()`: the same listing, a page at a time.

    Closing it (`aclose()`, or `async with`) closes the pager.
    """

    def __init__(self, pager: Pager[T]) -> None:
        self._pager = pager

    def __aiter__(self) -> Loop[Page[T]]:
        """One `async for` over the pages; leaving it stops the prefetch (see `Loop`)."""
        return Loop(self._pager, self.__anext__)

    async def __anext__(self) -> Page[T]:
        page = await self._pager.next_page()
        if page is None:
            raise StopAsyncIteration
        return page

    async def aclose(self) -> None:
        """Stop prefetching; hand out nothing more."""
        await self._pager.aclose()

    async def __aenter__(self) -> _Pages[T]:
        await self._pager.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._pager.__aexit__(exc_type, exc, tb)


async def collect(fetch: Fetch[T], cursor: str | None = None) -> list[T]:
    """Every item of a listing from `cursor` on, without a pager (for short listings).

    `cursor` (a walk's `next_cursor`, where it goes on) counts as seen, as in that walk.
    """
    walk, items = PageWalk(fetch, cursor), list[T]()
    while (step := await walk.next()) is not None:
        items.extend(step[1].decode().items)
        walk.taken()
    return items
