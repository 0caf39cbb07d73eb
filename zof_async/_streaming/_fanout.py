"""A bounded, adaptive, lazily fed concurrent map: `zof.map` and `bulk_artifacts`.

One engine task (in the client's task group, or the fan-out's own when used
as `async with`) runs `concurrency` workers. Each pulls the next input only
when it is free, calls the function and hands the outcome to the caller
through a bounded stream, so memory stays about `concurrency` inputs and
outcomes however long the input.

Concurrency is AIMD: every 429 seen by a request of this fan-out (even one
the pipeline then retried; a `Meter` the caller's requests are counted on,
or for `zof.map`, whose function may send anything, every request of the
client while the fan-out runs) halves the number of calls allowed in flight, at
most once per round trip; every success adds `1/limit`, so the limit grows
back by one per window of successes, up to `concurrency`. The client-wide
`Retry-After` gate is honoured by the pipeline itself.

An item's own failure (a `ZofError`, e.g. a 404) becomes that item's outcome;
a 401 or 403 means every other item would fail too, so it stops everything
and is raised to the caller.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio
import attrs

from .. import _numbers as numbers
from .._exceptions import AuthenticationError, PermissionDeniedError, ZofError
from .._http._pacing import Pacer
from .._http._traffic import Meter, Traffic
from ._adaptive import AdaptiveLimit
from ._background import Background, BackgroundWork, cancel_when_dropped

if TYPE_CHECKING:  # loaded with the first stream made, not on import
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import ExceptionGroup

I = TypeVar("I")  # noqa: E741
R = TypeVar("R")
O = TypeVar("O")  # noqa: E741

FATAL: tuple[type[BaseException], ...] = (AuthenticationError, PermissionDeniedError)


@attrs.frozen
class Outcome(Generic[I, R]):
    """One input of `zof.map` and what became of it: a value or an error."""

    input: I
    value: R | None
    error: ZofError | None

    @property
    def ok(self) -> bool:
        return self.error is None


@attrs.frozen
class FanOutStats:
    """Counters of one fan-out.

    Attributes:
        started: Inputs handed to a worker.
        completed: Outcomes handed to the caller.
        failed: Outcomes that carry an error.
        requests: HTTP requests this fan-out sent, retries included. For
            `zof.map`, whose function may send anything, every request the
            client sent while the fan-out ran.
        retries: Of those, retries.
        rate_limited: Of those, 429 responses received.
        concurrency: Calls currently allowed in flight (the adaptive limit).
        peak_in_flight: The most calls that were in flight at once.
        send_rate: Requests per second the client paces to now (learned from
            429s, or its `max_requests_per_second`); `None` while it does not
            pace (no 429 seen, no limit declared).
    """

    started: int
    completed: int
    failed: int
    requests: int
    retries: int
    rate_limited: int
    concurrency: int
    peak_in_flight: int
    send_rate: float | None = None


class Engine(Generic[I, R, O]):
    """The running part of a fan-out: `concurrency` workers sharing the inputs.

    A fixed set of workers each pull the next input, call the function and
    hand the outcome on, so nothing is spawned per input. The engine's task
    owns both ends of the outcome stream and closes them when it ends: once
    the `FanOut` lets go (`release`), is dropped (see `cancel_when_dropped`;
    the engine holds no reference to it), or its task group closes.
    """

    def __init__(
        self,
        fn: Callable[[I], Awaitable[R]],
        inputs: Iterable[I] | AsyncIterable[I],
        *,
        concurrency: int,
        ordered: bool,
        outcome: Callable[[I, R | None, ZofError | None], O],
        meter: Meter | None = None,
        traffic: Traffic | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        """The engine of a fan-out of `fn` over `inputs`; see `zof.map` for the arguments.

        Requests are counted on `meter` when every call of `fn` names it (an
        exact count, as `bulk_artifacts` does), else on all of `traffic` (the
        client's) while the fan-out runs.
        """
        if numbers.integer("concurrency", concurrency) < 1:
            raise ValueError("concurrency must be at least 1")
        if meter is None:
            meter = Meter()
        else:
            traffic = None
        self._fn = fn
        self._inputs = inputs
        self._ordered = ordered
        self._outcome = outcome
        self._workers = concurrency
        self.limit = AdaptiveLimit(concurrency)
        self.meter = meter
        meter.on_rate_limited = self.limit.rate_limited
        self._traffic = traffic
        self.pacer = pacer
        self.scope = anyio.CancelScope()  # the whole engine: the caller let go
        self._stop = anyio.CancelScope()  # the calls only: a fatal error
        self._released = anyio.Event()
        self._send: MemoryObjectSendStream[O] | None = None
        self._receive: MemoryObjectReceiveStream[O] | None = None
        self.dropped: weakref.finalize[Any, Any] | None = None
        self._source: Iterator[I] | AsyncIterator[I] | None = None
        self._pull_lock = anyio.Lock(fast_acquire=True)
        self._next_index = 0
        self._pending: dict[int, O] = {}
        self._next_out = 0
        self._flushed = anyio.Event()
        self._flush_lock = anyio.Lock(fast_acquire=True)
        self.error: BaseException | None = None
        self.finished = False
        self.counts = {"started": 0, "failed": 0}

    def open(self) -> MemoryObjectReceiveStream[O]:
        """The outcome stream, made only when the engine is about to start."""
        send, receive = anyio.create_memory_object_stream[O](max_buffer_size=self._workers)
        self._send, self._receive = send, receive
        return receive

    async def run(self) -> None:
        assert self._send is not None and self._receive is not None
        try:
            with self.scope:
                with self._send:  # closed at the end: the caller sees the end, or the error
                    if self._traffic is None:
                        await self._work()
                    else:
                        with self._traffic.watch(self.meter):
                            await self._work()
                await self._released.wait()
        finally:
            self.finished = True
            self._send.close()
            self._receive.close()

    async def _work(self) -> None:
        with self._stop:
            try:
                inputs = self._inputs
                self._source = aiter(inputs) if isinstance(inputs, AsyncIterable) else iter(inputs)
                async with anyio.create_task_group() as workers:
                    for _ in range(self._workers):
                        workers.start_soon(self._worker)
            except Exception as exc:
                if isinstance(exc, ExceptionGroup) and len(exc.exceptions) == 1:
                    exc = exc.exceptions[0]
                self.error = exc if self.error is None else self.error

    def release(self) -> None:
        """The caller takes nothing more: cancel every call, close the stream."""
        if self.dropped is not None:
            self.dropped.detach()
        self.scope.cancel()
        if self._receive is not None:
            self._receive.close()
        self._released.set()

    def _take_now(self) -> tuple[int, I] | None:
        """The next input of a plain iterator and its index; `None` at the end."""
        try:
            item = next(self._source)  # type: ignore[arg-type]
        except StopIteration:
            return None
        index = self._next_index
        self._next_index += 1
        return index, item

    async def _take(self) -> tuple[int, I] | None:
        """The next input of an async iterator and its index; `None` at the end."""
        source = self._source
        assert source is not None and not isinstance(source, Iterator)
        async with self._pull_lock:  # an async iterator serves one caller at a time
            try:
                item = await anext(source)
            except StopAsyncIteration:
                return None
        index = self._next_index
        self._next_index += 1
        return index, item

    async def _worker(self) -> None:
        send = self._send
        assert send is not None
        limit, counts, ordered = self.limit, self.counts, self._ordered
        plain = isinstance(self._source, Iterator)  # no lock, no checkpoint to pull
        try:
            while (taken := self._take_now() if plain else await self._take()) is not None:
                index, item = taken
                if ordered:
                    while index >= self._next_out + 2 * limit.cap:
                        await self._flushed.wait()
                if not limit.try_acquire():
                    await limit.acquire()
                counts["started"] += 1
                result = await self._call(item)
                if result is None:
                    return
                if ordered:
                    await self._emit_in_order(index, result)
                else:
                    try:  # wait (a checkpoint) only when the buffer is full
                        send.send_nowait(result)
                    except anyio.WouldBlock:
                        await send.send(result)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            self._stop.cancel()  # the caller stopped listening

    async def _call(self, item: I) -> O | None:
        """Call the function; `None` when a fatal error stopped the fan-out."""
        success = False
        try:
            value = await self._fn(item)
        except FATAL as exc:
            self.error = exc
            self._stop.cancel()
            return None
        except ZofError as exc:
            self.counts["failed"] += 1
            return self._outcome(item, None, exc)
        else:
            success = True
            return self._outcome(item, value, None)
        finally:
            self.limit.release(success=success)

    async def _emit(self, result: O) -> None:
        """Hand an outcome on; wait (a checkpoint) only when the buffer is full."""
        assert self._send is not None
        try:
            self._send.send_nowait(result)
        except anyio.WouldBlock:
            await self._send.send(result)

    async def _emit_in_order(self, index: int, result: O) -> None:
        self._pending[index] = result
        async with self._flush_lock:
            while self._next_out in self._pending:
                ready = self._pending.pop(self._next_out)
                await self._emit(ready)
                self._next_out += 1
        self._flushed.set()
        self._flushed = anyio.Event()


class FanOut(BackgroundWork, Generic[I, R, O]):
    """An async iterator of outcomes, one per input, as they complete (or in order)."""

    def __init__(self, engine: Engine[I, R, O], *, background: Background) -> None:
        self._engine = engine
        self._receive: MemoryObjectReceiveStream[O] | None = None  # made when started
        self._init_background(background)
        self._completed = 0

    @property
    def stats(self) -> FanOutStats:
        """A snapshot of this fan-out's counters."""
        engine = self._engine
        meter, limit = engine.meter, engine.limit
        return FanOutStats(
            started=engine.counts["started"],
            completed=self._completed,
            failed=engine.counts["failed"],
            requests=meter.requests,
            retries=meter.retries,
            rate_limited=meter.rate_limited,
            concurrency=int(limit.limit),
            peak_in_flight=limit.peak,
            send_rate=None if engine.pacer is None else engine.pacer.rate,
        )

    def __aiter__(self) -> FanOut[I, R, O]:
        return self

    async def __anext__(self) -> O:
        if not self._started:
            self._start()
        receive = self._receive
        try:
            if receive is None:
                raise anyio.ClosedResourceError
            try:
                outcome = receive.receive_nowait()  # no event-loop turn when one is ready
            except anyio.WouldBlock:
                outcome = await receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self._engine.release()
            error, self._engine.error = self._engine.error, None
            if error is not None:
                raise error from None
            raise StopAsyncIteration from None
        self._completed += 1
        return outcome

    def _start(self) -> None:
        self._started = True
        if not (self._own.available or self._background.available):
            raise RuntimeError(
                "a fan-out needs a task group: use `async with AsyncZof() as zof:`, or "
                "enter the fan-out itself (`async with zof.results.bulk_artifacts(...) as "
                "outcomes:`, `async with zof.map(...) as outcomes:`)"
            )
        self._receive = self._engine.open()
        self._start_work(self._engine.run)
        self._engine.dropped = cancel_when_dropped(self, self._engine.scope)

    async def aclose(self) -> None:
        """Cancel every call in flight; hand out nothing more."""
        self._started = True  # a fan-out closed before it started never starts
        self._engine.release()
