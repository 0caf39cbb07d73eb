"""One `AsyncZof` for one run of the source, on the event loop dlt runs it on.

dlt runs async-generator resources on an asyncio loop of its own, in a
thread, and advances each generator one item at a time, each step in a task
of its own. So no resource can hold `async with AsyncZof()` open across its
`yield`s (a task group cannot be entered in one task and left in another),
and no resource knows when the others are done. The client is therefore used
without a task group (pagers do not prefetch; a fan-out opens its own group
inside one step) and closed by a keeper: an async generator advanced once
when the client is made, and closed by dlt when it shuts the loop down
(`loop.shutdown_asyncgens()`, after the last resource, on success or error).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

from .._client import AsyncZof

__all__ = ["Session"]


class Session:
    """Makes the source's `AsyncZof` on first use in a loop, and has it closed with the loop.

    Args:
        options: Keyword arguments of `AsyncZof` (the key among them: never
            shown in a repr).
    """

    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        self._client: AsyncZof | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._keeper: AsyncGenerator[None, None] | None = None
        self.clients_made = 0
        """How many clients this session made: one per event loop it ran on."""

    async def client(self) -> AsyncZof:
        """The client of the running loop: made (and its closing arranged) on first use."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            client = AsyncZof(**self._options)
            self._client, self._loop = client, loop
            self.clients_made += 1
            self._keeper = _close_with_the_loop(client)
            await self._keeper.asend(None)
        return self._client

    def __repr__(self) -> str:
        return f"<zof_async.dlt session: {self.clients_made} client(s)>"


async def _close_with_the_loop(client: AsyncZof) -> AsyncGenerator[None, None]:
    """Suspended until the loop closes its async generators; then closes `client`."""
    try:
        yield
    finally:
        await client.aclose()
