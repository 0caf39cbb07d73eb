"""The running event loop and its clock, found on the hot path without asking which library runs.

`anyio.current_time()` finds the running library (sniffio) on every call
before it reads the clock; the pipeline reads it at least twice a request.
asyncio is looked up rather than imported: a program running on it has it
loaded already, and `import zof_async` should not load it for one on trio.
"""

from __future__ import annotations

import sys
from typing import Any

import anyio


def running_loop() -> Any:
    """The running asyncio event loop, or `None` (none running: trio, or no loop)."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return None
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


_scope_types: list[Any] = []  # asyncio's `CancelScope` class, found once


def deadline_scope(deadline: float) -> anyio.CancelScope:
    """`anyio.CancelScope(deadline=deadline)`, on asyncio without asking which library runs.

    `anyio.CancelScope(...)` looks the library up (sniffio) each time it makes
    a scope; the pipeline makes one per attempt. On asyncio the scope's own
    class (anyio's asyncio one, found from a first scope) is called directly.
    """
    if running_loop() is None:
        return anyio.CancelScope(deadline=deadline)
    if not _scope_types:
        _scope_types.append(type(anyio.CancelScope()))
    scope: anyio.CancelScope = _scope_types[0](deadline=deadline)
    return scope


def loop_time() -> float:
    """`anyio.current_time()`: on asyncio its loop's `time()`, read directly, else anyio's."""
    loop = running_loop()
    return anyio.current_time() if loop is None else float(loop.time())
