"""Artifact bytes: `open` (a byte stream), `read` (bytes, bounded) and `download_many`.

Against the in-process emulator (with its faults) and, for answers the
emulator never gives (a short body, another type, no Content-Length), an
httpx `MockTransport`. The reference bytes come from a plain httpx client
on the emulator, not from the SDK.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import attrs
import httpx
import pytest

from tests.resources.seam import emulator_with_runs
from zof_async import (
    APIConnectionError,
    APIResponseValidationError,
    Artifact,
    ArtifactBody,
    ArtifactDownload,
    ArtifactKind,
    ArtifactTooLargeError,
    AsyncZof,
    NotFoundError,
)
from zof_async.testing import Emulator

pytestmark = pytest.mark.anyio

CONTENT = "/artifacts/{id}/content"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every test here runs on asyncio and on trio."""
    return str(request.param)


async def _artifacts(emulator: Emulator, run_id: str) -> list[Artifact]:
    async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
        return [a async for a in zof.runs.artifacts(run_id)]


async def _reference(emulator: Emulator, artifacts: list[Artifact]) -> dict[str, bytes]:
    """Each artifact's bytes, fetched by a plain httpx client (not the SDK)."""
    async with emulator.client() as http:
        return {a.id: (await http.get(f"/artifacts/{a.id}/content")).content for a in artifacts}


async def _setup() -> tuple[Emulator, list[Artifact], dict[str, bytes]]:
    emulator, ids = await emulator_with_runs()
    artifacts = await _artifacts(emulator, ids.finished_run)
    reference = await _reference(emulator, artifacts)
    emulator.stats.reset()
    return emulator, artifacts, reference


def _artifact(*, size: int, content_type: str = "image/png", id: str = "art_1") -> Artifact:
    return Artifact(
        id=id,
        run_id="run_1",
        kind=ArtifactKind.SCREENSHOT,
        name="shot.png",
        content_type=content_type,
        size_bytes=size,
        download_url=f"https://api.zof.ai/v1/artifacts/{id}/content",
        created_at=datetime(2026, 11, 22, tzinfo=timezone.utc),
    )


class _Body:
    """A streamed body of `count` chunks, counting those pulled (a class: nothing for the GC).

    With `cut`, the connection breaks after that many chunks.
    """

    def __init__(self, chunk: bytes, count: int, *, cut: int | None = None) -> None:
        self.chunk = chunk
        self.count = count
        self.cut = cut
        self.pulled = 0

    def __aiter__(self) -> _Body:
        return self

    async def __anext__(self) -> bytes:
        if self.pulled == self.cut:
            raise httpx.RemoteProtocolError("peer closed connection mid-body")
        if self.pulled >= self.count:
            raise StopAsyncIteration
        self.pulled += 1
        return self.chunk


def _cut_once() -> tuple[httpx.MockTransport, list[_Body]]:
    """Ten chunks of 100 bytes, the first answer cut after three of them."""
    bodies: list[_Body] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(_Body(b"z" * 100, 10, cut=3 if not bodies else None))
        headers = {"content-type": "image/png", "content-length": "1000"}
        return httpx.Response(200, content=bodies[-1], headers=headers)

    return httpx.MockTransport(handler), bodies


def _mock(handler: httpx.MockTransport) -> AsyncZof:
    return AsyncZof(api_key="zof_test", transport=handler, max_retries=0)


# --- open -------------------------------------------------------------------


async def test_open_streams_the_content_in_chunks() -> None:
    """Over a real socket, `async for chunk in body` yields a big artifact's bytes in chunks."""
    emulator, artifacts, reference = await _setup()
    big = max(artifacts, key=lambda a: a.size_bytes)
    async with (
        emulator.serve() as base_url,
        AsyncZof(api_key=emulator.keys.qa, base_url=base_url) as zof,
        zof.artifacts.open(big) as body,
    ):
        chunks = [chunk async for chunk in body]
        assert body.received == big.size_bytes
    assert len(chunks) > 1
    assert b"".join(chunks) == reference[big.id]
    assert emulator.stats.count(route=CONTENT) == 1


