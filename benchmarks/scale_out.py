"""Balanced partitions (issue 29): partition sizes and read times, before and after.

    python benchmarks/scale_out.py [--results 50000]     (or: nox -s bench_scale_out)

The emulator serves its default data (two weeks with bursts) plus a
`--results` bench run written in the last hour, over HTTP on 127.0.0.1 in its
own process. For 1, 2 and 4 partitions, each planner (equal `created_at`
windows, before; `_balance`, after) is read by Dask (threads) and by Ray (4
logical CPUs); every read's ids are checked against one single listing.
Writes benchmarks/results/scale_out.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import dask
import ray

import zof_async.ray
from zof_async import AsyncZof
from zof_async._distributed._dask_read import _ReadPartition
from zof_async._distributed._partition import plan
from zof_async._distributed._probe import plan_read

sys.path.insert(0, str(Path(__file__).parent))
from run import CORES, KEY, RESULTS, server


def listing(base_url: str) -> list[str]:
    async def ids() -> list[str]:
        async with AsyncZof(api_key=KEY, base_url=base_url) as zof:
            return [r.id async for r in zof.results.list(page_size=1000, prefetch=1)]

    return anyio.run(ids)


def plans(base_url: str, parts: int) -> dict[str, tuple[Any, float]]:
    """Each planner's partitions for `parts`, and the seconds planning took."""
    source = zof_async.ray.results_datasource(parallelism=parts, api_key=KEY, base_url=base_url)
    oldest = source._oldest
    started = time.perf_counter()
    balanced = plan_read(source.query, parts, key=KEY, base_url=base_url, oldest=oldest)
    took = time.perf_counter() - started
    return {
        "equal time (before)": (plan(source.query, parts, oldest=oldest), 0.0),
        "balanced (after)": (balanced, took),
    }


def read_dask(base_url: str, partitions: Any) -> tuple[list[int], list[str], float]:
    source = zof_async.ray.results_datasource(parallelism=1, api_key=KEY, base_url=base_url)
    read = _ReadPartition(source._settings)
    started = time.perf_counter()
    frames = dask.compute(*[dask.delayed(read)(p) for p in partitions], scheduler="threads")
    seconds = time.perf_counter() - started
    return [len(f) for f in frames], [i for f in frames for i in f["id"]], seconds


def read_ray(base_url: str, partitions: Any) -> tuple[list[str], float]:
    source = zof_async.ray.results_datasource(
        parallelism=len(partitions), api_key=KEY, base_url=base_url
    )
    source._plans[len(partitions)] = partitions  # this plan, not the source's own
    started = time.perf_counter()
    ds = ray.data.read_datasource(source, override_num_blocks=len(partitions))
    ids = [i for t in ray.get(ds.to_arrow_refs()) for i in t.column("id").to_pylist()]
    return ids, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="reads per row (best is kept)")
    args = parser.parse_args()
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    rows: list[dict[str, Any]] = []
    ok = True
    with server(results=args.results, extra=["--data", "default"]) as base_url:
        reference = sorted(listing(base_url))
        for _ in range(2):  # warm-up: Ray starts 4 workers (~30 s the first time)
            read_ray(base_url, plans(base_url, 4)["balanced (after)"][0])
        for parts in (1, 2, 4):
            for planner, (partitions, planning) in plans(base_url, parts).items():
                dask_runs = [read_dask(base_url, partitions) for _ in range(args.repeat)]
                ray_runs = [read_ray(base_url, partitions) for _ in range(args.repeat)]
                sizes, dask_ids, _ = dask_runs[0]
                ray_ids = ray_runs[0][0]
                dask_s = min(r[2] for r in dask_runs)
                ray_s = min(r[1] for r in ray_runs)
                same = sorted(dask_ids) == reference and sorted(ray_ids) == reference
                ok = ok and same
                rows.append({
                    "parts": parts, "planner": planner, "sizes": sizes, "plan_s": planning,
                    "dask_s": dask_s, "ray_s": ray_s, "same": same,
                })  # fmt: skip
                print(rows[-1], flush=True)
    ray.shutdown()
    write(args.results, len(reference), rows)
    return 0 if ok else 1


def write(bench: int, total: int, rows: list[dict[str, Any]]) -> None:
    lines = [
        "## Scale-out reads: balanced partitions",
        "",
        f"{total:,} results (the emulator's default data plus a {bench:,}-result run in"
        f" its last hour) served over HTTP on 127.0.0.1 (one process, pinned to core 0);"
        f" read on this machine ({CORES} cores; Dask threads, Ray with 4 logical CPUs)."
        " Best of 3 reads (after a warm-up); every read's ids checked against the single"
        " listing. The server (one core) is the bottleneck here: read times show what"
        " planning costs, not scaling.",
        "",
        "| partitions | planner | rows per partition | min | median | max | max/mean"
        " | planning s | Dask read s | Ray read s | = listing |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *(
            f"| {r['parts']} | {r['planner']} | {', '.join(f'{s:,}' for s in r['sizes'])}"
            f" | {min(r['sizes']):,} | {statistics.median(r['sizes']):,.0f}"
            f" | {max(r['sizes']):,} | {max(r['sizes']) / statistics.mean(r['sizes']):.2f}"
            f" | {r['plan_s']:.2f} | {r['dask_s']:.2f} | {r['ray_s']:.2f}"
            f" | {'yes' if r['same'] else '**no**'} |"
            for r in rows
        ),
        "",
    ]
    text = "\n".join(lines)
    (RESULTS / "scale_out.md").write_text(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
