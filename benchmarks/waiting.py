"""Waiting for many runs, in virtual time: zof-async against fixed 1 s polling.

Runs finish at random times between 30 s and 10 min. Everything runs under
trio's MockClock with the in-process emulator on a LoopClock, so ten minutes
of waiting cost seconds of CPU, and both sides see exactly the same runs.
"""

from __future__ import annotations

import random
import statistics
from typing import Any

import trio
import trio.testing

from zof_async import AsyncZof
from zof_async.testing import Emulator, LoopClock, RunScript, Stats


def _setup(n: int, seed: int) -> tuple[Emulator, list[str]]:
    emulator = Emulator(data="minimal", clock=LoopClock())
    emulator.stats = Stats(log_size=5_000_000)  # fixed 1 s polling sends ~300 polls per run
    rng = random.Random(seed)
    cases = emulator.state.store.projects["proj_abc"].case_ids[:5]
    ids = []
    for _ in range(n):
        script = RunScript(queue_seconds=0, duration_seconds=rng.uniform(30, 600), outcome="passed")
        ids.append(emulator.add_run("proj_abc", cases=cases, script=script).id)
    emulator.stats.reset()
    return emulator, ids


async def _zof(emulator: Emulator, ids: list[str]) -> dict[str, float]:
    noticed: dict[str, float] = {}
    async with AsyncZof(
        api_key=emulator.keys.viewer, transport=emulator.transport(), max_connections=len(ids)
    ) as zof:

        async def wait(run_id: str) -> None:
            await zof.runs.wait_until_complete(run_id, timeout=3600)
            noticed[run_id] = emulator.clock.now()

        async with trio.open_nursery() as nursery:
            for run_id in ids:
                nursery.start_soon(wait, run_id)
    return noticed


async def _fixed(emulator: Emulator, ids: list[str]) -> dict[str, float]:
    noticed: dict[str, float] = {}
    async with emulator.client(emulator.keys.viewer) as http:

        async def wait(run_id: str) -> None:
            while True:
                run = (await http.get(f"/runs/{run_id}")).json()
                if run["status"] in ("passed", "failed", "error", "canceled"):
                    noticed[run_id] = emulator.clock.now()
                    return
                await trio.sleep(1.0)

        async with trio.open_nursery() as nursery:
            for run_id in ids:
                nursery.start_soon(wait, run_id)
    return noticed


def _peak(times: list[float], window: float) -> int:
    times = sorted(times)
    best = start = 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def _measure(strategy: Any, n: int) -> dict[str, float]:
    async def main() -> dict[str, float]:
        emulator, ids = _setup(n, seed=42)
        noticed = await strategy(emulator, ids)
        polls = [r.at for r in emulator.stats.log if r.route == "/runs/{id}"]
        lags = sorted(noticed[i] - emulator.state.store.runs[i].completed for i in ids)  # type: ignore[operator]
        return {
            "runs": n,
            "polls": len(polls),
            "polls_per_run": len(polls) / n,
            "peak_polls_1s": _peak(polls, 1.0),
            "peak_polls_100ms": _peak(polls, 0.1),
            "lag_p50_s": statistics.median(lags),
            "lag_p99_s": lags[int(0.99 * (len(lags) - 1))],
        }

    return trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


def waiting(n: int) -> dict[str, dict[str, float]]:
    out = {}
    for label, strategy in (("zof-async wait_until_complete", _zof), ("fixed 1 s polling", _fixed)):
        out[label] = _measure(strategy, n)
        print(f"  {label:<30} {out[label]}", flush=True)
    return out


if __name__ == "__main__":
    import sys

    waiting(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
