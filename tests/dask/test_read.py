"""`zof_async.dask`: partitioned reads on Dask against the emulator served on 127.0.0.1."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import anyio
import pytest
from anyio.from_thread import start_blocking_portal

from tests.lazy import lazy_or_skip
from zof_async import AsyncZof, AuthenticationError
from zof_async._streaming._arrow import results_schema, runs_schema
from zof_async.testing import Emulator, ManualClock

dd = lazy_or_skip("dask.dataframe", "the dask extra is not installed")
zdask = lazy_or_skip("zof_async.dask", "the extra is not installed")

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


@contextmanager
def served(emulator: Emulator) -> Iterator[str]:
    """`emulator` served over HTTP on 127.0.0.1; its base URL."""
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(emulator.serve()) as base_url,
    ):
        yield base_url


@pytest.fixture(scope="module")
def bursty() -> Iterator[tuple[Emulator, str]]:
    """Default data (two weeks, with bursts) plus a 3,000-result burst, served."""
    emulator = Emulator(clock=ManualClock(T0))
    emulator.add_bulk_run(3_000, run_id="run_burst", artifacts_per_result=0)
    with served(emulator) as base_url:
        yield emulator, base_url


def listing(emulator: Emulator, kind: str = "results", **filters: Any) -> list[str]:
    """The ids of one in-process listing, the reference every read must match."""

    async def ids() -> list[str]:
        async with AsyncZof(api_key=emulator.keys.viewer, transport=emulator.transport()) as zof:
            resource = zof.results if kind == "results" else zof.runs
            return [r.id async for r in resource.list(page_size=1000, **filters)]

    return anyio.run(ids)


def test_four_partitions_are_balanced_and_read_exactly_the_listing(
    bursty: tuple[Emulator, str],
) -> None:
    """4 partitions of bursty data: max/mean <= 1.5, the listing's ids once each, the schema."""
    emulator, base_url = bursty
    df = zdask.read_results(parallelism=4, api_key=emulator.keys.viewer, base_url=base_url)
    assert df.npartitions == 4
    frames = [df.get_partition(i).compute() for i in range(4)]
    rows = [len(f) for f in frames]
    assert max(rows) / statistics.mean(rows) <= 1.5, rows
    ids = [i for f in frames for i in f["id"]]
    expected = listing(emulator)
    assert len(ids) == len(set(ids)) and sorted(ids) == sorted(expected)
    assert list(df.columns) == results_schema().names
    assert list(frames[0].columns) == results_schema().names


def test_filters_and_runs_match_the_listing(bursty: tuple[Emulator, str]) -> None:
    """run_id, status and bounds filter as the listing does; read_runs reads the runs."""
    emulator, base_url = bursty
    key = emulator.keys.viewer
    df = zdask.read_results(
        run_id="run_burst", status=["passed"], created_after="2026-10-31T23:30:00Z",
        created_before="2026-11-01T00:00:00Z", parallelism=3, api_key=key, base_url=base_url,
    )  # fmt: skip
    expected = listing(
        emulator, run_id="run_burst", status="passed",
        created_after="2026-10-31T23:30:00Z", created_before="2026-11-01T00:00:00Z",
    )  # fmt: skip
    assert expected and sorted(df["id"].compute()) == sorted(expected)
    runs = zdask.read_runs(parallelism=2, api_key=key, base_url=base_url).compute()
    assert sorted(runs["id"]) == sorted(listing(emulator, "runs"))
    assert list(runs.columns) == runs_schema().names


def test_the_key_is_never_in_the_graph_s_repr(bursty: tuple[Emulator, str]) -> None:
    """The key travels with the tasks, but no repr of the graph shows it."""
    emulator, base_url = bursty
    df = zdask.read_results(parallelism=2, api_key=emulator.keys.viewer, base_url=base_url)
    graph = df.__dask_graph__()
    shown = repr(dict(graph)) + repr(df) + str(df.dask)
    assert emulator.keys.viewer not in shown
    assert "<redacted>" in repr(dict(graph))


def test_a_refused_key_fails_before_any_task(bursty: tuple[Emulator, str]) -> None:
    """A key the API refuses raises on the client, when the read is planned."""
    _, base_url = bursty
    with pytest.raises(AuthenticationError):
        zdask.read_results(parallelism=2, api_key="zof_refused", base_url=base_url)


@pytest.mark.parametrize("parallelism", [0, -1, True, 1.5])
def test_a_bad_parallelism_is_refused_before_any_request(parallelism: object) -> None:
    """A zero, negative, bool or float parallelism is a ValueError."""
    with pytest.raises(ValueError, match="parallelism"):
        zdask.read_results(parallelism=parallelism, api_key="k", base_url="http://127.0.0.1:9")
