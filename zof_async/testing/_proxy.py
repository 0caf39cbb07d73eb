"""A fault-injecting TCP proxy for HTTP/1.1, on 127.0.0.1 (Toxiproxy's idea).

Put it between a client and the served emulator and script what happens to
the next requests, one toxic per request:

- `latency`: hold the response for `seconds`;
- `reset_before`: reset the connection before the request reaches the server;
- `reset_after`: let the server process the request, then reset the
  connection: the client never sees the answer;
- `cut_body`: send the headers and part of the body, then close;
- `stall`: forward the request and never answer.

`async with proxy.refusing():` closes the listening socket, so connections
are refused, and opens it again (same port) afterwards. The proxy works per
HTTP request, not per connection, so toxics hit requests on kept-alive
connections too.
"""

from __future__ import annotations

import socket
import struct
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import anyio.abc

__all__ = ["FaultProxy", "Toxic"]

HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Toxic:
    """What to do to one request; see the module docstring for the kinds."""

    kind: str
    seconds: float = 0.0
    keep_bytes: int = 10


class _Peer:
    """A byte stream with just enough HTTP/1.1 framing for the proxy."""

    def __init__(self, stream: anyio.abc.SocketStream) -> None:
        self.stream = stream
        self.buffer = b""

    async def _fill(self) -> bool:
        try:
            chunk = await self.stream.receive(65536)
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
            return False
        self.buffer += chunk
        return True

    async def read_message(self, *, response: bool) -> bytes | None:
        """One whole request or response (head and body), or `None` at EOF."""
        while b"\r\n\r\n" not in self.buffer:
            if not await self._fill():
                return None
        head_end = self.buffer.index(b"\r\n\r\n") + 4
        head = self.buffer[:head_end].decode("latin-1").lower()
        length = 0
        chunked = False
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name == "content-length":
                length = int(value.strip())
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
        if chunked:
            while b"\r\n0\r\n\r\n" not in self.buffer[head_end - 2 :]:
                if not await self._fill():
                    return None
            end = self.buffer.index(b"\r\n0\r\n\r\n", head_end - 2) + 7
        else:
            end = head_end + length
            while len(self.buffer) < end:
                if not await self._fill():
                    return None
        message, self.buffer = self.buffer[:end], self.buffer[end:]
        return message


def _reset(stream: anyio.abc.SocketStream) -> None:
    """Close with RST instead of FIN (SO_LINGER 0), as a crashed peer would."""
    sock: socket.socket = stream.extra(anyio.abc.SocketAttribute.raw_socket)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class FaultProxy:
    """Forwards 127.0.0.1:`port` to `upstream` ("127.0.0.1:8765"), with toxics.

    ```python
    async with emulator.serve() as base_url, FaultProxy.serving(base_url) as proxy:
        proxy.add(Toxic("reset_after"))
        zof = AsyncZof(base_url=proxy.base_url, ...)
    ```
    """

    def __init__(self, upstream_base_url: str) -> None:
        rest = upstream_base_url.split("://", 1)[1]
        hostport, _, path = rest.partition("/")
        host, _, port = hostport.partition(":")
        self._upstream = (host, int(port))
        self._path = "/" + path if path else ""
        self._toxics: deque[Toxic] = deque()
        self._listener: anyio.abc.SocketListener | None = None
        self._group: anyio.abc.TaskGroup | None = None
        self.port = 0
        self.requests = 0
        self.faults_applied: list[str] = []

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}{self._path}"

    def add(self, toxic: Toxic, count: int = 1) -> None:
        """Apply `toxic` to the next `count` requests."""
        self._toxics.extend([toxic] * count)

    @classmethod
    @asynccontextmanager
    async def serving(cls, upstream_base_url: str) -> AsyncIterator[FaultProxy]:
        proxy = cls(upstream_base_url)
        async with anyio.create_task_group() as group:
            proxy._group = group
            await proxy._listen()
            try:
                yield proxy
            finally:
                group.cancel_scope.cancel()
                if proxy._listener is not None:
                    await proxy._listener.aclose()

    async def _listen(self) -> None:
        multi = await anyio.create_tcp_listener(local_host=HOST, local_port=self.port)
        listener = multi.listeners[0]  # one address: 127.0.0.1
        assert isinstance(listener, anyio.abc.SocketListener)
        self.port = listener.extra(anyio.abc.SocketAttribute.local_port)
        self._listener = listener
        assert self._group is not None
        self._group.start_soon(self._serve, listener)

    async def _serve(self, listener: anyio.abc.SocketListener) -> None:
        """Accept until the listener is closed (by `refusing()` or at exit).

        Connections are handled in the proxy's own task group, so closing the
        listener never waits for a stalled connection.
        """
        assert self._group is not None
        while True:
            try:
                stream = await listener.accept()
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                return
            self._group.start_soon(self._handle, stream)

    @asynccontextmanager
    async def refusing(self) -> AsyncIterator[None]:
        """Refuse connections (nothing listens) for the duration of the block."""
        assert self._listener is not None
        await self._listener.aclose()
        self._listener = None
        try:
            yield
        finally:
            await self._listen()

    async def _handle(self, client: anyio.abc.SocketStream) -> None:
        upstream: anyio.abc.SocketStream | None = None
        try:
            peer = _Peer(client)
            while True:
                request = await peer.read_message(response=False)
                if request is None:
                    return
                self.requests += 1
                toxic = self._toxics.popleft() if self._toxics else None
                if toxic is not None:
                    self.faults_applied.append(toxic.kind)
                if toxic is not None and toxic.kind == "reset_before":
                    _reset(client)
                    return
                if upstream is None:
                    upstream = await anyio.connect_tcp(*self._upstream)
                    upstream_peer = _Peer(upstream)
                await upstream.send(request)
                if toxic is not None and toxic.kind == "stall":
                    await anyio.sleep_forever()
                response = await upstream_peer.read_message(response=True)
                if response is None:
                    return
                if toxic is not None and toxic.kind == "latency":
                    await anyio.sleep(toxic.seconds)
                if toxic is not None and toxic.kind == "reset_after":
                    _reset(client)
                    return
                if toxic is not None and toxic.kind == "cut_body":
                    head_end = response.index(b"\r\n\r\n") + 4
                    await client.send(response[: head_end + toxic.keep_bytes])
                    return
                await client.send(response)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            return
        finally:
            with anyio.CancelScope(shield=True):  # close both, even when cancelled
                if upstream is not None:
                    await upstream.aclose()
                await client.aclose()
