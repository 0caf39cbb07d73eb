"""The `aiohttp` extra: an httpx transport on aiohttp, owned by the SDK.

httpx stays the seam (requests and responses are httpx objects, so `http_client=`,
respx and tracing keep working on the default transport); only the bytes go
through aiohttp, which spends a fraction of httpcore's CPU per request.

The transport holds the SDK's promises that a general adapter does not:

- The URL is sent exactly as the SDK encoded it (`yarl.URL(..., encoded=True)`),
  so `%2E%2E` stays one path segment instead of being normalised away.
- One `handle_async_request` is one request on the wire: aiohttp's own retry of
  a request on a keep-alive connection it finds closed is switched off.
- aiohttp's exceptions are mapped to httpx's (a refused connection is a
  `ConnectError`, a reset a `ReadError`/`RemoteProtocolError`), with short
  messages of our own that name the host and never carry request headers;
  the aiohttp exception is not chained, since its text and repr can.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx
import sniffio

from ..._exceptions import ConfigurationError
from ._clock import running_loop
from ._proxies import proxy_failed
from ._tls import ssl_context

if TYPE_CHECKING:
    import aiohttp

# Bound when the first session opens, not looked up per request (importing
# aiohttp with the package would cost every user its import time).
_URL: Any = None
_ClientError: Any = None
_TimeoutError: Any = None  # asyncio's, set with the others once asyncio runs

#: Bodies up to this size, with a `Content-Length`, are read in one go.
_READ_AT_ONCE = 1 << 20


def aiohttp_transport(
    *,
    proxy: str | httpx.URL | None = None,
    verify: ssl.SSLContext | str | bool = True,
    trust_env: bool = True,
    **connector_options: Any,
) -> httpx.AsyncBaseTransport:
    """An httpx transport that sends through aiohttp (`pip install 'zof-async[aiohttp]'`).

    What `AsyncZof(transport="aiohttp")` builds, with the client's own
    `proxy=`, `verify=` and `trust_env` settings (the one door to it: the
    client resolves the environment's proxy for its base URL). The client's
    `max_connections` still bounds requests in flight; the aiohttp connector
    itself is left unbounded so the two limits cannot disagree. Runs on
    asyncio only (aiohttp does not support trio).

    Args:
        proxy: An `http://` forward proxy for every request (CONNECT for https).
        verify: `True`, `False`, a CA bundle path or an `ssl.SSLContext`.
        trust_env: Whether `SSL_CERT_FILE` / `SSL_CERT_DIR` apply to `verify=True`.
            (Proxies from the environment are resolved by `AsyncZof`, which
            passes the one for its base URL as `proxy`.)
        connector_options: Passed to `aiohttp.TCPConnector`.

    Raises:
        ConfigurationError: If aiohttp is not installed.
    """
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        raise ConfigurationError(
            "aiohttp_transport() needs the 'aiohttp' extra: pip install 'zof-async[aiohttp]'"
        ) from None
    return AiohttpTransport(
        proxy=None if proxy is None else str(proxy),
        ssl=ssl_context(verify, trust_env=trust_env),
        connector_options=connector_options,
    )


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests through one `aiohttp.ClientSession`, made on first use."""

    def __init__(
        self,
        *,
        proxy: str | None,
        ssl: ssl.SSLContext,
        connector_options: dict[str, Any],
    ) -> None:
        self._proxy = proxy
        self._proxy_url = None if proxy is None else httpx.URL(proxy)
        self._ssl = ssl
        self._connector_options = {"limit": 0, "ttl_dns_cache": 300, **connector_options}
        self._session: aiohttp.ClientSession | None = None
        self._loop: Any = None  # the asyncio loop the session belongs to

    def _open(self) -> aiohttp.ClientSession:
        # The hot path: the session of this loop, with no library detection.
        if self._session is not None and self._loop is running_loop():
            return self._session
        import asyncio

        import aiohttp

        if sniffio.current_async_library() != "asyncio":
            raise ConfigurationError(
                "aiohttp_transport() runs on asyncio only; on trio use the default transport"
            )
        loop = asyncio.get_running_loop()
        if self._session is not None:
            if self._loop is loop:
                return self._session
            raise ConfigurationError(
                "this client was opened in another event loop; create one client per event "
                "loop (for example inside the coroutine that asyncio.run() runs)"
            )
        global _URL, _ClientError, _TimeoutError
        from yarl import URL

        _URL, _ClientError, _TimeoutError = URL, aiohttp.ClientError, asyncio.TimeoutError
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=self._ssl, **self._connector_options),
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            trust_env=False,
        )
        # aiohttp resends a GET once on a keep-alive connection it finds closed;
        # the SDK's pipeline decides every attempt, so one call is one request.
        session._retry_connection = False
        self._session, self._loop = session, loop
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._open()
        url = _yarl_url(request.url)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        given = request.extensions.get("timeout") or {}
        try:
            body = request.content or None
        except httpx.RequestNotRead:
            body = await request.aread() or None
        error: httpx.TransportError
        try:
            response = await session.request(
                request.method,
                url,
                headers=headers,
                data=body,
                allow_redirects=False,
                compress=False,
                proxy=self._proxy,
                timeout=_client_timeout(given.get("connect"), given.get("read")),
            )
        except (_ClientError, OSError, _TimeoutError) as exc:
            error = _mapped(exc, request, connecting=True, proxy=self._proxy_url)
        else:
            response_headers = response.raw_headers  # (bytes, bytes) pairs, as httpx keeps them
            extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
            if response.reason:
                extensions["reason_phrase"] = response.reason.encode("latin-1", "replace")
            length = response.content_length
            if length is None or length > _READ_AT_ONCE:
                return httpx.Response(
                    response.status,
                    headers=response_headers,
                    stream=_ResponseStream(response, request),
                    extensions=extensions,
                )
            try:
                content = await response.read()
            except (_ClientError, OSError, _TimeoutError) as exc:
                error = _mapped(exc, request, connecting=False)
            else:
                read = httpx.Response(
                    response.status,
                    headers=response_headers,
                    stream=httpx.ByteStream(content),
                    extensions=extensions,
                )
                if "Content-Encoding" not in response.headers:
                    # Already read: what `Response.read()` stores, so `aread()`, `.content`
                    # and `.json()` skip httpx's chunked stream walk (~8 µs a response).
                    # An encoded body is left to httpx's decoders, which judge it.
                    read._content = content
                return read
            finally:
                response.release()
        raise error  # outside the except block: no aiohttp exception in its context

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _yarl_url(url: httpx.URL) -> Any:
    """`yarl.URL(str(url), encoded=True)`, built from httpx's encoded pieces without a parse.

    httpx keeps the path and query percent-encoded as they were given (`%2E%2E`
    stays), so they are handed on as they are; the fragment is never sent.
    """
    path, _, query = url.raw_path.decode("ascii").partition("?")
    authority = url.netloc.decode("ascii")  # IDNA-encoded, an IPv6 host in brackets
    if url.userinfo:
        authority = f"{url.userinfo.decode('ascii')}@{authority}"
    return _URL.build(
        scheme=url.scheme, authority=authority, path=path, query_string=query, encoded=True
    )


