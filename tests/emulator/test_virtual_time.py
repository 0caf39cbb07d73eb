"""The emulator under trio's MockClock: latency costs virtual time only."""

from __future__ import annotations

import trio
import trio.testing

from zof_async.testing import Emulator, ManualClock, exponential_latency


def test_latency_distribution_in_virtual_time() -> None:
    """Under trio's MockClock a 10 s mean latency costs no real time."""
    emulator = Emulator(data="minimal", clock=ManualClock())
    emulator.faults.latency = exponential_latency(10.0)

    async def main() -> float:
        async with emulator.client() as http:
            began = trio.current_time()
            for _ in range(50):
                assert (await http.get("/runs")).status_code == 200
            return trio.current_time() - began

    elapsed = trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert 250 <= elapsed <= 1000  # 50 draws of mean 10 s
