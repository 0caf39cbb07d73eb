"""The implementation of `zof_async.ray` (its docstring says what it does)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import ray
import ray.data

from .._resources import _arguments as arguments
from ._ray_plan import ZofDatasource, datasource
from ._ray_tasks import Key, Settings, artifacts_of_batch
from ._read_plan import scopes

__all__ = [
    "ZofDatasource",
    "bulk_artifacts",
    "read_results",
    "read_runs",
    "results_datasource",
    "runs_datasource",
]


def results_datasource(
    *,
    run_id: str | Sequence[str] | None = None,
    status: arguments.Statuses = None,
    created_after: datetime | str | None = None,
    created_before: datetime | str | None = None,
    parallelism: int | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    page_size: int = 1000,
    block_rows: int = 10_000,
    max_retries: int | None = None,
) -> ZofDatasource:
    """The datasource `read_results` reads; see there. Plans on the driver now."""
    ids = scopes("run_id", run_id)
    return datasource(
        "results", ids, status, created_after, created_before, parallelism,
        api_key, base_url, page_size, block_rows, max_retries,
    )  # fmt: skip


def runs_datasource(
    *,
    project_id: str | Sequence[str] | None = None,
    status: arguments.Statuses = None,
    created_after: datetime | str | None = None,
    created_before: datetime | str | None = None,
    parallelism: int | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    page_size: int = 1000,
    block_rows: int = 10_000,
    max_retries: int | None = None,
) -> ZofDatasource:
    """The datasource `read_runs` reads; see `read_results`."""
    ids = scopes("project_id", project_id)
    return datasource(
        "runs", ids, status, created_after, created_before, parallelism,
        api_key, base_url, page_size, block_rows, max_retries,
    )  # fmt: skip


def read_results(
    *,
    run_id: str | Sequence[str] | None = None,
    status: arguments.Statuses = None,
    created_after: datetime | str | None = None,
    created_before: datetime | str | None = None,
    parallelism: int | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    concurrency: int | None = None,
    page_size: int = 1000,
    block_rows: int = 10_000,
    max_retries: int | None = None,
    **read_options: Any,
) -> ray.data.Dataset:
    """Results as a Ray `Dataset`, read by `parallelism` tasks on disjoint slices.

    Args:
        run_id: One run id or several (each run is read by its own slices).
        status: Only results in this status, or any of these statuses.
        created_after: Inclusive lower bound (an aware datetime or RFC 3339).
        created_before: Exclusive upper bound; omitted, it is fixed now (the
            newest result's time), so later results go to the next read. It
            may not lie in the future: that window would still be filling.
        parallelism: Read tasks (slices of the query); default: two a CPU.
        api_key: Sent to the workers with the tasks; `None`: the driver's
            `ZOF_API_KEY`, else each worker's own (then the query must be
            bounded on both sides: planning needs no request).
        base_url: The API root; `None`: the driver's `ZOF_BASE_URL`, else
            each worker's, then the default.
        concurrency: Read tasks running at once, at most (Ray's default: as
            many as fit the cluster).
        page_size: Items per request.
        block_rows: Rows per Arrow block a task yields.
        max_retries: The workers' client retries per request (its default
            if `None`). A slice whose request still fails on a transient
            error (5xx, 429, connection) resumes from its last checkpoint,
            3 times; a task whose worker dies is retried by Ray.
        read_options: Passed to `ray.data.read_datasource` (`runtime_env`,
            `num_cpus`, ...).

    Raises:
        ValueError: For a bad `parallelism` or bound, before any request.
        AuthenticationError: For a key the API refuses, on the driver
            before any task (or at the first task, for workers' own keys).
    """
    source = results_datasource(
        run_id=run_id, status=status, created_after=created_after, created_before=created_before,
        parallelism=parallelism, api_key=api_key, base_url=base_url, page_size=page_size,
        block_rows=block_rows, max_retries=max_retries,
    )  # fmt: skip
    return _read(source, parallelism, concurrency, read_options)


def read_runs(
    *,
    project_id: str | Sequence[str] | None = None,
    status: arguments.Statuses = None,
    created_after: datetime | str | None = None,
    created_before: datetime | str | None = None,
    parallelism: int | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    concurrency: int | None = None,
    page_size: int = 1000,
    block_rows: int = 10_000,
    max_retries: int | None = None,
    **read_options: Any,
) -> ray.data.Dataset:
    """Runs as a Ray `Dataset`; see `read_results`.

    A run's status is read as of when its slice is read: runs listed by
    status may finish (and so change) during the read.
    """
    source = runs_datasource(
        project_id=project_id, status=status, created_after=created_after,
        created_before=created_before, parallelism=parallelism, api_key=api_key,
        base_url=base_url, page_size=page_size, block_rows=block_rows, max_retries=max_retries,
    )  # fmt: skip
    return _read(source, parallelism, concurrency, read_options)


def bulk_artifacts(
    results: ray.data.Dataset,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    concurrency: int = 16,
    batch_size: int = 1000,
) -> ray.data.Dataset:
    """The artifacts of every result of `results` (a `read_results` dataset).

    A `map_batches` step: each batch of result ids is fanned out by
    `zof.results.bulk_artifacts` on its worker, `concurrency` requests at a
    time. One row per artifact; a result whose fetch failed (e.g. a 404)
    gives one row with its `result_id` and the `error`, so none is lost.
    Credentials as for `read_results`.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError("concurrency must be a positive integer")
    settings = Settings(
        key=Key(api_key or os.environ.get("ZOF_API_KEY") or None),
        base_url=base_url or os.environ.get("ZOF_BASE_URL") or None,
        page_size=1000,
        block_rows=batch_size,
        max_retries=None,
    )
    return results.map_batches(
        artifacts_of_batch,
        batch_format="pyarrow",
        batch_size=batch_size,
        fn_kwargs={"settings": settings, "concurrency": concurrency},
    )


def _read(
    source: ZofDatasource,
    parallelism: int | None,
    concurrency: int | None,
    read_options: dict[str, Any],
) -> ray.data.Dataset:
    return ray.data.read_datasource(
        source, override_num_blocks=parallelism, concurrency=concurrency, **read_options
    )
