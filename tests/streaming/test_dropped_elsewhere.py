"""A fan-out whose last reference goes in another thread still stops its work.

The sync client (`Zof`) holds async pagers and fan-outs for callers in other
threads; the cyclic garbage collector may free one in whichever thread it runs
in. The work's cancel scope may only be cancelled in its event loop's thread:
cancelled from elsewhere, the cancellation was marked but never delivered, and
the client's task group then waited for that task forever.
"""

from __future__ import annotations

import threading

import anyio
import pytest

from zof_async import AsyncZof
from zof_async.testing import Emulator

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def drop_in_another_thread(holder: list[object]) -> None:
    """Let go of the only reference to `holder[0]` from a thread of its own."""
    thread = threading.Thread(target=holder.clear)
    thread.start()
    thread.join()


async def test_a_fan_out_dropped_in_another_thread_stops_its_calls(emulator: Emulator) -> None:
    """The client's block ends at once after a running fan-out was freed in another thread."""
    emulator.add_bulk_run(50, artifacts_per_result=1)
    emulator.faults.latency = 0.01  # calls still running when the fan-out is dropped
    with anyio.fail_after(10):
        async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
            ids = [r.id async for r in zof.results.list(page_size=100)]
            fan = zof.results.bulk_artifacts(ids, concurrency=2)
            await fan.__anext__()
            holder: list[object] = [fan]
            del fan
            drop_in_another_thread(holder)
            await anyio.sleep(0.05)
