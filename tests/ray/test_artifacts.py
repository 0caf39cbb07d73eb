"""`zof_async.ray.bulk_artifacts`: a map_batches step fanning out per block."""

from __future__ import annotations

from typing import Any

import anyio

from tests.lazy import lazy_or_skip
from zof_async import AsyncZof
from zof_async._streaming._arrow import artifacts_schema

from .conftest import RAY_WARNINGS, T0, served_emulator

ray = lazy_or_skip("ray", "the ray extra is not installed for this Python")
zray = lazy_or_skip("zof_async.ray", "the extra is not installed")

pytestmark = RAY_WARNINGS


def test_every_result_gets_its_artifacts(ray_cluster: Any) -> None:
    """bulk_artifacts lists every artifact of every result read, with no errors."""
    from datetime import timedelta

    from zof_async.testing import Emulator, ManualClock

    emulator = Emulator(data="minimal", clock=ManualClock(T0 + timedelta(hours=1)))
    emulator.add_bulk_run(200, run_id="run_arts", artifacts_per_result=2)

    async def expected() -> list[str]:
        async with AsyncZof(api_key=emulator.keys.viewer, transport=emulator.transport()) as zof:
            return [a.id async for a in zof.runs.artifacts("run_arts", page_size=1000)]

    with served_emulator(emulator) as served:
        results = zray.read_results(
            parallelism=3, api_key=emulator.keys.viewer, base_url=served.base_url
        )
        artifacts = zray.bulk_artifacts(
            results, api_key=emulator.keys.viewer, base_url=served.base_url, batch_size=100
        )
        tables = ray.get(artifacts.to_arrow_refs())
    assert all(t.schema == artifacts_schema() for t in tables)
    ids = [i for t in tables for i in t.column("id").to_pylist()]
    assert sorted(ids) == sorted(anyio.run(expected))
    assert len(ids) == 400
    assert {e for t in tables for e in t.column("error").to_pylist()} == {None}
