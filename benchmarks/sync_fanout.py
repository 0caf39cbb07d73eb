"""`Zof` (sync) against `AsyncZof`: the fan-out's throughput, and the cost of one call.

    python benchmarks/sync_fanout.py [--rounds 3] [--ids 10000] [--calls 300]

The emulator serves `--ids` results in its own process (pinned to CPU 0, as
benchmarks/run.py does). Each round runs both clients, interleaved (A B, B A, A B, ...):

- `bulk_artifacts` over the `--ids` result ids at concurrency 64, iterated
  with `for` on a `Zof` and with `async for` on an `AsyncZof`
  (requests per second, from the first request to the last outcome);
- `--calls` sequential `results.get` on each (the median latency of one call:
  the sync one pays two hand-overs between threads on top), and as many
  `runs.list()`, which sends nothing: the hand-over alone.

Prints the medians over the rounds, and the sync/async ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from run import KEY, server

from zof_async import AsyncZof, Zof

CONCURRENCY = 64
FIRST = "res_run_bench_0000000"


def sync_fanout(base_url: str, ids: list[str]) -> tuple[float, float]:
    """Requests per second, and this process's CPU seconds per request (all threads)."""
    with Zof(api_key=KEY, base_url=base_url, max_connections=CONCURRENCY) as zof:
        zof.results.get(FIRST)  # the loop's thread and a first connection
        began, cpu = time.perf_counter(), time.process_time()
        done = sum(1 for _ in zof.results.bulk_artifacts(ids, concurrency=CONCURRENCY))
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    assert done == len(ids)
    return done / seconds, cpu / done


async def async_fanout(base_url: str, ids: list[str]) -> tuple[float, float]:
    async with AsyncZof(api_key=KEY, base_url=base_url, max_connections=CONCURRENCY) as zof:
        await zof.results.get(FIRST)
        began, cpu, done = time.perf_counter(), time.process_time(), 0
        async for _ in zof.results.bulk_artifacts(ids, concurrency=CONCURRENCY):
            done += 1
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    assert done == len(ids)
    return done / seconds, cpu / done


def sync_calls(base_url: str, calls: int) -> float:
    with Zof(api_key=KEY, base_url=base_url) as zof:
        zof.results.get(FIRST)
        times = []
        for _ in range(calls):
            began = time.perf_counter()
            zof.results.get(FIRST)
            times.append(time.perf_counter() - began)
    return statistics.median(times)


async def async_calls(base_url: str, calls: int) -> float:
    async with AsyncZof(api_key=KEY, base_url=base_url) as zof:
        await zof.results.get(FIRST)
        times = []
        for _ in range(calls):
            began = time.perf_counter()
            await zof.results.get(FIRST)
            times.append(time.perf_counter() - began)
    return statistics.median(times)


def sync_hand_over(base_url: str, calls: int) -> float:
    """Median seconds of a call that sends nothing (`runs.list()` builds a pager): the hand-over."""
    with Zof(api_key=KEY, base_url=base_url) as zof:
        zof.runs.list(page_size=10)
        times = []
        for _ in range(calls):
            began = time.perf_counter()
            zof.runs.list(page_size=10)
            times.append(time.perf_counter() - began)
    return statistics.median(times)


async def async_hand_over(base_url: str, calls: int) -> float:
    async with AsyncZof(api_key=KEY, base_url=base_url) as zof:
        times = []
        for _ in range(calls):
            began = time.perf_counter()
            zof.runs.list(page_size=10)
            times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ids", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    ids = [f"res_run_bench_{i:07d}" for i in range(args.ids)]
    rates: dict[str, list[float]] = {"sync": [], "async": []}
    cpus: dict[str, list[float]] = {"sync": [], "async": []}
    latency: dict[str, list[float]] = {"sync": [], "async": []}
    hand_over: dict[str, list[float]] = {"sync": [], "async": []}
    with server(results=args.ids) as base_url:
        for round_ in range(args.rounds):
            # A B, then B A: neither client always runs on the fresher server.
            for name in ("sync", "async") if round_ % 2 == 0 else ("async", "sync"):
                if name == "sync":
                    rate, cpu_each = sync_fanout(base_url, ids)
                    latency[name].append(sync_calls(base_url, args.calls))
                    hand_over[name].append(sync_hand_over(base_url, args.calls))
                else:
                    rate, cpu_each = asyncio.run(async_fanout(base_url, ids))
                    latency[name].append(asyncio.run(async_calls(base_url, args.calls)))
                    hand_over[name].append(asyncio.run(async_hand_over(base_url, args.calls)))
                rates[name].append(rate)
                cpus[name].append(cpu_each)
            print(
                f"round: {rates['sync'][-1]:.0f} / {rates['async'][-1]:.0f} requests/s", flush=True
            )
    fan = {name: statistics.median(values) for name, values in rates.items()}
    cpu = {name: statistics.median(values) * 1e6 for name, values in cpus.items()}
    one = {name: statistics.median(values) * 1e6 for name, values in latency.items()}
    bare = {name: statistics.median(values) * 1e6 for name, values in hand_over.items()}
    ratios = [s / a for s, a in zip(rates["sync"], rates["async"], strict=True)]
    print(f"bulk_artifacts over {args.ids:,} ids, concurrency {CONCURRENCY}, {args.rounds} rounds")
    print("| | Zof (sync) | AsyncZof | sync / async |")
    print("|---|---:|---:|---:|")
    print(
        f"| fan-out, requests/s (median) | {fan['sync']:,.0f} | {fan['async']:,.0f} "
        f"| {statistics.median(ratios):.0%} (median of rounds) |"
    )
    print(
        f"| fan-out, client CPU µs per request (median) | {cpu['sync']:,.0f} | "
        f"{cpu['async']:,.0f} | +{cpu['sync'] - cpu['async']:,.0f} µs |"
    )
    print(
        f"| one results.get, µs (median) | {one['sync']:,.0f} | {one['async']:,.0f} "
        f"| +{one['sync'] - one['async']:,.0f} µs |"
    )
    print(
        f"| one runs.list() (no request), µs (median) | {bare['sync']:,.0f} | "
        f"{bare['async']:,.0f} | +{bare['sync'] - bare['async']:,.0f} µs |"
    )


if __name__ == "__main__":
    main()
