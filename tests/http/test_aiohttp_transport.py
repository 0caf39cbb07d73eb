"""The SDK's aiohttp transport: small bodies come back read, errors map to httpx's."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.sockets import RawServer, http_answer
from zof_async._http._transport._aiohttp import aiohttp_transport

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("anyio_backend", ["asyncio"])]


async def test_a_small_sized_body_is_returned_already_read() -> None:
    """A Content-Length body is in `.content` at once, and `aread()` gives the same bytes."""
    with RawServer([http_answer(200, {"ok": True})]).running() as server:
        transport = aiohttp_transport()
        try:
            response = await transport.handle_async_request(
                httpx.Request("GET", f"{server.base_url}/runs/run_1")
            )
            assert response.content == b'{"ok": true}'
            assert await response.aread() == b'{"ok": true}'
            assert response.json() == {"ok": True}
            assert response.headers["x-request-id"] == "req_raw"
            await response.aclose()
        finally:
            await transport.aclose()


async def test_the_session_is_reused_across_requests() -> None:
    """Two requests on one loop go through one connection (keep-alive kept)."""
    answers = [http_answer(200, {"n": 1}), http_answer(200, {"n": 2})]
    with RawServer(answers).running() as server:
        transport = aiohttp_transport()
        try:
            for n in (1, 2):
                response = await transport.handle_async_request(
                    httpx.Request("GET", f"{server.base_url}/runs/run_{n}")
                )
                assert response.json() == {"n": n}
        finally:
            await transport.aclose()


async def test_a_refused_connection_is_a_connect_error() -> None:
    """Nothing listening: httpx.ConnectError, not a timeout."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = aiohttp_transport()
    try:
        with pytest.raises(httpx.ConnectError) as caught:
            await transport.handle_async_request(
                httpx.Request("GET", f"http://127.0.0.1:{port}/v1/runs")
            )
        assert not isinstance(caught.value, httpx.TimeoutException)
    finally:
        await transport.aclose()


async def test_the_request_target_goes_out_as_httpx_encoded_it() -> None:
    """Path and query as encoded (`%2E%2E`, `%2F`, `+` kept), the fragment never sent."""
    with RawServer([http_answer(200, {"ok": True})]).running() as server:
        transport = aiohttp_transport()
        try:
            url = f"{server.base_url}/runs/a%2E%2E/%2E?q=%2F%3F&r=a+b&s=?#frag"
            response = await transport.handle_async_request(httpx.Request("GET", url))
            assert response.status_code == 200
        finally:
            await transport.aclose()
    [received] = server.received
    assert received.request_line == "GET /v1/runs/a%2E%2E/%2E?q=%2F%3F&r=a+b&s=? HTTP/1.1"
    assert received.headers["host"] == f"127.0.0.1:{server.port}"
