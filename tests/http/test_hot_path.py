"""The trimmed hot path keeps its contract on both event loops."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from zof_async import AsyncZof, NotFoundError

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])]

PAGE: dict[str, Any] = {"data": [], "next_cursor": None, "has_more": False}


async def test_every_response_is_closed_once_handled() -> None:
    """In-memory bodies, answered or failed, are closed when their attempt ends."""
    seen: list[httpx.Response] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if "missing" in request.url.path:
            response = httpx.Response(404, json={"error": {"code": "not_found", "message": "no"}})
        else:
            response = httpx.Response(200, json=PAGE)
        seen.append(response)
        return response

    async with AsyncZof(api_key="k", transport=httpx.MockTransport(handler)) as zof:
        async for batch in zof.results.bulk_artifacts(["res_1", "res_2"]):
            assert batch.artifacts == ()
        with pytest.raises(NotFoundError) as caught:
            await zof.results.get("missing")
    assert caught.value.response.is_closed
    assert caught.value.response.json()["error"]["code"] == "not_found"
    assert len(seen) == 3
    assert all(response.is_closed for response in seen)


async def test_the_pool_finds_its_event_loop_on_either_library() -> None:
    """A listing runs on asyncio and trio alike: the pool binds to the running loop."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=PAGE))
    async with AsyncZof(api_key="k", transport=transport) as zof:
        pages = [page async for page in zof.results.artifacts("res_1").pages()]
    assert [page.items for page in pages] == [()]
