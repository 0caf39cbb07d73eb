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


def fan_out(n: int) -> list[dict[str, Any]]:
    rows = []
    for latency in (0.0, 0.05):
        with server(results=n, latency=latency) as base_url:
            for concurrency in (100, 256):
                for name in ("aiohttp", "aiohttp transport alone", "zof-aiohttp", "zof", "httpx"):
                    figures = client(
                        name, "fanout", base_url=base_url, n=n, concurrency=concurrency
                    )
                    ideal = n * latency / concurrency
                    row = {
                        "latency_ms": latency * 1000,
                        "concurrency": concurrency,
                        "client": name,
                        "n": n,
                        **figures,
                    }
                    if "wall" in figures:
                        row["req_per_s"] = figures["done"] / figures["wall"]
                        row["cpu_us_per_req"] = figures["cpu"] / max(figures["requests"], 1) * 1e6
                        row["x_ideal"] = figures["wall"] / ideal if ideal else None
                    rows.append(row)
                    print(
                        f"  fan-out {latency * 1000:>3.0f} ms c{concurrency:<3} {name:<12} {_brief(row)}",
                        flush=True,
                    )
    return rows


def paginate(n: int, rss_n: int) -> dict[str, Any]:
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
        for label, name in (("zof 0 latency", "zof"), ("httpx json loop", "httpx-json")):
            out[label] = client(
                name, "paginate", base_url=base_url, page_size=100, prefetch=1, work=0
            )
            print(f"  paginate 0 ms {label:<15} {_brief(out[label])}", flush=True)
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes: under 2 minutes")
    parser.add_argument(
        "--only", help="re-run these sections (waiting,fanout,paginate,faults) into results.json"
    )
    args = parser.parse_args()
    sizes = (
        {"fanout": 600, "paginate": 10_000, "rss": 200_000, "waiters": 100, "faults": 1000}
        if args.quick
        else {
            "fanout": 10_000,
            "paginate": 100_000,
            "rss": 1_000_000,
            "waiters": 1000,
            "faults": 10_000,
        }
    )
    began = time.perf_counter()
    print(f"zof-async benchmarks ({'quick' if args.quick else 'full'}), {CORES} cores", flush=True)
    from report import write
    from waiting import waiting

    data: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "sizes": sizes,
        "cores": CORES,
    }
    sections = {
        "waiting": lambda: waiting(sizes["waiters"]),
        "fanout": lambda: fan_out(sizes["fanout"]),
        "paginate": lambda: paginate(sizes["paginate"], sizes["rss"]),
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
        data[name] = sections[name]()
    if not args.only:
        data["seconds"] = time.perf_counter() - began
    results.mkdir(parents=True, exist_ok=True)
    write(data, results)
    print((results / "results.md").read_text())
    print(f"took {data['seconds']:.0f} s; wrote {results}/results.md, results.json, chart.png")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
