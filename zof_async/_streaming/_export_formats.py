"""What an export is: incremental parsers that turn its bytes into `Result`s as they arrive.

`ExportCheck` is the one definition of a CSV or JSON export of results, shared
by `export_rows` (which yields the rows) and `export_to` (which writes each
chunk only once it passed the check, and keeps the file only if the whole body
did). It holds no more than one record plus one network chunk, so exporting
millions of results runs in constant memory.

- JSON: one array of result objects, nothing but whitespace after it.
- CSV: a header row naming at least a result's required fields, then one
  record per result with as many fields as the header; an empty field is
  null. A record may span lines (a quoted field holding a newline).
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import AsyncGenerator, AsyncIterable
from contextlib import aclosing
from typing import Any, Literal, Protocol

import attrs

from .. import _converter
from .._models import Result

ExportFormat = Literal["csv", "json"]
_DECODER = json.JSONDecoder()
#: The columns a CSV export must have: the fields a `Result` cannot do without.
REQUIRED_COLUMNS = tuple(f.name for f in attrs.fields(Result) if f.default is attrs.NOTHING)


class ExportError(ValueError):
    """A body that is not an export of results; the message says where it went wrong."""


class _Parser(Protocol):
    def feed(self, data: bytes) -> list[Any]: ...

    def close(self) -> list[Any]: ...


class JsonArrayItems:
    """The elements of a JSON array, as its bytes are fed in."""

    def __init__(self) -> None:
        self._buffer = ""
        self._position = 0
        self._state = "start"  # start -> first -> (item -> after)* -> done (then whitespace)
        self._decoder = _incremental_utf8()

    def feed(self, data: bytes) -> list[Any]:
        """The elements completed by `data`."""
        self._buffer = self._buffer[self._position :] + self._decoder.decode(data)
        self._position = 0
        items: list[Any] = []
        while self._step(items):
            pass
        return items

    def close(self) -> list[Any]:
        """Nothing more is coming: raise unless the array was closed."""
        self._decoder.decode(b"", final=True)
        if self._state != "done":
            raise ValueError("the JSON export ended before its closing bracket")
        return []

    def _step(self, items: list[Any]) -> bool:
        """Consume one token or element; `False` when more text is needed."""
        buffer = self._buffer
        while self._position < len(buffer) and buffer[self._position].isspace():
            self._position += 1
        if self._position == len(buffer):
            return False
        char = buffer[self._position]
        state = self._state
        if state == "done":
            raise ValueError(f"unexpected {char!r} after the JSON export's closing bracket")
        if state == "start" and char != "[":
            raise ValueError("a JSON export must be an array")
        if state == "after" and char not in ",]":
            raise ValueError(f"unexpected {char!r} between elements of the JSON export")
        if state in ("start", "after") or (state == "first" and char == "]"):
            self._position += 1
            self._state = {"[": "first", ",": "item"}.get(char, "done")
            return True
        try:
            item, end = _DECODER.raw_decode(buffer, self._position)
        except json.JSONDecodeError:
            return False  # not complete yet
        if end == len(buffer) and not isinstance(item, dict | list | str):
            return False  # a number or literal may continue in the next chunk
        items.append(item)
        self._position = end
        self._state = "after"
        return True


class CsvRecords:
    """The records of a CSV with a header row, as dicts, as its bytes are fed in.

    A line completes a record only when the quotes seen so far are balanced.
    Every record must have as many fields as the header.
    """

    def __init__(self) -> None:
        self.header: list[str] | None = None
        self._pending = ""
        self._records = 0
        self._decoder = _incremental_utf8()

    def feed(self, data: bytes) -> list[dict[str, str]]:
        """The records completed by `data`."""
        self._pending += self._decoder.decode(data)
        records: list[dict[str, str]] = []
        while (end := _record_end(self._pending)) >= 0:
            record, self._pending = self._pending[:end], self._pending[end:].lstrip("\r\n")
            self._add(record.rstrip("\r"), records)
        return records

    def close(self) -> list[dict[str, str]]:
        """The last record (one without a line ending); raise if there is no header."""
        self._pending += self._decoder.decode(b"", final=True)
        if _record_end(self._pending + "\n") < 0:
            raise ValueError("the CSV export ended inside a quoted field")
        records: list[dict[str, str]] = []
        self._add(self._pending, records)
        self._pending = ""
        if self.header is None:
            raise ValueError("the CSV export has no header row")
        return records

    def _add(self, record: str, records: list[dict[str, str]]) -> None:
        if not record.strip():
            return
        fields = csv_fields(record)
        if self.header is None:
            self.header = fields
            return
        self._records += 1
        if len(fields) != len(self.header):
            raise ValueError(
                f"record {self._records} has {len(fields)} fields, the header {len(self.header)}"
            )
        records.append(dict(zip(self.header, fields, strict=True)))


class ExportCheck:
    """An export of results in `format`, checked chunk by chunk.

    `feed` and `close` return the `Result`s completed so far, or raise
    `ExportError` for a body that is not an export.
    """

    def __init__(self, format: ExportFormat) -> None:
        self.format = format
        self._csv = CsvRecords() if format == "csv" else None
        self._parser: _Parser = self._csv or JsonArrayItems()
        self._header_checked = False

    def feed(self, data: bytes) -> list[Result]:
        """The results whose rows `data` completed."""
        return self._results(lambda: self._parser.feed(data))

    def close(self) -> list[Result]:
        """The body is complete: its last results; raise if it is not a whole export."""
        return self._results(self._parser.close)

    def _results(self, parse: Any) -> list[Result]:
        try:
            rows = parse()
        except ValueError as exc:  # UnicodeDecodeError included
            raise ExportError(f"the {self.format} export does not parse: {exc}") from exc
        self._check_header()
        results = []
        for row in rows:
            try:
                results.append(
                    _converter.converter.structure(
                        _from_csv(row) if self._csv is not None else row, Result
                    )
                )
            except Exception as exc:
                raise ExportError(f"an exported row is not a Result: {exc}") from exc
        return results

    def _check_header(self) -> None:
        if self._header_checked or self._csv is None or self._csv.header is None:
            return
        self._header_checked = True
        missing = [name for name in REQUIRED_COLUMNS if name not in self._csv.header]
        if missing:
            raise ExportError(
                f"the csv export does not parse: its header row lacks {', '.join(missing)}"
            )


async def export_results(
    chunks: AsyncIterable[bytes], format: ExportFormat
) -> AsyncGenerator[Result, None]:
    """The `Result`s of a streamed export, one by one (`ExportError` if it is not one)."""
    check = ExportCheck(format)
    async for chunk in chunks:
        for result in check.feed(chunk):
            yield result
    for result in check.close():
        yield result


async def checked_chunks(
    chunks: AsyncIterable[bytes], format: ExportFormat
) -> AsyncGenerator[bytes, None]:
    """`chunks` unchanged, each passed on only once it passed `ExportCheck`.

    Raises `ExportError` at the first chunk that is not part of an export,
    or at the end if the body stopped short of one.
    """
    check = ExportCheck(format)
    async for chunk in chunks:
        check.feed(chunk)
        yield chunk
    check.close()


async def json_array_items(chunks: AsyncIterable[bytes]) -> AsyncGenerator[Any, None]:
    """The elements of a streamed JSON array, one by one."""
    async with aclosing(_parsed(chunks, JsonArrayItems())) as items:
        async for item in items:
            yield item


async def csv_records(chunks: AsyncIterable[bytes]) -> AsyncGenerator[dict[str, str], None]:
    """The records of a streamed CSV with a header row, as dicts, one by one."""
    async with aclosing(_parsed(chunks, CsvRecords())) as records:
        async for record in records:
            yield record


async def _parsed(chunks: AsyncIterable[bytes], parser: _Parser) -> AsyncGenerator[Any, None]:
    async for chunk in chunks:
        for item in parser.feed(chunk):
            yield item
    for item in parser.close():
        yield item


def csv_fields(record: str) -> list[str]:
    """The fields of one CSV record.

    A field may hold NUL, which Python 3.10's `csv` rejects ("line contains
    NUL"); it is swapped for a character the record does not use, and back.
    """
    if "\x00" not in record:
        return next(csv.reader([record]))
    stand_in = next(c for c in map(chr, range(0xE000, 0xF900)) if c not in record)
    fields = next(csv.reader([record.replace("\x00", stand_in)]))
    return [field.replace(stand_in, "\x00") for field in fields]


def _from_csv(row: dict[str, str]) -> dict[str, Any]:
    """CSV has only text: empty means null, and durations are numbers."""
    out: dict[str, Any] = {key: (value if value != "" else None) for key, value in row.items()}
    if out.get("duration_ms") is not None:
        out["duration_ms"] = int(out["duration_ms"])
    return out


def _record_end(text: str) -> int:
    """Index of the newline ending the first complete record, or -1."""
    quoted = False
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == "\n" and not quoted:
            return index
    return -1


def _incremental_utf8() -> codecs.IncrementalDecoder:
    return codecs.getincrementaldecoder("utf-8")()
