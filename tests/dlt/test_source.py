"""`zof_async.dlt.zof_source`: real dlt pipelines loading the emulator into real DuckDB files."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.dlt.helpers import Relay, acme, add_result, columns, ids, loaded, tables
from tests.lazy import lazy_or_skip
from zof_async import AuthenticationError, InternalServerError, ZofError
from zof_async.testing import Emulator, ManualClock, SystemClock

dlt_errors = lazy_or_skip("dlt.pipeline.exceptions", "the dlt extra is not installed")

zdlt = lazy_or_skip("zof_async.dlt", "the dlt extra is not installed")

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
Make = Callable[..., Any]


@pytest.fixture
def emulator() -> Emulator:
    """Org acme with two bulk runs: 600 results (one artifact each, 3 per instant) and 150."""
    emulator = Emulator(data="minimal", clock=ManualClock(T0))
    emulator.add_bulk_run(600, run_id="run_a", artifacts_per_result=1, per_instant=3)
    emulator.add_bulk_run(150, run_id="run_b", artifacts_per_result=0)
    return emulator


def source(emulator: Emulator, relay: Relay | None = None, **options: Any) -> Any:
    """`zof_source` on the in-process emulator (through `relay` if given), as acme's viewer."""
    return zdlt.zof_source(
        api_key=emulator.keys.viewer, base_url="http://127.0.0.1:9/v1",
        transport=relay or Relay(emulator), page_size=100, **options,
    )  # fmt: skip


def test_a_first_load_holds_exactly_the_emulator_s_rows(
    emulator: Emulator, make_pipeline: Make, tmp_path: Path
) -> None:
    """runs, results and artifacts: each id of the emulator's store once, artifacts keyed.

    All three resources shared one client, closed when dlt was done: it
    closed the transport it owned once.
    """
    pipeline = make_pipeline()
    relay = Relay(emulator)
    pipeline.run(source(emulator, relay))
    assert relay.closed == 1
    database = tmp_path / "zof_warehouse.duckdb"
    assert ids(database, "runs") == acme(emulator, "runs") == ["run_a", "run_b"]
    assert ids(database, "results") == acme(emulator, "results")
    assert len(acme(emulator, "results")) == 750
    assert ids(database, "artifacts") == acme(emulator, "artifacts")
    assert {"id", "result_id", "run_id", "kind", "size_bytes"} <= set(
        columns(database, "artifacts")
    )
    assert {"summary__total", "created_at", "status"} <= set(columns(database, "runs"))
    assert loaded(pipeline) == {"runs": 2, "results": 750, "artifacts": 600}


def test_the_next_load_adds_only_new_rows_and_keeps_the_boundary_once(
    emulator: Emulator, make_pipeline: Make, tmp_path: Path
) -> None:
    """The API resends the newest instant (inclusive); dlt keeps it once, and new rows there.

    The newest instant of the first load holds 3 results. Then one new result
    is created at that very instant and two later: the second load loads
    exactly those 3, the third none, and no id is ever twice in the table.
    """
    pipeline = make_pipeline()
    pipeline.run(source(emulator))
    newest = max(r.created for r in emulator.state.store.results.values())
    at_newest = [r.id for r in emulator.state.store.results.values() if r.created == newest]
    assert len(at_newest) == 3
    add_result(emulator, "res_new_0", newest)  # same instant as the boundary rows
    add_result(emulator, "res_new_1", newest + 0.5)
    add_result(emulator, "res_new_2", newest + 1)
    relay = Relay(emulator)
    pipeline.run(source(emulator, relay))
    assert loaded(pipeline)["results"] == 3
    boundary = datetime.fromtimestamp(newest, timezone.utc)
    (query,) = relay.queries("/v1/results")
    assert query["created_after"] == boundary.isoformat().replace("+00:00", "Z")  # resent
    database = tmp_path / "zof_warehouse.duckdb"
    assert ids(database, "results") == acme(emulator, "results")
    pipeline.run(source(emulator))
    assert loaded(pipeline) == {"runs": 0, "results": 0, "artifacts": 0}
    assert ids(database, "results") == acme(emulator, "results")


