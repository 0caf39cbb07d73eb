"""Artifact content: a document of the artifact's declared type, of exactly its size.

A log is ASCII text, the JUnit report well-formed XML, a screenshot a PNG
(a small image, padded to size with a private ancillary chunk), a trace a zip
holding one stored file. Text is ASCII, so that a proxy that re-encodes text
forwards the same bytes. Every download of an artifact gets the same bytes
(seeded by its id). An artifact too small to be a document of its type, or
of a type not made here, is served as `application/octet-stream`.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import AsyncIterator, Callable

from ._records import Artifact

__all__ = ["artifact_content"]

OCTET_STREAM = "application/octet-stream"
_CHUNK = 64 * 1024
_WORDS = ("step", "click", "navigate", "assert", "wait", "fill", "request", "render", "check")


def artifact_content(artifact: Artifact) -> tuple[str, AsyncIterator[bytes]]:
    """`(content type, body)`: the declared type if the content can be one, else octet-stream."""
    rng = random.Random(artifact.id)
    size = artifact.size_bytes
    make = _MAKERS.get(artifact.content_type.split(";")[0].strip().lower())
    content = make(rng, size) if make is not None else None
    if content is None:
        return OCTET_STREAM, _chunked(rng.randbytes(size))
    assert len(content) == size
    return artifact.content_type, _chunked(content)


async def _chunked(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), _CHUNK):
        yield data[start : start + _CHUNK]


def _log_text(rng: random.Random, size: int) -> bytes:
    """ASCII log lines, cut at `size` bytes."""
    lines: list[str] = []
    length = 0
    while length < size:
        line = f"{len(lines):06d} INFO {rng.choice(_WORDS)} {rng.randrange(10_000)} ok\n"
        lines.append(line)
        length += len(line)
    return "".join(lines).encode("ascii")[:size]


def _xml(rng: random.Random, size: int) -> bytes | None:
    """A JUnit-style report: test cases while they fit, then whitespace to the size."""
    head = '<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="zof">\n'
    tail = "</testsuite>\n"
    room = size - len(head) - len(tail)
    if room < 0:
        return None
    cases: list[str] = []
    for index in range(size):
        case = f'  <testcase name="case_{index:05d}" time="{rng.randrange(1, 20_000) / 1000}"/>\n'
        if len(case) > room:
            break
        cases.append(case)
        room -= len(case)
    return (head + "".join(cases) + " " * room + tail).encode("ascii")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(rng: random.Random, size: int) -> bytes | None:
    """A 16x16 RGB image, padded with a private ancillary chunk (`zoFp`) to the size."""
    width = height = 16
    red, green, blue = rng.randrange(256), rng.randrange(256), rng.randrange(256)
    rows = b"".join(
        b"\x00"  # filter type: none
        + b"".join(bytes((red, (green + 8 * y) % 256, (blue + 8 * x) % 256)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    start = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
    start += _png_chunk(b"IDAT", zlib.compress(rows, 9))
    end = _png_chunk(b"IEND", b"")
    padding = size - len(start) - len(end) - 12
    if padding < 0:
        return None
    return start + _png_chunk(b"zoFp", rng.randbytes(padding)) + end


def _zip(rng: random.Random, size: int) -> bytes | None:
    """A zip of one stored file, `trace.bin`, whose length brings the archive to the size."""

    def archive(payload: bytes) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zipped:
            zipped.writestr(zipfile.ZipInfo("trace.bin", date_time=(2026, 1, 1, 0, 0, 0)), payload)
        return out.getvalue()

    overhead = len(archive(b""))
    if size < overhead:
        return None
    return archive(rng.randbytes(size - overhead))


_MAKERS: dict[str, Callable[[random.Random, int], bytes | None]] = {
    "text/plain": _log_text,
    "application/xml": _xml,
    "image/png": _png,
    "application/zip": _zip,
}
