"""Sleeping for a backoff or a `Retry-After`, and the testing switch that turns it off.

Every retry sleep, every wait at the 429 gate and every wait for a pacing
slot goes through `sleep`: the one place `set_testing` is read, so tests
keep every retry, in the same order and number, without waiting.
"""

from __future__ import annotations

import anyio

__all__ = ["TestingSwitch", "is_testing", "set_testing", "sleep"]


class _Sleeping:
    """Whether backoff and `Retry-After` sleeps happen; one switch per process."""

    enabled = True


class TestingSwitch:
    """What `set_testing` returns: the previous setting, and a way back to it.

    Use it as a context manager (`with set_testing(True): ...`) to restore the
    previous setting on exit; `bool()` of it is the previous setting, so
    `previous = set_testing(True)` ... `set_testing(previous)` works too.
    """

    def __init__(self, previous: bool) -> None:
        self.previous = previous

    def __bool__(self) -> bool:
        return self.previous

    def __enter__(self) -> TestingSwitch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        _Sleeping.enabled = not self.previous


def set_testing(enabled: bool | TestingSwitch = True) -> TestingSwitch:
    """Turn every backoff and `Retry-After` sleep off (`True`) or back on.

    For tests: retries still happen, in the same order and number, without
    waiting. Returns the previous setting, which also restores it as a
    context manager:

    ```python
    with set_testing(True):
        ...
    ```
    """
    switch = TestingSwitch(not _Sleeping.enabled)
    _Sleeping.enabled = not bool(enabled)
    return switch


def is_testing() -> bool:
    """Whether `set_testing(True)` is in force."""
    return not _Sleeping.enabled


async def sleep(seconds: float) -> bool:
    """Sleep `seconds` for a backoff or a `Retry-After`; `False` (at once) while testing.

    The one place the testing switch is read: every retry sleep and every
    wait at the 429 gate goes through here.
    """
    if not _Sleeping.enabled:
        return False
    await anyio.sleep(seconds)
    return True
