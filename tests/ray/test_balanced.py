"""`zof_async.ray` on bursty data: 4 read tasks of about equal rows (issue 29)."""

from __future__ import annotations

import statistics
from typing import Any

from tests.lazy import lazy_or_skip
from zof_async.testing import Emulator, ManualClock

from .conftest import RAY_WARNINGS, T0, served_emulator
from .test_read import assert_same_rows, read_ids, single_listing

ray = lazy_or_skip("ray", "the ray extra is not installed for this Python")
zray = lazy_or_skip("zof_async.ray", "the extra is not installed")

pytestmark = RAY_WARNINGS


def test_four_read_tasks_of_bursty_data_are_balanced(ray_cluster: Any) -> None:
    """Default data (two weeks, with bursts) plus a 3,000-result burst: max/mean <= 1.5.

    Equal time windows put nearly everything in the newest one; the planner
    probes where the rows are. The read still equals the single listing.
    """
    emulator = Emulator(clock=ManualClock(T0))
    emulator.add_bulk_run(3_000, run_id="run_burst", artifacts_per_result=0)
    with served_emulator(emulator) as served:
        source = zray.results_datasource(
            parallelism=4, api_key=emulator.keys.viewer, base_url=served.base_url
        )
        partitions = source.plan(4)
        rows = [
            sum(len(single_listing(served, **s.filters())) for s in partition)
            for partition in partitions
        ]
        assert len(partitions) == 4
        assert max(rows) / statistics.mean(rows) <= 1.5, rows
        ds = ray.data.read_datasource(source, override_num_blocks=4)
        assert_same_rows(read_ids(ds), single_listing(served))