def test_a_load_logs_no_warning(
    emulator: Emulator, make_pipeline: Make, caplog: pytest.LogCaptureFixture
) -> None:
    """dlt logs no warning: every column is typed even when null in all rows, hints intact."""
    pipeline = make_pipeline()
    dlt_logger = logging.getLogger("dlt")  # dlt's own logger does not propagate
    dlt_logger.addHandler(caplog.handler)
    try:
        pipeline.run(source(emulator))  # runs without test_case_ids, results without failures
        pipeline.run(source(emulator))
    finally:
        dlt_logger.removeHandler(caplog.handler)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_adjacent_backfill_windows_load_every_row_once(
    emulator: Emulator, make_pipeline: Make, tmp_path: Path
) -> None:
    """[a, b) then [b, c): with b on an instant holding 3 rows, each row lands once."""
    times = sorted({r.created for r in emulator.state.store.results.values()})
    a, b, c = (datetime.fromtimestamp(t, timezone.utc) for t in (times[0], times[40], times[-1]))
    pipeline = make_pipeline()
    pipeline.run(source(emulator, created_after=a, created_before=b).with_resources("results"))
    first = loaded(pipeline)["results"]
    pipeline.run(source(emulator, created_after=b, created_before=c).with_resources("results"))
    expected = [r.id for r in emulator.state.store.results.values() if r.created < times[-1]]
    database = tmp_path / "zof_warehouse.duckdb"
    assert ids(database, "results") == sorted(expected)
    assert first == len([r for r in emulator.state.store.results.values() if r.created < times[40]])


@pytest.mark.parametrize("refresh", [0, 3600])
def test_refresh_runs_reloads_runs_that_were_still_going(
    emulator: Emulator, make_pipeline: Make, tmp_path: Path, refresh: float
) -> None:
    """A run queued at one load: refresh_runs=3600 brings its final status; 0 keeps it queued."""
    run = emulator.add_run("proj_abc", suite_id="suite_pr_smoke")
    pipeline = make_pipeline()
    pipeline.run(source(emulator, refresh_runs=refresh).with_resources("runs"))
    database = tmp_path / "zof_warehouse.duckdb"
    assert statuses(database)[run.id] == "queued"
    emulator.advance(3600)
    final = emulator.run(run.id).status
    assert final in ("passed", "failed", "error")
    pipeline.run(source(emulator, refresh_runs=refresh).with_resources("runs"))
    assert statuses(database)[run.id] == (final if refresh else "queued")
    assert ids(database, "runs") == acme(emulator, "runs")  # merged: each run once


def statuses(database: Path) -> dict[str, str]:
    """Run id -> status in the `runs` table."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as db:
        return dict(db.execute("select id, status from zof.runs").fetchall())


def test_fields_the_sdk_does_not_know_become_columns(
    emulator: Emulator, make_pipeline: Make, tmp_path: Path
) -> None:
    """A newer API's `flakiness` and `owner.team` reach DuckDB as columns (schema evolution)."""
    relay = Relay(emulator, extra={"flakiness": 0.25, "owner": {"team": "payments"}})
    pipeline = make_pipeline()
    pipeline.run(source(emulator, relay, run_id="run_b").with_resources("results"))
    database = tmp_path / "zof_warehouse.duckdb"
    assert {"flakiness", "owner__team"} <= set(columns(database, "results"))
    import duckdb

    with duckdb.connect(str(database), read_only=True) as db:
        rows = db.sql("select distinct flakiness, owner__team from zof.results").fetchall()
    assert rows == [(0.25, "payments")]


