"""Independent servers on 127.0.0.1, written with plain sockets and threads.

Nothing here shares code with the SDK or its emulator: a `RawServer` that
records every request exactly as it arrived on the wire and answers with
whatever a test scripts (valid HTTP, garbage, resets, cut bodies), and a
`ForwardProxy` that speaks absolute-form HTTP and CONNECT. Both stop when
their `with` block ends.
"""

from __future__ import annotations

import json
import select
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

Answer = Callable[["Received", socket.socket], bool]
"""Writes an answer to the socket; returns whether the connection stays open."""


@dataclass(frozen=True)
class Received:
    """One request as it arrived."""

    request_line: str
    headers: dict[str, str]
    body: bytes

    @property
    def target(self) -> str:
        return self.request_line.split(" ")[1]


def _read_request(conn: socket.socket, buffer: bytearray) -> Received | None:
    while b"\r\n\r\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        rest += chunk
    buffer[:] = rest[length:]
    return Received(lines[0], headers, rest[:length])


def http_answer(
    status: int, body: object, *, headers: dict[str, str] | None = None, close: bool = False
) -> Answer:
    """A complete HTTP/1.1 answer with a JSON (or bytes) body."""
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()

    def answer(_: Received, conn: socket.socket) -> bool:
        head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(payload)}"]
        head.append("Content-Type: application/json")
        head.append("X-Request-Id: req_raw")
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if close:
            head.append("Connection: close")
        conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        return not close

    return answer


def raw_bytes(data: bytes) -> Answer:
    """Send `data` (not HTTP) and close."""

    def answer(_: Received, conn: socket.socket) -> bool:
        conn.sendall(data)
        return False

    return answer


def reset() -> Answer:
    """Close with a TCP reset, without an answer."""

    def answer(_: Received, conn: socket.socket) -> bool:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return False

    return answer


def cut_body() -> Answer:
    """Promise 1,000 bytes, send 10, close."""
    return raw_bytes(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")


def close_silently() -> Answer:
    """Read the request and close the connection without a word (a stale keep-alive)."""
    return raw_bytes(b"")


def echo_headers(status: int = 401) -> Answer:
    """An error whose message repeats every request header, the key included."""

    def answer(received: Received, conn: socket.socket) -> bool:
        shown = "; ".join(f"{k}: {v}" for k, v in received.headers.items())
        body = {"error": {"code": "unauthorized", "message": f"rejected {shown}"}}
        return http_answer(status, body)(received, conn)

    return answer


class _Listener:
    """Accepts connections on 127.0.0.1 and hands each to `_handle` in a thread."""

    port: int
    _sock: socket.socket | None
    _threads: list[threading.Thread]
    _open: list[socket.socket]

    def _handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def _wrap(self, conn: socket.socket) -> socket.socket:
        return conn

    def _accept(self) -> None:
        assert self._sock is not None
        while True:
            try:
                conn, _ = self._sock.accept()
                conn = self._wrap(conn)
            except OSError:  # the listener was stopped (ssl.SSLError is an OSError too)
                if self._sock.fileno() == -1:
                    return
                continue
            self._open.append(conn)
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    @contextmanager
    def _listening(self) -> Iterator[None]:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        acceptor = threading.Thread(target=self._accept, daemon=True)
        acceptor.start()
        try:
            yield
        finally:
            with suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)  # wakes `accept`; close alone does not
            self._sock.close()
            acceptor.join(5)
            for conn in self._open:
                with suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            for thread in self._threads:
                thread.join(5)


@dataclass
class RawServer(_Listener):
    """Answers each request with the next scripted answer (the last one repeats)."""

    answers: list[Answer]
    tls: ssl.SSLContext | None = None
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _sock: socket.socket | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _open: list[socket.socket] = field(default_factory=list)

    @property
    def connections(self) -> int:
        """TCP connections accepted so far."""
        return len(self._open)

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}/v1"

    def _next(self) -> Answer:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            buffer = bytearray()
            try:
                while True:
                    received = _read_request(conn, buffer)
                    if received is None:
                        return
                    self.received.append(received)
                    if not self._next()(received, conn):
                        return
            except (OSError, ssl.SSLError):
                return

    def _wrap(self, conn: socket.socket) -> socket.socket:
        if self.tls is None:
            return conn
        try:
            return self.tls.wrap_socket(conn, server_side=True)
        except OSError:
            conn.close()
            raise

    @contextmanager
    def running(self) -> Iterator[RawServer]:
        with self._listening():
            yield self


@dataclass
class ForwardProxy(_Listener):
    """An HTTP forward proxy: absolute-form requests and CONNECT tunnels.

    Every host it is asked for is reached at `127.0.0.1` on the port asked,
    so tests can use made-up names (`zof.test`) that only the proxy resolves.
    """

    seen: list[str] = field(default_factory=list)
    port: int = 0
    _sock: socket.socket | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _open: list[socket.socket] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _handle(self, client: socket.socket) -> None:
        with client:
            client.settimeout(10)
            buffer = bytearray()
            try:
                received = _read_request(client, buffer)
                if received is None:
                    return
                self.seen.append(received.request_line)
                method, target, _ = received.request_line.split(" ")
                if method == "CONNECT":
                    port = int(target.rsplit(":", 1)[1])
                    upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
                    client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    self._pipe(client, upstream, bytes(buffer))
                    return
                rest = target.split("://", 1)[1]
                authority, _, path = rest.partition("/")
                port = int(authority.rsplit(":", 1)[1]) if ":" in authority else 80
                upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
                head = [f"{method} /{path} HTTP/1.1"]
                head += [
                    f"{k}: {v}"
                    for k, v in received.headers.items()
                    if k not in ("proxy-connection", "connection")
                ]
                head.append("Connection: close")
                upstream.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + received.body)
                self._pipe(client, upstream, b"")
            except OSError:
                return

    @staticmethod
    def _pipe(client: socket.socket, upstream: socket.socket, pending: bytes) -> None:
        with upstream:
            if pending:
                upstream.sendall(pending)
            sockets = [client, upstream]
            while True:
                readable, _, _ = select.select(sockets, [], [], 10)
                if not readable:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)

    @contextmanager
    def running(self) -> Iterator[ForwardProxy]:
        with self._listening():
            yield self
