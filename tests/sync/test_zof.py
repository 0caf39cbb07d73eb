"""`Zof` against the emulator: the async client's behaviour, from plain sync code and threads."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import trio

from zof_async import ClientClosedError, NotFoundError, RequestView, Run, WaitPolicy, Zof
from zof_async.testing import Emulator

FAST = WaitPolicy(initial_interval=0.05, max_interval=0.2)


def start(zof: Zof) -> Run:
    """A new run of the smoke suite (half a second long on the fixture's emulator)."""
    return zof.runs.create(
        project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
    )


def loop_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "zof-sync-loop"]


def test_a_thread_pool_of_16_shares_one_client_through_faults(
    zof: Zof, emulator: Emulator, no_backoff: None
) -> None:
    """16 threads calling `results.get` on one `Zof` get every answer, through one loop."""
    ids = [result.id for result in zof.results.list(page_size=1000)][:600]
    threads: set[str] = set()
    zof = zof.with_options(
        max_retries=8, on_request=lambda view: threads.add(threading.current_thread().name)
    )
    emulator.faults.error_rate = 0.05
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(zof.results.get, ids))
    assert [result.id for result in results] == ids
    assert zof.stats.retries > 0  # the faults were met and retried, on the shared pipeline
    assert threads == {"zof-sync-loop"} and loop_threads() == ["zof-sync-loop"]


def test_errors_are_the_async_clients_classes(zof: Zof) -> None:
    """A 404 raises `NotFoundError`, in the caller's thread."""
    with pytest.raises(NotFoundError):
        zof.runs.get("run_does_not_exist")


def test_a_run_is_created_waited_for_and_read(zof: Zof, tmp_path: Path) -> None:
    """create, wait_until_complete (on_update), watch, logs, export_to, export_rows, download."""
    run = start(zof)
    seen: list[str] = []
    done = zof.runs.wait_until_complete(
        run.id, policy=FAST, on_update=lambda r: seen.append(r.status)
    )
    assert done.status == "passed" and seen[-1] == "passed"
    assert [r.status for r in zof.runs.watch(run.id, policy=FAST)][-1] == "passed"
    with zof.runs.logs(run.id) as lines:
        assert any(run.id in line for line in lines) or lines.response is not None
    size = zof.results.export_to(tmp_path / "results.csv", format="csv", run_id=run.id)
    assert size == (tmp_path / "results.csv").stat().st_size > 0
    rows = list(zof.results.export_rows(run_id=run.id))
    assert sorted(r.id for r in rows) == sorted(r.id for r in zof.results.list(run_id=run.id))
    artifact = next(iter(zof.results.artifacts(rows[0].id)))
    assert zof.artifacts.download(artifact, tmp_path / "a" / artifact.name) == artifact.size_bytes


def test_a_pagers_checkpoint_is_the_item_handed_out_not_the_batch(zof: Zof) -> None:
    """Items come in batches of a page; the checkpoint, offset and a second loop stay exact."""
    everything = [r.id for r in zof.results.list(page_size=1000).to_list()]
    pager = zof.results.list(page_size=50)
    first = []
    for result in pager:
        first.append(result.id)
        if len(first) == 120:
            break
    assert first == everything[:120] and pager.offset == 20
    resumed = zof.results.list(page_size=50, resume=pager.checkpoint)
    assert [r.id for r in resumed][:100] == everything[120:220]
    assert next(iter(pager)).id == everything[120]  # the same pager goes on where it was
    pages = zof.runs.list(page_size=5).pages()
    assert [len(page.items) for page in pages][:2] == [5, 5]


def test_leaving_a_fan_out_early_stops_its_requests(zof: Zof, emulator: Emulator) -> None:
    """`break` out of `with bulk_artifacts(...)` cancels the calls in flight: no more requests."""
    ids = [r.id for r in zof.results.list(page_size=1000)][:2000]
    emulator.faults.latency = 0.02
    route = "/results/{id}/artifacts"
    with zof.results.bulk_artifacts(ids, concurrency=8) as batches:
        for batch in batches:
            assert batch.artifacts is not None
            break
    time.sleep(0.1)  # what was in flight as the block ended settles (or was cancelled)
    sent = emulator.stats.count(route=route)
    time.sleep(0.3)
    assert emulator.stats.count(route=route) == sent < 100


def test_a_sync_pager_is_the_input_of_a_fan_out(zof: Zof) -> None:
    """`bulk_artifacts(zof.results.list(...))` walks the pager in the loop, items taken first."""
    run = zof.runs.wait_until_complete(start(zof).id, policy=FAST)
    pager = zof.results.list(run_id=run.id, page_size=10)
    head = [next(iter(pager)).id for _ in range(3)]
    ids = {r.id for r in zof.results.list(run_id=run.id)}
    got = {batch.result_id for batch in zof.results.bulk_artifacts(pager, concurrency=16)}
    assert got == ids - set(head)


