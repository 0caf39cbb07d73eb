"""Per-operation traffic counters, carried by a ContextVar.

A fan-out or a wait installs a `Meter` in its context; every request sent
from tasks started in that context (they copy it) is counted on it. That is
how `bulk_artifacts(...).stats` counts exactly its own requests and retries,
and how adaptive concurrency hears about 429s that the pipeline retried.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

import attrs


@attrs.define
class Meter:
    """Counters for one operation, plus an optional 429 listener."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    on_rate_limited: Callable[[float], None] | None = None


_current: ContextVar[tuple[Meter, ...]] = ContextVar("zof_async_meters", default=())


def install(meter: Meter) -> None:
    """Count this context's requests on `meter` too (call at the top of a task)."""
    _current.set((*_current.get(), meter))


def note_request() -> None:
    for meter in _current.get():
        meter.requests += 1


def note_retry() -> None:
    for meter in _current.get():
        meter.retries += 1


def note_rate_limited(started: float) -> None:
    """A 429 arrived for a request sent at loop time `started`."""
    for meter in _current.get():
        meter.rate_limited += 1
        if meter.on_rate_limited is not None:
            meter.on_rate_limited(started)
