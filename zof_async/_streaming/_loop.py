"""One `async for` over a pager, made so that leaving the loop can be seen."""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar

E = TypeVar("E")


class LoopOwner(Protocol):
    """What a `Loop` tells when it begins and when it is left (a `Pager`)."""

    def _loop_begun(self) -> int: ...

    def _loop_left(self, loop: int) -> None: ...


class Loop(Generic[E]):
    """One `async for` over a pager: leaving the loop stops the pager's prefetch.

    Python gives an async iterator no sign that a loop was left early, and
    a kept pager (to resume from) is never garbage-collected. So `__aiter__`
    hands each loop an object of its own, referenced only by the loop:
    CPython frees it the moment the loop is left (`break`, `return`, an
    exception from the body or from waiting for a page), and its finalizer
    stops the prefetch task before that task runs again. Runtimes without
    reference counting (PyPy) stop it at their next collection, as for a
    dropped pager; `aclose()` and `async with` stop it at once everywhere.
    `__anext__` hands on the pager's own awaitable: no extra frame per item.
    """

    __slots__ = ("__weakref__", "_next")

    def __init__(self, pager: LoopOwner, step: Callable[[], Awaitable[E]]) -> None:
        self._next = step
        finalizer = weakref.finalize(self, _loop_left, pager, pager._loop_begun())
        finalizer.atexit = False

    def __aiter__(self) -> Loop[E]:
        return self

    def __anext__(self) -> Awaitable[E]:
        return self._next()


def _loop_left(pager: LoopOwner, loop: int) -> None:
    with contextlib.suppress(RuntimeError):  # freed after its event loop closed
        pager._loop_left(loop)
