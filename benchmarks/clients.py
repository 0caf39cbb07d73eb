"""Benchmark clients. Each run is its own process:

    python benchmarks/clients.py '{"client": "zof", "workload": "fanout", ...}'

and prints one JSON object: wall seconds, client CPU seconds (user + system
of this process, measured over the timed part only), requests sent, and the
workload's own figures. Peers are written the way most people write them.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import sys
import time
from collections import Counter
from datetime import datetime
from typing import Any

import aiohttp
import anyio
import httpx

from zof_async import AsyncZof, Result
from zof_async._converter import converter
from zof_async._http._transport._aiohttp import aiohttp_transport


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def ids(n: int) -> list[str]:
    """The result ids the emulator's `--bench-results` seeds."""
    return [f"res_run_bench_{i:07d}" for i in range(n)]


# -- fan-out: GET /results/{id}/artifacts for N results ---------------------------


def _transport(name: str) -> Any:
    """What `AsyncZof(transport=...)` gets for a client name of the benchmark."""
    if name == "aiohttp":
        return "aiohttp"
    if name == "httpx-aiohttp":
        from httpx_aiohttp import AiohttpTransport  # the package, if the bench group has it

        return AiohttpTransport()
    return None


async def fanout_zof(p: dict[str, Any], transport: str) -> dict[str, Any]:
    chosen = _transport(transport)
    extra = {"transport": chosen} if chosen is not None else {}
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
    if chosen is not None and not isinstance(chosen, str):
        await chosen.aclose()  # a transport of ours is ours to close
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
    """The floor of the aiohttp extra: its httpx transport called directly, no SDK.

    Each request is built as the SDK builds it (its `RequestBuilder`: the base
    URL parsed once, the headers prepared once, the per-attempt timeouts), and
    the answer closed as the SDK closes a read one, so the row is the
    transport's own cost, not that of parsing a URL string per request.
    """
    transport = aiohttp_transport()
    async with AsyncZof(api_key=p["key"], base_url=p["base_url"]) as zof:
        build = zof._pipeline.build  # nothing sent through it: only its request builder
    requests = failed = 0
    seen: Counter[str] = Counter()
    pending = iter(ids(p["n"]))

    async def worker() -> None:
        nonlocal requests, failed
        for result_id in pending:
            requests += 1
            request = build("GET", f"/results/{result_id}/artifacts", params={"limit": 1000})
            try:
                response = await transport.handle_async_request(request)
                json.loads(await response.aread())
            except httpx.HTTPError:
                failed += 1
                continue
            response.is_closed = True  # a read body: the SDK's close (`Lease.release`)
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
    transport = p.get("transport")
    async with AsyncZof(api_key=p["key"], base_url=p["base_url"], transport=transport) as zof:
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


def _peer_converter() -> Any:
    """What a hand-written client builds the same attrs models with: plain cattrs."""
    import cattrs

    peer = cattrs.Converter()
    peer.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(value))
    return peer


async def paginate_aiohttp(p: dict[str, Any]) -> dict[str, Any]:
    """The fastest hand-written page loop: aiohttp, orjson, cattrs into the SDK's `Result`."""
    import orjson

    peer = _peer_converter()
    items = requests = 0
    cursor = None
    async with aiohttp.ClientSession(
        p["base_url"] + "/", headers={"Authorization": f"Bearer {p['key']}"}
    ) as session:
        while True:
            params = {"run_id": "run_bench", "limit": str(p["page_size"])}
            if cursor:
                params["cursor"] = cursor
            async with session.get("results", params=params) as response:
                body = orjson.loads(await response.read())
            requests += 1
            items += len([peer.structure(item, Result) for item in body["data"]])
            cursor = body["next_cursor"]
            if cursor is None:
                break
    return {"items": items, "requests": requests}


# -- interleaved rounds: every client in one process, round after round -----------

FANOUT_ROUNDS = {
    "aiohttp": fanout_aiohttp,
    "aiohttp transport alone": lambda p: fanout_transport(p),
    "zof-aiohttp": lambda p: fanout_zof(p, "aiohttp"),
    "zof": lambda p: fanout_zof(p, "httpx"),
    "zof-httpx-aiohttp": lambda p: fanout_zof(p, "httpx-aiohttp"),
    "httpx": fanout_httpx,
}
PAGINATE_ROUNDS = {
    "zof": lambda p: paginate_zof({**p, "prefetch": 1, "work": 0}),
    "zof-aiohttp": lambda p: paginate_zof({**p, "prefetch": 1, "work": 0, "transport": "aiohttp"}),
    "aiohttp+orjson+cattrs": paginate_aiohttp,
}


async def _timed(run: Any, params: dict[str, Any]) -> dict[str, Any]:
    gc.collect()
    began_cpu, began = cpu(), time.perf_counter()
    try:
        figures = await run(params)
    except Exception as exc:  # one client's failure is a figure, not the end of the run
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    return {**figures, "wall": time.perf_counter() - began, "cpu": cpu() - began_cpu}


async def rounds(p: dict[str, Any]) -> dict[str, Any]:
    """Each round runs every client once per setting, so load on the machine hits all alike.

    `p["sizes"]` may give a client fewer requests (the hand-written httpx client
    is ~20x slower); its figures are per request either way.
    """
    table = FANOUT_ROUNDS if p["kind"] == "fanout" else PAGINATE_ROUNDS
    names = [name for name in p["clients"] if name in table]
    out: dict[str, dict[str, list[dict[str, Any]]]] = {name: {} for name in names}
    settings = p.get("concurrencies") or [None]
    warm = {**p, "n": min(p.get("n", 0), 300), "concurrency": 50}
    for name in names:  # imports, connections' first use, caches: not in any round
        await _timed(table[name], {**warm, "concurrency": settings[0] or 50})
    for _ in range(p["rounds"]):
        for setting in settings:
            for name in names:
                params = {
                    **p,
                    "concurrency": setting,
                    "n": p.get("sizes", {}).get(name, p.get("n")),
                }
                figures = await _timed(table[name], params)
                out[name].setdefault(str(setting), []).append(figures)
    return out


async def memory(p: dict[str, Any]) -> dict[str, Any]:
    """Python heap (tracemalloc) per request in flight, above the heap before the fan-out.

    The peak is taken while `concurrency` requests wait on the server's latency,
    so it holds every in-flight request's objects, connection and buffers.
    """
    import tracemalloc

    out: dict[str, list[float]] = {}
    concurrency = p["concurrency"]
    params = {**p, "n": concurrency * 2}
    for name in p["clients"]:
        await FANOUT_ROUNDS[name](params)  # warm: imports and caches are not per request
    tracemalloc.start()
    try:
        for _ in range(p["rounds"]):
            for name in p["clients"]:
                gc.collect()
                tracemalloc.reset_peak()
                before = tracemalloc.get_traced_memory()[0]
                await FANOUT_ROUNDS[name](params)
                peak = tracemalloc.get_traced_memory()[1]
                out.setdefault(name, []).append((peak - before) / concurrency)
    finally:
        tracemalloc.stop()
    return out


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
    ("rounds", "all"): rounds,
    ("memory", "all"): memory,
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

    if params["workload"] in ("rounds", "memory"):
        result = asyncio.run(run(params))  # every client on asyncio, aiohttp's only loop
    elif params["client"] in ("zof-aiohttp", "aiohttp", "aiohttp transport alone"):
        result = asyncio.run(timed())
    else:
        result = anyio.run(timed)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
