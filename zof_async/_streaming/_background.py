"""Where the client's background work runs: one task group, owned by `async with`.

Prefetching pagers and fan-outs need tasks that run while the caller's loop
body runs. Those tasks live in this task group, opened by
`async with AsyncZof() as zof:` and cancelled when it exits, so nothing the
SDK starts outlives the client. Each piece of work runs under its own cancel
scope, which its iterator cancels when the caller leaves the loop.

Work started here must never raise: it hands its errors to its consumer, so
a failure in one pager cannot cancel the caller's `async with` block.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

if TYPE_CHECKING:  # anyio.abc costs `import zof_async` ~20 ms; tasks load it when they start
    from anyio.abc import TaskGroup


class Background:
    """An optional task group; `start` says whether work could be started."""

    def __init__(self) -> None:
        self._group: TaskGroup | None = None
        self._host: int | None = None

    @property
    def available(self) -> bool:
        return self._group is not None

    def start(self, work: Callable[[], Coroutine[Any, Any, None]]) -> bool:
        """Run `work` in the task group; `False` if there is none (no `async with`)."""
        if self._group is None:
            return False
        self._group.start_soon(work)
        return True

    async def __aenter__(self) -> Background:
        group = anyio.create_task_group()
        await group.__aenter__()
        self._group = group
        self._host = anyio.get_current_task().id
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        group, self._group = self._group, None
        if group is None:
            return None
        group.cancel_scope.cancel()
        if anyio.get_current_task().id != self._host:
            # Entered in one task, left in another (pytest-asyncio runs an
            # async fixture's setup and teardown in different tasks). A task
            # group cannot be exited there; cancelling it stops the work,
            # which is all that exiting would add, since the work never raises.
            return None
        # The caller's exception is not handed to the group: anyio would wrap
        # it in an ExceptionGroup, and `except NotFoundError` around
        # `async with AsyncZof()` must keep working. The work never raises.
        await group.__aexit__(None, None, None)
        return None


W = TypeVar("W", bound="BackgroundWork")


def cancel_when_dropped(owner: object, scope: anyio.CancelScope) -> weakref.finalize[Any, Any]:
    """Cancel `scope` once `owner` is garbage-collected; `detach()` the result to stop that.

    A caller that `break`s out of `async for` without `aclose()` or `async
    with` gives no other sign that it is done. This is only that early sign:
    no resource waits for it. The work it cancels closes its own streams
    however it ends, at the latest when its task group closes.
    """
    finalizer = weakref.finalize(owner, _cancel_quietly, scope, *_this_loop())
    finalizer.atexit = False
    return finalizer


def _this_loop() -> tuple[int, Callable[[Callable[[], object]], object] | None]:
    """This thread, and how another thread hands a callback to the event loop running here."""
    import sniffio

    thread = threading.get_ident()
    try:
        library = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:  # not in an event loop: cancel where freed
        return thread, None
    if library == "asyncio":
        import asyncio

        return thread, asyncio.get_running_loop().call_soon_threadsafe
    if library == "trio":
        import trio

        return thread, trio.lowlevel.current_trio_token().run_sync_soon
    return thread, None


def _cancel_quietly(
    scope: anyio.CancelScope,
    thread: int,
    hand_over: Callable[[Callable[[], object]], object] | None,
) -> None:
    """Cancel `scope` in its event loop's thread: the cyclic collector may run in any thread.

    A scope cancelled from another thread was marked cancelled but never
    woke its task, and whatever waited for that task waited forever.
    """
    with contextlib.suppress(RuntimeError):  # the event loop is already gone
        if hand_over is None or threading.get_ident() == thread:
            scope.cancel()
        else:
            hand_over(scope.cancel)


class BackgroundWork:
    """Base of iterators whose work runs in the background (pagers, fan-outs).

    The work runs in the client's task group; inside `async with` of a client
    that has none, in the iterator's own. Leaving the block closes the work.
    """

    _background: Background
    _own: Background
    _started: bool

    def _init_background(self, background: Background) -> None:
        self._background = background
        self._own = Background()
        self._started = False

    def _wants_task_group(self) -> bool:
        return True

    def _start_work(self, work: Callable[[], Coroutine[Any, Any, None]]) -> bool:
        """Start `work` in the iterator's task group or the client's; `False` if neither."""
        return self._own.start(work) or self._background.start(work)

    async def aclose(self) -> None:
        raise NotImplementedError

    async def __aenter__(self: W) -> W:
        if not self._started and self._wants_task_group() and not self._background.available:
            await self._own.__aenter__()  # no client task group: bring our own
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
        await self._own.__aexit__(None, None, None)
