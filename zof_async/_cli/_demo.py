"""`zof demo`: the whole product, as a user would drive it, with a summary.

Without `ZOF_API_KEY` it serves the emulator on 127.0.0.1 (with a modest rate
of 5xx and a per-key rate limit, so retries and the shared 429 backoff show
up in the summary) and runs against it; with `ZOF_API_KEY` (and
`ZOF_BASE_URL`) it runs the same flow against that server.

The emulator's rate limit is a token bucket holding one second of requests
(`RATE_LIMIT`): its 429s carry `Retry-After` in whole seconds, as the API's
do, and a client that honours them sends nothing for that second. With a
bucket smaller than a second's refill (it was 100 tokens at 300 req/s), two
thirds of the refill of each such second overflowed, and the fan-out reached
about half the limit (137-148 req/s, with ~140 429s). With one second's worth
the whole refill is usable: `python benchmarks/demo_fanout.py` measures both.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import attrs
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from zof_async import AsyncZof, ClientStats, FanOutStats, Run

from ._output import Exit, MissingExtra, Output
from ._runs_cmd import follow, summary_text

RATE_LIMIT = 300  # requests per second per key, and the bucket: one second's worth
ERROR_RATE = 0.02


@asynccontextmanager
async def _client(args: argparse.Namespace, out: Output) -> AsyncIterator[AsyncZof]:
    if args.api_key or os.environ.get("ZOF_API_KEY"):
        where = args.base_url or os.environ.get("ZOF_BASE_URL", "https://api.zof.ai/v1")
        out.note(f"running against {where}")
        async with AsyncZof(
            api_key=args.api_key, base_url=args.base_url, max_connections=args.concurrency
        ) as zof:
            yield zof
        return
    try:
        import uvicorn  # noqa: F401
    except ImportError:
        raise MissingExtra(
            "without ZOF_API_KEY the demo serves the emulator, which needs the 'testing' "
            "extra: pip install 'zof-async[testing]' (from a clone: pip install -e '.[testing]')"
        ) from None
    from zof_async.testing import Emulator, RunScript, SystemClock

    emulator = Emulator(
        clock=SystemClock(),
        run_script=RunScript(queue_seconds=0.5, duration_seconds=args.run_seconds),
        poll_hint=1,
    )
    emulator.faults.error_rate = ERROR_RATE
    emulator.faults.error_statuses = (500, 502, 503)
    emulator.faults.rate_limit = RATE_LIMIT
    emulator.faults.rate_limit_burst = RATE_LIMIT
    async with emulator.serve() as base_url:
        emulator.app_url = base_url  # run links point at this emulator, not the Zof Console
        out.note(
            f"no ZOF_API_KEY set: serving the Zof emulator on {base_url} "
            f"({ERROR_RATE:.0%} 5xx, {RATE_LIMIT} req/s per key)"
        )
        async with AsyncZof(
            api_key=emulator.keys.qa, base_url=base_url, max_connections=args.concurrency
        ) as zof:
            yield zof


def _explain(run: Run) -> str:
    """Why the demo exits 0 whatever the run's outcome."""
    return (
        f"the run ended {run.status}: the emulator draws each case's outcome at random "
        "(about 3% fail, 0.2% error), so a 2,000-case run rarely passes. The demo exits 0 "
        "because the flow worked; a CI gate uses the outcome: "
        "zof runs start ... --wait exits 0 only if the run passed (1 failed, 3 error)."
    )


@attrs.define
class _Tally:
    """What the demo's walk measured, for its summary."""

    run: Run
    statuses: Counter[str]
    artifacts: int
    failed: int
    fan: FanOutStats
    target: Path
    size: int
    stats: ClientStats
    phases: dict[str, float]


async def demo(args: argparse.Namespace, out: Output) -> Exit:
    """Walk the product (start, wait, stream, fan out, export), then print what it measured."""
    tally = await _walk(args, out)
    if out.json:
        out.record(_summary(tally))
    else:
        _print(tally, out)
    return Exit.OK


