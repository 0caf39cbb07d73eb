"""Throughput of a fan-out against the emulator's per-key rate limit (issue 30).

    python benchmarks/rate_limit.py [--rounds 3] [--quick]

One emulator per bucket size (400, 100, 10) at 400 requests/s per key, on
127.0.0.1 in its own process (pinned to core 0); each client runs in its own
process (core 1): `bulk_artifacts` over 2,000 results at concurrency 100, on
the default and the aiohttp transports, adaptive (no limit declared) and with
`max_requests_per_second=400`; rounds interleaved (every configuration once
per round). Then 4 processes on one key, 500 results each, started together.
Reports medians of items/s, share of the limit and 429s, and the send rate
over time of one adaptive run per bucket. Writes benchmarks/results/
rate_limit.{json,md} (with --quick: benchmarks/results/quick/, untracked).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
KEY = "zof_emu_admin_acme"
LIMIT = 400.0
BURSTS = (400, 100, 10)
TRANSPORTS = ("httpx", "aiohttp")
MODES = ("adaptive", "declared")
CORES = os.cpu_count() or 1


def _pin(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if CORES > 1 and _has("taskset") else []


def _has(tool: str) -> bool:
    return any((Path(d) / tool).exists() for d in os.environ.get("PATH", "").split(os.pathsep))


@contextmanager
def server(burst: int, results: int) -> Iterator[str]:
    """The emulator at `LIMIT` requests/s with bucket `burst`, in its own process."""
    command = [sys.executable, "-m", "zof_async.testing", "--port", "0", "--data", "minimal",
               "--bench-results", str(results), "--rate-limit", str(LIMIT),
               "--rate-limit-burst", str(burst)]  # fmt: skip
    process = subprocess.Popen(_pin(0) + command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().split(" on ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(30)


def client(params: dict[str, Any]) -> subprocess.Popen[str]:
    """One client process (this script with `--client`); its JSON figures on stdout."""
    command = [sys.executable, __file__, "--client", json.dumps(params)]
    return subprocess.Popen(_pin(1) + command, stdout=subprocess.PIPE, text=True)


def result_of(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = process.communicate(timeout=600)
    if process.returncode != 0:
        raise RuntimeError(f"client failed ({process.returncode})")
    figures: dict[str, Any] = json.loads(out)
    return figures


async def fan_out(p: dict[str, Any]) -> dict[str, Any]:
    """The client side: one fan-out, timed; samples of the send rate every 0.25 s."""
    from zof_async import AsyncZof

    extra: dict[str, Any] = {"transport": "aiohttp"} if p["transport"] == "aiohttp" else {}
    if p["mode"] == "declared":
        extra["max_requests_per_second"] = p["declared"]
    ids = [f"res_run_bench_{i:07d}" for i in range(p["first"], p["first"] + p["n"])]
    async with AsyncZof(
        api_key=KEY, base_url=p["base_url"], max_connections=p["concurrency"], **extra
    ) as zof:
        failed, seen, samples = 0, set(), []
        fan = zof.results.bulk_artifacts(ids, concurrency=p["concurrency"])
        began = time.perf_counter()
        next_sample = 0.0
        async for batch in fan:
            failed += not batch.ok
            seen.add(batch.result_id)
            now = time.perf_counter() - began
            if now >= next_sample:
                samples.append([round(now, 2), len(seen), fan.stats.send_rate])
                next_sample += 0.25
        wall = time.perf_counter() - began
        stats = fan.stats
    return {
        "wall": wall,
        "items": len(seen),
        "failed": failed,
        "requests": stats.requests,
        "rate_limited": stats.rate_limited,
        "samples": samples,
    }


def run_one(base_url: str, transport: str, mode: str, n: int, declared: float) -> dict[str, Any]:
    params = {"base_url": base_url, "transport": transport, "mode": mode, "n": n, "first": 0,
              "concurrency": 100, "declared": declared}  # fmt: skip
    figures = result_of(client(params))
    time.sleep(1.5)  # the bucket refills before the next run on this key
    return figures


def run_shared(base_url: str, mode: str, n: int, workers: int) -> dict[str, Any]:
    """`workers` processes on one key, `n / workers` results each, started together."""
    each = n // workers
    processes = [
        client(
            {
                "base_url": base_url,
                "transport": "httpx",
                "mode": mode,
                "n": each,
                "first": i * each,
                "concurrency": 100,
                "declared": LIMIT / workers,
            }
        )
        for i in range(workers)
    ]
    began = time.perf_counter()
    figures = [result_of(p) for p in processes]
    wall = time.perf_counter() - began  # includes the start of the processes
    time.sleep(1.5)
    return {
        "wall": max(f["wall"] for f in figures),
        "process_wall": wall,
        "items": sum(f["items"] for f in figures),
        "failed": sum(f["failed"] for f in figures),
        "rate_limited": sum(f["rate_limited"] for f in figures),
    }


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    rates = [r["items"] / r["wall"] for r in runs]
    return {
        "items_per_s": statistics.median(rates),
        "share": statistics.median(rates) / LIMIT,
        "rate_limited": statistics.median(r["rate_limited"] for r in runs),
        "lost": sum(2000 - r["items"] if "samples" in r else 0 for r in runs),
        "failed": sum(r["failed"] for r in runs),
        "runs": [round(x, 1) for x in rates],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one round, default transport")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        print(json.dumps(asyncio.run(fan_out(json.loads(args.client)))))
        return
    n = 2000
    rounds = 1 if args.quick else args.rounds
    transports = TRANSPORTS[:1] if args.quick else TRANSPORTS
    raw: dict[str, list[dict[str, Any]]] = {}
    with ExitStack() as stack:
        urls = {b: stack.enter_context(server(b, n)) for b in BURSTS}
        time.sleep(2)
        for r in range(rounds):
            for burst in BURSTS:
                for transport in transports:
                    for mode in MODES:
                        name = f"{mode}/{transport}/burst {burst}"
                        figures = run_one(urls[burst], transport, mode, n, LIMIT)
                        raw.setdefault(name, []).append(figures)
                        rate = figures["items"] / figures["wall"]
                        print(f"round {r + 1}: {name}: {rate:.0f} items/s,", flush=True)
            for mode in MODES:
                name = f"{mode}/4 processes/burst 100"
                figures = run_shared(urls[100], mode, n, 4)
                raw.setdefault(name, []).append(figures)
                rate = figures["items"] / figures["wall"]
                print(f"round {r + 1}: {name}: {rate:.0f} items/s", flush=True)
    write(raw, quick=args.quick)


def write(raw: dict[str, list[dict[str, Any]]], *, quick: bool) -> None:
    out = HERE / "results" / ("quick" if quick else "")
    out.mkdir(parents=True, exist_ok=True)
    summary = {name: summarize(runs) for name, runs in raw.items()}
    (out / "rate_limit.json").write_text(json.dumps({"summary": summary, "raw": raw}, indent=1))
    lines = [
        "# Fan-out against a rate limit (emulator at 400 requests/s per key)",
        "",
        "`python benchmarks/rate_limit.py`: bulk_artifacts over 2,000 results at concurrency"
        " 100; medians of interleaved rounds.",
        "",
        "| mode | transport | bucket | items/s | share of the limit | 429s | runs (items/s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in summary.items():
        mode, transport, burst = name.split("/")
        lines.append(
            f"| {mode} | {transport} | {burst.split()[1]} | {s['items_per_s']:.0f} |"
            f" {s['share']:.0%} | {s['rate_limited']:g} | {', '.join(map(str, s['runs']))} |"
        )
    lines += ["", "## Send rate over time (adaptive, default transport, first round)", ""]
    lines += ["| bucket | " + " | ".join(f"{t} s" for t in range(8)) + " |",
              "|---|" + "---|" * 8]  # fmt: skip
    for burst in BURSTS:
        samples = raw[f"adaptive/httpx/burst {burst}"][0]["samples"]
        cells = []
        for t in range(8):
            at = [s for s in samples if s[0] <= t + 0.5 and s[0] >= t]
            rate = at[0][2] if at else None
            cells.append("-" if not at else ("unpaced" if rate is None else f"{rate:.0f}/s"))
        lines.append(f"| {burst} | " + " | ".join(cells) + " |")
    (out / "rate_limit.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
