"""One of the default arrangement's connections: httpx's transport, called a layer lower.

The SDK lends each request a single-connection transport of its own (see
`_pool`), so nothing that httpx's `AsyncHTTPTransport` adds around httpcore's
pool is needed on that path: a generator-based context manager per call and
per body chunk to map httpcore's exceptions, and a chain of body iterators
and decoders that reads a small JSON answer chunk by chunk. A `Shard` is that
transport with its pool (httpcore's `AsyncConnectionPool`, the one httpx
built for it) called directly:

- the httpcore request is built from the httpx one as httpx builds it;
- a body of known length up to one read (64 KiB) is read before returning, and
  the connection given back to the pool at once, as the aiohttp transport
  does; a larger or unsized body streams;
- httpcore's exceptions become httpx's, the most specific class that maps,
  the httpcore one chained as the cause (as httpx raises them).

While pytest-httpx patches `AsyncHTTPTransport.handle_async_request` (one
identity check a request), a shard goes through the patched method, so the
test's mock answers; respx patches httpcore's pool, which a shard calls.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterable, AsyncIterator

import httpcore
import httpx
import sniffio

from ._clock import running_loop

__all__ = ["Shard"]

#: Bodies of a declared length up to this are read before the response is returned:
#: httpcore's reads are of this size, so streaming one would give one chunk anyway.
_READ_AT_ONCE = 64 * 1024


_LIBRARY = sniffio.current_async_library_cvar

_MAPPED: dict[type[Exception], type[httpx.TransportError]] = {
    httpcore.TimeoutException: httpx.TimeoutException,
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.PoolTimeout: httpx.PoolTimeout,
    httpcore.NetworkError: httpx.NetworkError,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
    httpcore.ProxyError: httpx.ProxyError,
    httpcore.UnsupportedProtocol: httpx.UnsupportedProtocol,
    httpcore.ProtocolError: httpx.ProtocolError,
    httpcore.LocalProtocolError: httpx.LocalProtocolError,
    httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
}


def _mapped(exc: Exception, request: httpx.Request) -> httpx.TransportError | None:
    """httpx's exception for httpcore's `exc` (the most specific class that maps), or None."""
    for klass in type(exc).__mro__:
        if (mapped := _MAPPED.get(klass)) is not None:
            return mapped(str(exc), request=request)
    return None


class Shard(httpx.AsyncHTTPTransport):
    """httpx's transport over one keep-alive connection, called without its wrapper.

    Args:
        ssl_context: Shared by every shard (building one loads the CA bundle).
        unpatched: httpx's own `AsyncHTTPTransport.handle_async_request`, taken
            when `zof_async` was imported: this module loads with the first
            connection, maybe while a mock has already patched it.
    """

    def __init__(self, ssl_context: ssl.SSLContext, *, unpatched: object) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        super().__init__(verify=ssl_context, limits=limits)
        self._unpatched = unpatched

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if httpx.AsyncHTTPTransport.handle_async_request is not self._unpatched:
            return await httpx.AsyncHTTPTransport.handle_async_request(self, request)
        url = request.url
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        # httpcore asks sniffio which library runs for every lock, shield and
        # event (about ten times a request), and sniffio looks up the current
        # task each time; said once here, through sniffio's own declaration.
        said = _LIBRARY.set("asyncio") if running_loop() is not None else None
        try:
            answer = await self._pool.handle_async_request(core)
            length = _declared_length(answer)
            if length is None or length > _READ_AT_ONCE:
                return httpx.Response(
                    answer.status,
                    headers=answer.headers,
                    stream=_Body(answer, request),
                    extensions=answer.extensions,
                )
            try:
                content = await answer.aread()
            finally:
                await answer.aclose()
        except Exception as exc:
            if (error := _mapped(exc, request)) is None:
                raise
            raise error from exc
        finally:
            if said is not None:
                _LIBRARY.reset(said)
        response = httpx.Response(
            answer.status,
            headers=answer.headers,
            stream=httpx.ByteStream(content),
            extensions=answer.extensions,
        )
        if not response.headers.get("content-encoding"):
            # What `Response.aread()` stores: `.content` and `.json()` skip
            # httpx's chunk walk. An encoded body is left to httpx's decoders.
            response._content = content
        return response


def _declared_length(answer: httpcore.Response) -> int | None:
    """The answer's Content-Length when it has exactly one that is a number, else None."""
    found = [value for name, value in answer.headers if name.lower() == b"content-length"]
    if len(found) != 1 or not found[0].strip().isdigit():
        return None
    return int(found[0])


class _Body(httpx.AsyncByteStream):
    """A large or unsized body, read as it arrives, its errors httpx's.

    An iterator object rather than an async generator: a body left mid-way is
    closed through `aclose`, and no generator of this package is left for the
    garbage collector to finalize (trio warns of one).
    """

    def __init__(self, answer: httpcore.Response, request: httpx.Request) -> None:
        self._answer = answer
        self._request = request
        self._chunks: AsyncIterator[bytes] | None = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        stream = self._answer.stream
        assert isinstance(stream, AsyncIterable)
        self._chunks = aiter(stream)
        return self

    async def __anext__(self) -> bytes:
        assert self._chunks is not None, "iterate with async for"
        try:
            return await anext(self._chunks)
        except StopAsyncIteration:
            raise
        except Exception as exc:
            if (error := _mapped(exc, self._request)) is None:
                raise
            raise error from exc

    async def aclose(self) -> None:
        try:
            await self._answer.aclose()
        except Exception as exc:
            if (error := _mapped(exc, self._request)) is None:
                raise
            raise error from exc
