"""`zof demo`: the whole product, as a user would drive it, with a summary.

Without `ZOF_API_KEY` it serves the emulator on 127.0.0.1 (with a modest rate
of 5xx and a per-key rate limit, so retries and the shared 429 backoff show
up in the summary) and runs against it; with `ZOF_API_KEY` (and
`ZOF_BASE_URL`) it runs the same flow against that server.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from zof_async import AsyncZof

from ._output import Exit, Output
from ._runs_cmd import follow, summary_text


@asynccontextmanager
async def _client(args: argparse.Namespace, out: Output) -> AsyncIterator[AsyncZof]:
    if os.environ.get("ZOF_API_KEY"):
        out.note(f"running against {os.environ.get('ZOF_BASE_URL', 'https://api.zof.ai/v1')}")
        async with AsyncZof(max_connections=args.concurrency) as zof:
            yield zof
        return
    from zof_async.testing import Emulator, RunScript, SystemClock

    emulator = Emulator(
        clock=SystemClock(),
        run_script=RunScript(queue_seconds=0.5, duration_seconds=args.run_seconds),
        poll_hint=1,
    )
    emulator.faults.error_rate = 0.02
    emulator.faults.error_statuses = (500, 502, 503)
    emulator.faults.rate_limit = 300.0
    emulator.faults.rate_limit_burst = 100
    async with emulator.serve() as base_url:
        out.note(
            f"no ZOF_API_KEY set: serving the Zof emulator on {base_url} (2% 5xx, 300 req/s per key)"
        )
        async with AsyncZof(
            api_key=emulator.keys.qa, base_url=base_url, max_connections=args.concurrency
        ) as zof:
            yield zof


async def demo(args: argparse.Namespace, out: Output) -> Exit:
    suite = args.suite or ("suite_pr_smoke" if args.small else "suite_full_regression")
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
        target = Path(args.output or Path(tempfile.mkdtemp(prefix="zof-demo-")) / "results.csv")
        size = await zof.results.export_to(target, format="csv", run_id=run.id)
        phases["export CSV"] = clock() - began
        stats = zof.stats

    summary = {
        "run": run.id, "status": run.status.value, "results": dict(statuses),
        "artifacts": artifacts, "artifact_fetch_failures": failed,
        "export": {"path": str(target), "bytes": size},
        "requests_sent": stats.requests_sent, "retries": stats.retries,
        "fan_out": {"requests": fan_out.stats.requests, "retries": fan_out.stats.retries,
                    "rate_limited": fan_out.stats.rate_limited, "peak_in_flight": fan_out.stats.peak_in_flight},
        "seconds": {name: round(seconds, 3) for name, seconds in phases.items()},
    }  # fmt: skip
    if out.json:
        out.record(summary)
    else:
        table = Table("phase", "seconds", box=None, header_style="bold")
        for name, seconds in phases.items():
            table.add_row(name, f"{seconds:.2f}")
        out.out.print(table)
        out.out.print(
            f"results by status: {dict(statuses)}\n"
            f"artifacts: {artifacts} ({failed} results failed to fetch)\n"
            f"requests sent: {stats.requests_sent}, retries: {stats.retries}, "
            f"429s seen by the fan-out: {fan_out.stats.rate_limited}\n"
            f"CSV export: {size} bytes at {target}",
            markup=False,
        )
    return Exit.OK
