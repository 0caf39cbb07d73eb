"""The emulator under trio's MockClock: latency costs virtual time only."""

from __future__ import annotations

import anyio
import pytest
import trio.testing

from zof_async.testing import Emulator, ManualClock, exponential_latency

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "anyio_backend", [("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})]
)
async def test_latency_distribution_in_virtual_time() -> None:
    """Under trio's MockClock, 50 draws of a 10 s mean latency take 250-1000 virtual seconds."""
    emulator = Emulator(data="minimal", clock=ManualClock())
    emulator.faults.latency = exponential_latency(10.0)
    async with emulator.client() as http:
        began = anyio.current_time()
        for _ in range(50):
            assert (await http.get("/runs")).status_code == 200
        elapsed = anyio.current_time() - began
    assert 250 <= elapsed <= 1000  # 50 draws of mean 10 s
