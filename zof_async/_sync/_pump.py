"""Async iterators as sync ones: fan-outs, streamed bodies, watches, export rows.

A `Pump` task in the client's loop pulls the async iterator ahead of the
caller into a bounded buffer (at most `size` items), which the caller's
thread takes from without a round trip to the loop per item: a fan-out keeps
running concurrently while the caller works on what it has. Closing the sync
iterator (`close()`, its `with` block, or dropping it) cancels the task and
closes the async iterator, which stops a fan-out's calls or frees a stream's
connection. The iterators are for one thread at a time, as their async
originals are for one task.
"""

from __future__ import annotations

import queue
import sys
import weakref
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import attrs
import httpx

from .._http._raw_response import RawResponse
from .._resources._raw import RawOpening
from .._streaming._fanout import FanOut, FanOutStats
from .._streaming._streams import _Stream
from ._runner import ClosedOnExit, Runner, Task

if TYPE_CHECKING:
    import asyncio

    if sys.version_info >= (3, 11):
        from typing import Self
    else:
        from typing_extensions import Self

__all__ = ["Pump", "SyncFanOut", "SyncIterator", "SyncRawOpening", "SyncStream"]

T = TypeVar("T")
O = TypeVar("O")  # noqa: E741
BUFFER = 256
_ITEM, _END, _ERROR = 0, 1, 2


class Pump(Generic[T]):
    """An async iterator pulled ahead in the loop, handed out in the caller's thread."""

    def __init__(
        self,
        runner: Runner,
        held: list[AsyncIterator[T]],
        *,
        size: int = BUFFER,
    ) -> None:
        self._runner = runner
        self._held = held  # the source, dropped in the loop (see `SyncIterator`)
        self._size = size
        self._queue: queue.SimpleQueue[tuple[int, Any]] = queue.SimpleQueue()
        self._taken = 0  # items handed out since credits were last given back
        self._credits: asyncio.Semaphore | None = None
        self._task: Task | None = None
        self.over = False
        self.holder: list[Task] = []  # what its owner's finalizer cancels, if dropped

    @property
    def started(self) -> bool:
        return self._task is not None

    def next(self) -> T:
        """The next item; `StopIteration` at the end; the source's error, raised."""
        if self.over:
            raise StopIteration
        if self._task is None:
            self._task = self._runner.submit(self._run)
            self.holder.append(self._task)
        kind, value = self._queue.get()
        if kind == _ITEM:
            self._taken += 1
            if self._taken * 2 >= self._size:
                self._runner.soon(_Giving(self, self._taken))
                self._taken = 0
            return value  # type: ignore[no-any-return]
        self.over = True
        if kind == _ERROR:
            raise value
        raise StopIteration

    def give(self, count: int) -> None:
        """In the loop: `count` buffered items were taken; the task may pull as many more."""
        credits = self._credits
        if credits is not None:
            for _ in range(count):
                credits.release()

    async def _run(self) -> None:
        """In the loop: pull items while there are credits; always close the source."""
        import asyncio

        self._credits = credits = asyncio.Semaphore(self._size)
        put, source = self._queue.put, self._held[0]
        try:
            while True:
                await credits.acquire()
                try:
                    item = await source.__anext__()
                except StopAsyncIteration:
                    break
                put((_ITEM, item))
            put((_END, None))
        except asyncio.CancelledError:
            put((_END, None))
            raise
        except BaseException as exc:
            put((_ERROR, exc))
            if not isinstance(exc, Exception):
                raise
        finally:
            await close_async(source)

    def close(self) -> None:
        """Cancel the task (blocking until it has closed the source); idempotent."""
        self.over = True
        task = self._task
        if task is not None and not task.ended.is_set():
            self._runner.soon(task.cancel)
            task.ended.wait()


class _Giving:
    """`pump.give(count)`, to run in the loop (a callable without a closure per call)."""

    __slots__ = ("_count", "_pump")

    def __init__(self, pump: Pump[Any], count: int) -> None:
        self._pump, self._count = pump, count

    def __call__(self) -> None:
        self._pump.give(self._count)


async def close_async(source: object) -> None:
    """Close an async iterator that can be closed (a generator, a fan-out, a stream)."""
    aclose = getattr(source, "aclose", None)
    if aclose is not None:
        await aclose()


