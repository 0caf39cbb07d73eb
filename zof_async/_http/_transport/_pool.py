"""Where requests go: a bounded set of slots over one or more httpx transports.

The SDK owns its concurrency: a request first takes a slot (an anyio
semaphore sized to the connections), so no more requests are ever handed to
a transport than it has connections, and a large fan-out waits here, in
order, instead of timing out in httpcore's queue (`PoolTimeout`).

The default arrangement was chosen by measurement (`python benchmarks/pool.py`):
httpcore's pool spends CPU per request that grows with the connections it
holds, so instead of one pool of N connections the SDK keeps N
single-connection transports and lends an idle one per request, calling it
directly rather than through `httpx.AsyncClient.send`. At concurrency 100
against the emulator on 127.0.0.1 that measured ~575 µs of client CPU per
request, against ~1,100 µs for one pool of 100 (keep-alive 20) and ~3,400 µs
for one keeping 100 alive (figures vary from run to run; the ranking did not).

Mocking libraries patch httpx where an `AsyncClient` would reach them:
httpcore's pool (respx's default), `AsyncHTTPTransport.handle_async_request`
(pytest-httpx) and `AsyncClient._transport_for_url` (`respx.mock(using=
"httpx")`). The first two are on the SDK's path already; while the third
is patched, the default arrangement sends through it (`ViaClient`), so a
test's mock answers instead of the network.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import anyio
import httpx

from ..._exceptions import ClientClosedError, ConfigurationError
from ._clock import running_loop
from ._proxies import proxy_failed
from ._tls import ssl_context

TransportFactory = Callable[[], httpx.AsyncBaseTransport]

#: httpx's own methods, to see (one identity check a request) whether a mock patched
#: them; taken here, with `import zof_async`, never later under a mock (`_shard`).
_TRANSPORT_FOR_URL = httpx.AsyncClient._transport_for_url
_HANDLE = httpx.AsyncHTTPTransport.handle_async_request


class ConnectionPool:
    """Slots over transports; shared by a client and its `with_options` copies.

    Args:
        max_connections: Requests in flight at once, at most.
        factory: Makes one single-connection transport; called lazily, up
            to `max_connections` times (the default arrangement).
        transport: One transport to share between all slots instead (a user's
            transport, the in-process emulator, httpx-aiohttp, ...).
        owns_transport: Whether `aclose` closes `transport`.
    """

    def __init__(
        self,
        *,
        max_connections: int,
        factory: TransportFactory | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        owns_transport: bool = True,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        if (factory is None) == (transport is None):
            raise ValueError("give exactly one of factory and transport")
        self.max_connections = max_connections
        self._slots = anyio.Semaphore(max_connections, fast_acquire=True)
        self._factory = factory
        self._shared = transport
        self._owns_shared = owns_transport
        self._idle: list[httpx.AsyncBaseTransport] = []
        self._all: list[httpx.AsyncBaseTransport] = []
        self._closed = False
        self._runtime: object = None

    def _bind(self, runtime: object) -> None:
        """Tie the pool to the event loop that uses it first.

        Connections belong to the loop that opened them; another loop would
        fail deep in the transport with a bare `RuntimeError`.
        """
        if self._runtime is not None:
            raise ConfigurationError(
                "this client was first used in another event loop; its connections belong "
                "to that loop: create one client per event loop (for example inside the "
                "coroutine that asyncio.run() or trio.run() runs)"
            )
        self._runtime = runtime

    @property
    def in_flight(self) -> int:
        """Slots currently taken."""
        return self.max_connections - self._slots.value

    @property
    def connections(self) -> int:
        """Single-connection transports made so far (the default arrangement; else 0)."""
        return len(self._all)

    @property
    def idle(self) -> int:
        """Of those, the ones not lent to a request right now."""
        return len(self._idle)

    @property
    def closed(self) -> bool:
        return self._closed

    def ensure_open(self) -> None:
        """Raise `ClientClosedError` if the pool is closed."""
        if self._closed:
            raise ClientClosedError(_CLOSED)

    async def acquire(self) -> httpx.AsyncBaseTransport:
        """Take a slot and lend a transport; give both back with `release`.

        Waits, in order, while every slot is taken. Plain methods rather than a
        context manager: this is on the path of every request.
        """
        self.ensure_open()
        runtime = _current_runtime()
        if runtime is not self._runtime:
            self._bind(runtime)
        try:  # a free slot: no checkpoint (the transport's first await is one)
            self._slots.acquire_nowait()
        except anyio.WouldBlock:  # none free: wait, in order (a release hands a slot on)
            await self._slots.acquire()
        if self.closed:  # closed while this request waited for a slot
            self._slots.release()
            raise ClientClosedError(_CLOSED)
        if self._shared is not None:
            return self._shared
        if self._idle:
            transport = self._idle.pop()
        else:
            try:
                transport = self._new()
            except BaseException:
                self._slots.release()
                raise
        if httpx.AsyncClient._transport_for_url is not _TRANSPORT_FOR_URL:
            return ViaClient(transport)  # respx.mock(using="httpx") is on
        return transport

    def release(self, transport: httpx.AsyncBaseTransport) -> None:
        """Give back a slot and the transport `acquire` lent."""
        if self._shared is None and not self._closed:
            if type(transport) is ViaClient:
                transport = transport.transport
            self._idle.append(transport)
        self._slots.release()

    async def discard(self, transport: httpx.AsyncBaseTransport) -> None:
        """Give back the slot `acquire` took, closing the transport it lent instead of keeping it.

        For a request that failed before its response: whatever state its
        connection was left in, the next request gets a fresh transport. A
        shared transport (not the pool's to replace) is only given back.
        """
        try:
            if self._shared is None:
                if type(transport) is ViaClient:
                    transport = transport.transport
                if transport in self._all:
                    try:
                        with anyio.CancelScope(shield=True):
                            await transport.aclose()
                    finally:
                        self._all.remove(transport)
        finally:
            self._slots.release()

    def _new(self) -> httpx.AsyncBaseTransport:
        assert self._factory is not None
        transport = self._factory()
        self._all.append(transport)
        return transport

    async def aclose(self) -> None:
        """Close every transport the pool owns; later requests fail at once."""
        if self._closed:
            return
        self._closed = True
        owned = list(self._all)
        if self._shared is not None and self._owns_shared:
            owned.append(self._shared)
        self._idle.clear()
        with anyio.CancelScope(shield=True):
            for transport in owned:
                await transport.aclose()


_CLOSED = "the client is closed; open a new AsyncZof"


def _current_runtime() -> object:
    """The running event loop (asyncio) or run (trio), as an identity to compare."""
    loop = running_loop()
    if loop is not None:
        return loop
    import trio

    return trio.lowlevel.current_trio_token()


def sharded_factory(
    *,
    verify: ssl.SSLContext | str | bool = True,
    trust_env: bool = True,
    proxy: httpx.URL | None = None,
) -> TransportFactory:
    """Single-connection httpcore transports sharing one SSL context and network layer.

    Building an `SSLContext` loads the CA bundle (milliseconds each), so one
    context is made lazily and shared by every shard. Without a proxy each is
    a `Shard` (httpx's transport, its pool called directly); their network
    layer is `_backend` (asyncio's transports on asyncio, httpcore's own on
    trio), also through an http:// proxy; through an https:// one, TLS
    inside TLS is left to httpcore's. These modules (and asyncio with them)
    load with the first connection, not with `import zof_async`.
    """
    made: list[Any] = []  # the SSL context and the network backend, once

    def make() -> httpx.AsyncBaseTransport:
        from ._backend import NetworkBackend, use_backend
        from ._shard import Shard

        if not made:
            made.extend((ssl_context(verify, trust_env=trust_env), NetworkBackend()))
        context, backend = made
        transport: httpx.AsyncHTTPTransport
        if proxy is None:
            transport = Shard(context, unpatched=_HANDLE)
        else:
            limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
            transport = ProxiedTransport(proxy, verify=context, limits=limits)
        if proxy is None or proxy.scheme == "http":
            use_backend(transport, backend)
        return transport

    return make


class ProxiedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport through a forward proxy, whose failures name the proxy.

    httpx reports a proxy that refuses the connection as `ConnectError: All
    connection attempts failed`, as if the API host had; through a proxy the
    client connects to nothing else. The aiohttp transport says the same
    (`proxy_failed`). A TLS failure keeps its own message: it is the API
    host's certificate (or the proxy's, for an https:// proxy) that failed.
    """

    def __init__(self, proxy: httpx.URL, **options: Any) -> None:
        super().__init__(proxy=proxy, **options)
        self._proxy_url = proxy

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.ProxyError as exc:  # the proxy answered CONNECT with an error status
            raise proxy_failed(self._proxy_url, request, answered=str(exc)) from exc
        except httpx.ConnectError as exc:
            if _from_tls(exc):
                raise
            raise proxy_failed(self._proxy_url, request) from exc


def _from_tls(exc: BaseException | None) -> bool:
    """Whether an `ssl.SSLError` is in the chain of causes of `exc`."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, ssl.SSLError):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


class ViaClient(httpx.AsyncBaseTransport):
    """One of the pool's transports, reached as an `httpx.AsyncClient` would reach it.

    Lent instead of the transport while something patches
    `AsyncClient._transport_for_url` (`respx.mock(using="httpx")`), so that
    what the patch returns (a mock, or the transport itself to pass through)
    handles the request. Only then: the client is made per request.
    """

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self.transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        client = httpx.AsyncClient(transport=self.transport, trust_env=False)
        routed = client._transport_for_url(request.url)
        return await routed.handle_async_request(request)


class ClientTransport(httpx.AsyncBaseTransport):
    """Adapts a caller's `httpx.AsyncClient` into a transport (its settings apply)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._client.send(request, stream=True, follow_redirects=False)

    async def aclose(self) -> None:
        """The caller owns the client; closing it is theirs to do."""
