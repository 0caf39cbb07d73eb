"""Logs, exports and downloads: streamed, parsed incrementally, written atomically."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import anyio
import httpx
import pytest
import respx
from hypothesis import given, settings, strategies as st

from tests.export_vectors import CSV_RECORDS, HEADER, HEADER_BYTES
from tests.helpers import client
from zof_async import (
    APIConnectionError,
    APIResponseValidationError,
    Artifact,
    ArtifactKind,
    AsyncZof,
    Result,
)
from zof_async._streaming._export_formats import csv_records, json_array_items
from zof_async.testing import Emulator, RunScript, set_testing

pytestmark = pytest.mark.anyio


async def finished_run(
    busy: Emulator, zof: AsyncZof, outcome: Literal["passed", "failed", "error"] | None = None
) -> str:
    """A run of the full regression suite, finished on the emulator's clock."""
    busy.script_next_run(RunScript(queue_seconds=0, duration_seconds=5, outcome=outcome))
    run = await zof.runs.create(
        project_id="proj_abc", environment="staging", test_suite_id="suite_full_regression"
    )
    busy.advance(30)
    return run.id


async def test_logs_stream_line_by_line(busy: Emulator, zof: AsyncZof) -> None:
    """Logs arrive line by line; leaving the block early closes the body and frees the slot."""
    run_id = await finished_run(busy, zof)
    async with zof.runs.logs(run_id) as lines:
        received = [line async for line in lines]
    assert len(received) == 2000 + 3
    assert "queued with 2000 cases" in received[0]
    assert zof.stats.in_flight == 0
    first = []
    async with zof.runs.logs(run_id) as stream:  # leaving early: the block closes the body
        async for line in stream:
            first.append(line)
            if len(first) == 3:
                break
    assert first == received[:3]
    assert zof.stats.in_flight == 0


@pytest.mark.parametrize("fmt", ["json", "csv"])
async def test_export_rows_match_the_listing(
    busy: Emulator, zof: AsyncZof, fmt: Literal["csv", "json"]
) -> None:
    """JSON and CSV exports parse to the same Results as the listing, filters included."""
    run_id = await finished_run(busy, zof, outcome="failed")
    listed = [r async for r in zof.results.list(run_id=run_id, page_size=1000)]
    exported = [r async for r in zof.results.export_rows(format=fmt, run_id=run_id)]
    assert exported == listed
    assert all(isinstance(r, Result) for r in exported)
    failed = [r async for r in zof.results.export_rows(format=fmt, run_id=run_id, status="failed")]
    assert [r.id for r in failed] == [r.id for r in listed if r.status == "failed"]


async def test_export_to_writes_the_file_atomically(
    busy: Emulator, zof: AsyncZof, tmp_path: Path
) -> None:
    """export_to writes the whole CSV to the target and leaves no temporary file."""
    run_id = await finished_run(busy, zof)
    target = tmp_path / "results.csv"
    size = await zof.results.export_to(target, format="csv", run_id=run_id)
    data = target.read_bytes()
    assert size == len(data)
    text = data.decode()
    assert text.startswith("id,object,run_id,test_case_id,status")
    assert len(text.splitlines()) == 2001
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


async def test_a_broken_export_leaves_no_file(router: respx.MockRouter, tmp_path: Path) -> None:
    """An export cut off mid-body: APIConnectionError, and the old file is untouched."""

    async def body() -> AsyncIterator[bytes]:
        yield b"id,run_id,test_case_id,status,created_at\r\n"
        yield b"res_1,run_1,tc_1,passed,2026-11-01T00:00:00Z\r\n"
        raise httpx.ReadError("connection reset")

    router.post("/results/export").mock(
        return_value=httpx.Response(200, content=body(), headers={"content-type": "text/csv"})
    )
    target = tmp_path / "out.csv"
    target.write_text("yesterday's export")
    async with client(router) as zof:
        with pytest.raises(APIConnectionError, match="cut off"):
            await zof.results.export_to(target)
        assert zof.stats.in_flight == 0
    assert target.read_text() == "yesterday's export"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


async def test_download_checks_size_and_is_atomic(
    busy: Emulator, zof: AsyncZof, tmp_path: Path
) -> None:
    """A download by Artifact or by id writes exactly size_bytes of the PNG."""
    run_id = await finished_run(busy, zof, outcome="failed")
    shots = [a async for a in zof.runs.artifacts(run_id) if a.kind == "screenshot"]
    target = tmp_path / "shot.png"
    assert await zof.artifacts.download(shots[0], target) == shots[0].size_bytes
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG")
    assert len(data) == shots[0].size_bytes
    assert await zof.artifacts.download(shots[0].id, tmp_path / "by_id.png") == len(data)
    assert (tmp_path / "by_id.png").read_bytes() == data


