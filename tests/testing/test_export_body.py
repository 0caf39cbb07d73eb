"""The emulator's export bodies, pinned to bytes written by hand (issue 22, item 2)."""

from __future__ import annotations

import json

import anyio
import pytest

from tests.export_vectors import CSV_RECORDS
from zof_async.testing._export import csv_row, export_body


@pytest.mark.parametrize(("values", "expected"), CSV_RECORDS)
def test_each_csv_record_is_the_hand_written_bytes(values: list[object], expected: bytes) -> None:
    """Quotes, commas, line breaks, NUL, None and non-ASCII: the RFC 4180 bytes, on every Python."""
    assert csv_row(values).encode() == expected


def test_a_csv_export_is_its_header_then_its_records() -> None:
    """The CSV body: the header row, then one record per rendered result, across pages."""
    row = {
        "id": "res_1", "object": "result", "run_id": "run_1", "test_case_id": "tc_1",
        "status": "failed", "duration_ms": 12, "logs_ref": None,
        "failure_summary": 'x, "y"', "created_at": "2026-11-01T00:00:00Z",
    }  # fmt: skip
    pages = [[row], [], [{**row, "id": "res_2", "failure_summary": None}]]

    async def body() -> bytes:
        return b"".join([chunk async for chunk in export_body("csv", lambda: pages)])

    assert anyio.run(body) == (
        b"id,object,run_id,test_case_id,status,duration_ms,logs_ref,failure_summary,created_at\r\n"
        b'res_1,result,run_1,tc_1,failed,12,,"x, ""y""",2026-11-01T00:00:00Z\r\n'
        b"res_2,result,run_1,tc_1,failed,12,,,2026-11-01T00:00:00Z\r\n"
    )


def test_a_json_export_is_one_array_of_the_rows() -> None:
    """The JSON body is one array holding every row, across pages, empty pages included."""
    pages = [[{"id": "res_1"}], [], [{"id": "res_2", "failure_summary": "a\x00\u00e9"}]]

    async def body() -> bytes:
        return b"".join([chunk async for chunk in export_body("json", lambda: pages)])

    assert json.loads(anyio.run(body)) == [row for page in pages for row in page]
    assert anyio.run(body).startswith(b'[{"id":"res_1"},{"id":"res_2"')
