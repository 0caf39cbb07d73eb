"""How should the SDK arrange httpx's connections? Measured, not assumed.

    python benchmarks/pool.py [--n 3000] [--latency 0.0] [--concurrency 100]

Against the emulator in its own process, the same fan-out of GETs through:
one pool of `concurrency` connections (keep-alive 20, and keep-alive =
`concurrency`), sharded pools of 10 and 1 connections behind one semaphore,
the same single-connection shards called without `AsyncClient.send`, and
raw aiohttp as the reference. Prints wall time, requests/s and client CPU
per request, and each arrangement's ratio against one pool.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import sys
import time
from collections.abc import Awaitable, Callable

import anyio
import httpx

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from run import KEY, server

HEADERS = {"Authorization": f"Bearer {KEY}"}


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def drive(
    n: int, concurrency: int, send: Callable[[], Awaitable[int]]
) -> tuple[float, float]:
    counter = itertools.count()

    async def worker() -> None:
        while next(counter) < n:
            assert await send() == 200

    began, began_cpu = time.perf_counter(), cpu()
    async with anyio.create_task_group() as tg:
        for _ in range(concurrency):
            tg.start_soon(worker)
    return time.perf_counter() - began, cpu() - began_cpu


async def arrangements(base_url: str, n: int, concurrency: int) -> list[tuple[str, float, float]]:
    url = httpx.URL(f"{base_url}/runs/run_bench")
    rows = []

    for keepalive in (20, concurrency):
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=keepalive)
        async with httpx.AsyncClient(headers=HEADERS, limits=limits) as one:
            gate = anyio.Semaphore(concurrency)

            async def via_one(one: httpx.AsyncClient = one, gate: anyio.Semaphore = gate) -> int:
                async with gate:
                    return (await one.get(url)).status_code

            rows.append(
                (f"one pool, keep-alive {keepalive}", *await drive(n, concurrency, via_one))
            )

    for size in (10, 1):
        shards = [
            httpx.AsyncClient(
                headers=HEADERS,
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
            )
            for _ in range(concurrency // size)
        ]
        gates = [anyio.Semaphore(size) for _ in shards]
        turn = itertools.count()

        async def via_shards(
            shards: list[httpx.AsyncClient] = shards,
            gates: list[anyio.Semaphore] = gates,
            turn: itertools.count[int] = turn,
        ) -> int:
            k = next(turn) % len(shards)
            async with gates[k]:
                return (await shards[k].get(url)).status_code

        rows.append((f"{len(shards)} pools of {size}", *await drive(n, concurrency, via_shards)))
        for shard in shards:
            await shard.aclose()

    idle = [
        httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1)
        )
        for _ in range(concurrency)
    ]
    slots = anyio.Semaphore(concurrency)

    async def direct() -> int:
        async with slots:
            transport = idle.pop()
            try:
                response = await transport.handle_async_request(
                    httpx.Request("GET", url, headers=HEADERS)
                )
                await response.aread()
                await response.aclose()
                return response.status_code
            finally:
                idle.append(transport)

    rows.append(
        (
            f"{concurrency} single-connection transports, direct (the SDK's default)",
            *await drive(n, concurrency, direct),
        )
    )
    for transport in idle:
        await transport.aclose()
    return rows


async def aiohttp_row(base_url: str, n: int, concurrency: int) -> tuple[str, float, float]:
    import aiohttp

    async with aiohttp.ClientSession(
        headers=HEADERS, connector=aiohttp.TCPConnector(limit=concurrency)
    ) as session:

        async def send() -> int:
            async with session.get(f"{base_url}/runs/run_bench") as response:
                await response.read()
                return response.status

        return ("raw aiohttp (reference)", *await drive(n, concurrency, send))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    with server(results=10, latency=args.latency) as base_url:
        rows = anyio.run(arrangements, base_url, args.n, args.concurrency)
        rows.append(anyio.run(aiohttp_row, base_url, args.n, args.concurrency, backend="asyncio"))
    baseline = rows[0][1]
    print(
        f"{args.n} GETs, concurrency {args.concurrency}, server latency {args.latency * 1000:.0f} ms"
    )
    print(f"{'arrangement':<62} {'wall s':>7} {'req/s':>7} {'CPU µs/req':>11} {'× one pool':>11}")
    for name, wall, used in rows:
        print(
            f"{name:<62} {wall:7.2f} {args.n / wall:7.0f} {used / args.n * 1e6:11.0f} {baseline / wall:11.2f}"
        )


if __name__ == "__main__":
    main()
