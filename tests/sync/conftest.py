"""A `Zof` on the in-process emulator, in real time (its ASGI app runs on the client's loop)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zof_async import Zof
from zof_async.testing import Emulator, RunScript, SystemClock

QUICK = RunScript(queue_seconds=0, duration_seconds=0.5, outcome="passed")


@pytest.fixture
def emulator() -> Emulator:
    """Default data (~4,500 results), a system clock, no `Retry-After` on polls."""
    return Emulator(clock=SystemClock(), poll_hint=None, run_script=QUICK)


@pytest.fixture
def zof(emulator: Emulator) -> Iterator[Zof]:
    """A `Zof` on the emulator, closed after the test."""
    with Zof(api_key=emulator.keys.qa, transport=emulator.transport()) as client:
        yield client