async def test_download_of_the_wrong_size_is_rejected(
    router: respx.MockRouter, tmp_path: Path
) -> None:
    """A body shorter than size_bytes: APIResponseValidationError and no file."""
    router.get("/artifacts/art_1/content").mock(return_value=httpx.Response(200, content=b"x" * 10))
    artifact = Artifact(
        id="art_1", run_id="run_1", kind=ArtifactKind.LOG, name="a.log", content_type="text/plain",
        size_bytes=11, download_url="https://api.zof.ai/v1/artifacts/art_1/content",
        created_at=datetime.now(timezone.utc),
    )  # fmt: skip
    async with client(router) as zof:
        with pytest.raises(APIResponseValidationError, match="got 10 bytes, expected 11"):
            await zof.artifacts.download(artifact, tmp_path / "a.log")
    assert list(tmp_path.iterdir()) == []


async def test_a_download_cut_off_mid_body_is_retried(
    router: respx.MockRouter, tmp_path: Path
) -> None:
    """A download cut mid-body is retried whole; the file holds the full body."""
    attempts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1

        async def body() -> AsyncIterator[bytes]:
            yield b"a" * 1000
            if attempts == 1:
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body"
                )
            yield b"b" * 1000

        return httpx.Response(200, content=body(), headers={"content-length": "2000"})

    router.get("/artifacts/art_1/content").mock(side_effect=handler)
    previous = set_testing(True)
    try:
        async with client(router) as zof:
            assert await zof.artifacts.download("art_1", tmp_path / "a.bin") == 2000
    finally:
        set_testing(previous)
    assert attempts == 2
    assert (tmp_path / "a.bin").read_bytes() == b"a" * 1000 + b"b" * 1000


ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.text(min_size=1, max_size=8),
            "failure_summary": st.one_of(st.none(), st.text(max_size=40)),
            "duration_ms": st.integers(0, 10**9),
        }
    ),
    max_size=20,
)


async def _chunks(data: bytes, cuts: list[int]) -> AsyncIterator[bytes]:
    previous = 0
    for cut in sorted({c % (len(data) + 1) for c in cuts}):
        yield data[previous:cut]
        previous = cut
    yield data[previous:]


@settings(max_examples=150, deadline=None)
@given(rows=ROWS, cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_json_array_parsing_at_any_chunk_boundary(
    rows: list[dict[str, object]], cuts: list[int]
) -> None:
    """A JSON array cut into chunks anywhere parses to the same items."""
    data = json.dumps(rows, indent=1, ensure_ascii=False).encode()

    async def parse() -> list[object]:
        return [item async for item in json_array_items(_chunks(data, cuts))]

    assert anyio.run(parse) == rows


@settings(max_examples=150, deadline=None)
@given(rows=ROWS, cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_csv_parsing_at_any_chunk_boundary(rows: list[dict[str, object]], cuts: list[int]) -> None:
    """Any rows (NUL, quotes, newlines included), cut anywhere: parsed back exactly."""
    # Written by hand (RFC 4180, minimal quoting): Python 3.10's csv.writer
    # cannot write a NUL, which any text may hold.

    def field(value: object) -> str:
        text = "" if value is None else str(value)
        quoted = '"' + text.replace('"', '""') + '"'
        return quoted if any(c in text for c in ',"\r\n') else text

    lines = ["id,failure_summary,duration_ms"]
    for row in rows:
        lines.append(",".join(field(row[k]) for k in ("id", "failure_summary", "duration_ms")))
    data = "".join(line + "\r\n" for line in lines).encode()

    async def parse() -> list[dict[str, str]]:
        return [item async for item in csv_records(_chunks(data, cuts))]

    parsed = anyio.run(parse)
    expected = [
        {k: "" if row[k] is None else str(row[k]) for k in ("id", "failure_summary", "duration_ms")}
        for row in rows
    ]
    assert parsed == expected


@pytest.mark.parametrize("body", [b"{}", b"[1, 2", b'[{"a": 1} {"b": 2}]', b"nope"])
def test_malformed_json_exports_raise(body: bytes) -> None:
    """Not an array, cut short, or with missing commas: ValueError naming the JSON export."""

    async def parse() -> list[object]:
        return [item async for item in json_array_items(_chunks(body, [3]))]

    with pytest.raises(ValueError, match="JSON export"):
        anyio.run(parse)


@settings(max_examples=50, deadline=None)
@given(cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_csv_records_parse_to_the_hand_written_vectors(cuts: list[int]) -> None:
    """The hand-written RFC 4180 records (NUL included) parse back exactly, cut anywhere."""
    data = HEADER_BYTES + b"".join(expected for _, expected in CSV_RECORDS)

    async def parse() -> list[dict[str, str]]:
        return [item async for item in csv_records(_chunks(data, cuts))]

    assert anyio.run(parse) == [
        {
            name: "" if value is None else str(value)
            for name, value in zip(HEADER, values, strict=True)
        }
        for values, _ in CSV_RECORDS
    ]
