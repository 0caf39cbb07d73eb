"""`Zof` has every public method of `AsyncZof`, with the same parameters and the sync return type.

The walk goes through the clients, their resources and their
`with_raw_response`, and through the objects methods return (pagers,
fan-outs, streams): an async method added without its sync counterpart, or
with other parameters, fails here. Return types are compared with the table
below, written out by hand: a return type it does not know fails too, so
that someone decides what its sync form is.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

import zof_async
from zof_async import AsyncZof, Zof
from zof_async._streaming._fanout import FanOut
from zof_async._streaming._pagination import Pager
from zof_async._streaming._streams import LineStream
from zof_async._sync._pagers import SyncPager
from zof_async._sync._pump import SyncFanOut, SyncStream

KEY = "zof_test_parity"

SYNC_RETURNS = {  # the async method's return annotation -> the sync method's
    "Pager[Run]": "SyncPager[Run]",
    "Pager[Result]": "SyncPager[Result]",
    "Pager[Artifact]": "SyncPager[Artifact]",
    "FanOut[str | Result, tuple[Artifact, ...], ArtifactBatch]": "SyncFanOut[ArtifactBatch]",
    "FanOut[I, R, Outcome[I, R]]": "SyncFanOut[Outcome[I, R]]",
    "LineStream": "SyncStream[str]",
    "ByteStream": "SyncStream[bytes]",
    "AsyncIterator[Run]": "SyncIterator[Run]",
    "AsyncIterator[Result]": "SyncIterator[Result]",
    "FanOut[Artifact, tuple[int, bool], ArtifactDownload]": "SyncFanOut[ArtifactDownload]",
    "FanOut[Outcome[RawResponse]]": "SyncFanOut[Outcome[RawResponse]]",
    "ArtifactBody": "SyncStream[bytes]",
    "RawPages[Pager[Run]]": "SyncIterator[RawResponse[Page]]",
    "RawPages[Pager[Result]]": "SyncIterator[RawResponse[Page]]",
    "RawPages[Pager[Artifact]]": "SyncIterator[RawResponse[Page]]",
    "RawOpening[LineStream]": "SyncRawOpening[str]",
    "RawOpening[ByteStream]": "SyncRawOpening[bytes]",
    "RawOpening[ArtifactBody]": "SyncRawOpening[bytes]",
    "AsyncIterator[RawResponse[AsyncIterator[Run]]]": "SyncIterator[RawResponse[AsyncIterator[Run]]]",
    "AsyncIterator[RawResponse[AsyncIterator[Result]]]": (
        "SyncIterator[RawResponse[AsyncIterator[Result]]]"
    ),
    "AsyncZof": "Zof",
    "httpx.URL": "httpx.URL",
}
"""Return annotations of methods that are not coroutines (a coroutine's value stays as it is)."""

RENAMED = {"aclose": "close"}  # the async name -> the sync one
ASYNC_ONLY: dict[str, str] = {}  # names with no sync form, and why (none today)
SYNC_OBJECTS = [(Pager, SyncPager), (FanOut, SyncFanOut), (LineStream, SyncStream)]
NOT_ON_SYNC_OBJECTS = {
    "ready": "how many items of the page the async pager holds: what the sync pager batches by",
}


def public(obj: object) -> dict[str, Any]:
    """The public attributes of `obj` (an instance), by name."""
    return {name: getattr(obj, name) for name in dir(obj) if not name.startswith("_")}


def expected_return(method: Callable[..., Any]) -> object:
    """What the sync counterpart of `method` must say it returns."""
    annotation = inspect.signature(method).return_annotation
    if inspect.iscoroutinefunction(method):
        return annotation
    assert annotation in SYNC_RETURNS, (
        f"{method.__qualname__} returns {annotation}: add its sync form"
    )
    return SYNC_RETURNS[annotation]


def compare(path: str, async_obj: object, sync_obj: object) -> list[str]:
    """Differences between an async object's public API and its sync counterpart's."""
    problems: list[str] = []
    mine, theirs = public(async_obj), public(sync_obj)
    for name, value in mine.items():
        sync_name = RENAMED.get(name, name)
        if name in ASYNC_ONLY:
            continue
        if sync_name not in theirs:
            problems.append(f"{path}.{name}: no sync counterpart")
            continue
        counterpart = theirs[sync_name]
        if inspect.ismethod(value) or inspect.isfunction(value):
            problems += compare_methods(f"{path}.{name}", value, counterpart)
        elif type(value).__module__.startswith("zof_async._resources"):
            problems += compare(f"{path}.{name}", value, counterpart)
    extra = set(theirs) - {RENAMED.get(n, n) for n in mine}
    problems += [f"{path}.{name}: only on the sync side" for name in sorted(extra)]
    return problems


def compare_methods(path: str, async_method: Any, sync_method: Any) -> list[str]:
    if async_method.__name__ == "aclose":  # `close()`, sync
        return [] if not inspect.iscoroutinefunction(sync_method) else [f"{path}: a coroutine"]
    async_sig, sync_sig = inspect.signature(async_method), inspect.signature(sync_method)
    problems = []
    if inspect.iscoroutinefunction(sync_method):
        problems.append(f"{path}: the sync method is a coroutine function")
    if list(async_sig.parameters.values()) != list(sync_sig.parameters.values()):
        problems.append(f"{path}: parameters {sync_sig} differ from {async_sig}")
    if sync_sig.return_annotation != expected_return(async_method):
        problems.append(f"{path}: returns {sync_sig.return_annotation}")
    return problems


def test_every_async_method_has_its_sync_counterpart_with_the_same_parameters() -> None:
    """Walking both clients' public API finds the same names, parameters and return types."""
    assert compare("zof", AsyncZof(api_key=KEY), Zof(api_key=KEY)) == []


def test_the_constructor_takes_the_async_clients_arguments() -> None:
    """`Zof(...)` shows and takes exactly `AsyncZof(...)`'s parameters."""
    assert inspect.signature(Zof) == inspect.signature(AsyncZof)
    with pytest.raises(TypeError, match="bogus"):
        Zof(api_key=KEY, bogus=1)  # type: ignore[call-arg]


@pytest.mark.parametrize(("async_type", "sync_type"), SYNC_OBJECTS)
def test_returned_objects_have_the_async_objects_public_names(
    async_type: type, sync_type: type
) -> None:
    """A sync pager, fan-out and stream offer every public method of their async originals."""
    missing = [
        name
        for name in dir(async_type)
        if not name.startswith("_")
        and name not in NOT_ON_SYNC_OBJECTS
        and not hasattr(sync_type, RENAMED.get(name, name))
    ]
    assert missing == []


def test_a_missing_method_is_caught() -> None:
    """The walk reports a method the sync side lacks, and one with other parameters."""

    class Async:
        async def get(self, run_id: str, *, timeout: float | None = None) -> int:
            return 1

        async def gone(self) -> None:
            pass

    class Sync:
        def get(self, run_id: str, *, timeout: float | None = 5) -> int:
            return 1

    assert compare("x", Async(), Sync()) == [
        "x.get: parameters (run_id: 'str', *, timeout: 'float | None' = 5) -> 'int' differ "
        "from (run_id: 'str', *, timeout: 'float | None' = None) -> 'int'",
        "x.gone: no sync counterpart",
    ]


def test_zof_is_public() -> None:
    """`zof_async.Zof` is the synchronous client, named as such."""
    assert zof_async.Zof is Zof and repr(Zof) == "<class 'zof_async.Zof'>"
