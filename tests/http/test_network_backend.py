"""The default transport's network layer, against real sockets on asyncio and trio.

On asyncio the SDK's single-connection httpcore transports read and write
through asyncio's own transports (`_transport._backend`) instead of anyio's
streams; on trio through httpcore's trio backend. Either way the bytes, the
flow control, the timeouts and the errors are httpx's, as before.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from tests.helpers import KEY, run_json
from tests.sockets import RawServer, Received, http_answer
from zof_async import AsyncZof
from zof_async._http._transport._pool import sharded_factory

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])]

BIG = bytes(range(256)) * (12 * 1024)  # 3 MiB: more than the kernel buffers and the high water


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=sharded_factory(trust_env=False)(), trust_env=False)


async def test_a_large_body_arrives_whole_and_in_order() -> None:
    """A body larger than the read buffer's high water is paused and resumed, never cut."""
    with RawServer([http_answer(200, BIG)]).running() as server:
        async with _client() as http:
            async with http.stream("GET", server.base_url + "/big") as response:
                chunks = []
                async for chunk in response.aiter_raw():
                    chunks.append(chunk)
                    await anyio.lowlevel.checkpoint()  # a slow reader: the buffer fills
    assert b"".join(chunks) == BIG


async def test_a_large_upload_waits_for_room_and_arrives_whole() -> None:
    """A body larger than the socket's buffer is written as the server reads it."""
    body = BIG + BIG[: 1 << 20]  # 4 MiB

    def slow_reader(received: Received, conn: socket.socket) -> bool:
        return http_answer(200, {"length": len(received.body)})(received, conn)

    with RawServer([slow_reader]).running() as server:
        async with _client() as http:
            response = await http.post(server.base_url + "/upload", content=body, timeout=60)
    assert response.json() == {"length": len(body)}
    assert server.received[0].body == body


async def test_a_silent_server_times_out_as_a_read_timeout() -> None:
    """No answer within the read timeout: httpx's `ReadTimeout` (not the server's close)."""

    def silent(received: Received, conn: socket.socket) -> bool:
        time.sleep(1.0)
        return False

    with RawServer([silent]).running() as server:
        async with _client() as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.get(server.base_url + "/slow", timeout=httpx.Timeout(5, read=0.2))


async def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    """The server closes a kept-alive connection between requests: the next one reconnects.

    No retry is involved (the transport alone): the closed connection is
    seen as readable while idle and dropped before the request is written.
    """

    def answer_then_close(received: Received, conn: socket.socket) -> bool:
        http_answer(200, run_json())(received, conn)  # no `Connection: close` header
        return False

    with RawServer([answer_then_close]).running() as server:
        async with _client() as http:
            first = await http.get(server.base_url + "/runs/run_1")
            await anyio.sleep(0.2)  # the close reaches us
            second = await http.get(server.base_url + "/runs/run_1")
    assert first.json()["id"] == second.json()["id"] == "run_1"
    assert len(server.received) == 2


async def test_a_refused_connection_is_a_connect_error() -> None:
    """Nothing listens on the port: httpx's `ConnectError`."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    async with _client() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/v1/runs")


async def test_requests_through_the_client_enter_few_cancel_scopes(
    monkeypatch: pytest.MonkeyPatch, anyio_backend: str
) -> None:
    """A request on the default transport enters at most 7 cancel scopes (anyio's, on asyncio).

    anyio's network streams enter one around every read and write, and
    checkpoint in a shielded one on each; the SDK's network layer on asyncio
    enters none, so what is left is the pipeline's deadline (1) and httpcore's
    own lock and shields (6).
    """
    if anyio_backend != "asyncio":
        pytest.skip("anyio's cancel scopes are counted on asyncio")
    from anyio._backends import _asyncio

    entered = 0
    original = _asyncio.CancelScope.__enter__

    def counting(self: Any) -> Any:
        nonlocal entered
        entered += 1
        return original(self)

    with RawServer([http_answer(200, run_json())]).running() as server:
        async with AsyncZof(api_key=KEY, base_url=server.base_url, trust_env=False) as zof:
            await zof.runs.get("run_1")  # the connection: opened once
            monkeypatch.setattr(_asyncio.CancelScope, "__enter__", counting)
            for _ in range(20):
                await zof.runs.get("run_1")
            monkeypatch.undo()
    assert entered <= 7 * 20, f"{entered / 20} cancel scopes a request"


async def test_a_tls_handshake_that_never_answers_is_a_connect_timeout() -> None:
    """A server that accepts TCP but never answers the TLS handshake: `httpx.ConnectTimeout`."""
    with RawServer([http_answer(200, run_json())]).running() as server:  # speaks no TLS
        url = server.base_url.replace("http://", "https://") + "/runs/run_1"
        async with _client() as http:
            with pytest.raises(httpx.ConnectTimeout):
                await http.get(url, timeout=httpx.Timeout(5, connect=0.3))
