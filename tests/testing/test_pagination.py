"""Cursor pagination: order, exactly-once under inserts, filters, hostile cursors."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from zof_async.testing import Emulator, RunScript

from .helpers import SMOKE, assert_error

pytestmark = pytest.mark.anyio


async def walk(http: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = (
            await http.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        ).json()
        items.extend(page["data"])
        assert page["has_more"] == (page["next_cursor"] is not None)
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@pytest.fixture
def busy() -> Emulator:
    """A default emulator: two weeks of history, ~4,500 results."""
    return Emulator()


async def test_results_are_newest_first_and_complete(busy: Emulator) -> None:
    """Walking every page lists each of the organization's results once, newest first."""
    async with busy.client() as http:
        items = await walk(http, "/results", limit=333)
    keys = [(r["created_at"], r["id"]) for r in items]
    assert keys == sorted(keys, reverse=True)
    assert (
        len(items) == len({r["id"] for r in items}) == len(busy.state.store.results) - 50
    )  # Globex's


async def test_exactly_once_while_runs_insert_results(busy: Emulator) -> None:
    """Results inserted mid-walk never make the cursor repeat or skip an existing item."""
    async with busy.client() as http:
        before = {r["id"] for r in await walk(http, "/results", limit=1000)}
        seen: list[str] = []
        cursor = None
        busy.script_next_run(RunScript(queue_seconds=0, duration_seconds=30))
        await http.post("/runs", json=SMOKE)
        while True:
            busy.advance(1)  # a result or two of the new run lands between pages
            params = {"limit": 50, **({"cursor": cursor} if cursor else {})}
            page = (await http.get("/results", params=params)).json()
            seen.extend(r["id"] for r in page["data"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert len(seen) == len(set(seen)), "an item was yielded twice"
    assert before <= set(seen), "an item present for the whole iteration was skipped"


async def test_filters(busy: Emulator) -> None:
    """project, status (comma or repeated), run_id and time filters select exactly their rows."""
    async with busy.client() as http:
        runs = await walk(http, "/runs", project_id="proj_abc123")
        assert runs and {r["project_id"] for r in runs} == {"proj_abc123"}
        assert all("case_outcomes" not in r for r in runs)
        bad = await walk(http, "/results", status="failed,error", limit=1000)
        assert bad and {r["status"] for r in bad} <= {"failed", "error"}
        repeated = await walk(http, "/results", status=["failed", "error"], limit=1000)
        assert [r["id"] for r in repeated] == [r["id"] for r in bad]
        one_run = runs[0]["id"]
        of_run = await walk(http, "/results", run_id=one_run)
        assert len(of_run) == 23 and {r["run_id"] for r in of_run} == {one_run}
        everything = await walk(http, "/runs", limit=1000)
        middle = everything[len(everything) // 2]["created_at"]
        newer = await walk(http, "/runs", created_after=middle)
        older = await walk(http, "/runs", created_before=middle)
        assert all(r["created_at"] >= middle for r in newer)  # inclusive
        assert all(r["created_at"] < middle for r in older)  # exclusive
        assert len(newer) + len(older) == len(everything)


async def test_sparse_filter_returns_empty_pages_that_are_not_the_end(emulator: Emulator) -> None:
    """A sparse filter may yield empty pages with a cursor; the walk still finds the match."""
    emulator.add_project("org_acme", "proj_big", cases=12_000)
    emulator.add_run(
        "proj_big",
        script=RunScript(
            queue_seconds=0,
            duration_seconds=10,
            case_statuses={"tc_proj_big_00000": "error"},
            fail_rate=0,
            error_rate=0,
            skip_rate=0,
        ),
    )
    emulator.advance(11)
    async with emulator.client() as http:
        pages = []
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"status": "error", "limit": 10}
            if cursor:
                params["cursor"] = cursor
            page = (await http.get("/results", params=params)).json()
            pages.append(page)
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert any(not p["data"] and p["next_cursor"] for p in pages)
    assert [r["test_case_id"] for p in pages for r in p["data"]] == ["tc_proj_big_00000"]


async def test_hostile_cursors_are_400(busy: Emulator) -> None:
    """Garbage, tampered, truncated or foreign cursors are 400 with param `cursor`."""
    async with busy.client() as http:
        page = (await http.get("/results", params={"limit": 5})).json()
        cursor = page["next_cursor"]
        raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        raw[-3] ^= 1
        tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
        for bad in ("garbage", "!!!", "a" * 5000, tampered, cursor[:-4]):
            assert_error(
                await http.get("/results", params={"cursor": bad}), 400, "invalid_request", "cursor"
            )
        # A cursor of another listing, filter set or organization.
        assert_error(
            await http.get("/runs", params={"cursor": cursor}), 400, "invalid_request", "cursor"
        )
        assert_error(
            await http.get("/results", params={"cursor": cursor, "status": "passed"}),
            400,
            "invalid_request",
            "cursor",
        )
    async with busy.client(busy.keys.other_org) as globex:
        assert_error(
            await globex.get("/results", params={"cursor": cursor}),
            400,
            "invalid_request",
            "cursor",
        )


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": ["1", "2"]}, "limit"),
        ({"status": "done"}, "status"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2026-11-22T10:00:00"}, "created_before"),
    ],
)
async def test_query_validation(
    http: httpx.AsyncClient, params: dict[str, Any], param: str
) -> None:
    """Out-of-range, malformed or repeated query parameters are 400 naming the parameter."""
    assert_error(await http.get("/runs", params=params), 400, "invalid_request", param)


async def test_limit_bounds_and_default(busy: Emulator) -> None:
    """A page holds 100 items by default and exactly `limit` items from 1 up to 1000."""
    async with busy.client() as http:
        assert len((await http.get("/results")).json()["data"]) == 100
        assert len((await http.get("/results", params={"limit": 1000})).json()["data"]) == 1000
        assert len((await http.get("/results", params={"limit": 1})).json()["data"]) == 1


async def test_export_csv_and_json_match_the_listing(busy: Emulator) -> None:
    """JSON and CSV exports hold the listed rows; an unknown format is 400."""
    async with busy.client() as http:
        run_id = (await http.get("/runs", params={"project_id": "proj_abc", "limit": 1})).json()[
            "data"
        ][0]["id"]
        listed = await walk(http, "/results", run_id=run_id)
        as_json = await http.post("/results/export", json={"format": "json", "run_id": run_id})
        assert as_json.headers["content-type"] == "application/json"
        assert as_json.json() == listed
        as_csv = await http.post(
            "/results/export", json={"format": "csv", "run_id": run_id, "status": ["passed"]}
        )
        assert as_csv.headers["content-type"].startswith("text/csv")
        lines = as_csv.text.splitlines()
        assert lines[0].startswith("id,object,run_id,test_case_id,status")
        assert len(lines) - 1 == sum(r["status"] == "passed" for r in listed)
        assert_error(
            await http.post("/results/export", json={"format": "xml"}),
            400,
            "invalid_request",
            "format",
        )
        empty = await http.post("/results/export", json={"format": "json", "run_id": "run_nope"})
        assert empty.json() == []
