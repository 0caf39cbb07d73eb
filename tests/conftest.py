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


# Tests that run on the newest supported Python only (`nox -s tests` runs the
# rest on the oldest as well): the ones driving an engine (Ray, Dask, dlt), the `zof`
# command or the emulator in other processes, the site's build, and long searches
# (`slow`). They exercise through other processes the same code the in-process
# tests cover, and are most of the suite's time, so CI runs the whole suite once.
NEWEST_ONLY_DIRS = (
    "tests/ray/",
    "tests/dask/",
    "tests/dlt/",
    "tests/cli/",
    "tests/docs/test_site.py",
)
NEWEST_ONLY_MARKS = ("served", "slow")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `newest_only` the tests of NEWEST_ONLY_DIRS and those marked served or slow."""
    for item in items:
        in_dir = item.nodeid.startswith(NEWEST_ONLY_DIRS)
        if in_dir or any(item.get_closest_marker(name) for name in NEWEST_ONLY_MARKS):
            item.add_marker(pytest.mark.newest_only)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Under pytest-xdist (`nox -s tests`), every test of tests/ray/ runs on one worker.

    One local Ray (2 CPUs, seconds to start) per run, not one per worker; the same
    for tests/docs/test_site.py, which builds the documentation site once. Any
    other test is a scope of its own, spread like `--dist load`. (`--dist
    loadgroup` would do, but xdist 3.8's group marks are lost on pytest 9.2.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class RayOnOneWorker(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            for scope in ("tests/ray/", "tests/docs/test_site.py"):
                if nodeid.startswith(scope):
                    return scope
            return nodeid

    return RayOnOneWorker(config, log)
