"""Rows/s of a dlt load of results into DuckDB through `zof_async.dlt`, against the SDK's pager.

    python benchmarks/dlt_load.py [--results 5000] [--rounds 3]     (or: nox -s bench_dlt)

The emulator serves `--results` results over HTTP on 127.0.0.1 in its own
process (pinned to core 0 where there are two). Each round loads all of them
into a new DuckDB file, once per loader, the loaders interleaved (A B C, A B
C, ...), and each load's ids are checked against one listing:

- dlt: `pipeline.run(zof_source().with_resources("results"))`, a full load
  (new pipeline state each round): extract, normalize, load, merged on `id`;
  once in dlt's default file format for DuckDB (SQL INSERT statements), once
  with `loader_file_format="jsonl"`.
- pager + DuckDB: `zof.results.list(page_size=1000).pages()`, each page's
  `to_dict()` rows made an Arrow table and inserted into a DuckDB table: the
  plain SDK writing the same rows, with no state, no merge, no schema work.
- pager, rows only: the same pages turned into dicts, written nowhere: what
  the API and the SDK cost on their own.

Writes benchmarks/results/dlt_load.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import dlt
import duckdb
import pyarrow as pa

import zof_async.dlt
from zof_async import AsyncZof

sys.path.insert(0, str(Path(__file__).parent))
from run import CORES, KEY, RESULTS, server

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


def load_with_dlt(base_url: str, workdir: Path, file_format: str | None = None) -> list[str]:
    pipeline = dlt.pipeline(
        pipeline_name="bench",
        destination=dlt.destinations.duckdb(str(workdir / "dlt.duckdb")),
        dataset_name="zof_data",
        pipelines_dir=str(workdir / "pipelines"),
    )
    source = zof_async.dlt.zof_source(api_key=KEY, base_url=base_url, page_size=1000)
    pipeline.run(source.with_resources("results"), loader_file_format=file_format)
    with duckdb.connect(str(workdir / "dlt.duckdb"), read_only=True) as db:
        return [row[0] for row in db.execute("select id from zof_data.results").fetchall()]


def load_with_pager(base_url: str, workdir: Path) -> list[str]:
    async def pages() -> list[list[dict[str, Any]]]:
        async with AsyncZof(api_key=KEY, base_url=base_url) as zof:
            found = []
            async for page in zof.results.list(page_size=1000).pages():
                found.append([result.to_dict() for result in page.items])
            return found

    with duckdb.connect(str(workdir / "pager.duckdb")) as db:
        for number, rows in enumerate(anyio.run(pages)):
            db.register("page", pa.Table.from_pylist(rows))
            if number == 0:
                db.execute("create table results as select * from page")
            else:
                db.execute("insert into results by name select * from page")
            db.unregister("page")
        return [row[0] for row in db.execute("select id from results").fetchall()]


def rows_only(base_url: str, workdir: Path) -> list[str]:
    async def ids() -> list[str]:
        async with AsyncZof(api_key=KEY, base_url=base_url) as zof:
            found = []
            async for page in zof.results.list(page_size=1000).pages():
                found += [result.to_dict()["id"] for result in page.items]
            return found

    return anyio.run(ids)


def load_with_dlt_jsonl(base_url: str, workdir: Path) -> list[str]:
    return load_with_dlt(base_url, workdir, "jsonl")


LOADERS: dict[str, Callable[[str, Path], list[str]]] = {
    "dlt: zof_source → DuckDB, dlt's default file format (insert_values)": load_with_dlt,
    'dlt: zof_source → DuckDB, loader_file_format="jsonl"': load_with_dlt_jsonl,
    "SDK pager → Arrow table per page → DuckDB insert": load_with_pager,
    "SDK pager, rows only (no DuckDB)": rows_only,
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in LOADERS}
    with server(results=args.results) as base_url:
        reference = sorted(rows_only(base_url, Path()))
        assert len(reference) == args.results, len(reference)
        with tempfile.TemporaryDirectory() as warm:
            load_with_dlt(base_url, Path(warm))  # warm-up: dlt's imports and first schema
        for _ in range(args.rounds):
            for name, loader in LOADERS.items():
                with tempfile.TemporaryDirectory() as workdir:
                    started = time.perf_counter()
                    ids = loader(base_url, Path(workdir))
                    times[name].append(time.perf_counter() - started)
                assert sorted(ids) == reference, f"{name}: the rows differ from the listing"
    write(args.results, args.rounds, times)
    return 0


def write(n: int, rounds: int, times: dict[str, list[float]]) -> None:
    medians = {name: statistics.median(seconds) for name, seconds in times.items()}
    pager = medians["SDK pager → Arrow table per page → DuckDB insert"]
    lines = [
        "## Loading with dlt: results into DuckDB",
        "",
        f"{n:,} results served by the emulator over HTTP on 127.0.0.1 (one process,"
        f" pinned to core 0), loaded on this machine ({CORES} cores, shared with other"
        f" work while measured). Median of {rounds} interleaved rounds, each load"
        " timed from the first request to its last row in DuckDB (reading the ids"
        " back included), each checked against one listing.",
        "",
        "| loader | s (median) | rows/s | vs pager → DuckDB | rounds (s) |",
        "|---|---|---|---|---|",
        *(
            f"| {name} | {medians[name]:.2f} | {n / medians[name]:,.0f}"
            f" | {medians[name] / pager:.2f}× the time"
            f" | {', '.join(f'{s:.2f}' for s in seconds)} |"
            for name, seconds in times.items()
        ),
        "",
    ]
    text = "\n".join(lines)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dlt_load.md").write_text(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
