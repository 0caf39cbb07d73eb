"""Streaming tests run on asyncio and on trio (anyio's pytest plugin)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from zof_async import AsyncZof
from zof_async.testing import Emulator, ManualClock


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def busy() -> Emulator:
    """Default data: two weeks of history, ~4,500 results."""
    return Emulator(clock=ManualClock())


@pytest.fixture
async def zof(busy: Emulator) -> AsyncIterator[AsyncZof]:
    async with AsyncZof(api_key=busy.keys.qa, transport=busy.transport()) as client:
        yield client