@functools.lru_cache(maxsize=32)
def _client_timeout(connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
    """One `ClientTimeout` per setting (the pipeline's shrunk ones pass through the LRU)."""
    import aiohttp

    return aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)


class _ResponseStream(httpx.AsyncByteStream):
    """A body read as it arrives, for large or unsized responses."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        import aiohttp

        chunks = self._response.content.iter_chunked(64 * 1024)
        while True:
            error: httpx.TransportError
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                return
            except (aiohttp.ClientError, OSError, _TimeoutError) as exc:
                error = _mapped(exc, self._request, connecting=False)
            else:
                yield chunk
                continue
            raise error

    async def aclose(self) -> None:
        self._response.release()


def _mapped(
    exc: BaseException,
    request: httpx.Request,
    *,
    connecting: bool,
    proxy: httpx.URL | None = None,
) -> httpx.TransportError:
    """The httpx error for an aiohttp one, with a message that carries no headers."""
    import aiohttp

    host = request.url.host
    port = request.url.port
    where = f"{host}:{port}" if port else host
    # Order matters: these classes overlap (a connector error is an OSError).
    if proxy is not None and isinstance(exc, aiohttp.ClientHttpProxyError):
        return proxy_failed(proxy, request, answered=f"{exc.status} {exc.message}".strip())
    if proxy is not None and isinstance(exc, aiohttp.ClientProxyConnectionError):
        return proxy_failed(proxy, request)
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        # OpenSSL's own words, as the default transport gives them ("[SSL:
        # CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get
        # local issuer certificate"): a TLS error carries no request headers.
        cause = getattr(exc, "certificate_error", None) or getattr(exc, "os_error", None)
        reason = str(cause) if isinstance(cause, ssl.SSLError) else "handshake failed"
        return httpx.ConnectError(f"TLS with {where} failed: {reason}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(f"could not connect to {where}: {exc.strerror or 'refused'}")
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(f"connecting to {where} timed out")
    if isinstance(exc, aiohttp.SocketTimeoutError | _TimeoutError):
        return httpx.ReadTimeout(f"reading from {where} timed out")
    if isinstance(exc, aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError(f"{where} did not answer with valid HTTP")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(f"{where} closed the connection without an answer")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return httpx.ReadError(f"the body from {where} was cut off")
    if isinstance(exc, aiohttp.ClientOSError) and not connecting:
        return httpx.ReadError(f"the connection to {where} broke ({exc.strerror or 'reset'})")
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(f"cannot send to {where}: invalid URL")
    if isinstance(exc, aiohttp.ClientOSError):  # connected, then reset before an answer
        return httpx.ReadError(f"the connection to {where} broke ({exc.strerror or 'reset'})")
    if connecting:
        return httpx.ConnectError(f"the connection to {where} failed ({type(exc).__name__})")
    return httpx.ReadError(f"the connection to {where} broke ({type(exc).__name__})")
