"""Incremental parsers of exports: rows become `Result`s as bytes arrive.

Neither parser holds more than one record (plus one network chunk) in memory,
so exporting millions of results iterates in constant memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import AsyncGenerator, AsyncIterable
from typing import Any

_DECODER = json.JSONDecoder()


async def json_array_items(chunks: AsyncIterable[bytes]) -> AsyncGenerator[Any, None]:
    """Yield the elements of a streamed JSON array, one by one."""
    buffer = ""
    position = 0
    state = "start"  # start -> first -> (item -> after)* -> done (only whitespace after)
    decoder = _incremental_utf8()
    async for chunk in chunks:
        buffer = buffer[position:] + decoder.decode(chunk)
        position = 0
        while True:
            while position < len(buffer) and buffer[position].isspace():
                position += 1
            if position == len(buffer):
                break
            char = buffer[position]
            if state == "done":
                raise ValueError(f"unexpected {char!r} after the JSON export's closing bracket")
            if state == "start":
                if char != "[":
                    raise ValueError("a JSON export must be an array")
                position += 1
                state = "first"
            elif state == "after":
                if char not in ",]":
                    raise ValueError(f"unexpected {char!r} between elements of the JSON export")
                position += 1
                state = "done" if char == "]" else "item"
            elif state == "first" and char == "]":
                position += 1
                state = "done"
            else:
                try:
                    item, end = _DECODER.raw_decode(buffer, position)
                except json.JSONDecodeError:
                    break  # not complete yet
                if end == len(buffer) and not isinstance(item, dict | list | str):
                    break  # a number or literal may continue in the next chunk
                yield item
                position = end
                state = "after"
    if state != "done":
        raise ValueError("the JSON export ended before its closing bracket")


async def csv_records(chunks: AsyncIterable[bytes]) -> AsyncGenerator[dict[str, str], None]:
    """Yield the rows of a streamed CSV with a header row, as dicts.

    A record may span lines (a quoted field with newlines): a line completes a
    record only when the quotes seen so far are balanced.
    """
    header: list[str] | None = None
    pending = ""
    decoder = _incremental_utf8()

    parse = csv_fields
    async for chunk in chunks:
        pending += decoder.decode(chunk)
        while True:
            end = _record_end(pending)
            if end < 0:
                break
            record, pending = pending[:end], pending[end:].lstrip("\r\n")
            if not record.strip():
                continue
            if header is None:
                header = parse(record)
            else:
                yield dict(zip(header, parse(record), strict=False))
    if pending.strip():
        if header is None:
            raise ValueError("the CSV export has no header row")
        yield dict(zip(header, parse(pending.rstrip("\r\n")), strict=False))


def csv_fields(record: str) -> list[str]:
    """The fields of one CSV record.

    A field may hold NUL, which Python 3.10's `csv` rejects ("line contains
    NUL"); it is swapped for a character the record does not use, and back.
    """
    if "\x00" not in record:
        return next(csv.reader([record]))
    stand_in = _unused_character(record)
    fields = next(csv.reader([record.replace("\x00", stand_in)]))
    return [field.replace(stand_in, "\x00") for field in fields]


def csv_line(values: list[object]) -> str:
    """One CSV record (with its CRLF), NUL included on every Python (see `csv_fields`)."""
    text = ["" if value is None else str(value) for value in values]
    joined = "".join(text)
    stand_in = _unused_character(joined) if "\x00" in joined else None
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if stand_in is None:
        writer.writerow(text)
        return buffer.getvalue()
    writer.writerow([value.replace("\x00", stand_in) for value in text])
    return buffer.getvalue().replace(stand_in, "\x00")


def _unused_character(text: str) -> str:
    return next(c for c in map(chr, range(0xE000, 0xF900)) if c not in text)


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
