"""The README's "Testing your code" example, run as written (with an asyncio mark)."""

import pytest

from zof_async import AsyncZof
from zof_async.testing import RunScript


@pytest.mark.asyncio
async def test_my_gate(zof_emulator, zof_no_backoff):  # type: ignore[no-untyped-def]  # fixtures of the pytest plugin
    zof_emulator.script_next_run(RunScript(outcome="failed", duration_seconds=60))
    async with AsyncZof(api_key=zof_emulator.keys.qa, transport=zof_emulator.transport()) as zof:
        run = await zof.runs.create(
            project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
        )
        zof_emulator.advance(61)  # a ManualClock: no sleeping
        assert (await zof.runs.get(run.id)).status == "failed"
    assert zof_emulator.stats.count(method="POST", route="/runs") == 1
