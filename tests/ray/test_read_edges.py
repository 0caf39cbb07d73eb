"""`zof_async.ray` reads at the edges: ties on a partition cut, a partition that keeps failing.

(Results created during a read: `test_read.py`; the planner alone, a
hypothesis property test: `tests/data/test_planning.py`.)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.lazy import lazy_or_skip
from zof_async import InternalServerError, ZofError
from zof_async._distributed._ray_tasks import RESUMES
from zof_async.testing import Emulator, ManualClock

from .conftest import RAY_WARNINGS, T0, served_emulator
from .test_read import assert_same_rows, read_ids, single_listing

ray = lazy_or_skip("ray", "the ray extra is not installed for this Python")
zray = lazy_or_skip("zof_async.ray", "the extra is not installed")

pytestmark = RAY_WARNINGS
HOUR = {"created_after": T0, "created_before": T0 + timedelta(hours=1)}


def emulator_at_t0_plus_an_hour() -> Emulator:
    return Emulator(data="minimal", clock=ManualClock(T0 + timedelta(hours=1)))


def test_results_sharing_one_created_at_on_the_partition_cuts_are_read_once(
    ray_cluster: Any,
) -> None:
    """2,000 results on four instants, each one a cut between partitions: each read once.

    Each instant holds 500 results, five pages of 100: the pages of one
    instant are told apart by id alone, and the instant belongs to the
    window that starts there (`created_after` inclusive), not the one before.
    """
    emulator = emulator_at_t0_plus_an_hour()
    emulator.add_bulk_run(2_000, run_id="run_ties", artifacts_per_result=0, per_instant=500)
    with served_emulator(emulator) as live:
        source = zray.results_datasource(
            parallelism=8, page_size=100, block_rows=150,
            api_key=emulator.keys.viewer, base_url=live.base_url, **HOUR,
        )  # fmt: skip
        instants = {T0 + timedelta(minutes=15 * k) for k in range(4)}
        lower_bounds = {s.created_after for partition in source.plan(8) for s in partition}
        assert instants <= lower_bounds  # every shared instant is a cut
        ids = read_ids(ray.data.read_datasource(source, override_num_blocks=8))
        assert len(ids) == 2_000
        assert_same_rows(ids, single_listing(live))


def test_a_partition_failing_until_its_retries_run_out_fails_the_read(ray_cluster: Any) -> None:
    """One partition answered 503 for good: the ZofError reaches the driver, no partial dataset.

    Each of its blocks is tried `RESUMES + 1` times from its checkpoint, each
    time with the client's own retries (`max_retries=1`: two requests).
    """
    emulator = emulator_at_t0_plus_an_hour()
    emulator.add_bulk_run(300, run_id="run_a", artifacts_per_result=0)
    emulator.add_bulk_run(300, run_id="run_b", artifacts_per_result=0)
    with served_emulator(emulator) as live:
        ds = zray.read_results(
            run_id=["run_a", "run_b"], parallelism=2, page_size=100, max_retries=1,
            api_key=emulator.keys.viewer, base_url=live.base_url, **HOUR,
        )  # fmt: skip
        emulator.faults.fail_next(10**6, status=503, route="/results", query={"run_id": "run_b"})
        try:
            with pytest.raises(ZofError) as caught:
                read_ids(ds)
        finally:
            emulator.faults.reset()
        assert isinstance(caught.value, InternalServerError)
        assert caught.value.status_code == 503
        assert emulator.stats.count(route="/results", status=503) == 2 * (RESUMES + 1)
        # The other partition was read, and still is: only the failing one failed.
        assert len(single_listing(live, run_id="run_a")) == 300
