"""Counters of a client's traffic, and meters that count one operation's share.

The pipeline counts every attempt on the client's `Traffic`, and on the
`Meter` a call names (`Call.meter`, how `bulk_artifacts` counts exactly its
own requests) and on every meter watching the whole client (`Traffic.watch`,
how `zof.map`, whose function may send anything, hears about 429s). A meter's
`on_rate_limited` is how a fan-out's adaptive concurrency learns of a 429
that the pipeline then retried.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import attrs


@attrs.define
class Meter:
    """Counters for one operation, plus an optional 429 listener.

    Attributes:
        requests: Attempts sent.
        retries: Attempts after the first of their call.
        rate_limited: 429 answers received.
        on_rate_limited: Called with the loop time the 429's request was sent.
    """

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    on_rate_limited: Callable[[float], None] | None = None


class Traffic:
    """A client's counters (shared with its `with_options` copies) and watching meters."""

    def __init__(self) -> None:
        self.requests_sent = 0
        self.retries = 0
        self.rate_limited = 0
        self._watchers: list[Meter] = []

    @contextmanager
    def watch(self, meter: Meter) -> Iterator[Meter]:
        """Count every attempt of the client on `meter` too, inside the block."""
        self._watchers.append(meter)
        try:
            yield meter
        finally:
            self._watchers = [each for each in self._watchers if each is not meter]

    def _meters(self, meter: Meter | None) -> list[Meter]:
        return self._watchers if meter is None else [meter, *self._watchers]

    def sent(self, meter: Meter | None) -> None:
        """An attempt was handed to the transport."""
        self.requests_sent += 1
        if meter is not None:
            meter.requests += 1
        for each in self._watchers:  # the hot path: no list made per attempt
            each.requests += 1

    def retried(self, meter: Meter | None) -> None:
        """A call goes on to another attempt."""
        self.retries += 1
        if meter is not None or self._watchers:
            for each in self._meters(meter):
                each.retries += 1

    def limited(self, meter: Meter | None, sent_at: float) -> None:
        """A 429 arrived for an attempt sent at loop time `sent_at`."""
        self.rate_limited += 1
        for each in self._meters(meter):
            each.rate_limited += 1
            if each.on_rate_limited is not None:
                each.on_rate_limited(sent_at)
