"""The SDK's client CPU per request against the fairest floor, measured so it cannot flatter.

    python benchmarks/floor.py [--n 5000] [--concurrency 100] [--latency-ms 0] [--rounds 5]
    python benchmarks/floor.py --concurrency 1000 --latency-ms 50 --n 20000   (wall time)

The server is an independent aiohttp.web app (not the emulator: no code of
the SDK's), in its own process on core 0, answering `GET
/v1/results/{id}/artifacts` with one artifact as the emulator would. Each
client runs in a process of its own on core 1, warms up (imports, connections,
caches: 300 requests), then fetches the artifacts of `--n` result ids at
`--concurrency`, and reports its own process CPU time and wall time. Rounds are
interleaved (A B C D A B C D ...), so load from elsewhere on the machine
falls on every client alike; the figures are the median and the min over the
rounds of each client's ratio to the floor *in the same round*.

The clients:

- `aiohttp`: bare aiohttp, `concurrency` worker tasks pulling ids from one
  iterator, bodies parsed by orjson, no models;
- `floor`: the same, and every artifact built as the SDK's `Artifact` with the
  project's own converter (its cheapest, non-detailed structure function);
- `sdk-aiohttp`: `zof.results.bulk_artifacts(ids)` on `transport="aiohttp"`;
- `sdk`: the same on the default transport (httpx's, over httpcore);
- `sdk-trio` (only with `--trio`): the default transport under trio;
- `NAME@base` (only with `--baseline TREE`): an SDK client run on another
  checkout's package, to compare two versions in the same rounds.

Writes nothing unless `--out NAME` is given (then benchmarks/results/NAME.md and .json).
Needs the `bench` dependency group (orjson): `nox -s bench --install-only`, then
`.nox/bench/bin/python benchmarks/floor.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

KEY = "zof_emu_admin_acme"
HERE = Path(__file__).parent
SERVER_CORE, CLIENT_CORE = 0, 1
WARM = 300


def _pin(core: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {core})


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def ids(n: int, start: int = 0) -> Iterator[str]:
    """The result ids, made as they are taken (lazy input: the clients' memory, not the list's)."""
    return (f"res_run_bench_{i:07d}" for i in range(start, start + n))


# -- the server ------------------------------------------------------------------


def serve(latency: float) -> None:
    """An aiohttp.web server on 127.0.0.1 (port printed on stdout), until killed."""
    from aiohttp import web

    created = "2026-11-23T14:56:27.139398Z"

    async def artifacts(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {KEY}":
            return web.json_response({"error": {"type": "authentication_error"}}, status=401)
        if latency:
            await asyncio.sleep(latency)
        result_id = request.match_info["result_id"]
        item = {
            "id": f"art_{result_id[4:]}_0", "object": "artifact", "run_id": "run_bench",
            "result_id": result_id, "kind": "log", "name": f"{result_id}.log",
            "content_type": "text/plain", "size_bytes": 2048,
            "download_url": f"http://127.0.0.1/v1/artifacts/art_{result_id[4:]}_0/content",
            "created_at": created,
        }  # fmt: skip
        body = {"data": [item], "next_cursor": None, "has_more": False}
        return web.Response(
            body=json.dumps(body, separators=(",", ":")).encode(),
            content_type="application/json",
            headers={"X-Request-Id": "req_" + result_id[-10:]},
        )

    app = web.Application()
    app.router.add_get("/v1/results/{result_id}/artifacts", artifacts)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    web.run_app(app, sock=listener, print=None, access_log=None, backlog=4096)


# -- the clients -----------------------------------------------------------------


async def client_aiohttp(base: str, todo: Iterable[str], concurrency: int, *, models: bool) -> int:
    import aiohttp
    import orjson

    from zof_async import Artifact
    from zof_async._converter import _converters

    structure = _converters()[1].get_structure_hook(Artifact)
    pending = iter(todo)
    done = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"Authorization": f"Bearer {KEY}"}
    async with aiohttp.ClientSession(base + "/", headers=headers, connector=connector) as session:

        async def worker() -> None:
            nonlocal done
            for result_id in pending:
                async with session.get(
                    f"results/{result_id}/artifacts", params={"limit": "1000"}
                ) as response:
                    body = orjson.loads(await response.read())
                    assert response.status == 200, response.status
                if models:
                    items = tuple(structure(item, Artifact) for item in body["data"])
                    assert items[0].result_id == result_id
                done += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done


async def client_sdk(base: str, todo: Iterable[str], concurrency: int, *, transport: Any) -> int:
    from zof_async import AsyncZof

    done = 0
    extra = {"transport": transport} if transport else {}
    async with AsyncZof(api_key=KEY, base_url=base, max_connections=concurrency, **extra) as zof:
        async for batch in zof.results.bulk_artifacts(todo, concurrency=concurrency):
            assert batch.ok, batch.error
            assert batch.artifacts is not None and batch.artifacts[0].result_id == batch.result_id
            done += 1
    return done


CLIENTS = {
    "aiohttp": lambda b, t, c: client_aiohttp(b, t, c, models=False),
    "floor": lambda b, t, c: client_aiohttp(b, t, c, models=True),
    "sdk-aiohttp": lambda b, t, c: client_sdk(b, t, c, transport="aiohttp"),
    "sdk": lambda b, t, c: client_sdk(b, t, c, transport=None),
    "sdk-trio": lambda b, t, c: client_sdk(b, t, c, transport=None),
}


def run_client(name: str, base: str, n: int, concurrency: int) -> dict[str, Any]:
    """One client in this process: warm up, then the measured fan-out."""
    _pin(CLIENT_CORE)
    make = CLIENTS[name]
    if name == "sdk-trio":
        import trio

        def run(todo: Iterable[str], c: int) -> int:
            return trio.run(make, base, todo, c)
    else:

        def run(todo: Iterable[str], c: int) -> int:
            return asyncio.run(make(base, todo, c))

    run(ids(WARM, start=n), min(concurrency, WARM))
    import gc

    gc.collect()
    began_cpu, began = cpu(), time.perf_counter()
    done = run(ids(n), concurrency)
    wall, used = time.perf_counter() - began, cpu() - began_cpu
    if done != n:
        raise SystemExit(f"{name}: {done} of {n} done")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"cpu_us": used / n * 1e6, "wall": wall, "peak_mb": peak_mb}


# -- the rounds ------------------------------------------------------------------


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    names = ["aiohttp", "floor", "sdk-aiohttp", "sdk"] + (["sdk-trio"] if args.trio else [])
    if args.clients:
        names = ["floor", *[name for name in args.clients.split(",") if name != "floor"]]
    if args.baseline:
        names += [f"{name}@base" for name in names if name.startswith("sdk")]
    server = _spawn("--serve", str(args.latency_ms / 1000))
    try:
        assert server.stdout is not None
        base = f"http://127.0.0.1:{server.stdout.readline().strip()}/v1"
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        for round_ in range(args.rounds):
            for name in names:
                client, _, tree = name.partition("@")
                env = {**os.environ, "PYTHONPATH": args.baseline} if tree else None
                out = subprocess.run(
                    [sys.executable, __file__, "--client", client, "--base", base,
                     "--n", str(args.n), "--concurrency", str(args.concurrency)],
                    capture_output=True, text=True, check=False, env=env,
                )  # fmt: skip
                if out.returncode:
                    raise SystemExit(f"{name} failed:\n{out.stderr[-3000:]}")
                rows[name].append(json.loads(out.stdout.splitlines()[-1]))
                got = rows[name][-1]
                print(f"round {round_} {name:<12} CPU {got['cpu_us']:7.1f} µs/request, "
                      f"wall {got['wall']:.2f} s", flush=True)  # fmt: skip
    finally:
        server.terminate()
        server.wait(30)
    return summarize(rows, args)


def summarize(rows: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> dict[str, Any]:
    """Per client: median CPU and wall, and the median and min of per-round ratios to the floor."""
    floor = rows["floor"]
    out: dict[str, Any] = {
        "n": args.n, "concurrency": args.concurrency, "latency_ms": args.latency_ms,
        "rounds": args.rounds, "load_before": args.load, "load_after": os.getloadavg(),
        "clients": {},
    }  # fmt: skip
    for name, runs in rows.items():
        cpu_ratios = [r["cpu_us"] / f["cpu_us"] for r, f in zip(runs, floor, strict=True)]
        wall_ratios = [r["wall"] / f["wall"] for r, f in zip(runs, floor, strict=True)]
        out["clients"][name] = {
            "cpu_us_median": statistics.median(r["cpu_us"] for r in runs),
            "wall_s_median": statistics.median(r["wall"] for r in runs),
            "peak_mb_median": statistics.median(r["peak_mb"] for r in runs),
            "cpu_x_floor_median": statistics.median(cpu_ratios),
            "cpu_x_floor_min": min(cpu_ratios),
            "cpu_x_floor_rounds": [round(r, 2) for r in cpu_ratios],
            "wall_x_floor_median": statistics.median(wall_ratios),
            "wall_x_floor_rounds": [round(r, 2) for r in wall_ratios],
        }
    return out


def table(result: dict[str, Any]) -> str:
    lines = [
        f"{result['n']:,} artifact-list requests at c{result['concurrency']}, "
        f"{result['latency_ms']:g} ms server latency, {result['rounds']} interleaved rounds; "
        f"load average before {result['load_before'][0]:.2f}, after {result['load_after'][0]:.2f} "
        "(a 2-core machine shared with other work)",
        "",
        "| client | CPU µs/req (median) | × floor CPU, median (min) | wall s (median) "
        "| × floor wall, median | peak RSS MB (median) | CPU × floor per round |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, row in result["clients"].items():
        lines.append(
            f"| {name} | {row['cpu_us_median']:.0f} | {row['cpu_x_floor_median']:.2f} "
            f"({row['cpu_x_floor_min']:.2f}) | {row['wall_s_median']:.2f} "
            f"| {row['wall_x_floor_median']:.2f} | {row['peak_mb_median']:.0f} "
            f"| {row['cpu_x_floor_rounds']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--trio", action="store_true", help="also the default transport on trio")
    parser.add_argument("--clients", help="comma-separated subset (the floor is always run)")
    parser.add_argument("--out", help="write benchmarks/results/OUT.md and OUT.json")
    parser.add_argument(
        "--baseline",
        metavar="TREE",
        help="also run the SDK clients of another checkout (`git worktree add TREE COMMIT`), "
        "named NAME@base, in the same interleaved rounds",
    )
    parser.add_argument("--serve", metavar="LATENCY_S", help=argparse.SUPPRESS)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        _pin(SERVER_CORE)
        serve(float(args.serve))
        return
    if args.client:
        print(json.dumps(run_client(args.client, args.base, args.n, args.concurrency)))
        return
    args.load = os.getloadavg()
    result = measure(args)
    text = table(result)
    print(text)
    if args.out:
        (HERE / "results" / f"{args.out}.json").write_text(json.dumps(result, indent=2) + "\n")
        (HERE / "results" / f"{args.out}.md").write_text(
            f"`python benchmarks/floor.py {' '.join(sys.argv[1:])}`\n\n{text}\n"
        )


if __name__ == "__main__":
    main()
