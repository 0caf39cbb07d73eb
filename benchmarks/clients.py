"""Benchmark clients. Each run is its own process:

    python benchmarks/clients.py '{"client": "zof", "workload": "fanout", ...}'

and prints one JSON object: wall seconds, client CPU seconds (user + system
of this process, measured over the timed part only), requests sent, and the
workload's own figures. Peers are written the way most people write them.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from collections import Counter
from typing import Any

import aiohttp
import anyio
import httpx

from zof_async import AsyncZof, Result, aiohttp_transport
from zof_async._converter import converter


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def ids(n: int) -> list[str]:
    """The result ids the emulator's `--bench-results` seeds."""
    return [f"res_run_bench_{i:07d}" for i in range(n)]


# -- fan-out: GET /results/{id}/artifacts for N results ---------------------------


async def fanout_zof(p: dict[str, Any], transport: str) -> dict[str, Any]:
    extra = {"transport": aiohttp_transport()} if transport == "aiohttp" else {}
    async with AsyncZof(
        api_key=p["key"], base_url=p["base_url"], max_connections=p["concurrency"], **extra
    ) as zof:
        seen: Counter[str] = Counter()
        failed = 0
        fan_out = zof.results.bulk_artifacts(ids(p["n"]), concurrency=p["concurrency"])
        async for batch in fan_out:
            seen[batch.result_id] += 1
            failed += not batch.ok
        stats = fan_out.stats
    return {
        "requests": stats.requests,
        "retries": stats.retries,
        "failed": failed,
        "done": len(seen),
        "duplicates": sum(seen.values()) - len(seen),
    }


async def fanout_httpx(p: dict[str, Any], *, naive_retries: int = 0) -> dict[str, Any]:
    """httpx.AsyncClient + semaphore + gather: what most people write."""
    limits = httpx.Limits(max_connections=p["concurrency"])
    semaphore = asyncio.Semaphore(p["concurrency"])
    requests = 0
    seen: Counter[str] = Counter()
    failed = 0
    async with httpx.AsyncClient(
        base_url=p["base_url"],
        headers={"Authorization": f"Bearer {p['key']}"},
        limits=limits,
        timeout=30,
    ) as http:

        async def one(result_id: str) -> None:
            nonlocal requests, failed
            async with semaphore:
                for attempt in range(naive_retries + 1):
                    requests += 1
                    try:
                        response = await http.get(f"/results/{result_id}/artifacts")
                        if response.status_code == 200:
                            response.json()
                            seen[result_id] += 1
                            return
                    except httpx.HTTPError:
                        pass
                    if attempt < naive_retries:
                        await asyncio.sleep(
                            0.1
                        )  # the naive loop: a fixed pause, Retry-After ignored
                failed += 1

        await asyncio.gather(*(one(i) for i in ids(p["n"])))
    return {
        "requests": requests,
        "failed": failed,
        "done": len(seen),
        "duplicates": sum(seen.values()) - len(seen),
    }


async def fanout_aiohttp(p: dict[str, Any]) -> dict[str, Any]:
    requests = failed = 0
    seen: Counter[str] = Counter()
    connector = aiohttp.TCPConnector(limit=p["concurrency"])
    async with aiohttp.ClientSession(
        p["base_url"] + "/", headers={"Authorization": f"Bearer {p['key']}"}, connector=connector
    ) as session:
        pending = iter(ids(p["n"]))

        async def worker() -> None:
            nonlocal requests, failed
            for result_id in pending:
                requests += 1
                try:
                    async with session.get(f"results/{result_id}/artifacts") as response:
                        await response.json()
                        if response.status == 200:
                            seen[result_id] += 1
                            continue
                except aiohttp.ClientError:
                    pass
                failed += 1

        await asyncio.gather(*(worker() for _ in range(p["concurrency"])))
    return {
        "requests": requests,
        "failed": failed,
        "done": len(seen),
        "duplicates": sum(seen.values()) - len(seen),
    }


