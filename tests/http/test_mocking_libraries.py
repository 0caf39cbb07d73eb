"""Every documented way of mocking httpx intercepts the default transport (issue 21, item 8).

The SDK calls its httpx transports itself rather than through
`httpx.AsyncClient.send`, so each mocking library is checked against what
it patches: respx's default mode patches httpcore's connection pool,
`respx.mock(using="httpx")` patches `httpx.AsyncClient._transport_for_url`,
and pytest-httpx patches `httpx.AsyncHTTPTransport.handle_async_request`.
A real server on 127.0.0.1 stands for the API: a request that reaches it
was not mocked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx
from pytest_httpx import HTTPXMock

from tests.helpers import KEY, run_json
from tests.sockets import RawServer, http_answer
from zof_async import AsyncZof

pytestmark = pytest.mark.anyio

USING = ["httpcore", "httpx"]  # respx's two modes; httpcore is its default


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server() -> Iterator[RawServer]:
    """The network: answers `run_real` to whatever reaches it."""
    with RawServer([http_answer(200, run_json("run_real"))]).running() as running:
        yield running


@pytest.mark.parametrize("using", USING)
async def test_respx_mock_intercepts_the_default_transport(server: RawServer, using: str) -> None:
    """`respx.mock(using=...)` answers in either mode; nothing reaches the network."""
    with respx.mock(base_url=server.base_url, using=using) as mock:
        route = mock.get("/runs/run_1").respond(json=run_json("run_mocked"))
        async with AsyncZof(api_key=KEY, base_url=server.base_url) as zof:
            assert (await zof.runs.get("run_1")).id == "run_mocked"
            assert (await zof.runs.get("run_1")).id == "run_mocked"  # a reused connection
    assert route.call_count == 2
    assert route.calls.last.request.headers["authorization"] == f"Bearer {KEY}"
    assert server.received == []


@pytest.mark.parametrize("using", USING)
async def test_respx_mock_entered_after_the_client_is_made(server: RawServer, using: str) -> None:
    """A client made (and used) before the mock starts is intercepted too, then released."""
    async with AsyncZof(api_key=KEY, base_url=server.base_url) as zof:
        assert (await zof.runs.get("run_1")).id == "run_real"
        with respx.mock(base_url=server.base_url, using=using) as mock:
            mock.get("/runs/run_1").respond(json=run_json("run_mocked"))
            assert (await zof.runs.get("run_1")).id == "run_mocked"
        assert (await zof.runs.get("run_1")).id == "run_real"  # the mock has ended
    assert len(server.received) == 2


@pytest.mark.parametrize("using", USING)
async def test_respx_pass_through_reaches_the_network(server: RawServer, using: str) -> None:
    """A route marked `pass_through()` goes to the real server through the SDK's transport."""
    with respx.mock(base_url=server.base_url, using=using) as mock:
        mock.get("/runs/run_1").pass_through()
        async with AsyncZof(api_key=KEY, base_url=server.base_url) as zof:
            assert (await zof.runs.get("run_1")).id == "run_real"
    assert [r.target for r in server.received] == ["/v1/runs/run_1"]


async def test_pytest_httpx_intercepts_the_default_transport(
    httpx_mock: HTTPXMock, server: RawServer
) -> None:
    """pytest-httpx's `httpx_mock` fixture answers; nothing reaches the network."""
    httpx_mock.add_response(
        method="GET", url=f"{server.base_url}/runs/run_1", json=run_json("run_mocked")
    )
    async with AsyncZof(api_key=KEY, base_url=server.base_url) as zof:
        assert (await zof.runs.get("run_1")).id == "run_mocked"
    (request,) = httpx_mock.get_requests()
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert server.received == []


async def test_a_mock_transport_and_an_http_client_on_one(server: RawServer) -> None:
    """httpx's own `MockTransport`, passed as `transport=` or inside `http_client=`."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=run_json("run_mocked"))

    async with AsyncZof(
        api_key=KEY, base_url=server.base_url, transport=httpx.MockTransport(handler)
    ) as zof:
        assert (await zof.runs.get("run_1")).id == "run_mocked"
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        async with AsyncZof(api_key=KEY, base_url=server.base_url, http_client=http) as zof:
            assert (await zof.runs.get("run_1")).id == "run_mocked"
    assert server.received == []


_FIRST_IN_ITS_PROCESS = """
import asyncio, json, sys
from unittest import mock

import httpx

from zof_async import AsyncZof

async def answer(self, request):
    return httpx.Response(200, json=json.loads(sys.argv[3]), request=request)

async def main():
    with mock.patch.object(httpx.AsyncHTTPTransport, "handle_async_request", answer):
        async with AsyncZof(api_key=sys.argv[2], base_url=sys.argv[1]) as zof:
            return (await zof.runs.get("run_1")).id

print(json.dumps(asyncio.run(main())))
"""


def test_a_patch_made_before_the_first_connection_of_a_process_answers(
    server: RawServer,
) -> None:
    """The first connection of a process is made while httpx's method is patched: the mock answers.

    The default transport's module loads with the first connection; what it
    compares against must be httpx's own method, taken at `import zof_async`,
    not the patch in place by then. A fresh interpreter, so no earlier test
    made a connection first.
    """
    root = Path(__file__).resolve().parents[2]  # the checkout: its zof_async
    mocked = json.dumps(run_json("run_mocked"))
    out = subprocess.run(
        [sys.executable, "-c", _FIRST_IN_ITS_PROCESS, server.base_url, KEY, mocked],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PYTHONPATH": str(root)},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == "run_mocked"
    assert server.received == []
