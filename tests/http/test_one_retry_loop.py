"""One retry loop: every kind of call spends the same attempts and shows in the same counters."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import httpx
import pytest
import trio.testing

from tests.helpers import KEY, run_json
from zof_async import APIConnectionError, AsyncZof, BadRequestError, RetryPolicy
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