async def _walk(args: argparse.Namespace, out: Output) -> _Tally:
    suite = args.suite or ("suite_pr_smoke" if args.small else "suite_full_regression")
    folder = anyio.Path(args.output_dir)
    await folder.mkdir(parents=True, exist_ok=True)
    phases: dict[str, float] = {}
    clock = time.perf_counter
    async with _client(args, out) as zof:
        began = clock()
        run = await zof.runs.create(
            project_id=args.project, environment=args.environment, test_suite_id=suite,
            idempotency_key=f"zof-demo-{uuid.uuid4()}",
        )  # fmt: skip
        phases["start run"] = clock() - began
        out.note(f"started {run.id} ({run.summary.total} cases of {suite}): {run.url}")

        began = clock()
        run = await follow(zof, run.id, args.timeout, out)
        phases["wait for the run"] = clock() - began
        out.note(f"{run.id} {run.status}: {summary_text(run)}")

        began = clock()
        statuses: Counter[str] = Counter()
        async for result in zof.results.list(run_id=run.id, page_size=500):
            statuses[result.status.value] += 1
        phases["stream results"] = clock() - began

        began = clock()
        artifacts = failed = 0
        fan_out = zof.results.bulk_artifacts(zof.results.list(run_id=run.id, page_size=1000))
        with Progress(
            TextColumn("artifacts"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=out.err, disable=not out.interactive,
        ) as progress:  # fmt: skip
            task = progress.add_task("artifacts", total=sum(statuses.values()))
            async for batch in fan_out:
                artifacts += len(batch.artifacts or ())
                failed += not batch.ok
                progress.update(task, advance=1)
        phases["fetch artifacts"] = clock() - began

        began = clock()
        target = Path(await (folder / "results.csv").absolute())
        size = await zof.results.export_to(target, format="csv", run_id=run.id)
        phases["export CSV"] = clock() - began
        stats = zof.stats
    return _Tally(run, statuses, artifacts, failed, fan_out.stats, target, size, stats, phases)


def _summary(t: _Tally) -> dict[str, object]:
    fan, seconds = t.fan, t.phases["fetch artifacts"]
    return {
        "run": t.run.id, "status": t.run.status.value, "url": t.run.url,
        "results": dict(t.statuses), "artifacts": t.artifacts,
        "artifact_fetch_failures": t.failed,
        "export": {"path": str(t.target), "bytes": t.size},
        "requests_sent": t.stats.requests_sent, "retries": t.stats.retries,
        "fan_out": {"requests": fan.requests, "retries": fan.retries,
                    "rate_limited": fan.rate_limited, "peak_in_flight": fan.peak_in_flight,
                    "requests_per_second": round(fan.requests / seconds, 1)},
        "seconds": {name: round(value, 3) for name, value in t.phases.items()},
    }  # fmt: skip


def _print(t: _Tally, out: Output) -> None:
    fan, seconds = t.fan, t.phases["fetch artifacts"]
    table = Table("phase", "seconds", box=None, header_style="bold")
    for name, value in t.phases.items():
        table.add_row(name, f"{value:.2f}")
    out.out.print(table)
    counts = Table("results by status", "count", box=None, header_style="bold")
    for status, count in t.statuses.most_common():
        counts.add_row(status, f"{count:,}")
    counts.add_row("total", f"{sum(t.statuses.values()):,}", style="bold")
    out.out.print(counts)
    out.out.print(
        f"artifacts: {t.artifacts:,} listed for {sum(t.statuses.values()):,} results "
        f"({t.failed} results failed to fetch)\n"
        f"fan-out: {fan.requests:,} requests in {seconds:.2f} s = "
        f"{fan.requests / seconds:,.0f} requests/s, {fan.retries} retries, "
        f"{fan.rate_limited} answered 429, at most {fan.peak_in_flight} in flight\n"
        f"requests sent in all: {t.stats.requests_sent:,}, retries: {t.stats.retries}\n"
        f"CSV export: {t.size:,} bytes in {t.target}\n"
        f"run: {t.run.url}",
        markup=False,
    )
    if t.run.status.value != "passed":
        out.out.print(_explain(t.run), markup=False)
