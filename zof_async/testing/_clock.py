"""Clocks that drive the emulator's notion of "now".

Runs move through their states, idempotency keys expire and rate limits refill
according to the emulator's clock. Tests inject a `ManualClock` and call
`advance()` instead of sleeping; the served emulator uses `SystemClock`;
virtual-time benchmarks use `LoopClock`, which follows the event loop's clock
(trio's `MockClock`, for example).
"""

from __future__ import annotations

import calendar
import re
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


_DATE_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d+)?(?:[Zz]|([+-])(\d\d):(\d\d))",
    re.ASCII,
)


def parse_micros(text: str) -> int:
    """An RFC 3339 `date-time` (section 5.6) as epoch microseconds, rounded up.

    The server's own reading of a time filter, independent of the client's
    parser: digits past the microsecond round it up (so `created_at >= t`
    and `< t` stay exact for a `t` given to the nanosecond); a leap second
    (`:60`) is the last microsecond before it; the offset is required.

    Raises:
        ValueError: `text` is not an RFC 3339 `date-time`.
    """
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    year, month, day, hour, minute, second = map(int, match.group(1, 2, 3, 4, 5, 6))
    fraction, sign, offset_h, offset_m = match.group(7, 8, 9, 10)
    if hour > 23 or minute > 59 or second > 60:
        raise ValueError(f"time out of range: {text!r}")
    if sign is not None and (int(offset_h) > 23 or int(offset_m) > 59):
        raise ValueError(f"offset out of range: {text!r}")
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise ValueError(f"no such date: {text!r}")
    digits = (fraction or ".")[1:]
    micro = int(digits[:6].ljust(6, "0"))
    if second == 60:
        second, micro = 59, 999_999
    micro += 1 if digits[6:].strip("0") else 0
    offset = (
        0 if sign is None else (int(offset_h) * 60 + int(offset_m)) * (1 if sign == "+" else -1)
    )
    seconds = calendar.timegm((year, month, day, hour, minute, second)) - offset * 60
    return seconds * 1_000_000 + micro
