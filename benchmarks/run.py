"""Benchmarks of zof-async against its peers and the physical limit, in one run.

    python benchmarks/run.py [--quick]      (or: nox -s bench -- --quick)

The server is the emulator over HTTP on 127.0.0.1 (uvloop + httptools), in its
own process pinned to core 0; every client runs in its own process pinned to
core 1. Every figure is measured in this run, on the same server, data and
concurrency for every client. Writes benchmarks/results/{results.md,
results.json, chart.png} (with --quick: benchmarks/results/quick/, untracked).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).parent
RESULTS = HERE / "results"
KEY = "zof_emu_admin_acme"
CORES = os.cpu_count() or 1
SERVER_CPU = 0 if CORES > 1 else None
CLIENT_CPU = 1 if CORES > 1 else None


@contextmanager
def server(*, results: int, latency: float = 0.0, extra: list[str] | None = None) -> Iterator[str]:
    """The emulator in its own process; yields its base URL."""
    command = [sys.executable, "-m", "zof_async.testing", "--port", "0", "--data", "minimal",
               "--bench-results", str(results), "--latency", str(latency), *(extra or [])]  # fmt: skip
    prefix = (
        ["taskset", "-c", str(SERVER_CPU)] if SERVER_CPU is not None and _has("taskset") else []
    )
    process = subprocess.Popen(prefix + command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().split(" on ", 1)[1].strip()
        for _ in range(600):
            try:
                httpx.get(
                    f"{base_url}/runs/run_bench",
                    headers={"Authorization": f"Bearer {KEY}"},
                    timeout=5,
                )
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base_url
    finally:
        process.terminate()
        process.wait(30)


def _has(tool: str) -> bool:
    return any((Path(d) / tool).exists() for d in os.environ.get("PATH", "").split(os.pathsep))


def client(name: str, workload: str, **params: Any) -> dict[str, Any]:
    """Run one client in its own process and return its JSON figures."""
    payload = json.dumps(
        {"client": name, "workload": workload, "key": KEY, "cpu": CLIENT_CPU, **params}
    )
    out = subprocess.run(
        [sys.executable, str(HERE / "clients.py"), payload],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if out.returncode != 0:
        return {
            "error": out.stderr.strip().splitlines()[-1]
            if out.stderr.strip()
            else f"exit {out.returncode}"
        }
    return json.loads(out.stdout.strip().splitlines()[-1])


def server_log(base_url: str) -> list[list[Any]]:
    root = base_url.rsplit("/v1", 1)[0]
    return httpx.get(f"{root}/_emulator/stats", timeout=30).json()["log"]


FANOUT_CLIENTS = [
    "aiohttp",
    "aiohttp transport alone",
    "zof-aiohttp",
    "zof",
    "zof-httpx-aiohttp",
    "httpx",
]
MEMORY_CLIENTS = ["aiohttp", "zof-aiohttp", "zof"]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def fan_out(
    n: int,
    rounds: int,
    memory_rounds: int,
    *,
    clients: list[str] = FANOUT_CLIENTS,
    latencies: tuple[float, ...] = (0.0, 0.05),
    concurrencies: tuple[int, ...] = (100, 256),
) -> dict[str, Any]:
    """Every client in one process per server latency, in interleaved rounds.

    Per client and setting the row holds the median over the rounds of CPU
    µs/request, wall time and requests/s. The hand-written httpx client sends
    a fifth of the requests (it is ~20x slower); its figures are per request.
    With `memory_rounds=0` the heap per request is not measured.
    """
    rows: list[dict[str, Any]] = []
    memory: dict[str, Any] = {}
    sizes = {"httpx": max(n // 5, 100)}
    for latency in latencies:
        with server(results=n, latency=latency) as base_url:
            measured = client(
                "all", "rounds", kind="fanout", base_url=base_url, n=n, rounds=rounds,
                concurrencies=list(concurrencies), clients=clients, sizes=sizes,
            )  # fmt: skip
            if latency and memory_rounds:  # requests held in flight by the server's latency
                memory = client(
                    "all", "memory", base_url=base_url, concurrency=256,
                    rounds=memory_rounds, clients=MEMORY_CLIENTS,
                )  # fmt: skip
        if "error" in measured:
            raise SystemExit(f"fan-out at {latency * 1000:.0f} ms failed: {measured['error']}")
        for concurrency in concurrencies:
            for name in clients:
                runs = measured.get(name, {}).get(str(concurrency), [])
                row = _fan_out_row(runs, latency, concurrency)
                row.update(latency_ms=latency * 1000, concurrency=concurrency, client=name)
                rows.append(row)
                rounds_cpu = row.get("cpu_us_rounds", "")
                print(
                    f"  fan-out {latency * 1000:>3.0f} ms c{concurrency:<3} {name:<24} "
                    f"{_brief(row)} {rounds_cpu}",
                    flush=True,
                )
    if "error" not in memory:
        memory = {name: _median(values) for name, values in memory.items()}
    if memory_rounds:
        print(f"  heap per in-flight request (tracemalloc, c256 at 50 ms): {memory}", flush=True)
    return {"rows": rows, "memory_per_request": memory, "rounds": rounds}


def _fan_out_row(runs: list[dict[str, Any]], latency: float, concurrency: int) -> dict[str, Any]:
    good = [r for r in runs if "wall" in r]
    if not good:
        return {"error": next((r["error"] for r in runs if "error" in r), "not run")}
    n = good[0]["done"]
    row: dict[str, Any] = {
        "n": n,
        "rounds": len(good),
        "wall": _median([r["wall"] for r in good]),
        "requests": good[0]["requests"],
        "failed": sum(r["failed"] for r in good) + sum(1 for r in runs if "error" in r),
        "done": min(r["done"] for r in good),
        "req_per_s": _median([r["done"] / r["wall"] for r in good]),
        "cpu_us_per_req": _median([r["cpu"] / max(r["requests"], 1) * 1e6 for r in good]),
        "cpu_us_rounds": [round(r["cpu"] / max(r["requests"], 1) * 1e6, 1) for r in good],
    }
    ideal = n * latency / concurrency
    row["x_ideal"] = row["wall"] / ideal if ideal else None
    return row


def import_times(best_of: int) -> dict[str, Any]:
    """Seconds to import httpx, and zof_async, each in fresh interpreters, best of N."""
    code = "import time; t = time.perf_counter(); import {}; print(time.perf_counter() - t)"
    times: dict[str, list[float]] = {"httpx": [], "zof_async": []}
    for _ in range(best_of):
        for module in times:  # interleaved, so load falls on both alike
            out = subprocess.run(
                [sys.executable, "-c", code.format(module)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            times[module].append(float(out.stdout))
    best = {module: min(values) for module, values in times.items()}
    result = {"best_of": best_of, **best, "added_ms": (best["zof_async"] - best["httpx"]) * 1000}
    print(f"  import: {result}", flush=True)
    return result


def paginate(n: int, rss_n: int, rounds: int) -> dict[str, Any]:
    out: dict[str, Any] = {"n": n, "rss_n": rss_n}
    with server(results=n, latency=0.02) as base_url:
        for label, name, prefetch in (
            ("zof prefetch=1", "zof", 1),
            ("zof prefetch=0", "zof", 0),
            ("peer page loop", "peer-loop", 0),
        ):
            out[label] = client(
                name, "paginate", base_url=base_url, page_size=100, prefetch=prefetch, work=0.02
            )
            print(f"  paginate 20 ms + 20 ms work {label:<15} {_brief(out[label])}", flush=True)
    with server(results=n) as base_url:
        measured = client(
            "all", "rounds", kind="paginate", base_url=base_url, page_size=100, rounds=rounds,
            clients=["zof", "zof-aiohttp", "aiohttp+orjson+cattrs"],
        )  # fmt: skip
    zero: dict[str, Any] = {}
    for name, by in measured.items():
        if name == "error":
            zero = {"error": by}
            break
        runs = [r for r in by.get("None", []) if "wall" in r]
        zero[name] = {
            "items": runs[0]["items"] if runs else 0,
            "items_per_s": _median([r["items"] / r["wall"] for r in runs]),
            "cpu_us_per_item": _median([r["cpu"] / r["items"] * 1e6 for r in runs]),
            "rounds": len(runs),
        }
        print(f"  paginate 0 ms {name:<22} {zero[name]}", flush=True)
    out["zero latency"] = zero
    with server(results=rss_n) as base_url:
        out["rss"] = client("zof", "rss", base_url=base_url)
        print(f"  RSS streaming {rss_n:,}: {out['rss']}", flush=True)
    return out


def faults(n: int) -> list[dict[str, Any]]:
    rows = []
    for name in ("zof", "httpx-naive-retry"):
        extra = ["--error-rate", "0.05", "--error-statuses", "503", "--throttle-after", str(n // 3),
                 "--throttle-seconds", "0.5", "--throttle-retry-after", "2"]  # fmt: skip
        with server(results=n, latency=0.05, extra=extra) as base_url:
            figures = client(name, "fanout", base_url=base_url, n=n, concurrency=100)
            log = server_log(base_url)
        first_429 = min((t for t, _, route, status in log if status == 429), default=None)
        inside = 0
        if first_429 is not None:
            # After the answers already in flight when the first 429 went out (0.1 s), nothing
            # should arrive until its Retry-After (2 s) has passed.
            inside = sum(1 for t, *_ in log if first_429 + 0.1 <= t < first_429 + 2.0)
        row = {"client": name, "n": n, **figures, "requests_per_item": figures.get("requests", 0) / n,
               "lost": n - figures.get("done", 0), "sent_inside_retry_after": inside}  # fmt: skip
        rows.append(row)
        print(
            f"  faults {name:<18} {_brief(row)} lost={row['lost']} inside-window={inside}",
            flush=True,
        )
    return rows


def _brief(row: dict[str, Any]) -> str:
    if "error" in row:
        return f"ERROR {row['error']}"
    parts = [f"wall {row['wall']:.2f}s"]
    if "requests" in row:
        parts.append(f"req {row['requests']}")
    if row.get("failed"):
        parts.append(f"failed {row['failed']}")
    if "cpu_us_per_req" in row:
        parts.append(f"cpu {row['cpu_us_per_req']:.0f}us/req")
    if "items" in row:
        parts.append(f"{row['items'] / row['wall']:,.0f} items/s")
    return ", ".join(parts)


# With --quick and BENCH_SMOKE=1 (CI, through `nox -s readme`): every section
# at sizes that take seconds, proving the command runs end to end; its figures
# mean nothing, and it writes where --quick does.
SMOKE_SIZES = {
    "fanout": 100,
    "paginate": 1000,
    "rss": 5000,
    "waiters": 10,
    "faults": 150,
    "rounds": 1,
    "memory_rounds": 1,
    "imports": 1,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes: under 2 minutes")
    parser.add_argument(
        "--only",
        help="re-run these sections (waiting,fanout,paginate,imports,faults) into results.json",
    )
    parser.add_argument(
        "--fanout",
        metavar="CLIENTS",
        help="only the fan-out of these comma-separated clients (e.g. 'aiohttp,zof-aiohttp'), "
        "at --latency-ms and --concurrency; prints the rows, writes nothing",
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="with --fanout")
    parser.add_argument("--concurrency", type=int, default=100, help="with --fanout")
    parser.add_argument("--rounds", type=int, default=3, help="with --fanout")
    args = parser.parse_args()
    if args.fanout:
        names = [name.strip() for name in args.fanout.split(",")]
        unknown = sorted(set(names) - set(FANOUT_CLIENTS))
        if unknown:
            raise SystemExit(f"unknown fan-out clients {unknown}; known: {FANOUT_CLIENTS}")
        fan_out(
            1000 if args.quick else 10_000, args.rounds, 0, clients=names,
            latencies=(args.latency_ms / 1000,), concurrencies=(args.concurrency,),
        )  # fmt: skip
        return
    sizes = (
        SMOKE_SIZES
        if args.quick and os.environ.get("BENCH_SMOKE") == "1"
        else {
            "fanout": 600,
            "paginate": 10_000,
            "rss": 200_000,
            "waiters": 100,
            "faults": 1000,
            "rounds": 2,
            "memory_rounds": 1,
            "imports": 3,
        }
        if args.quick
        else {
            "fanout": 10_000,
            "paginate": 100_000,
            "rss": 1_000_000,
            "waiters": 1000,
            "faults": 10_000,
            "rounds": 3,
            "memory_rounds": 3,
            "imports": 10,
        }
    )
    began = time.perf_counter()
    mode = ("smoke" if sizes is SMOKE_SIZES else "quick") if args.quick else "full"
    print(f"zof-async benchmarks ({mode}), {CORES} cores", flush=True)
    from report import write
    from waiting import waiting

    data: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "sizes": sizes,
        "cores": CORES,
    }
    sections = {
        "waiting": lambda: waiting(sizes["waiters"]),
        "fanout": lambda: fan_out(sizes["fanout"], sizes["rounds"], sizes["memory_rounds"]),
        "paginate": lambda: paginate(sizes["paginate"], sizes["rss"], sizes["rounds"]),
        "imports": lambda: import_times(sizes["imports"]),
        "faults": lambda: faults(sizes["faults"]),
    }
    # A quick run never overwrites the committed figures of the full run.
    results = RESULTS / "quick" if args.quick else RESULTS
    chosen = args.only.split(",") if args.only else list(sections)
    if args.only:  # keep the other sections of the last run of the same mode
        previous = json.loads((results / "results.json").read_text())
        if previous.get("mode") != data["mode"]:
            raise SystemExit("--only needs a results.json of the same mode to merge into")
        data = {**previous, **data}
    for name in chosen:
        print(name, flush=True)
        started = time.perf_counter()
        data[name] = sections[name]()
        print(f"  ({name}: {time.perf_counter() - started:.1f} s)", flush=True)
    if not args.only:
        data["seconds"] = time.perf_counter() - began
    results.mkdir(parents=True, exist_ok=True)
    write(data, results)
    print((results / "results.md").read_text())
    print(f"took {data['seconds']:.0f} s; wrote {results}/results.md, results.json, chart.png")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
