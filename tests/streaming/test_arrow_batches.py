"""`pager.arrow_batches()`: a listing as Arrow record batches, one per page, one schema.

Two seams: the emulator (real listings, many pages) and a transport serving
hand-written pages (a page whose nullable fields are all null, a field the
API added on some pages only, a time with an offset, values that do not fit
the schema). `to_arrow()` and `to_pandas()` are built on the batches: they are
compared with the previous implementation (`_previous_table`, kept here as it
was: every item in one list, then one `Table.from_pydict`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from tests.helpers import KEY, result_json, run_json
from zof_async import APIResponseValidationError, AsyncZof, Result, Run
from zof_async._streaming._arrow import results_schema, runs_schema

pa = pytest.importorskip("pyarrow", reason="the pyarrow extra is not installed")

pytestmark = pytest.mark.anyio


def _previous_table(items: Sequence[Result] | Sequence[Run], model: type) -> Any:
    """What `to_arrow()` gave before it was built on batches (its code, as it was)."""
    if model is Result:
        results: Sequence[Result] = items  # type: ignore[assignment]
        columns: dict[str, list[Any]] = {
            "id": [r.id for r in results],
            "run_id": [r.run_id for r in results],
            "test_case_id": [r.test_case_id for r in results],
            "status": [r.status.value for r in results],
            "duration_ms": [r.duration_ms for r in results],
            "logs_ref": [r.logs_ref for r in results],
            "failure_summary": [r.failure_summary for r in results],
            "created_at": [r.created_at for r in results],
        }
        return pa.Table.from_pydict(columns, schema=results_schema())
    runs: Sequence[Run] = items  # type: ignore[assignment]
    columns = {
        "id": [r.id for r in runs],
        "project_id": [r.project_id for r in runs],
        "environment": [r.environment for r in runs],
        "status": [r.status.value for r in runs],
        "test_case_ids": [None if r.test_case_ids is None else list(r.test_case_ids) for r in runs],
        "test_suite_id": [r.test_suite_id for r in runs],
        "created_at": [r.created_at for r in runs],
        "started_at": [r.started_at for r in runs],
        "completed_at": [r.completed_at for r in runs],
        "summary_total": [r.summary.total for r in runs],
        "summary_passed": [r.summary.passed for r in runs],
        "summary_failed": [r.summary.failed for r in runs],
        "summary_error": [r.summary.error for r in runs],
        "summary_skipped": [r.summary.skipped for r in runs],
        "url": [r.url for r in runs],
    }
    return pa.Table.from_pydict(columns, schema=runs_schema())


class Pages:
    """A transport serving `pages` (lists of items) in order, one cursor each.

    `requests` counts the requests of each page; `fixes` replaces a page's
    items from its second request on (a server that sent a bad page once).
    """

    def __init__(self, pages: list[list[dict[str, Any]]]) -> None:
        self.pages = pages
        self.requests: Counter[int] = Counter()
        self.fixes: dict[int, list[dict[str, Any]]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        index = int(cursor[1:]) if cursor else 0
        self.requests[index] += 1
        items = self.pages[index]
        if self.requests[index] > 1 and index in self.fixes:
            items = self.fixes[index]
        last = index == len(self.pages) - 1
        body = {
            "data": items,
            "next_cursor": None if last else f"c{index + 1}",
            "has_more": not last,
        }
        # json.dumps escapes a lone surrogate (`\ud800`) as the API would send it.
        return httpx.Response(
            200, content=json.dumps(body).encode(), headers={"x-request-id": f"req_{index}"}
        )


def _result(number: int, **fields: Any) -> dict[str, Any]:
    return {**result_json(f"res_{number:03d}"), **fields}


@pytest.fixture
async def served() -> AsyncIterator[tuple[Pages, AsyncZof]]:
    """A client on a `Pages` transport (filled in by the test), without retries."""
    pages = Pages([])
    transport = httpx.MockTransport(pages)
    async with AsyncZof(api_key=KEY, transport=transport, max_retries=0) as zof:
        yield pages, zof


async def test_one_batch_per_page_in_order(zof: AsyncZof) -> None:
    """Each page of a listing becomes one batch, holding that page's items in order."""
    pages = [page async for page in zof.results.list(page_size=1000).pages()]
    batches = [batch async for batch in zof.results.list(page_size=1000).arrow_batches()]
    assert len(pages) >= 4
    assert len(batches) == len(pages)
    for page, batch in zip(pages, batches, strict=True):
        assert isinstance(batch, pa.RecordBatch)
        assert batch.schema == results_schema()
        assert batch.column("id").to_pylist() == [r.id for r in page.items]
        assert batch.column("created_at").to_pylist() == [r.created_at for r in page.items]


