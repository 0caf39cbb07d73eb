"""One local Ray (2 CPUs) per test session, and an emulator served on 127.0.0.1.

Ray workers are separate processes: they reach the emulator over real HTTP,
never through an in-process transport.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal

from tests.lazy import lazy_or_skip
from zof_async.testing import Emulator, ManualClock

ray = lazy_or_skip("ray", "the ray extra is not installed for this Python")

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
ROWS = 20_000  # the 100,000-row proof is in benchmarks/ray_read.py (too slow for 2 cores)
# Every worker's own ZOF_API_KEY: one the emulator refuses. Reads that pass
# api_key= never use it. (Ray writes a runtime_env's env_vars into its logs.)
WORKERS_KEY = "zof_workers_env_key_refused"


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        configure_logging=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"ZOF_API_KEY": WORKERS_KEY}},
    )
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield ray
    finally:
        ray.shutdown()


class Served:
    """An emulator and the base URL it is served at."""

    def __init__(self, emulator: Emulator, base_url: str) -> None:
        self.emulator = emulator
        self.base_url = base_url


@contextmanager
def served_emulator(emulator: Emulator) -> Iterator[Served]:
    """`emulator` served over HTTP on 127.0.0.1 for the duration of the block."""
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(emulator.serve()) as base_url,
    ):
        yield Served(emulator, base_url)


@contextmanager
def serve(rows: int) -> Iterator[Served]:
    """An emulator with `rows` results over [T0, T0 + 1 h), served over HTTP."""
    emulator = Emulator(data="minimal", clock=ManualClock(T0 + timedelta(hours=1)))
    emulator.add_bulk_run(rows, run_id="run_big", artifacts_per_result=0)
    with served_emulator(emulator) as served:
        yield served


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """`ROWS` results, served over HTTP (tests leave the data as they found it)."""
    with serve(ROWS) as served:
        yield served


# Ray Data's DataContext warns about its own deprecated settings while Ray
# itself copies them (ray/data/context.py, Ray 2.60): not ours to fix, so
# these three messages from that one module are ignored, nothing more.
RAY_WARNINGS = [
    pytest.mark.filterwarnings(f"ignore:`{name}` is deprecated:DeprecationWarning:ray.data.context")
    for name in ("use_push_based_shuffle", "use_polars", "use_arrow_tensor_v2")
]
