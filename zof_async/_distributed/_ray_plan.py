"""Planning a Ray read on the driver: the datasource over the engine-free plan.

`zof_async.ray`'s public functions check their arguments and fix the query's
bounds in `_read_plan` (no engine), and return a `ZofDatasource` whose read
tasks each read their own slices, planned by `_probe.plan_read` (balanced
where the rows are; see `_balance`) and read by `_ray_tasks`.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime
from typing import Any

import ray
import ray.data
from ray.data import Datasource, ReadTask
from ray.data.block import BlockMetadata

from .._resources import _arguments as arguments
from .._streaming._arrow import results_schema, runs_schema
from ._partition import Kind, ListingQuery, Slice
from ._probe import plan_read
from ._ray_tasks import Settings, read_partition
from ._read_plan import prepare

log = logging.getLogger("zof_async.ray")


class ZofDatasource(Datasource):  # type: ignore[misc]
    """A Ray Data datasource over `GET /results` or `GET /runs`.

    Attributes:
        query: The filters, with `created_before` fixed (see the module).
        created_before: Where this read ends: the next read of a live
            listing starts here (`created_after=`).
    """

    def __init__(
        self,
        listing: ListingQuery,
        *,
        settings: Settings,
        parallelism: int | None,
        oldest: datetime | None,
    ) -> None:
        super().__init__()
        assert listing.created_before is not None
        self.query = listing
        self._settings = settings
        self._parallelism = parallelism
        self._oldest = oldest
        self._plans: dict[int, tuple[tuple[Slice, ...], ...]] = {}

    @property
    def created_before(self) -> datetime:
        assert self.query.created_before is not None
        return self.query.created_before

    def get_name(self) -> str:
        return "ZofResults" if self.query.kind == "results" else "ZofRuns"

    def estimate_inmemory_data_size(self) -> int | None:
        return None

    def plan(self, parallelism: int) -> tuple[tuple[Slice, ...], ...]:
        """The slices each read task reads (`parallelism=` wins over Ray's number).

        Balanced where the rows are (`_balance`, a few probe requests a
        partition, once per part count) when the driver has a key; equal
        time windows otherwise.
        """
        parts = self._parallelism or parallelism
        if parts not in self._plans:
            self._plans[parts] = plan_read(
                self.query, parts, key=self._settings.key.reveal(),
                base_url=self._settings.base_url, oldest=self._oldest,
            )  # fmt: skip
        return self._plans[parts]

    def get_read_tasks(
        self,
        parallelism: int,
        per_task_row_limit: int | None = None,
        data_context: Any = None,
    ) -> list[ReadTask]:
        if self._parallelism is None:  # Ray's default is sized for files: two tasks a CPU
            cpus = int(ray.cluster_resources().get("CPU", 1)) if ray.is_initialized() else 1
            parallelism = max(1, min(parallelism, 2 * cpus))
        schema = results_schema() if self.query.kind == "results" else runs_schema()
        return [
            ReadTask(
                functools.partial(read_partition, slices, self._settings),
                BlockMetadata(num_rows=None, size_bytes=None, exec_stats=None, input_files=None),
                schema=schema,
                per_task_row_limit=per_task_row_limit,
            )
            for slices in self.plan(parallelism)
        ]

    def __repr__(self) -> str:
        q = self.query
        return (
            f"ZofDatasource(kind={q.kind!r}, scopes={q.scopes!r}, status={q.status!r}, "
            f"created_after={q.created_after}, created_before={q.created_before}, "
            f"base_url={self._settings.base_url!r}, api_key={self._settings.key!r})"
        )


def datasource(
    kind: Kind,
    scopes: tuple[str, ...] | None,
    status: arguments.Statuses,
    created_after: datetime | str | None,
    created_before: datetime | str | None,
    parallelism: int | None,
    api_key: str | None,
    base_url: str | None,
    page_size: int,
    block_rows: int,
    max_retries: int | None,
) -> ZofDatasource:
    listing, settings, oldest = prepare(
        kind, scopes, status, created_after, created_before, parallelism,
        api_key, base_url, page_size, block_rows, max_retries,
    )  # fmt: skip
    return ZofDatasource(listing, settings=settings, parallelism=parallelism, oldest=oldest)