@pytest.mark.usefixtures("no_backoff")
async def test_open_retries_before_the_first_byte() -> None:
    """503s and a 429 before the answer: retried as any call; `read()` then has every byte once."""
    emulator, artifacts, reference = await _setup()
    emulator.faults.fail_next(2, status=503, route=CONTENT)
    emulator.faults.fail_next(1, status=429, route=CONTENT)
    shot = artifacts[0]
    async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
        async with zof.artifacts.open(shot.id) as body:
            content = await body.read()
    assert content == reference[shot.id]
    assert emulator.stats.count(route=CONTENT) == 4
    assert emulator.stats.count(route=CONTENT, status=200) == 1


@pytest.mark.parametrize("sent", [b"12345", b"0123456789ABC"])
async def test_open_checks_the_size_when_the_stream_ends(sent: bytes) -> None:
    """A body shorter or longer than the artifact's size is an error, not a quiet half file."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=sent, headers={"content-type": "image/png"})

    async with (
        _mock(httpx.MockTransport(handler)) as zof,
        zof.artifacts.open(_artifact(size=10)) as body,
    ):
        with pytest.raises(APIResponseValidationError, match="expected 10"):
            await body.read()
        with pytest.raises(APIResponseValidationError, match="expected 10"):
            await body.read()  # the stream's error from now on: closed, nothing more


async def test_open_checks_the_size_against_content_length_for_an_id() -> None:
    """Given only an id, the Content-Length is the size to check at the end."""

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "image/png", "content-length": "7"}
        return httpx.Response(200, content=_Body(b"abc", 1), headers=headers)

    async with _mock(httpx.MockTransport(handler)) as zof:
        with pytest.raises((APIResponseValidationError, httpx.RemoteProtocolError)):
            async with zof.artifacts.open("art_1") as body:
                await body.read()


@pytest.mark.parametrize(
    ("served", "ok"),
    [
        ("image/png", True),
        ("IMAGE/PNG; charset=binary", True),
        ("application/octet-stream", True),
        ("text/html; charset=utf-8", False),
        ("application/json", False),
    ],
)
async def test_open_checks_the_content_type_on_opening(served: str, ok: bool) -> None:
    """The artifact's own type (or the generic octet-stream) passes; another is refused unread."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"0123456789", headers={"content-type": served})

    async with _mock(httpx.MockTransport(handler)) as zof:
        if ok:
            async with zof.artifacts.open(_artifact(size=10)) as body:
                assert await body.read() == b"0123456789"
        else:
            with pytest.raises(APIResponseValidationError, match="image/png"):
                async with zof.artifacts.open(_artifact(size=10)):
                    raise AssertionError("opened")


