"""Walking a listing's pages: each fetched with the cursor the previous one handed back.

`PageWalk` is the one walker: a pager without prefetch calls it on demand,
and with prefetch its `Prefetcher` task calls the same walk ahead of the
pager into a bounded stream.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio

from .._exceptions import PaginationError
from .._models import Page

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


class Prefetcher(Generic[T]):
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
