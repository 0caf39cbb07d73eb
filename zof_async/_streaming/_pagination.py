"""Cursor pagination: a `Pager` iterates items (or `.pages()`) of a listing.

Exactly once: every page is fetched with the cursor the previous page handed
back (a retried page reuses its cursor inside the pipeline), an empty page
with a non-null `next_cursor` is not the end, and a cursor that repeats, after
any number of pages, raises `PaginationError` instead of looping forever.
A failed page is raised; iterating again fetches that page again.

Prefetch: with `prefetch=n` a task fetches up to `n` pages ahead while the
caller works. The task lives in the client's task group (`async with
AsyncZof()`) or the pager's own (`async with pager:`), never in an async
generator frame. Leaving the loop with `aclose()` or the `async with` block
cancels it at once; a pager dropped after a bare `break` cancels it when it
is garbage-collected, and the client's `async with` ending cancels it in any
case. The task closes its stream itself however it ends. By default
(`prefetch=None`) a pager prefetches one page when it has a task group and
fetches on demand when it has none; an explicit `prefetch=n` without a task
group raises `RuntimeError` when iteration starts, as a fan-out does.

Memory: the page being handed out plus at most `prefetch` pages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import weakref
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio

from .._exceptions import PaginationError
from .._models import Page
from ._background import Background, BackgroundWork, cancel_when_dropped

if TYPE_CHECKING:  # loaded with the first stream made, not on import
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

T = TypeVar("T")
Fetch = Callable[[str | None], Awaitable[Page[T]]]
Step = tuple[str | None, Page[T]]  # a page and the cursor that fetched it


class _CursorCheck:
    """Remembers every cursor of a listing, as 8-byte digests, to catch one that repeats.

    A listing that loops, however long the loop, is caught the first time a
    cursor comes back, before any item is handed out twice. Memory is about
    75 bytes a page whatever the cursors' length (measured on CPython 3.11):
    under 1 MB for 10,000 pages, about 75 MB for a million (a billion items
    at 1,000 a page). Two cursors sharing a 64-bit digest by chance (odds
    about 1 in 4 * 10**7 for a million pages) would end the listing with a
    `PaginationError`, never with a wrong item.
    """

    def __init__(self, first: str | None) -> None:
        self._seen: set[bytes] = set()
        if first is not None:
            self._seen.add(_digest(first))

    def advance(self, page: Page[Any]) -> str | None:
        cursor = page.next_cursor
        if cursor is not None:
            digest = _digest(cursor)
            if digest in self._seen:
                raise PaginationError(
                    "the API returned a next_cursor it had already returned; "
                    "stopping instead of iterating forever"
                )
            self._seen.add(digest)
        return cursor


def _digest(cursor: str) -> bytes:
    return hashlib.blake2b(cursor.encode(), digest_size=8).digest()


class PageWalk(Generic[T]):
    """The pages of a listing in order, each fetched with the previous page's cursor.

    A page whose `next_cursor` repeats an earlier one is still handed out;
    the `PaginationError` comes on the next call, and on every call after.
    A failed fetch changes nothing, so calling again retries the same cursor.
    """

    def __init__(self, fetch: Fetch[T], cursor: str | None) -> None:
        self._fetch = fetch
        self._cursor = cursor
        self._check = _CursorCheck(cursor)
        self._done = False
        self._stuck: PaginationError | None = None

    async def next(self) -> Step[T] | None:
        """The next page and the cursor that fetched it; `None` after the last."""
        if self._stuck is not None:
            raise self._stuck
        if self._done:
            return None
        cursor = self._cursor
        page = await self._fetch(cursor)
        try:
            following = self._check.advance(page)
        except PaginationError as exc:
            self._stuck = exc
            return cursor, page
        self._cursor = following
        self._done = following is None
        return cursor, page


class _Prefetcher(Generic[T]):
    """Walks pages ahead of the pager into a bounded stream; never raises out of `run`.

    The task owns both ends of the stream and closes them when it ends. It
    ends once the pager lets go (`release`: the last page or an error was
    handed over, or the pager was closed), when the pager is dropped (see
    `cancel_when_dropped`), or when its task group closes, whichever is first.
    """

    def __init__(self, walk: PageWalk[T], depth: int) -> None:
        self._walk = walk
        self.scope = anyio.CancelScope()
        self._released = anyio.Event()
        send, receive = anyio.create_memory_object_stream[Step[T] | Exception](
            max_buffer_size=depth - 1
        )
        self._send: MemoryObjectSendStream[Step[T] | Exception] = send
        self.receive: MemoryObjectReceiveStream[Step[T] | Exception] = receive
        self.dropped: weakref.finalize[Any, Any] | None = None

    async def run(self) -> None:
        try:
            with self.scope:
                await self._fill()
                await self._released.wait()
        finally:
            self._send.close()
            self.receive.close()

    async def _fill(self) -> None:
        """Hand over pages until the last, or an error (which the pager raises)."""
        with self._send:  # closed at the end: nothing more will come
            while True:
                step: Step[T] | Exception | None
                try:
                    step = await self._walk.next()
                except Exception as exc:
                    step = exc
                if step is None:
                    return
                try:
                    await self._send.send(step)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return  # the pager let go
                if isinstance(step, Exception):
                    return

    def release(self) -> None:
        """The pager takes nothing more: stop fetching, close the stream."""
        if self.dropped is not None:
            self.dropped.detach()
        self.scope.cancel()
        self.receive.close()
        self._released.set()


class Pager(BackgroundWork, Generic[T]):
    """An async iterator over the items of a cursor-paginated listing.

    ```python
    async for result in zof.results.list(run_id=run.id):
        ...
    async for page in zof.results.list(run_id=run.id).pages():
        page.items, page.next_cursor
    ```

    Attributes:
        cursor: The cursor of the page holding the next item to be handed out
            (`None` at the start). With `offset`, where to resume: a new pager
            made with `cursor=pager.cursor, offset=pager.offset` continues
            with exactly the next item, neither re-reading nor skipping.
        offset: Items of that page already handed out.
    """

    def __init__(
        self,
        fetch: Fetch[T],
        *,
        background: Background,
        prefetch: int | None = None,
        cursor: str | None = None,
        offset: int = 0,
        after: str | None = None,
        model: type[Any] | None = None,
    ) -> None:
        if prefetch is not None and (
            isinstance(prefetch, bool) or not isinstance(prefetch, int) or prefetch < 0
        ):
            raise ValueError("prefetch must be None or an integer, 0 or more")
        if offset < 0:
            raise ValueError("offset must be 0 or more")
        self._fetch = fetch
        self._model = model  # what an empty listing's table holds
        self._init_background(background)
        self._prefetch = prefetch
        self.cursor = cursor
        self.offset = offset
        self._page: Page[T] | None = None
        self._walk = PageWalk(fetch, cursor)  # shared by the prefetch task, one at a time
        self._exhausted = False
        self._closed = False
        # The last item handed out; a resumed pager starts at its checkpoint's.
        self._last_id: str | None = after
        self._after: str | None = after
        # A checkpoint with a cursor names a page that never shifts: its offset
        # holds. One without (the first page) must be found by its last item.
        self._seek_by_anchor = after is not None and cursor is None
        self._resume_offset = offset
        self._prefetcher: _Prefetcher[T] | None = None

    @property
    def exhausted(self) -> bool:
        """Whether every item has been handed out (then `cursor` is `None`)."""
        return self._exhausted

    def pages(self) -> _Pages[T]:
        """Iterate whole pages instead of items."""
        if self.offset:
            raise ValueError("pages() hands out whole pages: it cannot start at an offset")
        return _Pages(self)

    def __aiter__(self) -> Pager[T]:
        return self

    async def to_arrow(self) -> Any:
        """The rest of the listing as one `pyarrow.Table`; see `zof_async.to_arrow`."""
        from .._data._arrow import to_arrow

        return await to_arrow(self, model=self._model)  # type: ignore[arg-type]

    async def to_pandas(self) -> Any:
        """The rest of the listing as one pandas DataFrame; see `zof_async.to_pandas`."""
        from .._data._arrow import to_pandas

        return await to_pandas(self, model=self._model)  # type: ignore[arg-type]

    async def __anext__(self) -> T:
        while True:
            if self._closed:
                raise StopAsyncIteration
            page = self._page
            if page is not None and self.offset < len(page.items):
                item = page.items[self.offset]
                self.offset += 1
                self._last_id = getattr(item, "id", None)
                if self.offset == len(page.items):
                    self._finish_page(page)
                return item
            if page is not None:
                self._finish_page(page)
            next_page = await self._next_page()
            if next_page is None:
                raise StopAsyncIteration
            if self._after is not None:
                next_page = self._seek(next_page)
                if next_page is None:
                    continue
            if self.offset > len(next_page.items):
                raise ValueError("offset is past the end of the page at cursor")
            self._page = next_page

    def _seek(self, page: Page[T]) -> Page[T] | None:
        """Resuming from a checkpoint: place `offset` just after its last item.

        The first page of a listing has no cursor, so items created since the
        checkpoint push the rest down: find the last item handed out instead
        of trusting the offset, skipping (newer) items until it shows up.
        """
        if not self._seek_by_anchor:  # the checkpoint's page does not shift
            self._after = None
            return page
        ids = [getattr(item, "id", None) for item in page.items]
        if self._after in ids:
            self.offset = ids.index(self._after) + 1
            self._after = None
            self._seek_by_anchor = False
            return page
        self._finish_page(page)  # everything here is newer than the checkpoint
        return None

    @property
    def checkpoint(self) -> str:
        """Where to resume, as one opaque string: `list(..., resume=checkpoint)`.

        Continues with exactly the next item, neither re-reading nor skipping
        any item that existed when this pager started, even on the first page,
        which items created since push down.
        """
        if self._exhausted:
            raise ValueError("the listing is exhausted: there is nothing to resume")
        if self._seek_by_anchor:  # still looking for the last item: the same checkpoint
            state = [None, self._resume_offset, self._after]
        else:
            state = [
                self.cursor,
                self.offset,
                self._last_id if self.offset or self._after else None,
            ]
        return base64.urlsafe_b64encode(json.dumps(state).encode()).decode()

    def _finish_page(self, page: Page[T]) -> None:
        self._page = None
        self.cursor = page.next_cursor
        self.offset = 0
        if page.next_cursor is None:
            self._exhausted = True

    async def _next_page(self) -> Page[T] | None:
        """The next page from the network or the prefetcher; `None` at the end.

        A failed fetch is raised and changes nothing: calling again fetches
        the same cursor (with a new prefetch task when prefetching).
        """
        if self._exhausted or self._closed:
            return None
        self._started = True
        if self._prefetcher is None:
            self._prefetcher = self._start_prefetch()
        prefetcher = self._prefetcher
        if prefetcher is None:
            step = await self._walk.next()
        else:
            try:
                received = await prefetcher.receive.receive()
            except (anyio.EndOfStream, anyio.ClosedResourceError):
                # The prefetch task was stopped from outside (its task group,
                # the client's, closed): carry on from here, on demand.
                self._drop_prefetcher()
                self._walk = PageWalk(self._fetch, self.cursor)
                step = await self._walk.next()
            else:
                if isinstance(received, Exception):
                    self._drop_prefetcher()
                    raise received
                step = received
        if step is None:
            return None
        cursor, page = step
        if page.next_cursor is None:
            self._drop_prefetcher()  # the last page: nothing more will come
        self.cursor = cursor
        return page

    def _start_prefetch(self) -> _Prefetcher[T] | None:
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
                "or `async with zof....list(...) as pager:`, or pass prefetch=0"
            )
        prefetcher = _Prefetcher(self._walk, depth)
        if not self._start_work(prefetcher.run):  # pragma: no cover - checked just above
            prefetcher.release()
            return None
        prefetcher.dropped = cancel_when_dropped(self, prefetcher.scope)
        return prefetcher

    def _drop_prefetcher(self) -> None:
        prefetcher, self._prefetcher = self._prefetcher, None
        if prefetcher is not None:
            prefetcher.release()

    async def aclose(self) -> None:
        """Stop prefetching; the pager hands out nothing more.

        `cursor` and `offset` keep saying where it stopped, to resume from.
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

    def __aiter__(self) -> _Pages[T]:
        return self

    async def __anext__(self) -> Page[T]:
        pager = self._pager
        page = await pager._next_page()
        if page is None:
            raise StopAsyncIteration
        pager._finish_page(page)
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

    `cursor` is where a walk already under way goes on (the `next_cursor` of
    its first page): it counts as seen, as it would in that walk.
    """
    walk, items = PageWalk(fetch, cursor), list[T]()
    while (step := await walk.next()) is not None:
        items.extend(step[1].items)
    return items


def decode_checkpoint(checkpoint: str) -> tuple[str | None, int, str | None]:
    try:
        cursor, offset, after = json.loads(base64.urlsafe_b64decode(checkpoint.encode()))
    except (ValueError, TypeError, binascii.Error):
        raise ValueError("resume= must be a Pager.checkpoint of this listing") from None
    if not (cursor is None or isinstance(cursor, str)) or not isinstance(offset, int) or offset < 0:
        raise ValueError("resume= must be a Pager.checkpoint of this listing")
    if not (after is None or isinstance(after, str)):
        raise ValueError("resume= must be a Pager.checkpoint of this listing")
    return cursor, offset, after
