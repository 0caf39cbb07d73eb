"""The body of `POST /results/export`: a CSV with a header row, or a JSON array.

Written with the standard library alone (`csv`, `json`), independently of the
SDK's parsers, so that a test of the SDK against the emulator checks two
implementations of the format against each other, not one against itself.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any

__all__ = ["EXPORT_COLUMNS", "csv_row", "export_body"]

EXPORT_COLUMNS = (
    "id", "object", "run_id", "test_case_id", "status", "duration_ms",
    "logs_ref", "failure_summary", "created_at",
)  # fmt: skip

#: Private-use characters: one of them stands in for NUL while `csv` writes.
_STAND_INS = range(0xE000, 0xF900)


def csv_row(values: Sequence[object]) -> str:
    """One CSV record and its CRLF (RFC 4180, quoted only where needed); `None` is empty.

    Python 3.10's `csv.writer` refuses a NUL ("need to escape"), which a
    failure summary may hold: NUL is written as a character the row does not
    use, then put back.
    """
    fields = ["" if value is None else str(value) for value in values]
    joined = "".join(fields)
    stand_in = None
    if "\x00" in joined:
        stand_in = next(chr(c) for c in _STAND_INS if chr(c) not in joined)
        fields = [field.replace("\x00", stand_in) for field in fields]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(fields)
    text = out.getvalue()
    return text if stand_in is None else text.replace(stand_in, "\x00")


async def export_body(
    fmt: str, pages: Callable[[], Iterable[list[dict[str, Any]]]]
) -> AsyncIterator[bytes]:
    """The export of the rendered results `pages()` yields, a chunk per page.

    `pages` is called when the body is first read, so that the rows are those
    of the moment the export is streamed.
    """
    if fmt == "csv":
        yield csv_row(EXPORT_COLUMNS).encode()
        for rows in pages():
            yield "".join(csv_row([row[c] for c in EXPORT_COLUMNS]) for row in rows).encode()
        return
    yield b"["
    first = True
    for rows in pages():
        if rows:
            chunk = ",".join(json.dumps(row, separators=(",", ":")) for row in rows)
            yield (chunk if first else "," + chunk).encode()
            first = False
    yield b"]"
