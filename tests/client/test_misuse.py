"""Wrong arguments, wrong runtimes and closed clients: clear errors, in the tree, at once."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import anyio
import httpx
import pytest
import respx
import trio
import trio.testing

from tests.helpers import KEY, client, run_json
from tests.sockets import RawServer, http_answer
from zof_async import (
    APIConnectionError,
    AsyncZof,
    ClientClosedError,
    ConfigurationError,
    ZofError,
)

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("transport", ["aiohttp ", "httpcore", 42, httpx.AsyncClient])
def test_a_transport_of_the_wrong_kind_is_refused_at_construction(transport: Any) -> None:
    """transport= takes an httpx transport, 'httpx' or 'aiohttp'; anything else says so."""
    with pytest.raises(ConfigurationError, match="transport must be"):
        AsyncZof(api_key=KEY, transport=transport)


def test_the_aiohttp_shortcut_and_a_wrong_http_client() -> None:
    """transport='aiohttp' builds the aiohttp transport; http_client must be an AsyncClient."""
    assert AsyncZof(api_key=KEY, transport="aiohttp").max_connections == 100
    with pytest.raises(ConfigurationError, match=r"http_client must be an httpx\.AsyncClient"):
        AsyncZof(api_key=KEY, http_client=httpx.Client())  # type: ignore[arg-type]  # the sync one


@pytest.mark.parametrize(
    ("options", "refused"),
    [
        ({"base_url": "https://other.example/v1"}, "base_url"),
        ({"params": {"debug": "1"}}, "params"),
        ({"auth": ("user", "pass")}, "auth"),
        ({"headers": {"Authorization": "Bearer someone-elses"}}, "Authorization"),
        ({"cookies": {"session": "abc"}}, "cookies"),
    ],
)
def test_http_client_settings_that_would_be_dropped_are_refused(
    options: dict[str, Any], refused: str
) -> None:
    """A user's client never sends another credential, nor loses settings silently."""
    with pytest.raises(ConfigurationError, match=refused) as caught:
        AsyncZof(api_key=KEY, http_client=httpx.AsyncClient(**options))
    assert KEY not in str(caught.value)
    assert "someone-elses" not in str(caught.value)


async def test_http_client_headers_are_sent_beneath_ours() -> None:
    """The client's own headers go out; ours (key, Accept, User-Agent) win."""
    seen: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(200, json=run_json())

    headers = {"X-Team": "qa", "User-Agent": "mine"}
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(handler), headers=headers) as http,
        AsyncZof(api_key=KEY, http_client=http) as zof,
    ):
        await zof.runs.get("run_1")
    assert seen[0]["x-team"] == "qa"
    assert seen[0]["authorization"] == f"Bearer {KEY}"
    assert seen[0]["user-agent"].startswith("zof-async/")


@pytest.mark.parametrize("key", ["zof_clé_secrète", "zof key", "zof\tkey", "zof\x00key"])
def test_a_key_that_cannot_be_sent_is_refused_without_echoing_it(key: str) -> None:
    """Non-ASCII, spaces or control characters: ConfigurationError, key not shown."""
    with pytest.raises(ConfigurationError, match="cannot be sent") as caught:
        AsyncZof(api_key=key)
    assert key not in str(caught.value)


@pytest.mark.parametrize("bad", ["a\r\nX-Evil: 1", "tab\there", "", "x" * 256, "é"])
async def test_a_bad_idempotency_key_is_refused_on_every_post(
    router: respx.MockRouter, bad: str
) -> None:
    """runs.create, runs.cancel and results.export: ValueError before anything is sent."""
    route = router.route().respond(200, json=run_json())
    async with client(router) as zof:

        async def export() -> None:
            async with zof.results.export(format="json", idempotency_key=bad) as stream:
                async for _ in stream:
                    pass

        with pytest.raises(ValueError, match="idempotency_key"):
            await zof.runs.create(
                project_id="proj_abc",
                environment="staging",
                test_suite_id="suite_pr_smoke",
                idempotency_key=bad,
            )
        with pytest.raises(ValueError, match="idempotency_key"):
            await zof.runs.cancel("run_1", idempotency_key=bad)
        with pytest.raises(ValueError, match="idempotency_key"):
            await export()
    assert route.call_count == 0