async def fanout_transport(p: dict[str, Any]) -> dict[str, Any]:
    """The floor of the aiohttp extra: its httpx transport called directly, no SDK."""
    transport = aiohttp_transport()
    headers = httpx.Headers({"Authorization": f"Bearer {p['key']}"})
    requests = failed = 0
    seen: Counter[str] = Counter()
    pending = iter(ids(p["n"]))

    async def worker() -> None:
        nonlocal requests, failed
        for result_id in pending:
            requests += 1
            url = f"{p['base_url']}/results/{result_id}/artifacts?limit=1000"
            try:
                response = await transport.handle_async_request(
                    httpx.Request("GET", url, headers=headers)
                )
                await response.aread()
                json.loads(response.content)
                await response.aclose()
            except httpx.HTTPError:
                failed += 1
                continue
            if response.status_code == 200:
                seen[result_id] += 1
            else:
                failed += 1

    await asyncio.gather(*(worker() for _ in range(p["concurrency"])))
    await transport.aclose()
    return {
        "requests": requests,
        "failed": failed,
        "done": len(seen),
        "duplicates": sum(seen.values()) - len(seen),
    }


# -- pagination: stream the results of run_bench ----------------------------------


async def paginate_zof(p: dict[str, Any]) -> dict[str, Any]:
    items = requests = 0
    async with AsyncZof(api_key=p["key"], base_url=p["base_url"]) as zof:
        async for page in zof.results.list(
            run_id="run_bench", page_size=p["page_size"], prefetch=p["prefetch"]
        ).pages():
            items += len(page.items)
            if p["work"]:
                await anyio.sleep(p["work"])  # the consumer's own work on the page
        requests = zof.stats.requests_sent
    return {"items": items, "requests": requests}


async def paginate_loop(p: dict[str, Any], *, decode: str) -> dict[str, Any]:
    """The peer pattern: fetch a page, work on it, fetch the next."""
    items = requests = 0
    cursor = None
    async with httpx.AsyncClient(
        base_url=p["base_url"], headers={"Authorization": f"Bearer {p['key']}"}, timeout=30
    ) as http:
        while True:
            params = {
                "run_id": "run_bench",
                "limit": p["page_size"],
                **({"cursor": cursor} if cursor else {}),
            }
            body = (await http.get("/results", params=params)).json()
            requests += 1
            if decode == "models":
                page = [converter.structure(item, Result) for item in body["data"]]
            else:
                page = body["data"]
            items += len(page)
            if p["work"]:
                await anyio.sleep(p["work"])
            cursor = body["next_cursor"]
            if cursor is None:
                break
    return {"items": items, "requests": requests}


def current_rss_mb() -> float:
    """Resident memory now (not the high-water mark, which imports may have set)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def rss_zof(p: dict[str, Any]) -> dict[str, Any]:
    items = 0
    async with AsyncZof(api_key=p["key"], base_url=p["base_url"]) as zof:
        pager = zof.results.list(run_id="run_bench", page_size=1000, prefetch=1)
        async for _ in pager:  # the first page: connections and caches warm
            items += 1
            break
        baseline = peak = current_rss_mb()
        async for _ in pager:
            items += 1
            if items % 5000 == 0:
                peak = max(peak, current_rss_mb())
    return {
        "items": items,
        "rss_baseline_mb": baseline,
        "rss_peak_mb": peak,
        "rss_growth_mb": peak - baseline,
    }


CLIENTS = {
    ("fanout", "zof"): lambda p: fanout_zof(p, "httpx"),
    ("fanout", "zof-aiohttp"): lambda p: fanout_zof(p, "aiohttp"),
    ("fanout", "httpx"): fanout_httpx,
    ("fanout", "httpx-naive-retry"): lambda p: fanout_httpx(p, naive_retries=5),
    ("fanout", "aiohttp"): fanout_aiohttp,
    ("fanout", "aiohttp transport alone"): fanout_transport,
    ("paginate", "zof"): paginate_zof,
    ("paginate", "peer-loop"): lambda p: paginate_loop(p, decode="models"),
    ("paginate", "httpx-json"): lambda p: paginate_loop(p, decode="json"),
    ("rss", "zof"): rss_zof,
}


def main() -> None:
    params = json.loads(sys.argv[1])
    if hasattr(os, "sched_setaffinity") and params.get("cpu") is not None:
        os.sched_setaffinity(0, {params["cpu"]})
    run = CLIENTS[(params["workload"], params["client"])]

    async def timed() -> dict[str, Any]:
        began_cpu, began = cpu(), time.perf_counter()
        figures = await run(params)
        return {**figures, "wall": time.perf_counter() - began, "cpu": cpu() - began_cpu}

    if params["client"] in ("zof-aiohttp", "aiohttp", "aiohttp transport alone"):
        result = asyncio.run(timed())
    else:
        result = anyio.run(timed)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
