"""The event loop's clock, read on the hot path without asking which library runs.

`anyio.current_time()` finds the running library (sniffio) on every call
before it reads the clock; the pipeline reads it at least twice a request.
"""

from __future__ import annotations

from asyncio import get_running_loop

import anyio


def loop_time() -> float:
    """`anyio.current_time()`: on asyncio its loop's `time()`, read directly, else anyio's."""
    try:
        return get_running_loop().time()
    except RuntimeError:  # no asyncio loop: trio, whose clock anyio reads
        return anyio.current_time()
