"""Faults the emulator can inject: latency, 5xx, rate limits, throttling.

Every knob is off by default. They are decided in this order for each API
request: latency (always applied), then a scripted failure (`fail_next`), then
a throttle window (`throttle`), then the per-key rate limit, then the random
error rate.
"""

from __future__ import annotations

import math
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Fault", "Faults"]

Latency = float | Callable[[random.Random], float]


@dataclass(frozen=True, slots=True)
class Fault:
    """A failure the emulator answers with instead of the real response."""

    status: int
    retry_after: float | None = None
    after_handler: bool = False


@dataclass(slots=True)
class _Scripted:
    remaining: int
    fault: Fault
    method: str | None
    route: str | None
    query: dict[str, str] | None

    def matches(self, method: str, route: str, query: dict[str, list[str]]) -> bool:
        return (
            self.method in (None, method)
            and self.route in (None, route)
            and all(value in query.get(name, ()) for name, value in (self.query or {}).items())
        )


class Faults:
    """The fault configuration of one emulator; safe to change while serving.

    Attributes:
        latency: Seconds added before every response, or a function of a
            `random.Random` returning seconds (a distribution).
        error_rate: Fraction of requests answered with one of `error_statuses`.
        error_statuses: Statuses drawn for random errors.
        error_retry_after: `Retry-After` seconds sent with random 503s.
        rate_limit: Requests per second allowed per API key (token bucket);
            `None` for unlimited.
        rate_limit_burst: Bucket size of the rate limit.
    """

    def __init__(self, *, seed: int = 0) -> None:
        self.latency: Latency = 0.0
        self.error_rate = 0.0
        self.error_statuses: tuple[int, ...] = (500, 502, 503)
        self.error_retry_after: float | None = None
        self.rate_limit: float | None = None
        self.rate_limit_burst = 10
        self._rng = random.Random(seed)
        self._scripted: deque[_Scripted] = deque()
        self._throttle_until = -math.inf
        self._throttle_retry_after = 1.0
        self._throttle_plan: tuple[int, float, float] | None = None
        self._seen = 0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Turn every fault off."""
        with self._lock:
            self.latency = 0.0
            self.error_rate = 0.0
            self.error_retry_after = None
            self.rate_limit = None
            self._scripted.clear()
            self._throttle_until = -math.inf
            self._throttle_plan = None
            self._buckets.clear()

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 503,
        retry_after: float | None = None,
        method: str | None = None,
        route: str | None = None,
        query: dict[str, str] | None = None,
        after_handler: bool = False,
    ) -> None:
        """Answer the next `count` matching requests with `status`.

        Args:
            count: How many requests fail.
            status: The status to answer with (429 gets `Retry-After: 1` unless set).
            retry_after: `Retry-After` seconds to send.
            method: Only requests with this method (e.g. `"POST"`).
            route: Only requests to this route template (e.g. `"/runs/{id}"`).
            query: Only requests whose query string has these values (e.g.
                `{"run_id": "run_b"}`: one reader among several).
            after_handler: Serve the request first (a POST creates its run and
                stores its idempotent answer), then answer `status` instead:
                the answer is lost, not the work.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        fault = Fault(status, retry_after, after_handler)
        with self._lock:
            self._scripted.append(_Scripted(count, fault, method, route, query))

    def throttle(self, *, now: float, seconds: float, retry_after: float) -> None:
        """Answer every request with 429 for `seconds` from `now` (emulator clock)."""
        with self._lock:
            self._throttle_until = now + seconds
            self._throttle_retry_after = retry_after

    def throttle_after(self, requests: int, *, seconds: float, retry_after: float) -> None:
        """Once `requests` requests have been seen, answer 429 to all for `seconds`."""
        with self._lock:
            self._throttle_plan = (requests, seconds, retry_after)

    def latency_for(self) -> float:
        """Draw the latency of one response."""
        latency = self.latency
        if callable(latency):
            with self._lock:
                return max(0.0, latency(self._rng))
        return latency

    def decide(
        self,
        *,
        method: str,
        route: str,
        key: str,
        now: float,
        query: dict[str, list[str]] | None = None,
    ) -> Fault | None:
        """Return the fault to answer this request with, if any."""
        with self._lock:
            self._seen += 1
            plan = self._throttle_plan
            if plan is not None and self._seen >= plan[0]:
                self._throttle_plan = None
                self._throttle_until = now + plan[1]
                self._throttle_retry_after = plan[2]
            for entry in self._scripted:
                if entry.matches(method, route, query or {}):
                    entry.remaining -= 1
                    if entry.remaining <= 0:
                        self._scripted.remove(entry)
                    return entry.fault
            if now < self._throttle_until:
                wait = max(self._throttle_retry_after, self._throttle_until - now)
                return Fault(429, math.ceil(wait))
            if self.rate_limit is not None:
                fault = self._take_token(key, now, self.rate_limit)
                if fault is not None:
                    return fault
            if self.error_rate and self._rng.random() < self.error_rate:
                status = self._rng.choice(self.error_statuses)
                retry_after = self.error_retry_after if status == 503 else None
                return Fault(status, retry_after)
        return None

    def _take_token(self, key: str, now: float, rate: float) -> Fault | None:
        burst = float(self.rate_limit_burst)
        tokens, last = self._buckets.get(key, (burst, now))
        tokens = min(burst, tokens + (now - last) * rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return Fault(429, max(1, math.ceil((1.0 - tokens) / rate)))
        self._buckets[key] = (tokens - 1.0, now)
        return None


def exponential_latency(mean: float) -> Callable[[random.Random], float]:
    """A latency distribution: exponential with the given mean, in seconds."""
    return lambda rng: rng.expovariate(1.0 / mean) if mean > 0 else 0.0
