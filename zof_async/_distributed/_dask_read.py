"""The implementation of `zof_async.dask` (its docstring says what it does)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import dask.dataframe as dd

from .._resources import _arguments as arguments
from .._streaming._arrow import results_schema, runs_schema
from ._partition import Kind, Slice
from ._probe import plan_read
from ._ray_tasks import Settings, read_partition
from ._read_plan import prepare, scopes

__all__ = ["read_results", "read_runs"]


class _ReadPartition:
    """What each Dask task calls: its slices, read into one pandas frame.

    A class (not a lambda) so that the graph's repr shows the settings, whose
    repr never holds the key.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __call__(self, slices: tuple[Slice, ...]) -> Any:
        import pyarrow as pa

        blocks = list(read_partition(slices, self.settings))  # each block its own event loop
        return pa.concat_tables(blocks).to_pandas()

    def __repr__(self) -> str:
        return f"ReadZofPartition({self.settings!r})"


def read_results(
    *,
    run_id: str | Sequence[str] | None = None,
    status: arguments.Statuses = None,
    created_after: datetime | str | None = None,
    created_before: datetime | str | None = None,
    parallelism: int | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    page_size: int = 1000,
    max_retries: int | None = None,
) -> dd.DataFrame:
    """Results as a Dask `DataFrame`, one partition per planned part of the listing.

    The filters, bounds and credentials are those of `zof_async.ray.read_results`.
    The listing is planned on the client now (balanced where the rows are,
    when there is a key to probe with); each partition is read by its task
    with its own `AsyncZof`, into a pandas frame with the schema of
    `to_pandas`.

    Args:
        run_id: One run id or several.
        status: Only results in this status, or any of these statuses.
        created_after: Inclusive lower bound (an aware datetime or RFC 3339).
        created_before: Exclusive upper bound; omitted, it is fixed now.
        parallelism: Partitions; default: the machine's CPUs.
        api_key: Sent to the workers with the tasks; `None`: `ZOF_API_KEY`,
            else each worker's own.
        base_url: The API root; `None`: `ZOF_BASE_URL`, else the default.
        page_size: Items per request.
        max_retries: The workers' client retries per request.

    Raises:
        ValueError: For a bad `parallelism` or bound, before any request.
        AuthenticationError: For a key the API refuses, now.
    """
    ids = scopes("run_id", run_id)
    return _read(
        "results", ids, status, created_after, created_before, parallelism,
        api_key, base_url, page_size, max_retries,
    )  # fmt: skip


def read_runs(
    *,
    project_id: str | Sequence[str] | None = None,
    status: arguments.Statuses = None,
    created_after: datetime | str | None = None,
    created_before: datetime | str | None = None,
    parallelism: int | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    page_size: int = 1000,
    max_retries: int | None = None,
) -> dd.DataFrame:
    """Runs as a Dask `DataFrame`; see `read_results`."""
    ids = scopes("project_id", project_id)
    return _read(
        "runs", ids, status, created_after, created_before, parallelism,
        api_key, base_url, page_size, max_retries,
    )  # fmt: skip


def _read(
    kind: Kind,
    ids: tuple[str, ...] | None,
    status: arguments.Statuses,
    created_after: datetime | str | None,
    created_before: datetime | str | None,
    parallelism: int | None,
    api_key: str | None,
    base_url: str | None,
    page_size: int,
    max_retries: int | None,
) -> dd.DataFrame:
    listing, settings, oldest = prepare(
        kind, ids, status, created_after, created_before, parallelism,
        api_key, base_url, page_size, 10_000, max_retries,
    )  # fmt: skip
    parts = parallelism or os.cpu_count() or 1
    partitions = plan_read(
        listing, parts, key=settings.key.reveal(), base_url=settings.base_url, oldest=oldest
    )
    schema = results_schema() if kind == "results" else runs_schema()
    meta = schema.empty_table().to_pandas()
    return dd.from_map(
        _ReadPartition(settings), list(partitions), meta=meta, enforce_metadata=False
    )
