"""Shared fixtures: emulators on a manual clock, and plain httpx clients for them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from zof_async.testing import Emulator, ManualClock, set_testing


@pytest.fixture
def emulator() -> Emulator:
    """A small emulator (no history) on a ManualClock."""
    return Emulator(data="minimal", clock=ManualClock())


@pytest.fixture
async def http(emulator: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    """A raw httpx client on the in-process emulator, as the admin of org_acme.

    A plain async fixture: anyio's pytest plugin runs it for tests marked `anyio`.
    """
    async with emulator.client() as client:
        yield client


@pytest.fixture
def anyio_backend() -> str:
    """Tests marked `anyio` run on asyncio unless a module parametrizes trio."""
    return "asyncio"


@pytest.fixture
def router() -> respx.MockRouter:
    """A respx router for the production base URL; unmatched routes are not required."""
    return respx.MockRouter(base_url="https://api.zof.ai/v1", assert_all_called=False)


@pytest.fixture
def no_backoff() -> Iterator[None]:
    """Retries without backoff sleeps (`set_testing`), restored afterwards."""
    previous = set_testing(True)
    yield
    set_testing(previous)
