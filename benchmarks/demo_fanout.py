"""Why `nox -s demo`'s artifact fan-out reached half the emulator's rate limit.

    python benchmarks/demo_fanout.py [--repeat 2]

The demo serves the emulator with a per-key rate limit of 300 req/s (a token
bucket) and 2% 5xx, then fetches the artifact listings of a 2,000-case run
with `bulk_artifacts` at concurrency 64. The emulator answers 429 with
`Retry-After` in whole seconds (as the API does), and the client honours it:
after a 429 it sends nothing for a second. A bucket of 100 tokens fills in a
third of that second and the rest of the refill is lost, so the fan-out got
~100 requests per second-long pause: about half the limit. With the bucket
holding one second's worth (300), the pause's refill is all usable.

Prints requests/s per bucket size, measured in one run, interleaved, plus the
same fan-out without any limit (the CPU ceiling of this machine for a client
and an emulator sharing one process, as in the demo).
"""

from __future__ import annotations

import argparse
import statistics
import time

import anyio

from zof_async import AsyncZof
from zof_async.testing import Emulator, RunScript, SystemClock

RATE = 300.0
CASES = 2000


async def fan_out(burst: int | None) -> dict[str, float]:
    emulator = Emulator(clock=SystemClock(), data="minimal")
    run = emulator.add_run(
        "proj_abc",
        suite_id="suite_full_regression",
        script=RunScript(queue_seconds=0, duration_seconds=0),
    )
    emulator.faults.error_rate = 0.02
    emulator.faults.error_statuses = (500, 502, 503)
    if burst is not None:
        emulator.faults.rate_limit = RATE
        emulator.faults.rate_limit_burst = burst
    async with (
        emulator.serve() as base_url,
        AsyncZof(api_key=emulator.keys.qa, base_url=base_url, max_connections=64) as zof,
    ):
        ids = [result.id async for result in zof.results.list(run_id=run.id, page_size=1000)]
        await anyio.sleep(1.5)  # the listing's requests leave the bucket
        began = time.perf_counter()
        stream = zof.results.bulk_artifacts(ids)
        async for _ in stream:
            pass
        seconds = time.perf_counter() - began
    stats = stream.stats
    return {
        "requests/s": stats.requests / seconds,
        "429s": stats.rate_limited,
        "seconds": seconds,
    }


async def main(repeat: int) -> None:
    bursts: list[int | None] = [100, 300, None]
    measured: dict[int | None, list[dict[str, float]]] = {b: [] for b in bursts}
    for _ in range(repeat):
        for burst in bursts:
            measured[burst].append(await fan_out(burst))
    print(f"fan-out of {CASES:,} artifact listings, concurrency 64, 2% 5xx, {repeat} runs each")
    print("| bucket (tokens) | requests/s (median) | of 300 req/s | 429s (median) |")
    print("|---|---|---|---|")
    for burst, rows in measured.items():
        rate = statistics.median(r["requests/s"] for r in rows)
        share = f"{rate / RATE:.0%}" if burst is not None else "no limit"
        label = str(burst) if burst is not None else "no limit"
        rejected = statistics.median(r["429s"] for r in rows)
        print(f"| {label} | {rate:.0f} | {share} | {rejected:.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=2)
    anyio.run(main, parser.parse_args().repeat)
