"""Columnar results in one process: `pager.to_arrow()`, `to_pandas()`, exports."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest

import zof_async
from tests.processes import run
from zof_async import AsyncZof, Result, ResultStatus, Run
from zof_async._streaming._arrow import results_schema, runs_schema, table
from zof_async.testing import Emulator, ManualClock

pa = pytest.importorskip("pyarrow", reason="the pyarrow extra is not installed")

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def busy() -> Emulator:
    """Default data: two weeks of history, some 4,500 results (read-only here)."""
    return Emulator(clock=ManualClock())


@pytest.fixture
async def zof(busy: Emulator) -> AsyncIterator[AsyncZof]:
    """An SDK client on the shared emulator, as a qa user."""
    async with AsyncZof(api_key=busy.keys.qa, transport=busy.transport()) as client:
        yield client


async def test_a_pager_becomes_a_table_with_the_fixed_schema(zof: AsyncZof) -> None:
    """to_arrow() gives the listed results, in order, in the fixed results schema."""
    listed = [r async for r in zof.results.list(page_size=1000)]
    got = await zof.results.list(page_size=1000).to_arrow()
    assert got.schema == results_schema()
    assert got.column("id").to_pylist() == [r.id for r in listed]
    assert got.column("status").to_pylist() == [r.status.value for r in listed]
    assert got.column("created_at").to_pylist() == [r.created_at for r in listed]
    assert str(got.schema.field("created_at").type) == "timestamp[us, tz=UTC]"
    assert got.column("failure_summary").null_count > 0  # passed results have none


async def test_runs_have_their_own_schema(zof: AsyncZof) -> None:
    """A runs pager becomes a table in the runs schema with its summary flattened."""
    runs = [r async for r in zof.runs.list(project_id="proj_abc")]
    got = await zof.runs.list(project_id="proj_abc").to_arrow()
    assert got.schema == runs_schema()
    assert got.column("id").to_pylist() == [r.id for r in runs]
    assert got.column("summary_total").to_pylist() == [r.summary.total for r in runs]
    assert got.column("test_case_ids").null_count == len(runs)  # suite runs


@pytest.mark.parametrize("model", [Result, Run])
async def test_an_empty_listing_still_has_its_schema(zof: AsyncZof, model: type) -> None:
    """An empty listing becomes an empty table that still has its schema."""
    pager = (
        zof.results.list(run_id="run_none")
        if model is Result
        else zof.runs.list(project_id="proj_none")
    )
    got = await pager.to_arrow()
    assert got.num_rows == 0
    assert got.schema == (results_schema() if model is Result else runs_schema())


@pytest.mark.parametrize("fmt", ["json", "csv"])
async def test_the_export_gives_the_same_table(zof: AsyncZof, fmt: str) -> None:
    """A JSON or CSV export becomes the same table as the listing of the same rows."""
    listed = await zof.results.list(status=["failed", "error"], page_size=1000).to_arrow()
    exported = await zof_async.to_arrow(
        zof.results.export_rows(format=fmt, status=["failed", "error"])  # type: ignore[arg-type]
    )
    assert exported.schema == listed.schema
    assert exported.sort_by("id").equals(listed.sort_by("id"))


async def test_to_pandas_keeps_utc_timestamps_and_nulls(zof: AsyncZof) -> None:
    """to_pandas() keeps the schema's columns and UTC microsecond timestamps."""
    pytest.importorskip("pandas", reason="the pandas extra is not installed")
    frame = await zof.results.list(status="failed", page_size=1000).to_pandas()
    assert len(frame) > 0
    assert list(frame.columns) == results_schema().names
    assert str(frame["created_at"].dtype) == "datetime64[us, UTC]"
    assert set(frame["status"]) == {"failed"}


def test_an_unknown_status_stays_its_text() -> None:
    """A status the SDK does not know stays its text in the table."""
    result = Result(
        id="res_1",
        run_id="run_1",
        test_case_id="tc_1",
        status=ResultStatus("quarantined"),
        created_at=datetime(2026, 11, 1, tzinfo=timezone.utc),
    )
    got = table([result], model=Result)
    assert got.column("status").to_pylist() == ["quarantined"]
    assert got.column("duration_ms").to_pylist() == [None]


def test_mixed_items_are_refused() -> None:
    """Items that are not the model's instances are a TypeError."""
    with pytest.raises(TypeError, match="every item must be a Result"):
        table(["res_1"], model=Result)  # type: ignore[arg-type]


def test_importing_the_sdk_imports_neither_pyarrow_nor_ray() -> None:
    """import zof_async alone loads neither pyarrow, pandas nor ray."""
    code = "import sys, zof_async; print(sorted({'pyarrow', 'pandas', 'ray'} & set(sys.modules)))"
    out = run([sys.executable, "-c", code], timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
