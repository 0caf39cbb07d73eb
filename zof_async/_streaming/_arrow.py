"""Results and runs as Arrow tables (and pandas frames) with one fixed schema.

The same schema whoever builds the table: `await pager.to_arrow()` in one
process, `zof_async.to_arrow(zof.results.export_rows(...))` from an export,
and every block of `zof_async.ray.read_results` on a cluster. Ids and
statuses are strings (an unknown status stays its text), timestamps are
`timestamp[us, UTC]`, and fields the API may leave out are nullable.
Fields this version does not know (a model's `extra`) are left out, so the
schema stays the same whatever the API adds; `to_dict()` has them.

`pyarrow` is imported only when a table is built: `pip install
'zof-async[pyarrow]'` (or `[pandas]` for `to_pandas`).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .._models import ArtifactBatch, Result, Run

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "artifacts_schema",
    "artifacts_table",
    "results_schema",
    "runs_schema",
    "table",
    "to_arrow",
    "to_pandas",
]


def _pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError as exc:
        raise ImportError("Arrow tables need pyarrow: pip install 'zof-async[pyarrow]'") from exc
    return pyarrow


def results_schema() -> pa.Schema:
    """The schema of a table of results."""
    pa = _pyarrow()
    text, when = pa.string(), pa.timestamp("us", tz="UTC")
    return pa.schema(
        [
            pa.field("id", text, nullable=False),
            pa.field("run_id", text, nullable=False),
            pa.field("test_case_id", text, nullable=False),
            pa.field("status", text, nullable=False),
            pa.field("duration_ms", pa.int64()),
            pa.field("logs_ref", text),
            pa.field("failure_summary", text),
            pa.field("created_at", when, nullable=False),
        ]
    )


def runs_schema() -> pa.Schema:
    """The schema of a table of runs (the summary flattened into columns)."""
    pa = _pyarrow()
    text, when, count = pa.string(), pa.timestamp("us", tz="UTC"), pa.int64()
    return pa.schema(
        [
            pa.field("id", text, nullable=False),
            pa.field("project_id", text, nullable=False),
            pa.field("environment", text, nullable=False),
            pa.field("status", text, nullable=False),
            pa.field("test_case_ids", pa.list_(text)),
            pa.field("test_suite_id", text),
            pa.field("created_at", when, nullable=False),
            pa.field("started_at", when),
            pa.field("completed_at", when),
            *(
                pa.field(f"summary_{name}", count, nullable=False)
                for name in ("total", "passed", "failed", "error", "skipped")
            ),
            pa.field("url", text),
        ]
    )


def artifacts_schema() -> pa.Schema:
    """The schema of `zof_async.ray.bulk_artifacts`: one row per artifact, or
    one row with only `result_id` and `error` for a result whose fetch failed."""
    pa = _pyarrow()
    text = pa.string()
    return pa.schema(
        [
            pa.field("result_id", text, nullable=False),
            pa.field("id", text),
            pa.field("run_id", text),
            pa.field("kind", text),
            pa.field("name", text),
            pa.field("content_type", text),
            pa.field("size_bytes", pa.int64()),
            pa.field("download_url", text),
            pa.field("created_at", pa.timestamp("us", tz="UTC")),
            pa.field("error", text),
        ]
    )


def artifacts_table(batches: Iterable[ArtifactBatch]) -> pa.Table:
    """What `bulk_artifacts` found, as a table with `artifacts_schema()`."""
    pa = _pyarrow()
    names = artifacts_schema().names
    columns: dict[str, list[Any]] = {name: [] for name in names}
    for batch in batches:
        if batch.artifacts is None:
            row = dict.fromkeys(names)
            row.update(
                result_id=batch.result_id, error=f"{type(batch.error).__name__}: {batch.error}"
            )
            for name in names:
                columns[name].append(row[name])
            continue
        for artifact in batch.artifacts:
            values = {
                "result_id": batch.result_id,
                "id": artifact.id,
                "run_id": artifact.run_id,
                "kind": artifact.kind.value,
                "name": artifact.name,
                "content_type": artifact.content_type,
                "size_bytes": artifact.size_bytes,
                "download_url": artifact.download_url,
                "created_at": artifact.created_at,
                "error": None,
            }
            for name in names:
                columns[name].append(values[name])
    return pa.Table.from_pydict(columns, schema=artifacts_schema())


def _result_columns(items: Sequence[Result]) -> dict[str, list[Any]]:
    return {
        "id": [r.id for r in items],
        "run_id": [r.run_id for r in items],
        "test_case_id": [r.test_case_id for r in items],
        "status": [r.status.value for r in items],
        "duration_ms": [r.duration_ms for r in items],
        "logs_ref": [r.logs_ref for r in items],
        "failure_summary": [r.failure_summary for r in items],
        "created_at": [r.created_at for r in items],
    }


def _run_columns(items: Sequence[Run]) -> dict[str, list[Any]]:
    return {
        "id": [r.id for r in items],
        "project_id": [r.project_id for r in items],
        "environment": [r.environment for r in items],
        "status": [r.status.value for r in items],
        "test_case_ids": [
            None if r.test_case_ids is None else list(r.test_case_ids) for r in items
        ],
        "test_suite_id": [r.test_suite_id for r in items],
        "created_at": [r.created_at for r in items],
        "started_at": [r.started_at for r in items],
        "completed_at": [r.completed_at for r in items],
        "summary_total": [r.summary.total for r in items],
        "summary_passed": [r.summary.passed for r in items],
        "summary_failed": [r.summary.failed for r in items],
        "summary_error": [r.summary.error for r in items],
        "summary_skipped": [r.summary.skipped for r in items],
        "url": [r.url for r in items],
    }


def table(items: Iterable[Result] | Iterable[Run], *, model: type[Result] | type[Run]) -> pa.Table:
    """A table of `Result`s or `Run`s (all of `model`) with the fixed schema."""
    pa = _pyarrow()
    rows: list[Any] = list(items)
    if any(not isinstance(item, model) for item in rows):
        raise TypeError(f"every item must be a {model.__name__}")
    if model is Result:
        return pa.Table.from_pydict(_result_columns(rows), schema=results_schema())
    if model is Run:
        return pa.Table.from_pydict(_run_columns(rows), schema=runs_schema())
    raise TypeError("model must be Result or Run")


async def to_arrow(
    items: AsyncIterable[Result] | AsyncIterable[Run] | Iterable[Result] | Iterable[Run],
    *,
    model: type[Result] | type[Run] | None = None,
) -> pa.Table:
    """Collect results or runs into one Arrow table with the fixed schema.

    ```python
    table = await zof_async.to_arrow(zof.results.export_rows(run_id=run.id))
    ```

    Args:
        items: A pager, `export_rows(...)`, or any (async) iterable of
            `Result`s or of `Run`s.
        model: `Result` or `Run`; needed only to give an empty input its
            schema (by default taken from the first item, else `Result`).
    """
    _pyarrow()  # fail before reading anything
    rows: list[Any] = []
    if isinstance(items, AsyncIterable):
        async for item in items:
            rows.append(item)
    else:
        rows.extend(items)
    kind = model or (type(rows[0]) if rows else Result)
    return table(rows, model=kind)


async def to_pandas(
    items: AsyncIterable[Result] | AsyncIterable[Run] | Iterable[Result] | Iterable[Run],
    *,
    model: type[Result] | type[Run] | None = None,
) -> pd.DataFrame:
    """`to_arrow(...)` as a pandas DataFrame (timestamps stay UTC-aware)."""
    try:
        import pandas  # noqa: F401
    except ImportError as exc:
        raise ImportError("to_pandas needs pandas: pip install 'zof-async[pandas]'") from exc
    return (await to_arrow(items, model=model)).to_pandas()