async def test_runs_come_in_batches_of_the_runs_schema(zof: AsyncZof) -> None:
    """A runs listing gives batches of the runs schema, its summary flattened."""
    runs = [r async for r in zof.runs.list(project_id="proj_abc", page_size=7)]
    batches = [b async for b in zof.runs.list(project_id="proj_abc", page_size=7).arrow_batches()]
    assert len(batches) == -(-len(runs) // 7)
    assert {b.schema for b in batches} == {runs_schema()}
    table = pa.Table.from_batches(batches)
    assert table.column("id").to_pylist() == [r.id for r in runs]
    assert table.column("summary_total").to_pylist() == [r.summary.total for r in runs]


async def test_one_schema_whatever_a_page_holds(served: tuple[Pages, AsyncZof]) -> None:
    """A page whose nullable fields are all null, and a field the API added on one
    page only, change nothing: every batch has the one schema, unknown fields dropped."""
    pages, zof = served
    pages.pages = [
        [_result(1), _result(2, status="failed", failure_summary="boom")],
        [_result(3, duration_ms=None, logs_ref=None), _result(4, duration_ms=None, logs_ref=None)],
        [_result(5, new_field={"a": 1}), _result(6, new_column="x")],
    ]
    batches = [batch async for batch in zof.results.list().arrow_batches()]
    assert [b.num_rows for b in batches] == [2, 2, 2]
    assert [b.schema for b in batches] == [results_schema()] * 3
    assert batches[1].column("duration_ms").null_count == 2
    assert batches[1].column("logs_ref").null_count == 2
    assert batches[0].column("failure_summary").to_pylist() == [None, "boom"]
    assert pa.Table.from_batches(batches).column("id").to_pylist() == [
        f"res_{n:03d}" for n in range(1, 7)
    ]


async def test_a_runs_page_of_only_suite_runs_keeps_the_list_column(
    served: tuple[Pages, AsyncZof],
) -> None:
    """Runs without `test_case_ids` on a whole page still give the list-of-strings column."""
    pages, zof = served
    pages.pages = [
        [run_json("run_1", test_case_ids=["tc_1", "tc_2"])],
        [run_json("run_2", test_case_ids=None, test_suite_id="suite_1")],
    ]
    batches = [batch async for batch in zof.runs.list(project_id="proj_abc").arrow_batches()]
    assert [b.schema for b in batches] == [runs_schema()] * 2
    assert batches[0].column("test_case_ids").to_pylist() == [["tc_1", "tc_2"]]
    assert batches[1].column("test_case_ids").to_pylist() == [None]


async def test_times_are_utc_aware_whatever_offset_they_came_in(
    served: tuple[Pages, AsyncZof],
) -> None:
    """Timestamps are `timestamp[us, UTC]`: a time sent with an offset is the same instant."""
    pages, zof = served
    pages.pages = [[_result(1, created_at="2026-11-22T12:30:00.000001+02:00")]]
    (batch,) = [batch async for batch in zof.results.list().arrow_batches()]
    assert str(batch.schema.field("created_at").type) == "timestamp[us, tz=UTC]"
    (when,) = batch.column("created_at").to_pylist()
    assert when.utcoffset() == timedelta(0)
    assert when == datetime(2026, 11, 22, 10, 30, 0, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("field", "value"),
    [("duration_ms", 2**63), ("failure_summary", "\ud800"), ("test_case_id", "tc_\udfff")],
)
async def test_a_page_that_does_not_fit_fails_naming_the_field(
    served: tuple[Pages, AsyncZof], field: str, value: Any
) -> None:
    """A page whose items do not fit the schema raises APIResponseValidationError naming
    the field; the pager stays before that page, so iterating again fetches it again."""
    pages, zof = served
    pages.pages = [[_result(1)], [_result(2), _result(3, **{field: value})], [_result(4)]]
    pages.fixes[1] = [_result(2), _result(3)]
    # No prefetch: a page fetched ahead of the failing one would be fetched again
    # too (as documented), and whether it was is a race.
    pager = zof.results.list(prefetch=0)
    batches = pager.arrow_batches()
    first = await batches.__anext__()
    assert first.column("id").to_pylist() == ["res_001"]
    with pytest.raises(APIResponseValidationError, match=field) as caught:
        await batches.__anext__()
    assert caught.value.request_id == "req_1"
    assert "res_003" in str(caught.value)  # which item
    assert caught.value.status_code == 200
    rest = [batch async for batch in pager.arrow_batches()]
    assert [b.column("id").to_pylist() for b in rest] == [["res_002", "res_003"], ["res_004"]]
    assert pages.requests == {0: 1, 1: 2, 2: 1}


async def test_a_page_that_does_not_fit_leaves_the_checkpoint_before_it(
    served: tuple[Pages, AsyncZof],
) -> None:
    """After the failed page, the checkpoint resumes at that page's first item."""
    pages, zof = served
    pages.pages = [[_result(1)], [_result(2, duration_ms=-(2**63) - 1)]]
    pager = zof.results.list(prefetch=0)
    with pytest.raises(APIResponseValidationError, match="duration_ms"):
        async for _ in pager.arrow_batches():
            pass
    pages.pages[1] = [_result(2)]
    resumed = zof.results.list(resume=pager.checkpoint)
    assert [r.id async for r in resumed] == ["res_002"]


async def test_batches_start_where_the_pager_stands(zof: AsyncZof) -> None:
    """After some items were handed out (or resumed inside a page), the first batch is
    the rest of that page, and nothing is handed out twice or skipped."""
    listed = [r.id async for r in zof.results.list(page_size=100)][:350]
    pager = zof.results.list(page_size=100)
    seen = [(await pager.__anext__()).id for _ in range(30)]
    batches = [batch async for batch in pager.arrow_batches()]
    assert batches[0].num_rows == 70
    ids = seen + pa.Table.from_batches(batches).column("id").to_pylist()
    assert ids[:350] == listed

    resumed = zof.results.list(page_size=100, resume=pager.checkpoint)
    assert [batch async for batch in resumed.arrow_batches()] == []

    partway = zof.results.list(page_size=100)
    for _ in range(130):
        await partway.__anext__()
    again = zof.results.list(page_size=100, resume=partway.checkpoint)
    first = await again.arrow_batches().__anext__()
    assert first.column("id").to_pylist() == listed[130:200]


async def test_breaking_out_stops_and_the_pager_goes_on(zof: AsyncZof) -> None:
    """Leaving the loop after one batch keeps the pager's place: the next batch follows."""
    listed = [r.id async for r in zof.results.list(page_size=500)][:1000]
    pager = zof.results.list(page_size=500)
    async for batch in pager.arrow_batches():
        first = batch
        break
    second = await pager.arrow_batches().__anext__()
    assert first.column("id").to_pylist() + second.column("id").to_pylist() == listed


async def test_only_results_and_runs_have_batches(zof: AsyncZof) -> None:
    """A listing of artifacts has no Arrow schema: TypeError at once."""
    run = await zof.runs.list(project_id="proj_abc").__anext__()
    with pytest.raises(TypeError, match="Result or Run"):
        zof.runs.artifacts(run.id).arrow_batches()


@pytest.mark.parametrize("page_size", [97, 333, 1000])
async def test_to_arrow_gives_what_it_gave_before(zof: AsyncZof, page_size: int) -> None:
    """`to_arrow()` of results and of runs equals the previous implementation's table."""
    results = await zof.results.list(page_size=page_size).to_list()
    got = await zof.results.list(page_size=page_size).to_arrow()
    assert got.schema == results_schema()
    assert got.equals(_previous_table(results, Result))
    runs = await zof.runs.list(project_id="proj_abc", page_size=page_size).to_list()
    got = await zof.runs.list(project_id="proj_abc", page_size=page_size).to_arrow()
    assert got.equals(_previous_table(runs, Run))


async def test_to_pandas_gives_what_it_gave_before(zof: AsyncZof) -> None:
    """`to_pandas()` equals the previous implementation's table as a frame."""
    pytest.importorskip("pandas", reason="the pandas extra is not installed")
    from pandas.testing import assert_frame_equal

    results = await zof.results.list(page_size=500).to_list()
    got = await zof.results.list(page_size=500).to_pandas()
    assert_frame_equal(got, _previous_table(results, Result).to_pandas())
    runs = await zof.runs.list(project_id="proj_abc").to_list()
    frame = await zof.runs.list(project_id="proj_abc").to_pandas()
    assert_frame_equal(frame, _previous_table(runs, Run).to_pandas())


async def test_to_arrow_of_an_export_gives_what_it_gave_before(zof: AsyncZof) -> None:
    """`zof_async.to_arrow` of any iterable of results (an export) equals the previous table."""
    import zof_async

    rows = [row async for row in zof.results.export_rows(format="json")]
    got = await zof_async.to_arrow(zof.results.export_rows(format="json"))
    assert got.num_rows == len(rows) > 1000
    assert got.equals(_previous_table(rows, Result))
    assert (await zof_async.to_arrow(rows)).equals(got)
