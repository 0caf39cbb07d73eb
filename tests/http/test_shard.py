"""The default transport's shards, against a real socket server, on asyncio and trio.

A shard is httpx's transport over one connection with its httpcore pool
called directly: a small answer comes back already read (its connection free
again), a large or unsized one streams, and httpcore's errors arrive as
httpx's, carrying the request they belong to.
"""

from __future__ import annotations

import socket

import httpcore
import httpx
import pytest

from tests.helpers import run_json
from tests.sockets import Answer, RawServer, Received, http_answer
from zof_async._http._transport._pool import sharded_factory

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])]


def _shard() -> httpx.AsyncBaseTransport:
    return sharded_factory(trust_env=False)()


def _chunked(size: int) -> Answer:
    """An answer without a length: `size` bytes in 1 KiB chunks."""

    def answer(_: Received, conn: socket.socket) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for start in range(0, size, 1024):
            piece = b"x" * min(1024, size - start)
            conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.sendall(b"0\r\n\r\n")
        return True

    return answer


def _cut(declared: int, sent: int) -> Answer:
    """Declares `declared` bytes, sends `sent`, closes."""

    def answer(_: Received, conn: socket.socket) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % declared + b"y" * sent)
        return False

    return answer


async def test_a_small_answer_comes_back_read_and_its_connection_is_reused() -> None:
    """A body of one read is read before the response returns; the next request reuses the socket."""
    answer = http_answer(200, run_json())
    with RawServer([answer, answer]).running() as server:
        transport = _shard()
        try:
            for _ in range(2):
                request = httpx.Request("GET", server.base_url + "/runs/run_1")
                response = await transport.handle_async_request(request)
                assert response.content  # no aread() first: it was read
                assert response.json()["id"] == "run_1"
        finally:
            await transport.aclose()
    assert len(server.received) == 2
    assert server.connections == 1


@pytest.mark.parametrize("size", [64 * 1024 + 1, 300_000])
async def test_a_large_or_unsized_answer_streams(size: int) -> None:
    """Over one read, or with no length at all, the body is read by the caller, in order."""
    body = bytes(range(256)) * (size // 256 + 1)
    body = body[:size]
    with RawServer([http_answer(200, body), _chunked(size)]).running() as server:
        transport = _shard()
        try:
            for expected in (body, b"x" * size):
                request = httpx.Request("GET", server.base_url + "/artifact")
                response = await transport.handle_async_request(request)
                with pytest.raises(httpx.ResponseNotRead):
                    _ = response.content
                assert await response.aread() == expected
                await response.aclose()
        finally:
            await transport.aclose()


@pytest.mark.parametrize("declared", [5_000, 500_000])
async def test_a_body_cut_short_is_httpxs_remote_protocol_error(declared: int) -> None:
    """Cut within the first read or while streaming: httpx's error, httpcore's as its cause."""
    with RawServer([_cut(declared, 1_000)]).running() as server:
        transport = _shard()
        request = httpx.Request("GET", server.base_url + "/artifact")

        async def fetch() -> bytes:
            response = await transport.handle_async_request(request)
            return await response.aread()

        try:
            with pytest.raises(httpx.RemoteProtocolError) as caught:
                await fetch()
        finally:
            await transport.aclose()
    assert caught.value.request is request
    assert isinstance(caught.value.__cause__, httpcore.RemoteProtocolError)


async def test_a_refused_connection_is_httpxs_connect_error_with_its_request() -> None:
    """Nothing listens: `httpx.ConnectError`, whose `request` is the one sent."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    transport = _shard()
    request = httpx.Request("GET", f"http://127.0.0.1:{port}/v1/runs")
    try:
        with pytest.raises(httpx.ConnectError) as caught:
            await transport.handle_async_request(request)
    finally:
        await transport.aclose()
    assert caught.value.request is request
    assert isinstance(caught.value.__cause__, httpcore.ConnectError)


async def test_a_streamed_body_left_mid_way_leaves_nothing_to_finalize() -> None:
    """A large body read in part then closed: no generator of the SDK's left for the collector."""
    import gc

    with RawServer([_chunked(300_000)]).running() as server:
        transport = _shard()
        try:
            request = httpx.Request("GET", server.base_url + "/artifact")
            response = await transport.handle_async_request(request)
            async for chunk in response.aiter_raw():
                assert chunk
                break
            await response.aclose()
            del response
            gc.collect()
        finally:
            await transport.aclose()