def test_a_zof_works_inside_a_running_event_loop(zof: Zof) -> None:
    """From asyncio and trio code a call runs on the client's own loop (blocking the caller's)."""

    async def inside() -> Run:
        return start(zof)

    assert asyncio.run(inside()).status is not None
    assert trio.run(inside).status is not None


def test_calling_a_zof_from_its_own_loop_thread_raises(zof: Zof) -> None:
    """A hook that calls the same `Zof` would wait on itself: it raises instead of hanging."""
    zof = zof.with_options(on_request=lambda view: zof.runs.get("run_x"))
    calls: list[RequestView] = []
    hooked = zof.with_options(on_request=calls.append)
    run = start(zof)  # the hook's RuntimeError is logged, never breaks the call
    assert hooked.runs.get(run.id).id == run.id and calls

    def again(_: Run) -> None:
        zof.runs.get(run.id)

    with pytest.raises(RuntimeError, match="own event loop thread"):
        zof.runs.wait_until_complete(run.id, policy=FAST, on_update=again)


def test_close_closes_what_is_open_without_resource_warnings(emulator: Emulator) -> None:
    """Pagers, streams and fan-outs left open are closed by `close()`; nothing leaks or runs."""
    zof = Zof(api_key=emulator.keys.qa, transport=emulator.transport())
    run = start(zof)
    pager = zof.results.list(page_size=10)
    next(iter(pager))
    logs = zof.runs.logs(run.id)
    logs.open()
    export = zof.results.export(format="json")
    next(export)
    fan = zof.results.bulk_artifacts(zof.results.list(), concurrency=4)
    next(fan)
    assert zof.stats.in_flight > 0  # the streams hold their connections
    zof.close()
    gc.collect()  # with warnings as errors, a ResourceWarning fails the test
    assert loop_threads() == [] and zof.stats.in_flight == 0 and zof.is_closed
    with pytest.raises(ClientClosedError):
        zof.runs.get(run.id)
    assert list(pager) == [] and list(fan) == []
    zof.close()  # idempotent


def test_close_returns_after_pagers_and_fan_outs_were_dropped(emulator: Emulator) -> None:
    """Async objects dropped with their sync wrappers are freed in the loop, so close() ends.

    (A pager freed in the caller's thread cancelled its prefetch from there,
    which anyio never delivered: close() waited for that task forever.)
    """
    zof = Zof(api_key=emulator.keys.qa, transport=emulator.transport())
    assert zof.runs.list(page_size=2).next_page() is not None  # page 2 prefetched, held
    next(zof.results.bulk_artifacts(zof.results.list(), concurrency=4))
    gc.collect()
    time.sleep(0.2)  # the prefetch blocks, waiting for a pager that is gone
    closing = threading.Thread(target=zof.close, daemon=True)
    closing.start()
    closing.join(20)
    assert not closing.is_alive() and loop_threads() == []


def test_arrow_batches_come_one_per_page(zof: Zof) -> None:
    """`pager.arrow_batches()` from sync code: one `RecordBatch` per page, every item once."""
    pytest.importorskip("pyarrow", reason="the pyarrow extra is not installed")
    ids = [result.id for result in zof.results.list(page_size=1000)]
    batches = list(zof.results.list(page_size=250).arrow_batches())
    assert [batch.num_rows for batch in batches[:-1]] == [250] * (len(batches) - 1)
    assert [i for batch in batches for i in batch.column("id").to_pylist()] == ids


def test_artifact_bytes_and_raw_answers(zof: Zof, tmp_path: Path) -> None:
    """read, open, download_many and a raw stream's metadata, from sync code."""
    result = next(iter(zof.results.list()))
    artifact = next(iter(zof.results.artifacts(result.id)))
    content = zof.artifacts.read(artifact)
    assert len(content) == artifact.size_bytes
    with zof.artifacts.open(artifact) as body:
        assert b"".join(body) == content
    [done] = list(zof.artifacts.download_many([artifact], tmp_path))
    assert done.ok and done.path.read_bytes() == content
    with zof.artifacts.with_raw_response.open(artifact) as raw:
        assert raw.request_id and b"".join(raw.parsed) == content
    pages = list(zof.runs.with_raw_response.list(project_id="proj_abc", page_size=5))
    assert all(page.request_id for page in pages) and len({p.request_id for p in pages}) == len(
        pages
    )