def _cancel_soon(runner: Runner, holder: list[Task], held: list[Any]) -> None:
    """A dropped iterator: cancel its pump, or close its source, in the loop (never blocks).

    The source is let go of in the loop too (`held.clear`): an async object
    freed in another thread would run its finalizers there (a fan-out's
    cancels its task's scope, which only the loop's thread may do).
    """
    for task in holder:
        if not task.ended.is_set():
            runner.soon(task.cancel)
    if not holder and held:
        runner.start_soon(close_async, held[0])
    runner.soon(held.clear)


class SyncIterator(ClosedOnExit, Generic[T]):
    """A sync iterator over an async one (`watch`, `export_rows`); also a context manager.

    Leaving its `with` block, `close()`, or dropping it stops the async
    iterator; the client's `close()` stops it too.
    """

    def __init__(
        self,
        runner: Runner,
        source: AsyncIterator[T],
        *,
        keep: object = None,
        ahead: int = BUFFER,
    ) -> None:
        self._runner = runner
        self._keep = keep  # the client: open iterators keep it from being collected
        self._held = [source]  # only the loop's thread drops the last reference
        self._pump = Pump(runner, self._held, size=ahead)
        runner.resources.add(self)
        # Dropped (a `break` out of `for x in zof...(...)`): stop the async side.
        weakref.finalize(self, _cancel_soon, runner, self._pump.holder, self._held).atexit = False

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> T:
        return self._pump.next()

    def close(self) -> None:
        """Stop the async iterator and free what it holds; idempotent."""
        started = self._pump.started
        self._pump.close()  # a started pump closes the async iterator itself
        if not started and self._runner.started:
            self._runner.call(self.aclose)

    async def aclose(self) -> None:
        """In the loop: close the async iterator; nothing more is handed out."""
        self._pump.over = True
        await close_async(self._source)

    def as_async(self) -> AsyncIterator[T]:
        """The async iterator itself, to hand to an async method (the input of a fan-out)."""
        if self._pump.started:
            raise ValueError("this iterator is being iterated already: pass a fresh one")
        self._runner.resources.discard(self)
        return self._source

    @property
    def _source(self) -> AsyncIterator[T]:
        return self._held[0]


class SyncFanOut(SyncIterator[O]):
    """`bulk_artifacts` and `map` for sync code: outcomes as they complete, in the caller's thread.

    The fan-out runs in the client's loop while you work on its outcomes;
    leaving the loop early (`break` with the object dropped, `close()`, the
    `with` block) cancels the calls in flight.
    """

    @property
    def stats(self) -> FanOutStats:
        """A snapshot of the fan-out's counters (see `FanOutStats`)."""
        fanout = cast("FanOut[Any, Any, O]", self._source)
        if self._runner.started:
            stats: FanOutStats = self._runner.call(lambda: fanout.stats)
            return stats
        return fanout.stats


class SyncStream(SyncIterator[T]):
    """A streamed body (`runs.logs`, `results.export`): lines or chunks as they arrive.

    ```python
    with zof.runs.logs(run.id) as lines:
        for line in lines:
            print(line)
    ```

    Entering the block sends the request (its errors are raised there);
    leaving it closes the response and frees its connection.
    """

    @property
    def response(self) -> httpx.Response | None:
        """The answer, once opened (its headers; the body is what you iterate)."""
        return self._stream.response

    @property
    def _stream(self) -> _Stream[T]:
        return cast("_Stream[T]", self._source)

    def open(self) -> httpx.Response:
        """Send the request (with retries until the headers arrive)."""
        response: httpx.Response = self._runner.call(self._stream.open)
        return response

    def __enter__(self) -> Self:
        self.open()
        return self


class SyncRawOpening(Generic[T]):
    """`with zof.runs.with_raw_response.logs(run_id) as raw:` for sync code.

    Entering sends the request and gives `RawResponse[SyncStream]`: the
    answer's metadata, and in `parsed` the body to iterate; leaving closes it.
    """

    def __init__(self, runner: Runner, opening: RawOpening[Any], *, keep: object = None) -> None:
        self._runner = runner
        self._opening = opening
        self._keep = keep

    def __enter__(self) -> RawResponse[SyncStream[T]]:
        raw: RawResponse[Any] = self._runner.call(self._opening.__aenter__)
        body: SyncStream[T] = SyncStream(self._runner, raw.parsed, keep=self._keep)
        return cast("RawResponse[SyncStream[T]]", attrs.evolve(raw, parsed=body))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._runner.call(self._opening.__aexit__, None, None, None)
