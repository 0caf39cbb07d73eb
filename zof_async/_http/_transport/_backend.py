"""httpcore's network layer on asyncio's own transports, for the default transport.

httpcore reaches the network through a documented extension point, its
`AsyncNetworkBackend`. Its default on asyncio is anyio's, which enters a
cancel scope (`fail_after`) around every read and write and checkpoints on
each: on the SDK's default path that was about a third of the client CPU
spent per request beyond the bytes themselves. This backend does the same
work on an `asyncio.Protocol`: bytes arrive into a buffer as the loop reads
them, a read that has to wait awaits one future with a timer for its timeout,
and a write goes straight to the transport (waiting only when the kernel's
buffer is full).

It is chosen per connection: on asyncio this stream; under trio (or anything
else) httpcore's own choice (`AutoBackend`: trio's sockets, no anyio). The
errors are httpcore's, exactly as its anyio backend raises them, so httpx maps
them as before: `ConnectError`/`ConnectTimeout` while connecting or in the TLS
handshake (the `ssl.SSLError` chained as the cause), `ReadError`/`ReadTimeout`,
`WriteError`/`WriteTimeout`.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable
from typing import Any, cast

import httpcore
import sniffio

from ._clock import running_loop

__all__ = ["NetworkBackend", "use_backend"]

#: A TLS handshake without a timeout: asyncio's own default would be 60 s.
_NO_LIMIT = 1e9
#: Unread bytes held before the socket stops being read (a large body read slowly).
_HIGH_WATER = 1 << 20
_SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class _Protocol(asyncio.Protocol):
    """Receives the connection's bytes into a buffer for `_Stream.read`."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.chunks: list[bytes] = []
        self.buffered = 0
        self.eof = False
        self.lost: BaseException | None = None
        self.closed = False
        self.paused = False
        self.waiter: asyncio.Future[None] | None = None  # a read waiting for bytes
        self.drain: asyncio.Future[None] | None = None  # a write waiting for room

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports (Ray's workers run it) are not asyncio.Transport subclasses
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > _HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.lost = exc
        self._wake()
        drain, self.drain = self.drain, None
        if drain is not None and not drain.done():
            drain.set_result(None)

    def pause_writing(self) -> None:
        if self.drain is None:
            self.drain = self.loop.create_future()

    def resume_writing(self) -> None:
        drain, self.drain = self.drain, None
        if drain is not None and not drain.done():
            drain.set_result(None)

    def _wake(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def take(self, max_bytes: int) -> bytes:
        """Up to `max_bytes` of what is buffered (the whole first chunk when it fits: no copy)."""
        first = self.chunks[0]
        if len(first) <= max_bytes:
            del self.chunks[0]
            data = first
        else:
            data, self.chunks[0] = first[:max_bytes], first[max_bytes:]
        self.buffered -= len(data)
        if self.paused and self.buffered <= _HIGH_WATER // 4 and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        return data


async def _close(transport: asyncio.Transport) -> None:
    """Close now, socket included: asyncio closes it a loop iteration after `close()`.

    A loop that stops right after (the end of `asyncio.run`) would otherwise
    leave the socket open. `abort()` then drops what TLS still had to send.
    """
    transport.close()
    await asyncio.sleep(0)
    transport.abort()


def _expire(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


async def _wait(protocol: _Protocol, future: asyncio.Future[None], timeout: float | None) -> None:
    """Await `future`, raising `TimeoutError` after `timeout` seconds (one timer, no scope)."""
    if timeout is None:
        await future
        return
    timer = protocol.loop.call_later(timeout, _expire, future)
    try:
        await future
    finally:
        timer.cancel()


class _Stream(httpcore.AsyncNetworkStream):
    """One connection on an asyncio transport (plain TCP, or TLS over it)."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if not (protocol.chunks or protocol.eof or protocol.closed):
            protocol.waiter = waiter = protocol.loop.create_future()
            try:
                await _wait(protocol, waiter, timeout)
            except TimeoutError as exc:
                raise httpcore.ReadTimeout() from exc
            finally:
                protocol.waiter = None
        if protocol.chunks:
            return protocol.take(max_bytes)
        if protocol.lost is not None:
            raise httpcore.ReadError(str(protocol.lost)) from protocol.lost
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol, transport = self._protocol, self._transport
        if protocol.closed or transport.is_closing():
            lost = protocol.lost
            raise httpcore.WriteError(str(lost) if lost else "the connection is closed") from lost
        transport.write(buffer)
        drain = protocol.drain
        if drain is not None:  # the kernel's buffer is full: wait until it takes more
            try:
                await _wait(protocol, drain, timeout)
            except TimeoutError as exc:
                raise httpcore.WriteTimeout() from exc
            if protocol.closed:
                raise httpcore.WriteError(str(protocol.lost or "the connection is closed"))

    async def aclose(self) -> None:
        await _close(self._transport)

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = self._protocol.loop
        began = loop.time()
        try:
            transport = await loop.start_tls(
                self._transport, self._protocol, ssl_context, server_hostname=server_hostname,
                ssl_handshake_timeout=_NO_LIMIT if timeout is None else timeout,
            )  # fmt: skip
        except (TimeoutError, asyncio.TimeoutError) as exc:
            await _close(self._transport)
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except ConnectionAbortedError as exc:  # asyncio's own handshake timeout says this
            await _close(self._transport)
            if timeout is not None and loop.time() - began >= timeout:
                raise httpcore.ConnectTimeout(str(exc)) from exc
            raise httpcore.ConnectError(str(exc)) from exc
        except (ssl.SSLError, OSError, ConnectionError) as exc:
            await _close(self._transport)
            raise httpcore.ConnectError(str(exc)) from exc
        if transport is None:  # the peer closed during the handshake
            await _close(self._transport)
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        self._protocol.transport = transport
        return _Stream(transport, self._protocol)

    def get_extra_info(self, info: str) -> Any:
        transport = self._transport
        if info == "is_readable":  # an idle keep-alive connection the server closed
            protocol = self._protocol
            return bool(protocol.chunks) or protocol.eof or protocol.closed
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return transport.get_extra_info("socket")
        return None


class NetworkBackend(httpcore.AsyncNetworkBackend):
    """asyncio's transports on asyncio; httpcore's own backend elsewhere (trio)."""

    def __init__(self) -> None:
        self._others: dict[str, httpcore.AsyncNetworkBackend] = {}

    @property
    def _other(self) -> httpcore.AsyncNetworkBackend:
        """httpcore's backend for the running library: trio's own sockets, else anyio's."""
        library = sniffio.current_async_library()
        if library not in self._others:
            trio = library == "trio"
            self._others[library] = httpcore.TrioBackend() if trio else httpcore.AnyIOBackend()
        return self._others[library]

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = running_loop()
        if loop is None:
            return await self._other.connect_tcp(
                host, port, timeout=timeout, local_address=local_address,
                socket_options=socket_options,
            )  # fmt: skip
        protocol = _Protocol(loop)
        connecting = loop.create_connection(
            lambda: protocol, host, port,
            local_addr=None if local_address is None else (local_address, 0),
        )  # fmt: skip
        try:
            transport, _ = await asyncio.wait_for(connecting, timeout)
        except (TimeoutError, asyncio.TimeoutError) as exc:
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return _Stream(transport, protocol)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self._other.connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options
        )

    async def sleep(self, seconds: float) -> None:
        await self._other.sleep(seconds)


def use_backend(transport: Any, backend: NetworkBackend) -> None:
    """Put `backend` under an `httpx.AsyncHTTPTransport` (its httpcore pool's network layer).

    httpx takes no backend argument, so the pool it built gets ours in the
    attribute httpcore reads it from; if a later httpcore names it otherwise,
    the transport keeps httpcore's own (slower, just as correct).
    """
    pool = getattr(transport, "_pool", None)
    if isinstance(getattr(pool, "_network_backend", None), httpcore.AsyncNetworkBackend):
        pool._network_backend = backend  # type: ignore[union-attr]
