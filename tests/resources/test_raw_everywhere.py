"""`with_raw_response` on every public method that talks to the API, walked and called.

The walk finds every public method of every resource of `AsyncZof`; each
must have a twin under `with_raw_response` with the same parameters, and a
call of the twin against the emulator must report answers the emulator gave
(their `X-Request-Id`s, seen by a transport between the two).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.resources.seam import Ids, Seam, client, emulator_with_runs
from zof_async import AsyncZof, Outcome, Page, RawResponse, Run

pytestmark = pytest.mark.anyio

NO_API = {"webhooks"}  # verifies signatures locally: it sends no request
Call = Callable[[AsyncZof, Ids, Path], Awaitable[list[RawResponse[Any]]]]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every test here runs on asyncio and on trio."""
    return str(request.param)


def _public_methods(zof: AsyncZof) -> dict[str, Any]:
    """`resource.method` for every public method of every resource of the client."""
    found = {}
    for name, resource in vars(zof).items():
        if name.startswith("_") or name in NO_API or not hasattr(resource, "_pipeline"):
            continue
        for attr, method in inspect.getmembers(resource, inspect.ismethod):
            if not attr.startswith("_"):
                found[f"{name}.{attr}"] = method
    return found


async def _await(zof: AsyncZof, path: str, *args: Any, **kwargs: Any) -> list[RawResponse[Any]]:
    resource, method = path.split(".")
    return [await getattr(getattr(zof, resource).with_raw_response, method)(*args, **kwargs)]


async def _each(zof: AsyncZof, path: str, *args: Any, **kwargs: Any) -> list[RawResponse[Any]]:
    resource, method = path.split(".")
    twin = getattr(getattr(zof, resource).with_raw_response, method)
    return [raw async for raw in twin(*args, **kwargs)]


async def _opened(zof: AsyncZof, path: str, *args: Any, **kwargs: Any) -> list[RawResponse[Any]]:
    resource, method = path.split(".")
    twin = getattr(getattr(zof, resource).with_raw_response, method)
    async with twin(*args, **kwargs) as raw:
        body = [part async for part in raw.parsed]
    assert body, path
    return [raw]


async def _fanned(zof: AsyncZof, path: str, *args: Any, **kwargs: Any) -> list[RawResponse[Any]]:
    resource, method = path.split(".")
    twin = getattr(getattr(zof, resource).with_raw_response, method)
    outcomes = [outcome async for outcome in twin(*args, **kwargs)]
    assert all(isinstance(o, Outcome) and o.ok for o in outcomes), outcomes
    return [o.value for o in outcomes]


CALLS: dict[str, Call] = {
    "runs.create": lambda z, i, t: _await(
        z,
        "runs.create",
        project_id="proj_abc",
        environment="staging",
        test_suite_id="suite_pr_smoke",
    ),
    "runs.get": lambda z, i, t: _await(z, "runs.get", i.finished_run),
    "runs.cancel": lambda z, i, t: _await(z, "runs.cancel", i.queued_run),
    "runs.list": lambda z, i, t: _each(z, "runs.list", page_size=1),
    "runs.artifacts": lambda z, i, t: _each(z, "runs.artifacts", i.finished_run, page_size=10),
    "runs.logs": lambda z, i, t: _opened(z, "runs.logs", i.finished_run),
    "runs.watch": lambda z, i, t: _each(z, "runs.watch", i.finished_run),
    "runs.wait_until_complete": lambda z, i, t: _await(
        z, "runs.wait_until_complete", i.finished_run
    ),
    "results.get": lambda z, i, t: _await(z, "results.get", i.result),
    "results.list": lambda z, i, t: _each(z, "results.list", run_id=i.finished_run, page_size=10),
    "results.artifacts": lambda z, i, t: _each(z, "results.artifacts", i.result),
    "results.bulk_artifacts": lambda z, i, t: _fanned(z, "results.bulk_artifacts", [i.result]),
    "results.export": lambda z, i, t: _opened(z, "results.export", run_id=i.finished_run),
    "results.export_to": lambda z, i, t: _await(z, "results.export_to", t / "export.csv"),
    "results.export_rows": lambda z, i, t: _each(z, "results.export_rows", run_id=i.finished_run),
    "artifacts.download": lambda z, i, t: _await(z, "artifacts.download", i.artifact, t / "a"),
    "artifacts.open": lambda z, i, t: _opened(z, "artifacts.open", i.artifact),
    "artifacts.read": lambda z, i, t: _await(z, "artifacts.read", i.artifact),
    "artifacts.download_many": lambda z, i, t: _fanned(
        z, "artifacts.download_many", [i.artifact_object], t / "many"
    ),
}


