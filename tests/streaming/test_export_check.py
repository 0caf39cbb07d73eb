"""One check of what an export is, shared by `export_to` and `export_rows` (issue 21, item 12).

A body that `export_rows` refuses must not be written by `export_to`: both
refuse it with `APIResponseValidationError` (carrying the request id), and
`export_to` leaves the destination as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import httpx
import pytest
import respx

from tests.helpers import client
from zof_async import APIResponseValidationError

pytestmark = pytest.mark.anyio

Format = Literal["csv", "json"]
MEDIA = {"csv": "text/csv", "json": "application/json"}
HEADER = b"id,object,run_id,test_case_id,status,duration_ms,logs_ref,failure_summary,created_at\r\n"
SHORT_HEADER = b"id,run_id,test_case_id,status,created_at,failure_summary\r\n"
ROW = b"res_1,result,run_1,tc_1,passed,12,,,2026-11-01T00:00:00Z\r\n"

NOT_EXPORTS: list[tuple[Format, bytes]] = [
    ("csv", b'"hello"'),  # a bare string, as the mock server of the issue answered
    ("csv", b'"hello"\r\n'),
    ("csv", b""),  # no header row
    ("csv", b"id,status\r\n"),  # a header row without a result's columns
    ("csv", b"\xff\xfe not utf-8\r\n"),
    ("csv", HEADER + b"res_1,result,run_1,tc_1,passed,fast,,,2026-11-01T00:00:00Z\r\n"),
    ("csv", HEADER + ROW[:-5]),  # a row cut short
    ("csv", SHORT_HEADER + b"res_1,run_1,tc_1,passed,2026-11-01T00:00:00Z\r\n"),  # a field short
    ("csv", SHORT_HEADER + b"res_1,run_1,tc_1,passed,2026-11-01T00:00:00Z,a,b\r\n"),  # one over
    ("json", b'"hello"'),
    ("json", b'{"data": []}'),
    ("json", b'[{"id": "res_1"'),
    ("json", b"[] 2"),
    ("json", b"[1]"),  # an array, but not of results
    ("json", b"[]\xc3"),  # a UTF-8 sequence cut short after the array
]


def answer(router: respx.MockRouter, fmt: Format, body: bytes) -> None:
    router.post("/results/export").mock(
        return_value=httpx.Response(
            200, content=body, headers={"content-type": MEDIA[fmt], "x-request-id": "req_bad"}
        )
    )


@pytest.mark.parametrize(("fmt", "body"), NOT_EXPORTS)
async def test_a_body_export_rows_refuses_is_not_written_by_export_to(
    router: respx.MockRouter, tmp_path: Path, fmt: Format, body: bytes
) -> None:
    """export_rows and export_to both refuse it; the file at the destination is untouched."""
    answer(router, fmt, body)
    target = tmp_path / f"results.{fmt}"
    target.write_text("yesterday's export")
    async with client(router) as zof:
        with pytest.raises(APIResponseValidationError) as rows_refused:
            [r async for r in zof.results.export_rows(format=fmt)]
        with pytest.raises(APIResponseValidationError) as file_refused:
            await zof.results.export_to(target, format=fmt)
        assert zof.stats.in_flight == 0
    assert rows_refused.value.request_id == file_refused.value.request_id == "req_bad"
    assert str(file_refused.value) == str(rows_refused.value)
    assert target.read_text() == "yesterday's export"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


@pytest.mark.parametrize(
    ("fmt", "body", "rows"),
    [
        ("csv", HEADER, 0),
        ("csv", HEADER + ROW + ROW.replace(b"res_1", b"res_2"), 2),
        ("csv", HEADER + ROW[:-2], 1),  # the last row without its line ending
        ("json", b" [ ] \n", 0),
        ("json", b'[{"id": "res_1", "run_id": "run_1", "test_case_id": "tc_1",'
                 b' "status": "passed", "created_at": "2026-11-01T00:00:00Z"}]', 1),
    ],
)  # fmt: skip
async def test_an_export_is_written_byte_for_byte_and_read_as_rows(
    router: respx.MockRouter, tmp_path: Path, fmt: Format, body: bytes, rows: int
) -> None:
    """A body that is an export (even of no rows): written exactly, and parsed to its rows."""
    answer(router, fmt, body)
    target = tmp_path / f"results.{fmt}"
    async with client(router) as zof:
        assert len([r async for r in zof.results.export_rows(format=fmt)]) == rows
        assert await zof.results.export_to(target, format=fmt) == len(body)
    assert target.read_bytes() == body
