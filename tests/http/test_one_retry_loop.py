"""One retry loop: every kind of call spends the same attempts and shows in the same counters."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Literal

import anyio
import httpx
import pytest
import trio.testing

from tests.helpers import BASE, KEY, run_json
from zof_async import (
    APIConnectionError,
    AsyncZof,
    BadRequestError,
    RetryPolicy,
    WaitPolicy,
    WaitTimeoutError,
)
from zof_async.testing import set_testing

pytestmark = pytest.mark.anyio


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A base URL on 127.0.0.1 whose port refuses connections (bound, never listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_a_download_to_a_refused_host_spends_the_attempts_of_a_get(
    refused_url: str, tmp_path: Path, transport: Literal["httpx", "aiohttp"]
) -> None:
    """A refused download makes as many attempts as runs.get (1 + max_retries), all counted."""
    if transport == "aiohttp":
        pytest.importorskip("aiohttp")
    with set_testing(True):
        async with AsyncZof(
            api_key=KEY, base_url=refused_url, transport=transport, max_retries=3
        ) as zof:
            with pytest.raises(APIConnectionError):
                await zof.runs.get("run_1")
            after_get = zof.stats
            with pytest.raises(APIConnectionError):
                await zof.artifacts.download("art_1", tmp_path / "a.bin")
            after_download = zof.stats
    assert (after_get.requests_sent, after_get.retries) == (4, 3)
    assert after_download.requests_sent - after_get.requests_sent == 4
    assert after_download.retries - after_get.retries == 3
    assert not (tmp_path / "a.bin").exists()


async def test_a_body_cut_mid_download_is_retried_by_the_pipeline(tmp_path: Path) -> None:
    """A download whose body breaks is one failed attempt of the call; the retry completes it."""
    sent: list[int] = []

    async def cut_then_whole(request: httpx.Request) -> httpx.Response:
        sent.append(1)

        async def body() -> object:
            yield b"half"
            if len(sent) == 1:
                raise httpx.ReadError("connection reset", request=request)
            yield b"-and-the-rest"

        return httpx.Response(200, content=body(), headers={"Content-Type": "application/zip"})  # type: ignore[arg-type]

    with set_testing(True):
        async with AsyncZof(
            api_key=KEY,
            base_url="https://api.zof.ai/v1",
            transport=httpx.MockTransport(cut_then_whole),
            retry=RetryPolicy(max_retries=2),
        ) as zof:
            size = await zof.artifacts.download("art_1", tmp_path / "a.bin")
            assert (zof.stats.requests_sent, zof.stats.retries) == (2, 1)
    assert size == len(b"half-and-the-rest")
    assert (tmp_path / "a.bin").read_bytes() == b"half-and-the-rest"


@pytest.mark.parametrize(
    "anyio_backend", [("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})]
)
async def test_a_wait_does_not_retry_what_the_pipeline_would_not() -> None:
    """A 400 while polling is not transient for the pipeline, so the wait raises it at once."""
    answers = [httpx.Response(200, json=run_json(status="running"))]
    answers.append(httpx.Response(400, json={"error": {"code": "bad", "message": "no"}}))

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    async with AsyncZof(
        api_key=KEY, base_url="https://api.zof.ai/v1", transport=httpx.MockTransport(handler)
    ) as zof:
        with pytest.raises(BadRequestError):
            await zof.runs.wait_until_complete("run_1", timeout=600)
        assert zof.stats.retries == 0


def _cut_once(kind: str) -> tuple[list[int], httpx.MockTransport]:
    """A transport whose first body breaks with a raw ConnectionResetError (no httpx mapping)."""
    sent: list[int] = []
    full = json.dumps(run_json()).encode() if kind == "json" else b"half-and-rest"

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(1)
        first = len(sent) == 1

        async def body() -> AsyncIterator[bytes]:
            if first:
                yield full[:4]
                raise ConnectionResetError(104, "Connection reset by peer")
            yield full

        return httpx.Response(200, content=body(), headers={"Content-Type": "application/json"})  # type: ignore[arg-type]

    return sent, httpx.MockTransport(handler)


async def test_a_raw_oserror_mid_body_is_a_retried_attempt(tmp_path: Path) -> None:
    """A transport's unmapped OSError while reading a body is retried, never a disk error."""
    with set_testing(True):
        sent, transport = _cut_once("json")
        async with AsyncZof(api_key=KEY, base_url=BASE, transport=transport) as zof:
            run = await zof.runs.get("run_1")
        assert run.id == "run_1" and len(sent) == 2
        sent, transport = _cut_once("bin")
        async with AsyncZof(api_key=KEY, base_url=BASE, transport=transport) as zof:
            assert await zof.artifacts.download("art_1", tmp_path / "a.bin") == 13
        assert len(sent) == 2


TRIO_MOCK = [("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})]


@pytest.mark.parametrize("anyio_backend", TRIO_MOCK)
@pytest.mark.parametrize(("retry_after", "timeout"), [(30, 10), (120, 600)])
async def test_a_wait_meeting_the_closed_gate_polls_on_until_its_timeout(
    retry_after: int, timeout: float
) -> None:
    """A 429 gate closed past the wait's deadline, or past max_retry_after, ends in WaitTimeoutError."""
    polls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        polls.append(anyio.current_time())
        if len(polls) == 1:
            return httpx.Response(
                429,
                headers={"Retry-After": str(retry_after)},
                json={"error": {"code": "rate_limited", "message": "slow"}},
            )
        return httpx.Response(200, json=run_json(status="running"))

    async with AsyncZof(api_key=KEY, base_url=BASE, transport=httpx.MockTransport(handler)) as zof:
        with pytest.raises(WaitTimeoutError):
            await zof.runs.wait_until_complete(
                "run_1", timeout=timeout, policy=WaitPolicy(max_hint=1.0)
            )
    # Past the deadline: nothing more to poll. Past max_retry_after: polling went on.
    assert len(polls) == 1 if timeout < retry_after else len(polls) > 10


@pytest.mark.parametrize("anyio_backend", TRIO_MOCK)
async def test_a_download_longer_than_the_call_timeout_is_still_retried(tmp_path: Path) -> None:
    """A download's transfer time is not its call's: a body broken after 200 s is retried."""
    sent: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(1)
        first = len(sent) == 1

        async def body() -> AsyncIterator[bytes]:
            yield b"part"
            if first:
                await anyio.sleep(200)  # virtual: the clock jumps
                raise httpx.ReadError("reset", request=request)
            yield b"-rest"

        return httpx.Response(200, content=body())  # type: ignore[arg-type]

    async with AsyncZof(
        api_key=KEY, base_url=BASE, transport=httpx.MockTransport(handler), total_timeout=120
    ) as zof:
        assert await zof.artifacts.download("art_1", tmp_path / "a.bin") == len(b"part-rest")
    assert len(sent) == 2


async def test_extra_query_overrides_a_parameter_of_the_sdk() -> None:
    """extra_query replaces a same-named parameter instead of repeating it."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url.query, "ascii"))
        return httpx.Response(200, json={"data": [], "next_cursor": None, "has_more": False})

    async with AsyncZof(api_key=KEY, base_url=BASE, transport=httpx.MockTransport(handler)) as zof:
        assert [r async for r in zof.runs.list(page_size=100, extra_query={"limit": "2"})] == []
    assert seen == ["limit=2"]
