"""A retry budget: retries may add only a bounded share of recent traffic.

During a total outage every request fails; with per-request retries alone a
client multiplies its load by `1 + max_retries` just when the server can least
take it. The budget allows, over the last `window` seconds,

    retries <= floor + ratio * requests

(the Finagle/gRPC retry-throttling idea), so a healthy client retries freely
and an outage adds at most `ratio` more load plus a small constant.
"""

from __future__ import annotations

import math


class RetryBudget:
    """Counts requests and retries in one-second buckets over a sliding window.

    Not tied to a clock: callers pass `now` (the event loop's time), which
    keeps this testable and correct under virtual clocks.
    """

    def __init__(self, *, ratio: float, floor: int, window: float) -> None:
        self._ratio = ratio
        self._floor = floor
        self._size = max(1, math.ceil(window))
        self._requests = [0] * self._size
        self._retries = [0] * self._size
        self._stamp = [-1] * self._size

    def _slot(self, now: float) -> int:
        second = int(now)
        slot = second % self._size
        if self._stamp[slot] != second:
            self._stamp[slot] = second
            self._requests[slot] = 0
            self._retries[slot] = 0
        return slot

    def _totals(self, now: float) -> tuple[int, int]:
        oldest = int(now) - self._size + 1
        requests = retries = 0
        for i in range(self._size):
            if self._stamp[i] >= oldest:
                requests += self._requests[i]
                retries += self._retries[i]
        return requests, retries

    def record_request(self, now: float) -> None:
        """Count a first attempt."""
        self._requests[self._slot(now)] += 1

    def try_retry(self, now: float) -> bool:
        """Spend one retry if the budget has room; `False` means do not retry."""
        slot = self._slot(now)
        requests, retries = self._totals(now)
        if retries + 1 > self._floor + self._ratio * requests:
            return False
        self._retries[slot] += 1
        return True
