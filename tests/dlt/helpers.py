"""The emulator behind a recording transport, and what a pipeline loaded into DuckDB."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from zof_async.testing import Emulator
from zof_async.testing._records import Result


class Relay(httpx.AsyncBaseTransport):
    """The in-process emulator, recording every request; `extra` is added to listed objects.

    `extra` plays a newer API that sends fields this SDK does not know;
    `fail_at=n` answers the n-th request to `/results` (from 1) with a 500.
    """

    def __init__(
        self, emulator: Emulator, extra: dict[str, Any] | None = None, fail_at: int | None = None
    ) -> None:
        self.inner = emulator.transport()
        self.extra = extra or {}
        self.fail_at = fail_at
        self.requests: list[httpx.URL] = []
        self.closed = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url)
        if self.fail_at is not None and len(self.queries("/v1/results")) == self.fail_at:
            error = {"error": {"code": "internal_error", "message": "relay fault"}}
            return httpx.Response(500, json=error, headers={"x-request-id": "req_relay"})
        response = await self.inner.handle_async_request(request)
        if not self.extra or response.status_code != 200:
            return response
        body = json.loads(await response.aread())
        for item in body["data"]:
            item.update(self.extra)
        return httpx.Response(200, json=body, headers={"x-request-id": "req_relay"})

    async def aclose(self) -> None:
        """Counted: the client that owns this transport closes it when it is closed."""
        self.closed += 1
        await self.inner.aclose()

    def queries(self, path: str) -> list[dict[str, str]]:
        """The query parameters of each request to `path` (e.g. `/v1/results`)."""
        return [dict(url.params) for url in self.requests if url.path.endswith(path)]


def add_result(emulator: Emulator, result_id: str, when: float, run_id: str = "run_a") -> None:
    """A passed result of `run_id` created at `when` (emulator seconds), written directly."""
    with emulator.state.lock:
        emulator.state.store.add_result(
            Result(result_id, "org_acme", run_id, "tc_x", "passed", 10, None, when)
        )


def acme(emulator: Emulator, table: str) -> list[str]:
    """Ids of org_acme's runs, results or artifacts in the emulator's own store."""
    records = getattr(emulator.state.store, table).values()
    return sorted(r.id for r in records if r.org_id == "org_acme")


def ids(database: Path, table: str) -> list[str]:
    """The ids of `zof.<table>` in the DuckDB file, sorted (duplicates kept)."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as db:
        return sorted(row[0] for row in db.sql(f"select id from zof.{table}").fetchall())


def tables(database: Path) -> list[str]:
    """The tables of the `zof` dataset, sorted."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as db:
        found = db.sql(
            "select table_name from information_schema.tables where table_schema = 'zof'"
        )
        return sorted(row[0] for row in found.fetchall())


def columns(database: Path, table: str) -> list[str]:
    """The column names of `zof.<table>`."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as db:
        return [row[0] for row in db.sql(f"describe zof.{table}").fetchall()]


def loaded(pipeline: Any) -> dict[str, int]:
    """Rows of each of our tables in the pipeline's last run (0 when nothing was extracted)."""
    info = pipeline.last_trace.last_normalize_info
    counts = dict(info.row_counts) if info is not None else {}
    return {t: counts.get(t, 0) for t in ("runs", "results", "artifacts")}