def _cause(error: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of type `kind` in `error`'s chain of causes and contexts."""
    while error is not None and not isinstance(error, kind):
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return error


def test_a_refused_key_reaches_the_caller_as_an_authentication_error(
    emulator: Emulator, make_pipeline: Make
) -> None:
    """dlt raises PipelineStepFailed (extract); its cause chain holds the AuthenticationError."""
    pipeline = make_pipeline()
    with pytest.raises(dlt_errors.PipelineStepFailed) as failed:
        pipeline.run(
            zdlt.zof_source(
                api_key="zof_refused", base_url="http://127.0.0.1:9/v1", transport=Relay(emulator)
            )
        )
    assert failed.value.step == "extract"
    found = _cause(failed.value, ZofError)
    assert isinstance(found, AuthenticationError)


def test_an_interrupted_load_then_a_clean_one_leaves_no_duplicate(
    emulator: Emulator, make_pipeline: Make, tmp_path: Path
) -> None:
    """A 500 on results' 4th page (no retries) fails the load: nothing of it lands; the next is whole."""
    pipeline = make_pipeline()
    pipeline.run(source(emulator).with_resources("runs"))  # an earlier, clean load
    relay = Relay(emulator, fail_at=4)
    with pytest.raises(dlt_errors.PipelineStepFailed) as failed:
        pipeline.run(source(emulator, relay, max_retries=0))
    assert isinstance(_cause(failed.value, ZofError), InternalServerError)
    assert len(relay.queries("/v1/results")) == 4  # 3 pages were read, then the fault
    database = tmp_path / "zof_warehouse.duckdb"
    assert "results" not in tables(database) and "artifacts" not in tables(database)
    assert ids(database, "runs") == ["run_a", "run_b"]
    pipeline.run(source(emulator))
    assert ids(database, "results") == acme(emulator, "results")
    assert ids(database, "artifacts") == acme(emulator, "artifacts")


def test_loads_through_5xx_and_a_rate_limit_are_exact(make_pipeline: Make, tmp_path: Path) -> None:
    """2% random 5xx and 200 requests/s per key: every load is exact, the next adds exactly N.

    A first load has every row once; a second adds none; after 7 new
    results (3 at the newest instant already loaded), the next adds those 7.
    """
    emulator = Emulator(data="minimal", clock=SystemClock())
    emulator.add_bulk_run(400, run_id="run_a", artifacts_per_result=1)
    emulator.faults.error_rate = 0.02
    emulator.faults.rate_limit = 200
    emulator.faults.rate_limit_burst = 20
    pipeline = make_pipeline()
    database = tmp_path / "zof_warehouse.duckdb"
    pipeline.run(source(emulator))
    assert ids(database, "results") == acme(emulator, "results")
    assert ids(database, "artifacts") == acme(emulator, "artifacts")
    pipeline.run(source(emulator))
    assert loaded(pipeline) == {"runs": 0, "results": 0, "artifacts": 0}
    newest = max(r.created for r in emulator.state.store.results.values())
    for i in range(7):
        add_result(emulator, f"res_new_{i}", newest if i < 3 else newest + i)
    pipeline.run(source(emulator))
    assert loaded(pipeline)["results"] == 7
    assert ids(database, "results") == acme(emulator, "results")
    assert (
        emulator.stats.count(status=429)
        + sum(emulator.stats.count(status=s) for s in (500, 502, 503))
        > 0
    )


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"created_after": "yesterday"}, ValueError),
        ({"created_before": datetime(2026, 11, 1)}, ValueError),  # naive
        ({"created_after": 1_700_000_000}, TypeError),
        ({"page_size": 0}, ValueError),
        ({"artifacts_concurrency": 0}, ValueError),
        ({"created_before": "2026-11-01T00:00:00Z"}, ValueError),  # without created_after
        ({"refresh_runs": -1}, ValueError),
        ({"refresh_runs": "1h"}, TypeError),
        ({"since": "2026-11-01T00:00:00Z"}, TypeError),
    ],
)
def test_bad_input_fails_when_the_source_is_made(
    emulator: Emulator, options: dict[str, Any], error: type[Exception]
) -> None:
    """Bad bounds, sizes and unknown arguments raise from zof_source, before any request."""
    relay = Relay(emulator)
    with pytest.raises(error):
        zdlt.zof_source(api_key=emulator.keys.viewer, transport=relay, **options)
    assert relay.requests == []


def test_no_key_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without api_key= or ZOF_API_KEY, zof_source raises ConfigurationError at once."""
    from zof_async import ConfigurationError

    monkeypatch.delenv("ZOF_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="no API key"):
        zdlt.zof_source()
