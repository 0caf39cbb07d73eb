"""Peak memory of `arrow_batches()` consumed batch by batch, beside `to_arrow()`.

    python benchmarks/arrow_memory.py [--results 100000] [--page-size 1000] [--rounds 3]

The emulator serves `--results` results over HTTP on 127.0.0.1 in its own
process (pinned to core 0 where there are two). Each measurement runs in a
fresh client process (so no round inherits another's heap), which lists
every result at `--page-size` with the default prefetch (one page) in one of
four ways:

- `batches`: `async for batch in pager.arrow_batches()`, each batch dropped;
- `batches, first tenth`: the same, stopped after a tenth of the pages (a
  bounded peak is the same after 10 pages as after 100);
- `to_arrow`: `await pager.to_arrow()` (the batches, kept as one table);
- `list, then table`: every model in a list, then one table: what
  `to_arrow()` did before it was built on the batches.

and reports, each the median of `--rounds` interleaved rounds (every way
once per round, in turn): the peak of Python allocations (tracemalloc: the
models, JSON and responses) and of Arrow's memory pool (the batches, which
tracemalloc does not see) above what was allocated before the listing, their
sum, and the growth of the process's peak RSS measured in a separate process
without tracemalloc. "One page" reads the peaks in pages: the peak of
tracemalloc while one page's answer is read, parsed and decoded (no prefetch).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import anyio

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

WAYS = ["batches", "batches, first tenth", "to_arrow", "list, then table"]
MB = 1024 * 1024


async def _listing(base_url: str, way: str, page_size: int, trace: bool) -> dict[str, Any]:
    """One way, measured in this process (a fresh one per measurement)."""
    import pyarrow as pa

    from zof_async import AsyncZof, Result
    from zof_async._streaming._arrow import table

    key = "zof_emu_admin_acme"
    pool = pa.default_memory_pool()
    async with AsyncZof(api_key=key, base_url=base_url) as zof:
        # Warm up on one page: imports (pyarrow loads pandas for time zones on
        # its first timestamps), the connection, the converter's generated code.
        async for warm in zof.results.list(page_size=page_size, prefetch=0).arrow_batches():
            del warm
            break
        pages = 0
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        arrow_before = pool.bytes_allocated()
        if trace:
            tracemalloc.start()
        rows = 0
        pager = zof.results.list(page_size=page_size)
        if way.startswith("batches"):
            async for batch in pager.arrow_batches():
                rows += batch.num_rows
                pages += 1
                del batch
                if way.endswith("tenth") and pages == TENTH:
                    break
        elif way == "to_arrow":
            rows = (await pager.to_arrow()).num_rows
        else:
            rows = table(await pager.to_list(), model=Result).num_rows
        python_peak = tracemalloc.get_traced_memory()[1] if trace else 0
        tracemalloc.stop()
    return {
        "rows": rows,
        "python": python_peak,
        "arrow": pool.max_memory() - arrow_before,
        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before,
    }


async def _one_page(base_url: str, page_size: int) -> dict[str, Any]:
    """What getting one page costs (tracemalloc, after a warm-up page, no prefetch):
    the peak while its answer is read, parsed and decoded, and its models held."""
    from zof_async import AsyncZof

    async with AsyncZof(api_key="zof_emu_admin_acme", base_url=base_url) as zof:
        pager = zof.results.list(page_size=page_size, prefetch=0)
        await pager.next_page()
        tracemalloc.start()
        page = await pager.next_page()
        held, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert page is not None and len(page.items) == page_size
    return {"page": peak, "models": held}


TENTH = 0  # pages a "first tenth" reads; set by the worker's arguments


def _worker(argv: list[str]) -> None:
    global TENTH
    base_url, way, page_size, trace, tenth = argv
    TENTH = int(tenth)
    if way == "one page":
        out = anyio.run(_one_page, base_url, int(page_size))
    else:
        out = anyio.run(_listing, base_url, way, int(page_size), trace == "trace")
    print(json.dumps(out))


def _measure(base_url: str, way: str, args: argparse.Namespace, trace: bool) -> dict[str, Any]:
    tenth = max(1, args.results // args.page_size // 10)
    command = [sys.executable, __file__, "--worker", base_url, way, str(args.page_size),
               "trace" if trace else "rss", str(tenth)]  # fmt: skip
    from run import CLIENT_CPU, _has

    if CLIENT_CPU is not None and _has("taskset"):
        command = ["taskset", "-c", str(CLIENT_CPU), *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode:
        raise RuntimeError(done.stderr)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        _worker(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from run import server

    rounds: dict[str, list[dict[str, Any]]] = {way: [] for way in WAYS}
    pages: list[dict[str, Any]] = []
    with server(results=args.results) as base_url:
        for number in range(args.rounds):
            pages.append(_measure(base_url, "one page", args, True))
            for way in WAYS:
                traced = _measure(base_url, way, args, True)
                traced["rss"] = _measure(base_url, way, args, False)["rss"]
                rounds[way].append(traced)
                print(f"round {number + 1} {way}: {traced}", file=sys.stderr)
    page = statistics.median(p["page"] for p in pages)
    models = statistics.median(p["models"] for p in pages)
    print(f"{args.results:,} results, page size {args.page_size:,}, prefetch 1; "
          f"medians of {args.rounds} interleaved rounds, each in a fresh process.")  # fmt: skip
    print(f"One page: {page / MB:.2f} MB to get (peak: its body, parsed, decoded), "
          f"{models / MB:.2f} MB of models held (tracemalloc)\n")  # fmt: skip
    print("| way | rows | Python peak | Arrow peak | sum | sum in pages | peak RSS growth |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for way in WAYS:
        got = {k: statistics.median(r[k] for r in rounds[way]) for k in rounds[way][0]}
        total = got["python"] + got["arrow"]
        print(f"| {way} | {got['rows']:,.0f} | {got['python'] / MB:.1f} MB | "
              f"{got['arrow'] / MB:.1f} MB | {total / MB:.1f} MB | {total / page:.1f} | "
              f"{got['rss'] / MB:.1f} MB |")  # fmt: skip


if __name__ == "__main__":
    main()
