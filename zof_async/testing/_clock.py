"""Clocks that drive the emulator's notion of "now".

Runs move through their states, idempotency keys expire and rate limits refill
according to the emulator's clock. Tests inject a `ManualClock` and call
`advance()` instead of sleeping; the served emulator uses `SystemClock`;
virtual-time benchmarks use `LoopClock`, which follows the event loop's clock
(trio's `MockClock`, for example).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Protocol

import anyio

__all__ = ["Clock", "LoopClock", "ManualClock", "SystemClock"]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Clock(Protocol):
    """Anything that can tell the emulator the current time."""

    def now(self) -> float:
        """Return the current time in seconds since the Unix epoch."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        """Return `time.time()`."""
        return time.time()


class ManualClock:
    """A clock that only moves when told to.

    Args:
        start: The initial time; defaults to 2026-11-22T10:00:00Z so that
            seeded data and timestamps are reproducible.
    """

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 11, 22, 10, 0, 0, tzinfo=timezone.utc)
        self._now = (start - EPOCH).total_seconds()
        self._lock = threading.Lock()

    def now(self) -> float:
        """Return the current manual time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward.

        Raises:
            ValueError: If `seconds` is negative; time never goes backwards.
        """
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        with self._lock:
            self._now += seconds

    def set(self, when: datetime) -> None:
        """Move the clock forward to `when`."""
        self.advance((when - EPOCH).total_seconds() - self._now)


class LoopClock:
    """Follows the running event loop's clock (`anyio.current_time()`).

    Under trio's `MockClock(autojump_threshold=0)` every `sleep` jumps virtual
    time forward, so waiting for runs that take minutes completes in
    milliseconds of real time. Must be read from inside the event loop.
    """

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 11, 22, 10, 0, 0, tzinfo=timezone.utc)
        self._start = (start - EPOCH).total_seconds()
        self._loop_start: float | None = None

    def now(self) -> float:
        """Return the start time plus the loop time elapsed since first read."""
        current = anyio.current_time()
        if self._loop_start is None:
            self._loop_start = current
        return self._start + (current - self._loop_start)


def to_datetime(ts: float) -> datetime:
    """Convert epoch seconds to an aware UTC datetime, on the microsecond of `micros`.

    `timedelta(seconds=ts)` rounds a float differently from `ts * 1e6` about
    one time in eight, which would serve a `created_at` one microsecond off
    the key that listings order and filter by.
    """
    return EPOCH + timedelta(microseconds=micros(ts))


def rfc3339(ts: float) -> str:
    """Format epoch seconds as RFC 3339 with microseconds and a `Z`."""
    return to_datetime(ts).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def micros(ts: float) -> int:
    """Epoch seconds as whole microseconds, the key that orders listings."""
    return round(ts * 1_000_000)
