"""Per-call `timeout=` and `max_retries=` on every public method, generated from the API.

The methods are found by walking the client's resources (`PUBLIC_METHODS`),
so a new method fails `test_every_public_method_is_exercised` until it is
added to `CALLS`, and then runs through both behaviour tests like the rest.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from trio.testing import MockClock

from tests.helpers import SMOKE
from tests.resources.seam import Ids, Seam, client, emulator_with_runs
from zof_async import APITimeoutError, AsyncZof, WaitTimeoutError, ZofError

pytestmark = pytest.mark.anyio

PER_CALL = ("timeout", "max_retries", "extra_headers", "extra_query")


def _resources(zof: AsyncZof) -> dict[str, object]:
    """The client's public attributes that offer methods sending requests."""
    return {
        name: value
        for name, value in vars(zof).items()
        if not name.startswith("_") and hasattr(value, "with_raw_response")
    }


def _methods() -> list[str]:
    zof = AsyncZof(api_key="zof_test_key", transport=Seam.__new__(Seam))
    found = []
    for name, resource in _resources(zof).items():
        for attr, _ in inspect.getmembers(resource, inspect.ismethod):
            if not attr.startswith("_"):
                found.append(f"{name}.{attr}")
    return sorted(found)


PUBLIC_METHODS = _methods()

Call = Callable[[AsyncZof, Ids, Path, dict[str, Any]], Awaitable[object]]


async def _drain(iterable: Any) -> None:
    async for _ in iterable:
        pass


async def _stream(opened: Any) -> None:
    async with opened as body:
        await _drain(body)


CALLS: dict[str, Call] = {
    "runs.create": lambda z, i, d, o: z.runs.create(**SMOKE, **o),
    "runs.get": lambda z, i, d, o: z.runs.get(i.finished_run, **o),
    "runs.cancel": lambda z, i, d, o: z.runs.cancel(i.queued_run, **o),
    "runs.list": lambda z, i, d, o: _drain(z.runs.list(**o)),
    "runs.artifacts": lambda z, i, d, o: _drain(z.runs.artifacts(i.finished_run, **o)),
    "runs.logs": lambda z, i, d, o: _stream(z.runs.logs(i.finished_run, **o)),
    "runs.watch": lambda z, i, d, o: _drain(z.runs.watch(i.finished_run, **o)),
    "runs.wait_until_complete": lambda z, i, d, o: z.runs.wait_until_complete(i.finished_run, **o),
    "results.get": lambda z, i, d, o: z.results.get(i.result, **o),
    "results.list": lambda z, i, d, o: _drain(z.results.list(run_id=i.finished_run, **o)),
    "results.artifacts": lambda z, i, d, o: _drain(z.results.artifacts(i.result, **o)),
    "results.bulk_artifacts": lambda z, i, d, o: _bulk(z, i, o),
    "results.export": lambda z, i, d, o: _stream(z.results.export(run_id=i.finished_run, **o)),
    "results.export_to": lambda z, i, d, o: z.results.export_to(
        d / "export.csv", run_id=i.finished_run, **o
    ),
    "results.export_rows": lambda z, i, d, o: _drain(
        z.results.export_rows(run_id=i.finished_run, **o)
    ),
    "artifacts.download": lambda z, i, d, o: z.artifacts.download(i.artifact, d / "a.bin", **o),
    "artifacts.read": lambda z, i, d, o: z.artifacts.read(i.artifact, **o),
    "artifacts.open": lambda z, i, d, o: _stream(z.artifacts.open(i.artifact, **o)),
    "artifacts.download_many": lambda z, i, d, o: _many(z, i, d, o),
}


async def _many(zof: AsyncZof, ids: Ids, folder: Path, options: dict[str, Any]) -> None:
    """As `_bulk`, for `download_many` of the one artifact."""
    async for done in zof.artifacts.download_many([ids.artifact_object], folder, **options):
        if done.error is not None:
            raise done.error


async def _bulk(zof: AsyncZof, ids: Ids, options: dict[str, Any]) -> None:
    """A fan-out keeps an item's error in its batch: raise it, as the other methods do."""
    async for batch in zof.results.bulk_artifacts([ids.result], **options):
        if batch.error is not None:
            raise batch.error


def test_every_public_method_is_exercised() -> None:
    """Every public method of every resource has an entry in CALLS (and no stale one)."""
    assert len(PUBLIC_METHODS) >= 16
    assert sorted(CALLS) == PUBLIC_METHODS


@pytest.mark.parametrize("method", PUBLIC_METHODS)
def test_every_public_method_takes_the_per_call_options(method: str) -> None:
    """timeout=, max_retries=, extra_headers=, extra_query= are in each signature."""
    resource, name = method.split(".")
    cls = type(getattr(AsyncZof(api_key="zof_test_key", transport=Seam.__new__(Seam)), resource))
    function = getattr(cls, name)
    hints = typing.get_type_hints(function, include_extras=True)
    accepted = set(inspect.signature(function).parameters)
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            unpacked = typing.get_args(hints[parameter.name])[0]
            accepted |= set(typing.get_type_hints(unpacked))
    missing = [option for option in PER_CALL if option not in accepted]
    assert not missing, f"{method} lacks {missing}"


@pytest.mark.parametrize("method", PUBLIC_METHODS)
@pytest.mark.parametrize("max_retries", [1, 2])
async def test_max_retries_per_call_is_what_each_method_spends(
    method: str, max_retries: int, tmp_path: Path
) -> None:
    """Two injected 503s: max_retries=1 retries once, max_retries=2 twice (client says 5)."""
    emulator, ids = await emulator_with_runs()
    seam = Seam(emulator)
    waits = method in ("runs.watch", "runs.wait_until_complete")  # they poll again
    raised = False
    async with client(seam, emulator, max_retries=5) as zof:
        seam.failures = 2
        try:
            await CALLS[method](zof, ids, tmp_path, {"max_retries": max_retries})
        except ZofError:
            raised = True
    assert zof.stats.retries == max_retries
    assert raised == (max_retries == 1 and not waits)


@pytest.mark.parametrize(
    "anyio_backend", [pytest.param(("trio", {"clock": MockClock(autojump_threshold=0)}), id="trio")]
)
@pytest.mark.parametrize("method", PUBLIC_METHODS)
async def test_timeout_per_call_bounds_each_method(method: str, tmp_path: Path) -> None:
    """A server that never answers: the call's timeout=30 ends it, not the client's 1000 s."""
    emulator, ids = await emulator_with_runs()
    seam = Seam(emulator)
    async with client(seam, emulator, total_timeout=1000) as zof:
        seam.hang = True
        started = anyio.current_time()
        with pytest.raises((APITimeoutError, WaitTimeoutError)):
            await CALLS[method](zof, ids, tmp_path, {"timeout": 30})
        elapsed = anyio.current_time() - started
    assert 30 <= elapsed < 100  # virtual seconds (trio's MockClock)
    assert seam.seen >= 1
