"""Results and runs as Arrow tables (and pandas frames) with one fixed schema.

The same schema whoever builds the table: `await pager.to_arrow()` in one
process, `zof_async.to_arrow(zof.results.export_rows(...))` from an export,
and every block of `zof_async.ray.read_results` on a cluster. Ids and
statuses are strings (an unknown status stays its text), timestamps are
`timestamp[us, UTC]`, and fields the API may leave out are nullable.
Fields this version does not know (a model's `extra`) are left out, so the
schema stays the same whatever the API adds (and whichever pages carry
them); `to_dict()` has them.

A listing leaves as record batches, one per page (`pager.arrow_batches()`),
each built from its page's models and checked against the schema: a value
the schema cannot hold (an integer beyond int64, a string that is not valid
Unicode) fails that page with `APIResponseValidationError` naming the field.
`to_arrow()` is those batches together; any other iterable is built 1,000
items a batch, so no more than that many models are held at once.

`pyarrow` is imported only when a table is built: `pip install
'zof-async[pyarrow]'` (or `[pandas]` for `to_pandas`).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterable, Callable, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from .._models import ArtifactBatch, Result, Run
from ._loop import Loop, LoopOwner

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

B = TypeVar("B")

__all__ = [
    "ArrowBatches",
    "SchemaMismatch",
    "artifacts_schema",
    "artifacts_table",
    "record_batch",
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


@functools.cache
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


@functools.cache
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


class SchemaMismatch(ValueError):
    """A value of an item that the batch schema cannot hold (names the field and the item)."""


def record_batch(
    items: Sequence[Result] | Sequence[Run], *, model: type[Result] | type[Run]
) -> pa.RecordBatch:
    """A record batch of `Result`s or `Run`s (all of `model`) with the fixed schema.

    Raises:
        TypeError: An item is not a `model`, or `model` is neither.
        SchemaMismatch: A value does not fit its column's type.
    """
    pa = _pyarrow()
    if model is not Result and model is not Run:
        raise TypeError("model must be Result or Run")
    if any(not isinstance(item, model) for item in items):
        raise TypeError(f"every item must be a {model.__name__}")
    if model is Result:
        schema, values = results_schema(), _result_columns(cast("Sequence[Result]", items))
    else:
        schema, values = runs_schema(), _run_columns(cast("Sequence[Run]", items))
    arrays = []
    for field in schema:
        try:
            arrays.append(pa.array(values[field.name], type=field.type))
        except (pa.ArrowException, ValueError, TypeError, OverflowError) as exc:
            raise _mismatch(items, field, values[field.name], exc) from exc
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _mismatch(
    items: Sequence[Any], field: Any, column: list[Any], exc: Exception
) -> SchemaMismatch:
    """The error naming `field` and the first item whose value it cannot hold."""
    pa = _pyarrow()
    for index, value in enumerate(column):
        try:
            pa.array([value], type=field.type)
        except Exception:  # the first value that fails is the one to name
            return SchemaMismatch(
                f"field {field.name!r} of the item with id {items[index].id!r} does not fit "
                f"the Arrow schema's {field.type}: {type(exc).__name__}: {exc}"
            )
    return SchemaMismatch(
        f"field {field.name!r} does not fit the Arrow schema's {field.type}: {exc}"
    )


def table(items: Iterable[Result] | Iterable[Run], *, model: type[Result] | type[Run]) -> pa.Table:
    """A table of `Result`s or `Run`s (all of `model`) with the fixed schema."""
    batch = record_batch(list(items), model=model)  # type: ignore[arg-type]
    return _pyarrow().Table.from_batches([batch])


class Listing(LoopOwner, Protocol):
    """What `ArrowBatches` needs of a `Pager` (which this module does not import)."""

    async def _next_rows(self, build: Callable[[Sequence[Any]], B]) -> B | None: ...

    async def aclose(self) -> None: ...

    async def __aenter__(self) -> Any: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class ArrowBatches:
    """`pager.arrow_batches()`: the rest of a listing as record batches, one per page.

    Each `async for` over it hands out the items of a page not handed out yet
    as one batch, and moves the pager on past them (its `checkpoint` then
    resumes after them). Begun where items of a page were already handed out
    (by `async for result in pager`, or a checkpoint inside a page), the
    first batch is the rest of that page, fetched again. A page with no
    items left to hand out gives no batch. Leaving the loop stops the
    prefetch, as leaving an `async for` over the pager does; `aclose()` (or
    `async with`) closes the pager.

    Memory: the batch handed out, the page being built, and the pages
    prefetched (one by default): about two pages' worth, however long the listing.
    """

    def __init__(self, pager: Listing, model: type[Any] | None) -> None:
        _pyarrow()  # fail before fetching anything
        if model is not None and model is not Result and model is not Run:
            raise TypeError(
                f"Arrow batches are of Result or Run, not of {model.__name__}: "
                "use to_dict() of each item for other listings"
            )
        self._pager = pager
        self._model = model

    def __aiter__(self) -> Loop[pa.RecordBatch]:
        """One `async for` over the batches; leaving it stops the prefetch (see `Loop`)."""
        return Loop(self._pager, self.__anext__)

    async def __anext__(self) -> pa.RecordBatch:
        batch = await self._pager._next_rows(self._build)
        if batch is None:
            raise StopAsyncIteration
        return batch

    def _build(self, items: Sequence[Any]) -> pa.RecordBatch:
        model = self._model or (type(items[0]) if items else Result)
        return record_batch(items, model=model)

    async def aclose(self) -> None:
        """Stop prefetching; hand out nothing more."""
        await self._pager.aclose()

    async def __aenter__(self) -> ArrowBatches:
        await self._pager.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._pager.__aexit__(exc_type, exc, tb)


_CHUNK = 1000  # items of an iterable other than a pager built into one batch


async def to_arrow(
    items: AsyncIterable[Result] | AsyncIterable[Run] | Iterable[Result] | Iterable[Run],
    *,
    model: type[Result] | type[Run] | None = None,
) -> pa.Table:
    """Collect results or runs into one Arrow table with the fixed schema.

    ```python
    table = await zof_async.to_arrow(zof.results.export_rows(run_id=run.id))
    ```

    A pager is read with `arrow_batches()`; any other iterable is built into
    a batch every 1,000 items, so no more models than that are held at once.

    Args:
        items: A pager, `export_rows(...)`, or any (async) iterable of
            `Result`s or of `Run`s.
        model: `Result` or `Run`; needed only to give an empty input its
            schema (by default taken from the first item, else `Result`).
    """
    arrow = _pyarrow()  # fail before reading anything
    batches: list[pa.RecordBatch] = []
    kind: list[type[Any]] = [] if model is None else [model]

    def build(chunk: list[Any]) -> None:
        if not kind:
            kind.append(type(chunk[0]))
        batches.append(record_batch(chunk, model=kind[0]))
        chunk.clear()

    if hasattr(items, "arrow_batches"):  # a pager: its pages are the batches
        async for batch in cast(Any, items).arrow_batches():
            batches.append(batch)
    elif isinstance(items, AsyncIterable):
        chunk: list[Any] = []
        async for item in items:
            chunk.append(item)
            if len(chunk) == _CHUNK:
                build(chunk)
        if chunk:
            build(chunk)
    else:
        _chunks(items, build)
    schema = batches[0].schema if batches else _schema_of(kind[0] if kind else Result)
    return arrow.Table.from_batches(batches, schema=schema)


def _chunks(items: Iterable[Any], build: Callable[[list[Any]], None]) -> None:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == _CHUNK:
            build(chunk)
    if chunk:
        build(chunk)


def _schema_of(model: type[Any]) -> pa.Schema:
    if model is Result:
        return results_schema()
    if model is Run:
        return runs_schema()
    raise TypeError("model must be Result or Run")


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
