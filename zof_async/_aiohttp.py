"""The `aiohttp` extra: an httpx transport on aiohttp, for fan-out speed."""

from __future__ import annotations

from typing import Any

import httpx

from ._exceptions import ConfigurationError


def aiohttp_transport(**connector_options: Any) -> httpx.AsyncBaseTransport:
    """An httpx transport that sends through aiohttp (`pip install 'zof-async[aiohttp]'`).

    ```python
    async with AsyncZof(transport=aiohttp_transport(), max_connections=100) as zof:
        ...
    ```

    aiohttp spends a fraction of httpcore's CPU per request (see the README's
    benchmarks), which matters when fanning out thousands of requests. The
    client's `max_connections` still bounds requests in flight; the aiohttp
    connector itself is left unbounded so the two limits cannot disagree.
    Runs on asyncio only (aiohttp does not support trio).

    Args:
        connector_options: Passed to `aiohttp.TCPConnector`.
    """
    try:
        import aiohttp
        from httpx_aiohttp import AiohttpTransport
    except ImportError as exc:
        raise ConfigurationError(
            "aiohttp_transport() needs the 'aiohttp' extra: pip install 'zof-async[aiohttp]'"
        ) from exc
    options = {"limit": 0, "ttl_dns_cache": 300, **connector_options}

    def session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession(connector=aiohttp.TCPConnector(**options))

    transport: httpx.AsyncBaseTransport = AiohttpTransport(client=session)
    return transport
