"""Client CPU per request of each transport, against raw aiohttp, in one run.

    python benchmarks/transports.py [--n 3000] [--concurrency 100] [--rounds 3]

Against the emulator in its own process, the same fan-out of `GET /runs/{id}`
through: raw aiohttp (the floor), the httpx-aiohttp package's transport
called directly (if installed: what `aiohttp_transport()` was before the SDK
owned its transport), the SDK's aiohttp transport called directly, and the
whole SDK (`runs.get`) on `transport="aiohttp"` and on the default
transport. Rounds are interleaved, so load on this shared machine falls on
every row alike; the table shows the median CPU µs per request and its
ratio to raw aiohttp.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import resource
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from run import KEY, server

from zof_async import AsyncZof
from zof_async._http._transport._aiohttp import aiohttp_transport

HEADERS = {"Authorization": f"Bearer {KEY}"}
Send = Callable[[], Awaitable[int]]


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def drive(n: int, concurrency: int, send: Send) -> float:
    """CPU seconds for `n` requests, `concurrency` at a time."""
    counter = itertools.count()

    async def worker() -> None:
        while next(counter) < n:
            assert await send() == 200

    began = cpu()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return cpu() - began


async def raw_aiohttp(url: str, concurrency: int) -> tuple[Send, Callable[[], Awaitable[Any]]]:
    import aiohttp

    session = aiohttp.ClientSession(
        headers=HEADERS, connector=aiohttp.TCPConnector(limit=concurrency)
    )

    async def send() -> int:
        async with session.get(url) as response:
            await response.read()
            return response.status

    return send, session.close


def direct(transport: httpx.AsyncBaseTransport, url: str) -> Send:
    request_url = httpx.URL(url)

    async def send() -> int:
        response = await transport.handle_async_request(
            httpx.Request("GET", request_url, headers=HEADERS)
        )
        await response.aread()
        await response.aclose()
        return response.status_code

    return send


async def measure(base_url: str, n: int, concurrency: int, rounds: int) -> dict[str, list[float]]:
    url = f"{base_url}/runs/run_bench"
    sends: dict[str, Send] = {}
    closers: list[Callable[[], Awaitable[Any]]] = []
    send, close = await raw_aiohttp(url, concurrency)
    sends["raw aiohttp"], _ = send, closers.append(close)
    try:
        from httpx_aiohttp import AiohttpTransport

        package = AiohttpTransport()
        sends["httpx-aiohttp package transport, direct"] = direct(package, url)
        closers.append(package.aclose)
    except ImportError:
        pass
    own = aiohttp_transport()
    sends["SDK aiohttp transport, direct"] = direct(own, url)
    closers.append(own.aclose)
    for name, transport in (("SDK runs.get + Run model, aiohttp", "aiohttp"), ("SDK runs.get + Run model, default", None)):  # fmt: skip
        zof = AsyncZof(
            api_key=KEY, base_url=base_url, transport=transport, max_connections=concurrency
        )

        async def via_sdk(zof: AsyncZof = zof) -> int:
            await zof.runs.get("run_bench")
            return 200

        sends[name] = via_sdk
        closers.append(zof.aclose)
    cpu_per_request: dict[str, list[float]] = {name: [] for name in sends}
    try:
        for send in sends.values():  # warm up connections and caches
            await drive(min(n, 500), concurrency, send)
        for _ in range(rounds):
            for name, send in sends.items():
                cpu_per_request[name].append(await drive(n, concurrency, send) / n)
    finally:
        for close in closers:
            await close()
    return cpu_per_request


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    began = time.perf_counter()
    with server(results=10) as base_url:
        rows = asyncio.run(measure(base_url, args.n, args.concurrency, args.rounds))
    floor = statistics.median(rows["raw aiohttp"])
    print(
        f"{args.n} GETs x {args.rounds} interleaved rounds, concurrency {args.concurrency}, "
        f"0 ms server latency ({time.perf_counter() - began:.0f} s)"
    )
    print(f"{'client':<44} {'CPU µs/req (median)':>20} {'x raw aiohttp':>14}")
    for name, values in rows.items():
        median = statistics.median(values)
        print(f"{name:<44} {median * 1e6:20.0f} {median / floor:14.2f}")


if __name__ == "__main__":
    main()
