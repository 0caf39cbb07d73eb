"""The implementation of `zof_async.dlt` (its docstring says what it does)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import attrs
import dlt
from dlt.extract.source import DltSource

from .. import _rfc3339 as rfc3339
from .._exceptions import ConfigurationError
from .._http._transport._transports import TransportChoice
from .._models import Artifact, Result, Run
from .._resources import _arguments as arguments
from ._session import Session

__all__ = ["zof_source"]

_MERGED = {"primary_key": "id", "write_disposition": "merge"}


def _columns(table: str) -> dict[str, dict[str, Any]]:
    """Types of the columns that may be null in every row of a load (new dicts: dlt edits them).

    A column without a value has no type to infer: dlt would leave it out
    (and warn) until a load brings one.
    """
    text: dict[str, Any] = {"data_type": "text"}
    time: dict[str, Any] = {"data_type": "timestamp", "timezone": True}
    types: dict[str, dict[str, Any]] = {
        "runs": {
            "created_at": time, "started_at": time, "completed_at": time,
            "test_suite_id": text, "url": text,
            "test_case_ids": {"data_type": "json"},  # the list, as JSON
        },
        "results": {
            "created_at": time, "failure_summary": text, "logs_ref": text,
            "duration_ms": {"data_type": "bigint"},
        },
        "artifacts": {"created_at": time, "result_id": text},
    }[table]  # fmt: skip
    return {name: {**hint, "nullable": True} for name, hint in types.items()}


def zof_source(
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    project_id: str | None = None,
    run_id: str | None = None,
    created_after: datetime | str | None = None,
    created_before: datetime | str | None = None,
    page_size: int = 1000,
    refresh_runs: float = 0,
    artifacts_concurrency: int = 16,
    max_retries: int | None = None,
    max_requests_per_second: float | None = None,
    transport: TransportChoice = None,
) -> DltSource:
    """The Zof API as a dlt source: `runs`, `results` and their `artifacts`.

    Args:
        api_key: The API key; `None`: `ZOF_API_KEY`.
        base_url: The API root; `None`: `ZOF_BASE_URL`, else the default.
        project_id: Only the runs of this project (`runs`).
        run_id: Only the results of this run (`results`, so `artifacts`).
        created_after: Where the first load starts (inclusive); later loads
            start where the last one ended, from dlt's state.
        created_before: An exclusive upper bound: a backfill of the window
            `[created_after, created_before)` (with `created_after`), which
            leaves dlt's state as it was.
        page_size: Items per request.
        refresh_runs: Seconds: each load reads again the runs created this
            long before the newest run already loaded, so that runs still
            going at the last load get their final status (merged on `id`).
            0: a run is loaded once, as it was then.
        artifacts_concurrency: Results whose artifacts are fetched at once.
        max_retries: The client's retries per request.
        max_requests_per_second: Your plan's rate limit, if you know it.
        transport: What the client sends through (see `AsyncZof`).

    Raises:
        ValueError: For a bad bound or size, before any request.
        TypeError: For a bound of the wrong type, or an unknown argument.
        ConfigurationError: Without a key.
    """
    _check(created_after, created_before, page_size, refresh_runs, artifacts_concurrency)
    if not (api_key or os.environ.get("ZOF_API_KEY")):
        raise ConfigurationError("no API key: pass api_key= or set ZOF_API_KEY")
    session = Session(
        {"api_key": api_key, "base_url": base_url, "max_retries": max_retries,
         "max_requests_per_second": max_requests_per_second, "transport": transport},
    )  # fmt: skip
    window = _Window(_instant(created_after), _instant(created_before), page_size, refresh_runs)
    return _source(session, window, project_id, run_id, artifacts_concurrency)


def _check(
    created_after: datetime | str | None,
    created_before: datetime | str | None,
    page_size: int,
    refresh_runs: float,
    artifacts_concurrency: int,
) -> None:
    """Refuse bad arguments of `zof_source` before anything is built or sent."""
    arguments.timestamp("created_after", created_after)
    arguments.timestamp("created_before", created_before)
    arguments.page_size(page_size)
    if created_before is not None and created_after is None:
        raise ValueError("created_before needs created_after: a backfill is a window")
    if isinstance(refresh_runs, bool) or not isinstance(refresh_runs, int | float):
        raise TypeError("refresh_runs must be a number of seconds")
    if not refresh_runs >= 0:
        raise ValueError("refresh_runs must be 0 or more seconds")
    if type(artifacts_concurrency) is not int or artifacts_concurrency < 1:
        raise ValueError("artifacts_concurrency must be a positive integer")


def _source(
    session: Session,
    window: _Window,
    project_id: str | None,
    run_id: str | None,
    concurrency: int,
) -> DltSource:
    runs = dlt.resource(
        _runs(session, window, {"project_id": project_id}),
        name="runs", columns=_columns("runs"), **_MERGED,
    )  # fmt: skip
    results = dlt.resource(
        _results(session, window, {"run_id": run_id}),
        name="results", columns=_columns("results"), **_MERGED,
    )  # fmt: skip
    artifacts = dlt.transformer(
        _artifacts(session, concurrency), data_from=results, name="artifacts",
        columns=_columns("artifacts"), **_MERGED,
    )  # fmt: skip

    def zof() -> tuple[Any, ...]:
        return runs, results, artifacts

    source: DltSource = dlt.source(zof, name="zof")()
    return source


@attrs.frozen
class _Window:
    """Where the first load starts, where every load ends, and the page size."""

    start: datetime | None
    end: datetime | None
    page_size: int
    lag: float = 0

    def cursor(self, *, lag: float = 0) -> Any:
        """A new dlt incremental on `created_at`: closed at its start, open at its end.

        With a `lag` (seconds), dlt starts that long before the last value and
        keeps every row it reads again (the merge on `id` updates them).
        """
        return dlt.sources.incremental(
            "created_at", initial_value=self.start, end_value=self.end, range_end="open",
            lag=lag or None,
        )  # fmt: skip


def _instant(value: datetime | str | None) -> datetime | None:
    return rfc3339.parse(value) if isinstance(value, str) else value


def _runs(session: Session, window: _Window, filters: dict[str, Any]) -> Any:
    # dlt's idiom: the incremental is the default of the argument dlt binds it to.
    async def runs(
        created_at: Any = window.cursor(lag=window.lag),  # noqa: B008
    ) -> AsyncIterator[list[dict[str, Any]]]:
        zof = await session.client()
        pager = zof.runs.list(
            **filters, created_after=created_at.start_value, created_before=created_at.end_value,
            page_size=window.page_size,
        )  # fmt: skip
        async for page in pager.pages():
            yield [row(run) for run in page.items]

    return runs


def _results(session: Session, window: _Window, filters: dict[str, Any]) -> Any:
    async def results(created_at: Any = window.cursor()) -> AsyncIterator[list[dict[str, Any]]]:  # noqa: B008
        zof = await session.client()
        pager = zof.results.list(
            **filters, created_after=created_at.start_value, created_before=created_at.end_value,
            page_size=window.page_size,
        )  # fmt: skip
        async for page in pager.pages():
            yield [row(result) for result in page.items]

    return results


def _artifacts(session: Session, concurrency: int) -> Any:
    async def artifacts(page: list[dict[str, Any]]) -> AsyncIterator[list[dict[str, Any]]]:
        """The artifacts of one page of results, fetched together within one step."""
        zof = await session.client()
        rows: list[dict[str, Any]] = []
        fan = zof.results.bulk_artifacts([r["id"] for r in page], concurrency=concurrency)
        async with fan:
            async for batch in fan:
                if batch.error is not None:
                    raise batch.error
                rows += [row(artifact) for artifact in batch.artifacts or ()]
        if rows:
            yield rows

    return artifacts


def row(model: Run | Result | Artifact) -> dict[str, Any]:
    """`model.to_dict()` (unknown fields kept), its times as plain aware datetimes.

    dlt compares the incremental cursor as it finds it: RFC 3339 text of
    varying precision does not sort as time does, datetimes do.
    """
    out = model.to_dict()
    for name in ("created_at", "started_at", "completed_at"):
        value = out.get(name) and getattr(model, name, None)
        if isinstance(value, datetime):
            out[name] = datetime.combine(value.date(), value.timetz())
    return out