def test_a_client_used_from_a_second_event_loop_says_what_to_do() -> None:
    """Another loop (asyncio.run in a thread, a second trio.run): ConfigurationError."""
    # Not 'Event loop is closed' or 'attached to a different loop'; the client
    # keeps working in its own loop and closes there.

    def in_another_loop(zof: AsyncZof) -> BaseException | None:
        try:
            asyncio.run(zof.runs.get("run_1"))
        except BaseException as exc:
            return exc
        return None

    async def main(transport: Literal["aiohttp"] | None, base_url: str) -> BaseException | None:
        async with AsyncZof(api_key=KEY, base_url=base_url, transport=transport) as zof:
            await zof.runs.get("run_1")
            error = await anyio.to_thread.run_sync(in_another_loop, zof)
            await zof.runs.get("run_1")
        return error

    with RawServer([http_answer(200, run_json())]).running() as server:
        for transport in (None, "aiohttp"):
            error = asyncio.run(main(transport, server.base_url))
            assert isinstance(error, ConfigurationError)
            assert "one client per event loop" in str(error)
        with RawServer([http_answer(200, run_json(), close=True)]).running() as closing:
            zof = AsyncZof(api_key=KEY, base_url=closing.base_url)
            trio.run(zof.runs.get, "run_1")
            with pytest.raises(ConfigurationError, match="one client per event loop"):
                trio.run(zof.runs.get, "run_1")


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_the_aiohttp_transport_on_trio_is_a_configuration_error() -> None:
    """aiohttp runs on asyncio only: said in the SDK's words, on the first request."""
    async with AsyncZof(
        api_key=KEY, base_url="http://127.0.0.1:9/v1", transport="aiohttp", max_retries=0
    ) as zof:
        with pytest.raises(ConfigurationError, match="asyncio only"):
            await zof.runs.get("run_1")


async def test_a_closed_client_fails_at_once_everywhere(router: respx.MockRouter) -> None:
    """ClientClosedError (an APIConnectionError), never retried, also for waits and downloads."""
    route = router.route().respond(200, json=run_json())
    zof = client(router)
    await zof.aclose()
    with anyio.fail_after(1):
        for call in (
            zof.runs.get("run_1"),
            zof.runs.wait_until_complete("run_1", timeout=600),
            zof.artifacts.download("art_1", "never-written"),
        ):
            with pytest.raises(ClientClosedError) as caught:
                await call
            assert isinstance(caught.value, APIConnectionError)
    assert route.call_count == 0
    assert zof.stats.retries == 0


async def test_a_wait_on_a_closed_client_fails_before_its_first_poll(
    router: respx.MockRouter,
) -> None:
    """On the real clock: ClientClosedError at once, not a WaitTimeoutError after the timeout."""
    zof = client(router)
    await zof.aclose()
    with pytest.raises(ClientClosedError):
        await zof.runs.wait_until_complete("run_1", timeout=0.05)


@pytest.mark.parametrize(
    "anyio_backend", [("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})]
)
async def test_closing_the_client_ends_a_running_wait(router: respx.MockRouter) -> None:
    """A wait whose client closes under it raises ClientClosedError at its next poll."""
    # On trio's virtual clock: the polls' seconds pass without real sleeping.
    router.route().respond(200, json=run_json(status="running"))
    zof = client(router)
    caught: list[BaseException] = []

    async def wait() -> None:
        try:
            await zof.runs.wait_until_complete("run_1", timeout=3600)
        except ZofError as exc:
            caught.append(exc)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(wait)
            await anyio.sleep(5)
            await zof.aclose()
    assert len(caught) == 1
    assert isinstance(caught[0], ClientClosedError)
