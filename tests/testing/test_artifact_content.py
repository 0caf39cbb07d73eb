"""Artifact content is what its Content-Type says (issue 21, item 13).

Random bytes labelled `text/plain` or `application/xml` are changed by any
proxy that re-encodes text (one turned a 1,972-byte log into 3,482 bytes).
Each artifact is checked with a reader of its declared type from outside
the package: the codecs, `xml.etree`, Pillow, `zipfile`.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ElementTree
import zipfile
from email.message import Message

import anyio
import httpx
import pytest
from PIL import Image

from zof_async.testing import Emulator
from zof_async.testing._content import artifact_content
from zof_async.testing._records import Artifact

from .helpers import SMOKE

pytestmark = pytest.mark.anyio


def charset(content_type: str) -> str | None:
    message = Message()
    message["content-type"] = content_type
    return message.get_param("charset")  # type: ignore[return-value]


def reencoded_by_a_proxy(data: bytes, content_type: str) -> bytes:
    """What a proxy that re-encodes text to UTF-8 forwards: decoded as declared, or Latin-1."""
    return data.decode(charset(content_type) or "iso-8859-1", errors="replace").encode()


def check_content(data: bytes, content_type: str) -> None:
    """`data` is a document of `content_type`, read by a parser from outside the package."""
    media = content_type.split(";")[0].strip()
    if media.startswith("text/") or media.endswith("xml"):
        data.decode(charset(content_type) or "us-ascii")  # RFC 6657: text/* defaults to ASCII
        assert reencoded_by_a_proxy(data, content_type) == data
    if media == "application/xml":
        ElementTree.fromstring(data)
    elif media == "image/png":
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "PNG"
            image.verify()  # every chunk's CRC
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # and the pixels decode
    elif media == "application/zip":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert archive.testzip() is None
            assert archive.namelist()
    else:
        assert media in ("text/plain", "application/octet-stream"), media


async def test_every_artifact_of_a_failed_run_is_what_its_type_says(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    """Logs, screenshots, traces and the JUnit report: their declared type, their exact size."""
    emulator.script_next_run(outcome="failed", queue_seconds=0, duration_seconds=1)
    run = (await http.post("/runs", json=SMOKE)).json()
    emulator.advance(2)
    listed = (await http.get(f"/runs/{run['id']}/artifacts", params={"limit": 1000})).json()
    types = {a["content_type"] for a in listed["data"]}
    assert types == {"text/plain", "application/xml", "image/png", "application/zip"}
    for artifact in listed["data"]:
        response = await http.get(f"/artifacts/{artifact['id']}/content")
        assert response.headers["content-type"] == artifact["content_type"]
        assert len(response.content) == artifact["size_bytes"]
        check_content(response.content, response.headers["content-type"])


OCTET = "application/octet-stream"


@pytest.mark.parametrize(
    ("content_type", "size", "served_as"),
    [
        ("text/plain", 0, "text/plain"), ("text/plain", 1, "text/plain"),
        ("text/plain", 1_972, "text/plain"), ("text/plain", 200_001, "text/plain"),
        ("application/xml", 200, "application/xml"), ("application/xml", 12_345, "application/xml"),
        ("image/png", 20_000, "image/png"), ("image/png", 90_001, "image/png"),
        ("application/zip", 50_000, "application/zip"),
        ("application/zip", 300_007, "application/zip"),
        # Too small to be one of these, or a type the emulator does not make.
        ("application/xml", 3, OCTET), ("image/png", 10, OCTET), ("application/zip", 21, OCTET),
        ("application/pdf", 1_000, OCTET),
    ],
)  # fmt: skip
def test_content_of_any_size_matches_the_type_it_is_served_as(
    content_type: str, size: int, served_as: str
) -> None:
    """Any size: exactly that many bytes, of the declared type or else application/octet-stream."""
    artifact = Artifact(
        "art_x", "org_acme", "run_x", None, "log", "x", content_type, size, 0.0
    )  # fmt: skip
    served, chunks = artifact_content(artifact)

    async def read() -> bytes:
        return b"".join([chunk async for chunk in chunks])

    data = anyio.run(read)
    assert len(data) == size
    assert served == served_as
    check_content(data, served)
    _, again = artifact_content(artifact)

    async def read_again() -> bytes:
        return b"".join([chunk async for chunk in again])

    assert anyio.run(read_again) == data  # the same content on every download
