"""Sync methods derived from async ones: the same parameters, the sync return type.

`derive(owner, method)` is the one wrapper: it runs the async method in the
client's loop and hands back what it returns, made sync by its kind (a
coroutine's value as it is; a `Pager`, a fan-out, a stream or an async
iterator as the sync object of the same name). Its overloads say so to
mypy, with the method's own `ParamSpec`: no signature is copied, and
`inspect.signature` shows the async method's parameters with the sync
return type. Arguments that are this package's sync iterators (a
`SyncPager` as the input of `bulk_artifacts`) are handed over as their
async originals, so the loop never waits on its own thread.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, overload

from .._resources._raw import RawOpening
from .._streaming._artifact_body import ArtifactBody
from .._streaming._fanout import FanOut
from .._streaming._pagination import Pager
from .._streaming._streams import ByteStream, LineStream, _Stream
from ._pagers import SyncPager
from ._pump import SyncFanOut, SyncIterator, SyncRawOpening, SyncStream
from ._runner import Runner

__all__ = ["Owner", "derive", "made_sync", "same_arguments_as", "sync_annotation"]

P = ParamSpec("P")
T = TypeVar("T")
O = TypeVar("O")  # noqa: E741


class Owner(Protocol):
    """What derived methods run on: the client's runner (the client is kept alive by them)."""

    @property
    def _runner(self) -> Runner: ...


@overload
def derive(owner: Owner, method: Callable[P, Pager[T]]) -> Callable[P, SyncPager[T]]: ...  # type: ignore[overload-overlap]
@overload
def derive(
    owner: Owner, method: Callable[P, FanOut[Any, Any, O]]
) -> Callable[P, SyncFanOut[O]]: ...
@overload
def derive(
    owner: Owner, method: Callable[P, RawOpening[LineStream]]
) -> Callable[P, SyncRawOpening[str]]: ...
@overload
def derive(
    owner: Owner, method: Callable[P, RawOpening[ByteStream]]
) -> Callable[P, SyncRawOpening[bytes]]: ...
@overload
def derive(
    owner: Owner, method: Callable[P, RawOpening[ArtifactBody]]
) -> Callable[P, SyncRawOpening[bytes]]: ...
@overload
def derive(owner: Owner, method: Callable[P, LineStream]) -> Callable[P, SyncStream[str]]: ...
@overload
def derive(owner: Owner, method: Callable[P, ByteStream]) -> Callable[P, SyncStream[bytes]]: ...
@overload
def derive(owner: Owner, method: Callable[P, AsyncIterator[T]]) -> Callable[P, SyncIterator[T]]: ...
@overload
def derive(owner: Owner, method: Callable[P, Awaitable[T]]) -> Callable[P, T]: ...
def derive(owner: Owner, method: Callable[P, Any]) -> Callable[P, Any]:
    """`method` for sync code (see the module's docstring)."""
    runner = owner._runner

    @functools.wraps(method)
    def blocking(*args: P.args, **kwargs: P.kwargs) -> Any:
        handed = tuple(_handed_over(arg) for arg in args)
        named = {name: _handed_over(value) for name, value in kwargs.items()}
        return made_sync(owner, runner.call(method, *handed, **named))

    signature = inspect.signature(method)
    blocking.__signature__ = signature.replace(  # type: ignore[attr-defined]
        return_annotation=sync_annotation(signature.return_annotation)
    )
    return blocking


def made_sync(owner: Owner, value: Any) -> Any:
    """What an async method returned, as sync code uses it."""
    runner = owner._runner
    if isinstance(value, Pager):
        return SyncPager(runner, value, keep=owner)
    if isinstance(value, FanOut):
        return SyncFanOut(runner, value, keep=owner)
    if isinstance(value, _Stream):
        return SyncStream(runner, value, keep=owner)
    if isinstance(value, RawOpening):
        return SyncRawOpening(runner, value, keep=owner)
    if isinstance(value, AsyncIterator):
        return SyncIterator(runner, value, keep=owner)
    return value


def _handed_over(value: object) -> object:
    if isinstance(value, SyncPager | SyncIterator):
        return value.as_async()
    return value


_RULES = [
    (re.compile(r"^Pager\[(.*)\]$"), r"SyncPager[\1]"),
    (re.compile(r"^FanOut\[.*, ([^,\[\]]+(?:\[.*\])?)\]$"), r"SyncFanOut[\1]"),
    (re.compile(r"^FanOut\[(Outcome\[.*\])\]$"), r"SyncFanOut[\1]"),
    (re.compile(r"^RawPages\[.*\]$"), "SyncIterator[RawResponse[Page]]"),
    (re.compile(r"^RawOpening\[LineStream\]$"), "SyncRawOpening[str]"),
    (re.compile(r"^RawOpening\[(ByteStream|ArtifactBody)\]$"), "SyncRawOpening[bytes]"),
    (re.compile(r"^ArtifactBody$"), "SyncStream[bytes]"),
    (re.compile(r"^LineStream$"), "SyncStream[str]"),
    (re.compile(r"^ByteStream$"), "SyncStream[bytes]"),
    (re.compile(r"^AsyncIterator\[(.*)\]$"), r"SyncIterator[\1]"),
    (re.compile(r"^AsyncZof$"), "Zof"),
]


def sync_annotation(annotation: object) -> object:
    """The return annotation (a string, as this package writes them) a sync method shows."""
    if not isinstance(annotation, str):
        return annotation
    for pattern, replacement in _RULES:
        if pattern.match(annotation):
            return pattern.sub(replacement, annotation)
    return annotation


S = TypeVar("S")


def same_arguments_as(
    original: Callable[Concatenate[Any, P], None],
) -> Callable[[Callable[Concatenate[S, ...], None]], Callable[Concatenate[S, P], None]]:
    """Give a constructor `original`'s parameters (for mypy and for `inspect.signature`)."""

    def decorate(init: Callable[Concatenate[S, ...], None]) -> Callable[Concatenate[S, P], None]:
        init.__signature__ = inspect.signature(original)  # type: ignore[attr-defined]
        init.__doc__ = init.__doc__ or original.__doc__
        return init

    return decorate
