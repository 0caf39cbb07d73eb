"""The fan-out's concurrency: an AIMD limit on calls in flight.

Every 429 a fan-out's requests meet halves the limit, at most once per round
trip (only a request sent after the last cut can cut again); every success
adds `1/limit`, so the limit grows back by one per window of successes, up
to its cap. The client's send rate (`_http._pacing`) is what spaces
requests in time; this bounds how many wait for it at once.
"""

from __future__ import annotations

import math

import anyio

__all__ = ["AdaptiveLimit"]


class AdaptiveLimit:
    """An AIMD limit on calls in flight, between 1 and `cap`."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.limit = float(cap)
        self.in_flight = 0
        self.peak = 0
        self._last_decrease = -math.inf
        self._changed = anyio.Event()
        self._waiting = 0

    def try_acquire(self) -> bool:
        """Take room for one more call if there is some now, without waiting."""
        if self.in_flight >= int(self.limit):
            return False
        self.in_flight += 1
        if self.in_flight > self.peak:
            self.peak = self.in_flight
        return True

    async def acquire(self) -> None:
        """Wait for room for one more call."""
        while self.in_flight >= int(self.limit):
            self._waiting += 1
            try:
                await self._changed.wait()
            finally:
                self._waiting -= 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)

    def release(self, *, success: bool) -> None:
        self.in_flight -= 1
        if success:
            self.limit = min(float(self.cap), self.limit + 1.0 / self.limit)
        self._notify()

    def rate_limited(self, started: float) -> None:
        """Halve the limit, once per round trip: only for requests sent after the last cut."""
        if started < self._last_decrease:
            return
        self.limit = max(1.0, self.limit / 2)
        self._last_decrease = anyio.current_time()

    def _notify(self) -> None:
        if self._waiting:
            self._changed.set()
            self._changed = anyio.Event()
