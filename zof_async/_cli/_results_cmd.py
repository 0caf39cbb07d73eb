"""`zof results ...`: list, get, export, and bulk artifacts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from zof_async import ArtifactBatch, AsyncZof

from ._output import Exit, Output

RESULT_COLUMNS = ["id", "test_case_id", "status", "duration_ms", "failure_summary"]


async def list_results(zof: AsyncZof, args: argparse.Namespace, out: Output) -> Exit:
    rows = []
    async for result in zof.results.list(
        run_id=args.run, status=args.status, page_size=min(args.limit, 1000)
    ):
        rows.append(result)
        if len(rows) >= args.limit:
            break
    out.table(rows, RESULT_COLUMNS)
    return Exit.OK


async def get(zof: AsyncZof, args: argparse.Namespace, out: Output) -> Exit:
    raw = await zof.results.with_raw_response.get(args.result)
    out.record(raw.parsed, columns=RESULT_COLUMNS, request_id=raw.request_id)
    return Exit.OK


async def export(zof: AsyncZof, args: argparse.Namespace, out: Output) -> Exit:
    filters = {"format": args.format, "run_id": args.run, "status": args.status}
    if args.output in (None, "-"):
        async with zof.results.export(**filters) as chunks:
            async for chunk in chunks:
                sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return Exit.OK
    if out.interactive:
        columns = (
            TextColumn("export"),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=out.err) as progress:
            task = progress.add_task("export", total=None)
            size = await zof.results.export_to(
                args.output, **filters, on_progress=lambda n: progress.update(task, advance=n)
            )
    else:
        size = await zof.results.export_to(args.output, **filters)
    out.note(f"wrote {size} bytes to {args.output}")
    if out.json:
        out.record({"path": args.output, "bytes": size})
    return Exit.OK


async def artifacts(zof: AsyncZof, args: argparse.Namespace, out: Output) -> Exit:
    run = await zof.runs.get(args.run)
    total = run.summary.done
    target = Path(args.download) if args.download else None
    fetched = failed = downloaded = 0
    stream = zof.results.bulk_artifacts(
        zof.results.list(run_id=args.run, page_size=1000), concurrency=args.concurrency
    )
    progress = None
    if out.interactive:
        progress = Progress(
            TextColumn("artifacts"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=out.err,
        )  # fmt: skip
        progress.start()
        task = progress.add_task("artifacts", total=total, rate="")
    try:
        async for batch in stream:
            fetched += 1
            failed += not batch.ok
            downloaded += await _download(zof, batch, target)
            if out.json:
                out.record(_batch_record(batch))
            if progress is not None:
                elapsed = progress.tasks[0].elapsed or 1e-9
                progress.update(task, advance=1, rate=f"{fetched / elapsed:,.0f} results/s")
    finally:
        if progress is not None:
            progress.stop()
    stats = stream.stats
    out.note(
        f"{fetched} results, {failed} failed, {stats.requests} requests, {stats.retries} retries"
        + (f", {downloaded} files in {target}" if target else "")
    )
    return Exit.OK


async def _download(zof: AsyncZof, batch: ArtifactBatch, target: Path | None) -> int:
    if target is None or not batch.artifacts:
        return 0
    folder = target / batch.result_id
    folder.mkdir(parents=True, exist_ok=True)
    for artifact in batch.artifacts:
        await zof.artifacts.download(artifact, folder / Path(artifact.name).name)
    return len(batch.artifacts)


def _batch_record(batch: ArtifactBatch) -> dict[str, object]:
    return {
        "result_id": batch.result_id,
        "artifacts": [a.id for a in batch.artifacts or ()],
        "error": None if batch.error is None else str(batch.error),
    }
