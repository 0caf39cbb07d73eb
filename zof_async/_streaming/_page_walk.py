"""Walking a listing's pages: each fetched with the cursor the previous one handed back.

`PageWalk` is the one walker: a pager without prefetch calls it on demand,
and with prefetch its `Prefetcher` task calls the same walk ahead of the
pager into a bounded stream.

A walk hands out pages parsed only as far as their cursor (`Pending`), so
the next page's request can go out before a page's models are built. The
prefetch task builds them itself while the pager is busy with earlier items
(they are then built in parallel with its work); a pager already waiting for
the page builds them when it takes it, after letting the next request out
(`let_next_request_out`). A page whose models fail to build is fetched
again: `rewound` walks back to it.
"""

from __future__ import annotations

import contextlib
import hashlib
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import anyio

from .._exceptions import PaginationError
from .._models import Page

if TYPE_CHECKING:  # loaded with the first stream made, not on import
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

T = TypeVar("T")


class Pending(Protocol[T]):
    """A fetched page whose items are not models yet."""

    @property
    def next_cursor(self) -> str | None: ...

    @property
    def decoded(self) -> bool:
        """Whether its models were built already (by the prefetch task)."""
        ...

    def decode(self) -> Page[T]:
        """The page with its items' models; raises if one is not valid."""
        ...

    def invalid(self, exc: Exception) -> BaseException:
        """The error saying this page's models do not fit what was made of them (`exc`)."""
        ...


Fetch = Callable[[str | None], Awaitable[Pending[T]]]
Step = tuple[str | None, Pending[T]]  # a page and the cursor that fetched it


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

    def __init__(self, first: str | None, seen: set[bytes] | None = None) -> None:
        self.seen: set[bytes] = set() if seen is None else seen
        if first is not None:
            self.seen.add(_digest(first))

    def advance(self, cursor: str | None) -> bytes | None:
        """Record `cursor` (a page's `next_cursor`); its digest, `None` for the end."""
        if cursor is None:
            return None
        digest = _digest(cursor)
        if digest in self.seen:
            raise PaginationError(
                "the API returned a next_cursor it had already returned; "
                "stopping instead of iterating forever"
            )
        self.seen.add(digest)
        return digest


def _digest(cursor: str) -> bytes:
    return hashlib.blake2b(cursor.encode(), digest_size=8).digest()


class PageWalk(Generic[T]):
    """The pages of a listing in order, each fetched with the previous page's cursor.

    A page whose `next_cursor` repeats an earlier one is still handed out;
    the `PaginationError` comes on the next call, and on every call after.
    A failed fetch changes nothing, so calling again retries the same cursor.
    The pages handed out and not yet `taken` can be walked again (`rewound`).
    """

    def __init__(self, fetch: Fetch[T], cursor: str | None, seen: set[bytes] | None = None) -> None:
        self._fetch = fetch
        self._cursor = cursor
        self._check = _CursorCheck(cursor, seen)
        self._done = False
        self._stuck: PaginationError | None = None
        # Of each page handed out and not taken: its cursor, its next_cursor's digest.
        self._untaken: deque[tuple[str | None, bytes | None]] = deque()

    async def next(self) -> Step[T] | None:
        """The next page and the cursor that fetched it; `None` after the last."""
        if self._stuck is not None:
            raise self._stuck
        if self._done:
            return None
        cursor = self._cursor
        page = await self._fetch(cursor)
        try:
            digest = self._check.advance(page.next_cursor)
        except PaginationError as exc:
            self._stuck = exc
            self._untaken.append((cursor, None))
            return cursor, page
        self._untaken.append((cursor, digest))
        self._cursor = page.next_cursor
        self._done = page.next_cursor is None
        return cursor, page

    def taken(self) -> None:
        """The oldest page handed out was decoded and handed on: never walked again."""
        if self._untaken:
            self._untaken.popleft()

    def rewound(self) -> PageWalk[T]:
        """A new walk from the oldest page handed out and not taken, as if never fetched.

        A new walk, not this one changed: a prefetch task being stopped may
        still finish a fetch on this one.
        """
        if not self._untaken:
            walk = PageWalk(self._fetch, self._cursor, set(self._check.seen))
            walk._done, walk._stuck = self._done, self._stuck
            return walk
        forget = {digest for _, digest in self._untaken if digest is not None}
        return PageWalk(self._fetch, self._untaken[0][0], self._check.seen - forget)

    def back_to(self, cursor: str | None, next_cursor: str | None) -> PageWalk[T]:
        """A new walk from a page already taken: the one at `cursor`, whose next is `next_cursor`.

        As `rewound`, and that page's own next cursor forgotten too.
        """
        forget = {digest for _, digest in self._untaken if digest is not None}
        if next_cursor is not None:
            forget.add(_digest(next_cursor))
        return PageWalk(self._fetch, cursor, self._check.seen - forget)


_TURNS = 3  # event-loop turns a prefetch task needs to write its request, and one spare


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
                if not isinstance(step, Exception) and not self._pager_waiting():
                    # The pager is busy with earlier items: build the models
                    # now, in parallel with its work (an error is kept for
                    # when the pager takes the page).
                    with contextlib.suppress(Exception):
                        step[1].decode()
                try:
                    await self._send.send(step)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return  # the pager let go
                if isinstance(step, Exception):
                    return

    def _pager_waiting(self) -> bool:
        return self._send.statistics().tasks_waiting_receive > 0

    def request_in_flight_first(self, page: Pending[T]) -> bool:
        """Whether the pager should `let_next_request_out` before building `page`'s models.

        Only when the pager was waiting for `page` (so its models are not
        built) and nothing else is buffered (so the task is off to fetch the
        next one now).
        """
        return (
            page.next_cursor is not None
            and not page.decoded
            and self.receive.statistics().current_buffer_used == 0
        )

    async def let_next_request_out(self) -> None:
        """Let the task send the next page's request before the pager builds this page's models.

        The task has the next cursor and is on its way to the network: a few
        turns of the event loop get the request written (two on httpcore),
        so the server works on it while the models are built. Shielded: the
        page is already taken off the stream and must not be lost to a cancel.
        """
        from anyio.lowlevel import checkpoint  # not on import: it costs `import zof_async` ms

        with anyio.CancelScope(shield=True):
            for _ in range(_TURNS):
                await checkpoint()

    def release(self) -> None:
        """The pager takes nothing more: stop fetching, close the stream."""
        if self.dropped is not None:
            self.dropped.detach()
        self.scope.cancel()
        self.receive.close()
        self._released.set()
