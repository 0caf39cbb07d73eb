"""Serving the emulator over real HTTP on 127.0.0.1 with uvicorn."""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread

HOST = "127.0.0.1"


def _bind(port: int) -> socket.socket:
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets
    # only for that proto, and without it Nagle plus delayed ACKs add 40 ms to
    # every keep-alive response.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _config(app: Any, **options: Any) -> Any:
    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "serving the emulator needs the 'testing' extra: pip install 'zof-async[testing]'"
        ) from exc
    options.setdefault("log_level", "warning")
    options.setdefault("access_log", False)
    options.setdefault("lifespan", "on")  # the webhook pump runs in the app's lifespan
    options.setdefault("timeout_keep_alive", 75)
    return uvicorn.Config(app, **options)


@asynccontextmanager
async def serve_in_thread(app: Any, *, port: int = 0) -> AsyncIterator[str]:
    """Run uvicorn in a daemon thread; yield the base URL; stop it on exit."""
    import uvicorn

    sock = _bind(port)
    server = uvicorn.Server(_config(app, loop="asyncio"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="zof-emulator", daemon=True
    )
    thread.start()
    try:
        with anyio.fail_after(10):
            while not server.started:
                if not thread.is_alive():
                    raise RuntimeError("the emulator server failed to start")
                await anyio.sleep(0.005)
        yield f"http://{HOST}:{sock.getsockname()[1]}/v1"
    finally:
        server.should_exit = True
        await anyio.to_thread.run_sync(thread.join, 10)
        sock.close()


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (`port` 0: any free port)."""
    return _bind(port)


def serve_forever(app: Any, sock: socket.socket) -> None:
    """Serve on `sock` in the foreground until interrupted, with uvloop and httptools."""
    import uvicorn

    server = uvicorn.Server(_config(app, loop="auto", http="auto"))
    server.run(sockets=[sock])
