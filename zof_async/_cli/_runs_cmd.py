"""`zof runs ...`: start (and gate on) runs, list, get, cancel, wait, logs."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

import anyio
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from zof_async import AsyncZof, Run, WaitTimeoutError

from ._output import RUN_EXIT, Exit, Output, PipeClosed

RUN_COLUMNS = ["id", "status", "project_id", "environment", "created_at", "summary"]
FAILED_SHOWN = 10


def summary_text(run: Run) -> str:
    s = run.summary
    return f"{s.done}/{s.total} done, {s.passed} passed, {s.failed} failed, {s.error} error, {s.skipped} skipped"


def report(run: Run) -> dict[str, str]:
    """A run for people: counts by status, the failed cases, the URL.

    `--json` prints the whole run instead (with every case's outcome).
    """
    lines = {
        "run": run.id,
        "status": run.status.value,
        "project": f"{run.project_id} ({run.environment})",
        "cases": summary_text(run),
    }
    failing = [
        f"{case.test_case_id} ({case.status.value})"
        for case in run.case_outcomes or ()
        if case.status.value in ("failed", "error")
    ]
    if failing:
        shown = ", ".join(failing[:FAILED_SHOWN])
        more = len(failing) - FAILED_SHOWN
        if more > 0:
            shown += f" and {more} more (zof runs get {run.id} --json lists every case)"
        lines["failing"] = shown
    if run.url:
        lines["url"] = run.url
    return lines


def show(run: Run, out: Output, **metadata: object) -> None:
    """The run as a JSON object with `--json` (plus `metadata`), else its `report`.

    In a pipe: the line `runs list` prints for it (id first).
    """
    out.record(run if out.json else report(run), row=_row(run), columns=RUN_COLUMNS, **metadata)


def _interrupt_note(run_id: str, url: str | None) -> str:
    where = f" ({url})" if url else ""
    return (
        f"{run_id} goes on running on the server{where}; "
        f"follow it with: zof runs wait {run_id}; cancel it with: zof runs cancel {run_id}"
    )


async def start(zof: AsyncZof, args: argparse.Namespace, out: Output) -> Exit:
    raw = await zof.runs.with_raw_response.create(
        project_id=args.project,
        environment=args.environment,
        test_suite_id=args.suite,
        test_case_ids=args.case or None,
        idempotency_key=args.idempotency_key,
    )
    run = raw.parsed
    if raw.idempotent_replayed:
        out.note(f"{run.id} was started before with this idempotency key: {run.url}")
    else:
        out.note(f"started {run.id}: {run.url}")
    created = {"request_id": raw.request_id, "idempotent_replayed": raw.idempotent_replayed}
    if not args.wait:
        show(run, out, **created)
        return Exit.OK
    out.on_interrupt = _interrupt_note(run.id, run.url)
    return await _wait(zof, run.id, args.timeout, out, **created)


async def wait(zof: AsyncZof, args: argparse.Namespace, out: Output) -> Exit:
    out.on_interrupt = _interrupt_note(args.run, None)
    return await _wait(zof, args.run, args.timeout, out)


async def _wait(
    zof: AsyncZof, run_id: str, timeout: float | None, out: Output, **metadata: object
) -> Exit:
    """Wait for the run and show where it ended, with `metadata` (the create's request id)."""
    try:
        run = await follow(zof, run_id, timeout, out)
    except WaitTimeoutError as exc:
        out.on_interrupt = None
        with _keeping(Exit.TIMEOUT):
            out.error(exc)
            if exc.run is not None:
                show(exc.run, out, **metadata)
        return Exit.TIMEOUT
    out.on_interrupt = None
    code = RUN_EXIT.get(run.status.value, Exit.ERROR)
    with _keeping(code):
        show(run, out, **metadata)
    return code


@contextmanager
def _keeping(code: Exit) -> Iterator[None]:
    """A closed pipe while showing how a run ended still exits with `code`."""
    try:
        yield
    except (BrokenPipeError, PipeClosed):
        raise PipeClosed(code) from None


async def follow(zof: AsyncZof, run_id: str, timeout: float | None, out: Output) -> Run:
    """Wait for the run, with a live progress bar on a terminal."""

    def seen(run: Run) -> None:
        if out.on_interrupt is not None:
            out.on_interrupt = _interrupt_note(run.id, run.url)

    if not out.interactive:
        return await zof.runs.wait_until_complete(run_id, timeout=timeout, on_update=seen)
    last: Run | None = None
    columns = (
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
        MofNCompleteColumn(), TextColumn("{task.fields[detail]}"), TimeElapsedColumn(),
    )  # fmt: skip
    with Progress(*columns, console=out.err, transient=False) as progress:
        task = progress.add_task(f"{run_id} waiting", total=None, detail="")
        async for run in zof.runs.watch(run_id, timeout=timeout, every_poll=True):
            last = run
            seen(run)
            progress.update(
                task,
                description=f"{run.id} {run.status}",
                total=run.summary.total or None,
                completed=run.summary.done,
                detail=f"{run.summary.failed} failed, {run.summary.error} error",
            )
    assert last is not None
    return last


async def list_runs(zof: AsyncZof, args: argparse.Namespace, out: Output) -> Exit:
    runs: list[Run] = []
    async for run in zof.runs.list(
        project_id=args.project, status=args.status, page_size=min(args.limit, 1000)
    ):
        runs.append(run)
        if len(runs) >= args.limit:
            break
    out.table([_row(run) for run in runs], RUN_COLUMNS, records=runs)
    return Exit.OK


async def get(zof: AsyncZof, args: argparse.Namespace, out: Output) -> Exit:
    raw = await zof.runs.with_raw_response.get(args.run)
    show(raw.parsed, out, request_id=raw.request_id)
    return Exit.OK


async def cancel(zof: AsyncZof, args: argparse.Namespace, out: Output) -> Exit:
    raw = await zof.runs.with_raw_response.cancel(args.run)
    show(raw.parsed, out, request_id=raw.request_id)
    return Exit.OK


async def logs(zof: AsyncZof, args: argparse.Namespace, out: Output) -> Exit:
    printed = 0
    while True:
        seen = 0
        async with zof.runs.logs(args.run) as lines:
            async for line in lines:
                seen += 1
                if seen > printed:
                    if out.json:
                        out.record({"line": line})
                    else:
                        out.out.print(line, markup=False, highlight=False)
        printed = max(printed, seen)
        if not args.follow or (await zof.runs.get(args.run)).is_terminal:
            return Exit.OK
        await anyio.sleep(args.interval)


def _row(run: Run) -> dict[str, object]:
    return {
        "id": run.id, "status": run.status.value, "project_id": run.project_id,
        "environment": run.environment, "created_at": run.created_at.isoformat(timespec="seconds"),
        "summary": summary_text(run),
    }  # fmt: skip