async def test_download_checks_the_content_type_as_open_does(tmp_path: Path) -> None:
    """`download` refuses the same wrong type, and writes no file."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"0123456789", headers={"content-type": "text/html"})

    async with _mock(httpx.MockTransport(handler)) as zof:
        with pytest.raises(APIResponseValidationError, match="image/png"):
            await zof.artifacts.download(_artifact(size=10), tmp_path / "a.png")
    assert list(tmp_path.iterdir()) == []


async def _into(body: ArtifactBody, got: list[bytes]) -> None:
    async for chunk in body:
        got.append(chunk)


async def test_open_raises_a_break_mid_body_and_does_not_retry() -> None:
    """Chunks handed on cannot be taken back: a break after them is an APIConnectionError."""
    transport, bodies = _cut_once()
    async with AsyncZof(api_key="zof_test", transport=transport, max_retries=3) as zof:
        async with zof.artifacts.open(_artifact(size=1000)) as body:
            got: list[bytes] = []
            with pytest.raises(APIConnectionError):
                await _into(body, got)
    assert b"".join(got) == b"z" * 300
    assert len(bodies) == 1


# --- read -------------------------------------------------------------------


@pytest.mark.usefixtures("no_backoff")
async def test_read_retries_a_break_mid_body_from_the_start() -> None:
    """A body cut half-way is fetched again whole: every byte once, nothing doubled."""
    transport, bodies = _cut_once()
    async with AsyncZof(api_key="zof_test", transport=transport) as zof:
        assert await zof.artifacts.read(_artifact(size=1000)) == b"z" * 1000
    assert len(bodies) == 2


@pytest.mark.usefixtures("no_backoff")
async def test_read_returns_the_bytes_after_faults() -> None:
    """`read` returns exactly the content, after 503s; a break mid-body is retried whole."""
    emulator, artifacts, reference = await _setup()
    emulator.faults.fail_next(2, status=503, route=CONTENT)
    async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
        got = {a.id: await zof.artifacts.read(a, max_bytes=None) for a in artifacts}
    assert got == reference
    assert emulator.stats.count(route=CONTENT) == len(artifacts) + 2


async def test_read_refuses_a_declared_size_over_max_bytes_before_sending() -> None:
    """An artifact whose size is over `max_bytes`: a clear error, and no request at all."""
    emulator, artifacts, _ = await _setup()
    big = max(artifacts, key=lambda a: a.size_bytes)
    async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
        with pytest.raises(ArtifactTooLargeError, match=f"{big.id}.*{big.size_bytes}") as caught:
            await zof.artifacts.read(big, max_bytes=1000)
    assert caught.value.max_bytes == 1000
    assert emulator.stats.count(route=CONTENT) == 0


async def test_read_refuses_a_content_length_over_max_bytes_unread() -> None:
    """Given an id, a Content-Length over `max_bytes` is refused before the body is read."""
    body = _Body(b"x" * 1000, 100)

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "image/png", "content-length": "100000"}
        return httpx.Response(200, content=body, headers=headers)

    async with _mock(httpx.MockTransport(handler)) as zof:
        with pytest.raises(ArtifactTooLargeError, match="100000") as caught:
            await zof.artifacts.read("art_1", max_bytes=5000)
    assert caught.value.size == 100000
    assert body.pulled <= 1


async def test_read_counts_a_body_without_length_and_stops_past_max_bytes() -> None:
    """No Content-Length (a chunked body): counted as it comes, and refused once past the limit."""
    endless = _Body(b"x" * 1000, 10_000)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless, headers={"content-type": "image/png"})

    async with _mock(httpx.MockTransport(handler)) as zof:
        with pytest.raises(ArtifactTooLargeError, match="more than 5000 bytes"):
            await zof.artifacts.read("art_1", max_bytes=5000)
    assert endless.pulled < 10


# --- download_many ------------------------------------------------------------


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _expected(artifacts: list[Artifact], reference: dict[str, bytes]) -> dict[str, bytes]:
    return {f"{a.id}-{a.name}": reference[a.id] for a in artifacts}


def _lazy(artifacts: list[Artifact], pulled: list[str]) -> Iterator[Artifact]:
    for artifact in artifacts:
        pulled.append(artifact.id)
        yield artifact


@pytest.mark.usefixtures("no_backoff")
async def test_download_many_writes_every_file_once_through_faults(tmp_path: Path) -> None:
    """Every artifact becomes one complete file; 503s and 429s are retried; one outcome each."""
    emulator, artifacts, reference = await _setup()
    emulator.faults.fail_next(3, status=503, route=CONTENT)
    emulator.faults.fail_next(2, status=429, route=CONTENT)
    pulled: list[str] = []
    async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
        outcomes = zof.artifacts.download_many(
            _lazy(artifacts, pulled), tmp_path / "out", concurrency=4
        )
        got = [outcome async for outcome in outcomes]
        stats = outcomes.stats
    assert all(isinstance(o, ArtifactDownload) and o.ok and not o.skipped for o in got)
    assert sorted(o.artifact.id for o in got) == sorted(a.id for a in artifacts)
    assert {o.path.name: o.size for o in got} == {
        f"{a.id}-{a.name}": a.size_bytes for a in artifacts
    }
    assert _files(tmp_path / "out") == _expected(artifacts, reference)  # no temporary file left
    assert emulator.stats.count(route=CONTENT, status=200) == len(artifacts)
    assert stats.requests == len(artifacts) + 5
    assert stats.rate_limited == 2
    assert pulled == [a.id for a in artifacts]


async def test_download_many_resumes_with_only_what_is_missing(tmp_path: Path) -> None:
    """An interrupted bulk download, run again, fetches only the files not complete yet."""
    emulator, artifacts, reference = await _setup()
    folder = tmp_path / "out"
    async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
        async with zof.artifacts.download_many(artifacts, folder, concurrency=3) as outcomes:
            seen = 0
            async for _ in outcomes:
                seen += 1
                if seen == 7:
                    break  # interrupted: the calls in flight are cancelled
    complete = set(_files(folder))
    assert 7 <= len(complete) < len(artifacts)  # only complete files, no temporary ones
    (folder / sorted(complete)[0]).write_bytes(b"torn")  # a file of the wrong size
    missing = len(artifacts) - len(complete) + 1
    emulator.stats.reset()
    async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
        again = zof.artifacts.download_many(artifacts, folder, concurrency=3)
        got = [o async for o in again]
        assert again.stats.requests == missing
    assert emulator.stats.count(route=CONTENT) == missing
    assert sum(o.skipped for o in got) == len(artifacts) - missing
    assert all(o.ok for o in got)
    assert all(o.size == o.artifact.size_bytes for o in got)
    assert _files(folder) == _expected(artifacts, reference)


async def test_download_many_reports_an_items_own_error(tmp_path: Path) -> None:
    """An artifact the API does not know: its outcome carries the 404; the others are written."""
    emulator, artifacts, reference = await _setup()
    ghost = attrs.evolve(artifacts[0], id="art_missing_0000000000")
    wanted = [ghost, *artifacts[1:4]]
    async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
        got = {o.artifact.id: o async for o in zof.artifacts.download_many(wanted, tmp_path)}
    assert isinstance(got[ghost.id].error, NotFoundError)
    assert got[ghost.id].size is None
    assert [got[a.id].ok for a in artifacts[1:4]] == [True, True, True]
    assert _files(tmp_path) == _expected(artifacts[1:4], reference)


async def test_download_many_keeps_names_inside_the_folder(tmp_path: Path) -> None:
    """A name with folders in it (`../x`) is written inside the folder, under its last part."""
    emulator, artifacts, reference = await _setup()
    sneaky = attrs.evolve(artifacts[0], name="../../etc/passwd")
    async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
        got = [o async for o in zof.artifacts.download_many([sneaky], tmp_path / "in")]
    assert got[0].path == tmp_path / "in" / f"{sneaky.id}-passwd"
    assert _files(tmp_path / "in") == {f"{sneaky.id}-passwd": reference[sneaky.id]}


async def test_a_hook_cancelled_as_a_stream_opens_gives_the_slot_back() -> None:
    """An async `on_response` hook cancelled after the headers: the slot is free again."""
    import anyio

    emulator, artifacts, _ = await _setup()

    async def slow_hook(view: object) -> None:
        await anyio.sleep(30)

    async with (
        emulator.serve() as base_url,
        AsyncZof(
            api_key=emulator.keys.qa, base_url=base_url, max_connections=1, on_response=slow_hook
        ) as zof,
    ):
        with anyio.move_on_after(0.5) as scope:
            async with zof.artifacts.open(artifacts[0]) as body:
                await body.read()
        assert scope.cancelled_caught
        assert zof.stats.in_flight == 0, "the streamed call kept its slot"
