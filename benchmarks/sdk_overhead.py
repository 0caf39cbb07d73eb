"""The SDK's own CPU per request in a fan-out, over a transport that does no I/O.

    python benchmarks/sdk_overhead.py [--concurrency 100] [--rounds 7] [--profile]

`bulk_artifacts` runs against an in-process transport that answers every
request at once with the emulator's answer to `GET /results/{id}/artifacts`
(its headers and a one-artifact body, already read as the aiohttp transport
returns it), so no socket, server or transport cost is in the figure: only
the SDK's layers (fan-out engine, pipeline, request building, decoding).
The floor is that fake transport called alone at the same concurrency.

The fan-out benchmark (`run.py --fanout`) moves by several µs from one run to
the next on a shared machine; this one by a few tenths, so a trim of 1-2 µs
in the SDK shows here. `--profile` prints cProfile's top functions instead.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import resource
import statistics
from typing import Any

import httpx

from zof_async import AsyncZof

HEADERS = (
    (b"date", b"Mon, 23 Nov 2026 15:50:27 GMT"),
    (b"server", b"uvicorn"),
    (b"content-type", b"application/json"),
    (b"x-request-id", b"req_3ceb3ffd0000000002"),
    (b"content-length", b"374"),
)
BODY = (
    b'{"data":[{"id":"art_run_bench_0000001_0","object":"artifact","run_id":"run_bench",'
    b'"result_id":"res_run_bench_0000001","kind":"log","name":"tc_proj_abc_00001.log",'
    b'"content_type":"text/plain","size_bytes":2048,"download_url":'
    b'"http://127.0.0.1:44527/v1/artifacts/art_run_bench_0000001_0/content",'
    b'"created_at":"2026-11-23T14:56:27.139398Z"}],"next_cursor":null,"has_more":false}'
)


class Answering(httpx.AsyncBaseTransport):
    """Answers every request with `BODY`, read, after one trip through the event loop."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)
        response = httpx.Response(
            200,
            headers=HEADERS,
            stream=httpx.ByteStream(BODY),
            extensions={"http_version": b"HTTP/1.1"},
        )
        response._content = BODY  # as the aiohttp transport returns a small body
        return response


async def fan_out(n: int, concurrency: int) -> None:
    async with AsyncZof(
        api_key="zof_emu_admin_acme",
        base_url="http://127.0.0.1:1/v1",
        transport=Answering(),
        max_connections=concurrency,
    ) as zof:
        ids = [f"res_run_bench_{i:07d}" for i in range(n)]
        async for batch in zof.results.bulk_artifacts(ids, concurrency=concurrency):
            assert batch.ok, batch.error


async def floor(n: int, concurrency: int) -> None:
    transport, pending = Answering(), iter(range(n))
    request = httpx.Request("GET", "http://127.0.0.1:1/v1/")

    async def worker() -> None:
        for _ in pending:
            await transport.handle_async_request(request)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("-n", type=int, default=20_000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    runs: dict[str, Any] = {"floor": floor, "sdk": fan_out}
    for run in runs.values():  # imports and caches: not in any round
        asyncio.run(run(500, args.concurrency))
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(asyncio.run, fan_out(args.n, args.concurrency))
        pstats.Stats(profile).sort_stats("tottime").print_stats(40)
        return
    figures: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):  # interleaved, so load on the machine hits both alike
        for name, run in runs.items():
            began = cpu()
            asyncio.run(run(args.n, args.concurrency))
            figures[name].append((cpu() - began) / args.n * 1e6)
    for name, values in figures.items():
        print(
            f"{name:<6} CPU µs/request: median {statistics.median(values):.1f}, "
            f"min {min(values):.1f} ({args.rounds} rounds, c{args.concurrency})"
        )


if __name__ == "__main__":
    main()