def test_the_walk_finds_every_public_method_and_each_has_a_twin() -> None:
    """Every public method of every resource is called below; each twin takes its parameters."""
    zof = AsyncZof(api_key="zof_test_key", base_url="http://127.0.0.1:9/v1")
    methods = _public_methods(zof)
    assert set(methods) == set(CALLS)
    for path, method in methods.items():
        resource, name = path.split(".")
        twin = getattr(getattr(zof, resource).with_raw_response, name, None)
        assert twin is not None, f"{resource}.with_raw_response lacks {name}"
        want = list(inspect.signature(method).parameters.values())
        assert list(inspect.signature(twin).parameters.values()) == want, path


@pytest.mark.parametrize("path", sorted(CALLS))
async def test_every_twin_reports_the_answers_it_came_from(path: str, tmp_path: Path) -> None:
    """Each twin's RawResponses carry the status and request ids of the emulator's answers."""
    emulator, ids = await emulator_with_runs()
    seam = Seam(emulator)
    async with client(seam, emulator) as zof:
        raws = await CALLS[path](zof, ids, tmp_path)
    assert raws, path
    for raw in raws:
        assert isinstance(raw, RawResponse)
        assert raw.status_code in (200, 201)
        assert raw.request_id in seam.request_ids
        assert raw.headers["x-request-id"] == raw.request_id
        assert raw.retries_taken == 0
    if path.endswith(("list", "artifacts")) and path != "results.bulk_artifacts":
        pages = [raw.parsed for raw in raws]
        assert all(isinstance(page, Page) for page in pages)
        assert [page.request_id for page in pages] == [raw.request_id for raw in raws]
        assert len(set(seam.request_ids[-len(raws) :])) == len(raws)


async def test_a_listings_twin_gives_each_pages_own_answer() -> None:
    """Pages of `runs.list` one by one: one RawResponse per page, in the order served."""
    emulator, _ = await emulator_with_runs()
    seam = Seam(emulator)
    async with client(seam, emulator) as zof:
        seen = len(seam.request_ids)
        raws = [raw async for raw in zof.runs.with_raw_response.list(page_size=1)]
        runs = [run async for run in zof.runs.list(page_size=100)]
    assert len(raws) == len(runs) >= 2
    assert [raw.request_id for raw in raws] == seam.request_ids[seen : seen + len(raws)]
    assert [raw.parsed.items[0] for raw in raws] == runs
    assert isinstance(runs[0], Run)


@pytest.mark.usefixtures("no_backoff")
async def test_a_streams_twin_reports_its_answer_on_opening() -> None:
    """`runs.logs`: the metadata is there as the block starts, retries counted, before any line."""
    emulator, ids = await emulator_with_runs()
    emulator.faults.fail_next(2, status=503, route="/runs/{id}/logs")
    seam = Seam(emulator)
    async with client(seam, emulator) as zof:
        async with zof.runs.with_raw_response.logs(ids.finished_run) as raw:
            assert raw.retries_taken == 2
            assert raw.headers["content-type"].startswith("text/plain")
            first = await raw.parsed.__anext__()
        assert first


async def test_concurrent_twins_of_a_fan_out_report_each_items_answer() -> None:
    """bulk_artifacts' twin: each outcome's RawResponse is its own request's."""
    emulator, ids = await emulator_with_runs()
    seam = Seam(emulator)
    async with client(seam, emulator) as zof:
        results = [r.id async for r in zof.results.list(run_id=ids.finished_run)][:6]
        seen = len(seam.request_ids)
        with anyio.fail_after(30):
            outcomes = [
                o
                async for o in zof.results.with_raw_response.bulk_artifacts(results, concurrency=3)
            ]
    assert sorted(o.input for o in outcomes) == sorted(results)
    raws = [o.value for o in outcomes]
    assert all(raw is not None for raw in raws)
    request_ids = [raw.request_id or "" for raw in raws if raw is not None]
    assert sorted(request_ids) == sorted(seam.request_ids[seen:])
    for outcome in outcomes:
        assert outcome.value is not None
        assert all(a.result_id == outcome.input for a in outcome.value.parsed)
