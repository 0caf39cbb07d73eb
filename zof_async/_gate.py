"""The client-wide rate-limit gate.

When any request of a client receives 429 with `Retry-After`, the gate closes
until then, and every request of that client waits at the gate before it is
sent: one shared deadline, not N requests each learning about the limit by
being rejected in turn.
"""

from __future__ import annotations

import math
import random

import anyio

from ._retry import is_testing


class RateLimitGate:
    """One per connection pool; shared by clients made with `with_options`."""

    def __init__(self, rng: random.Random) -> None:
        self._until = -math.inf
        self._rng = rng

    def close_until(self, when: float) -> None:
        """Hold every request until `when` (loop time); never shortens a closure."""
        self._until = max(self._until, when)

    async def wait(self, *, max_jitter: float, deadline: float = math.inf) -> bool:
        """Wait until the gate opens, plus a little jitter.

        The jitter (up to 10% of the wait, at most `max_jitter`) spreads the
        waiters' wake-ups so they do not hit the server at one instant.

        Returns:
            `False`, at once, if the gate stays closed past `deadline` (loop
            time): waiting could only end in a timeout.
        """
        if self._until == -math.inf:
            return True  # never closed: no clock read on the hot path
        while not is_testing():
            remaining = self._until - anyio.current_time()
            if remaining <= 0:
                break
            if self._until >= deadline:
                return False
            await anyio.sleep(remaining + self._rng.uniform(0.0, min(max_jitter, remaining * 0.1)))
        return True
