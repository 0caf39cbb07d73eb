"""A client's key lives as long as the client: no module-level cache keeps it."""

from __future__ import annotations

import gc
import uuid

import anyio
import httpx

from zof_async import AsyncZof


def shows_key(value: object, key: str) -> bool:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return isinstance(value, str) and key in value


def holders(key: str) -> list[object]:
    """Every tracked container (a cache's dict, a redactor) that reaches the key directly."""
    gc.collect()
    found: list[object] = []
    for obj in gc.get_objects():
        if isinstance(obj, dict):
            values: list[object] = [*obj.keys(), *obj.values()]
        elif isinstance(obj, (tuple, list)):
            values = list(obj)
        else:
            values = [getattr(obj, n, None) for n in getattr(type(obj), "__slots__", ())]
        # tuples of strings are untracked by the collector: look one level in
        values += [v for t in values if isinstance(t, tuple) for v in t]
        if any(shows_key(v, key) for v in values):
            found.append(obj)
    return found


def test_no_key_is_kept_after_its_client_is_gone() -> None:
    """Pages and fan-out requests decoded, client closed and dropped: nothing holds its key."""
    key = f"zof_lifetime_{uuid.uuid4().hex}"  # made here: no module global holds it

    def handler(request: httpx.Request) -> httpx.Response:
        page: dict[str, object] = {"data": [], "next_cursor": None, "has_more": False}
        return httpx.Response(200, json=page, headers={"X-Request-Id": "req_1"})

    async def use() -> None:
        async with AsyncZof(api_key=key, transport=httpx.MockTransport(handler)) as zof:
            assert [r async for r in zof.results.list(prefetch=0)] == []
            async for batch in zof.results.bulk_artifacts(["res_1", "res_2"]):
                assert batch.artifacts == ()

    anyio.run(use)  # a loop of its own, closed before the heap is searched
    assert holders(key) == []
