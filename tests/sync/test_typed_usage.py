"""A typed usage example of `Zof`: `nox -s typing` (mypy --strict) checks every `assert_type`.

The types are the async client's, made sync: a coroutine's value as it is,
a `Pager[T]` as a `SyncPager[T]`, a fan-out of `ArtifactBatch` as a
`SyncFanOut[ArtifactBatch]`, a log as a `SyncStream[str]`. It also runs,
against the emulator, so the example is true at run time as well.
"""

from __future__ import annotations

import sys
from pathlib import Path

from zof_async import (
    ArtifactBatch,
    FanOutStats,
    Outcome,
    Page,
    RawResponse,
    Result,
    Run,
    WaitPolicy,
    Zof,
)
from zof_async._sync._pagers import SyncPager
from zof_async._sync._pump import SyncFanOut, SyncIterator, SyncStream

if sys.version_info >= (3, 11):
    from typing import assert_type
else:
    from typing_extensions import assert_type


async def double(n: int) -> int:
    return 2 * n


def test_the_typed_example_runs(zof: Zof, tmp_path: Path) -> None:
    """Every sync method's type is exact (mypy), and the calls work (pytest)."""
    run = zof.runs.create(
        project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
    )
    assert_type(run, Run)
    policy = WaitPolicy(initial_interval=0.05, max_interval=0.2)
    assert_type(zof.runs.wait_until_complete(run.id, timeout=60, policy=policy), Run)
    assert_type(zof.runs.watch(run.id, policy=policy), SyncIterator[Run])
    results = zof.results.list(run_id=run.id, status=["passed"], page_size=10)
    assert_type(results, SyncPager[Result])
    first: Result = next(iter(results))
    assert_type(results.checkpoint, str)
    assert_type(zof.runs.list(page_size=2).next_page(), Page[Run] | None)
    batches = zof.results.bulk_artifacts(results, concurrency=8)
    assert_type(batches, SyncFanOut[ArtifactBatch])
    with batches:
        assert all(batch.error is None for batch in batches)
    assert_type(batches.stats, FanOutStats)
    with zof.runs.logs(run.id) as lines:
        assert_type(lines, SyncStream[str])
        assert all(isinstance(line, str) for line in lines)
    with zof.results.export(format="csv", run_id=run.id) as chunks:
        assert_type(chunks, SyncStream[bytes])
        assert b"".join(chunks)
    raw = zof.results.with_raw_response.get(first.id)
    assert_type(raw, RawResponse[Result])
    size = zof.results.export_to(tmp_path / "out.csv", run_id=run.id)
    assert_type(size, int)
    patient = zof.with_options(total_timeout=300)
    assert_type(patient, Zof)
    doubled = zof.map(double, [1, 2, 3], ordered=True)
    assert_type(doubled, SyncFanOut[Outcome[int, int]])
    assert [outcome.value for outcome in doubled] == [2, 4, 6]
    assert raw.parsed.id == first.id and size > 0
