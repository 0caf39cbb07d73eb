"""`zof_async.ray`: partitioned reads on a local Ray against the served emulator."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import anyio

from tests.lazy import lazy_or_skip
from zof_async import AsyncZof
from zof_async._streaming._arrow import results_schema, runs_schema

from .conftest import RAY_WARNINGS, ROWS, Served, serve

ray = lazy_or_skip("ray", "the ray extra is not installed for this Python")
zray = lazy_or_skip("zof_async.ray", "the extra is not installed")

pytestmark = RAY_WARNINGS


def single_listing(served: Served, kind: str = "results", **filters: Any) -> list[str]:
    """The ids of one in-process listing, the reference every read must match."""
    emulator = served.emulator

    async def listing() -> list[str]:
        async with AsyncZof(api_key=emulator.keys.viewer, transport=emulator.transport()) as zof:
            resource = zof.results if kind == "results" else zof.runs
            return [r.id async for r in resource.list(page_size=1000, **filters)]

    return anyio.run(listing)


def read_ids(ds: Any, schema: Any = None) -> list[str]:
    tables = ray.get(ds.to_arrow_refs())
    assert all(t.schema == (schema or results_schema()) for t in tables)
    return [i for t in tables for i in t.column("id").to_pylist()]


def assert_same_rows(got: list[str], expected: list[str]) -> None:
    assert len(got) == len(set(got)), "a row was read twice"
    assert sorted(got) == sorted(expected)


def test_eight_partitions_read_exactly_the_single_listing(ray_cluster: Any, served: Served) -> None:
    """read_results and read_runs over partitions read exactly the single listing's rows."""
    expected = single_listing(served)
    ds = zray.read_results(
        parallelism=8, api_key=served.emulator.keys.viewer, base_url=served.base_url
    )
    assert len(expected) == ROWS
    assert_same_rows(read_ids(ds), expected)
    runs = zray.read_runs(
        parallelism=2, api_key=served.emulator.keys.viewer, base_url=served.base_url
    )
    assert_same_rows(read_ids(runs, runs_schema()), single_listing(served, "runs"))


def test_a_task_whose_worker_dies_is_retried_by_ray(ray_cluster: Any, served: Served) -> None:
    """Killing a read task's worker mid-read still yields every row exactly once."""
    expected = single_listing(served)
    served.emulator.faults.latency = 0.005  # long enough to kill a task mid-read
    try:
        ds = zray.read_results(
            parallelism=8, page_size=250, block_rows=500,
            api_key=served.emulator.keys.viewer, base_url=served.base_url,
        )  # fmt: skip
        ids: list[str] = []
        killed: list[int] = []
        for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None):
            ids += batch.column("id").to_pylist()
            if not killed:
                killed = [pid for pid in read_task_pids() if kill(pid)][:1]
    finally:
        served.emulator.faults.latency = 0.0
    assert killed, "no read task was running to be killed"
    assert_same_rows(ids, expected)


def test_transient_errors_resume_the_slice_from_its_checkpoint(
    ray_cluster: Any, served: Served
) -> None:
    """503s mid-slice are retried from its checkpoint: no row lost or repeated."""
    expected = single_listing(served, created_after="2026-11-01T00:30:00Z")
    served.emulator.faults.fail_next(2, status=503, route="/results")
    before = served.emulator.stats.count(route="/results", status=503)
    ds = zray.read_results(
        parallelism=4, page_size=500, block_rows=1000, max_retries=0,
        created_after="2026-11-01T00:30:00Z", created_before="2026-11-01T01:00:00Z",
        api_key=served.emulator.keys.viewer, base_url=served.base_url,
    )  # fmt: skip
    assert_same_rows(read_ids(ds), expected)
    assert served.emulator.stats.count(route="/results", status=503) == before + 2


def test_results_finishing_during_the_read_go_to_the_next_read(ray_cluster: Any) -> None:
    """Results landing during a read are left out of it and read by the next window."""
    with serve(rows=4_000) as live:
        emulator = live.emulator
        source = zray.results_datasource(
            api_key=emulator.keys.viewer, base_url=live.base_url, page_size=200, block_rows=400
        )
        planned = single_listing(live)
        stop = threading.Event()

        def keep_finishing_runs() -> None:
            while not stop.is_set():
                emulator.add_run("proj_abc123", suite_id="suite_storefront")
                emulator.advance(30)  # its results land, newer than the plan
                stop.wait(0.005)

        worker = threading.Thread(target=keep_finishing_runs)
        worker.start()
        try:
            ids = read_ids(ray.data.read_datasource(source, override_num_blocks=8))
        finally:
            stop.set()
            worker.join()
        assert_same_rows(ids, planned)
        newer = single_listing(live, created_after=source.created_before)
        assert newer, "no run finished during the read"
        following = zray.read_results(
            created_after=source.created_before, parallelism=4,
            api_key=emulator.keys.viewer, base_url=live.base_url,
        )  # fmt: skip
        assert_same_rows(read_ids(following), newer)
        assert_same_rows(ids + newer, single_listing(live))


def read_task_pids() -> list[int]:
    """Ray workers running one of our read tasks (Ray titles them by task)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"ray::ReadZofResults"):
                pids.append(int(entry.name))
    return pids


def kill(pid: int) -> bool:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True
