"""The single-object endpoints against the in-process emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timezone

import pytest

from tests.helpers import SMOKE
from zof_async import (
    AsyncZof,
    AuthenticationError,
    BadRequestError,
    CaseStatus,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    Result,
    ResultStatus,
    Run,
    RunStatus,
)
from zof_async.testing import Emulator, RunScript

pytestmark = pytest.mark.anyio


@pytest.fixture
async def zof(emulator: Emulator) -> AsyncIterator[AsyncZof]:
    """A client of the in-process emulator, as the qa key of org_acme."""
    async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as client:
        yield client


async def test_create_get_and_finish(emulator: Emulator, zof: AsyncZof) -> None:
    """A created run is queued, then read back failed with its outcomes and failed result."""
    emulator.script_next_run(RunScript(outcome="failed", queue_seconds=1, duration_seconds=10))
    run = await zof.runs.create(
        project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
    )
    assert isinstance(run, Run)
    assert run.status is RunStatus.QUEUED
    assert run.created_at.tzinfo == timezone.utc
    assert run.summary.total == 25
    assert run.url == f"https://app.zof.ai/runs/{run.id}"
    emulator.advance(20)
    done = await zof.runs.get(run.id)
    assert done.status is RunStatus.FAILED
    assert done.is_terminal
    assert done.started_at is not None
    assert done.completed_at is not None
    assert done.summary.failed == 1
    assert done.summary.done == 25
    assert done.case_outcomes is not None
    failed = [o for o in done.case_outcomes if o.status is CaseStatus.FAILED]
    assert failed[0].result_id is not None
    result = await zof.results.get(failed[0].result_id)
    assert isinstance(result, Result)
    assert result.status is ResultStatus.FAILED
    assert result.failure_summary


async def test_create_with_case_ids(zof: AsyncZof) -> None:
    """A run of named test cases keeps their ids and has no suite."""
    run = await zof.runs.create(
        project_id="proj_abc123",
        environment="qa-eu",
        test_case_ids=["tc_login_001", "tc_checkout_014"],
    )
    assert run.test_case_ids == ("tc_login_001", "tc_checkout_014")
    assert run.test_suite_id is None
    assert run.environment == "qa-eu"


async def test_idempotent_create_makes_one_run(emulator: Emulator, zof: AsyncZof) -> None:
    """A 502 retried, then the same Idempotency-Key again: one run, the same id each time."""
    emulator.faults.fail_next(1, status=502, method="POST", route="/runs")
    first = await zof.runs.create(**SMOKE, idempotency_key="build-1")
    again = await zof.runs.create(**SMOKE, idempotency_key="build-1")
    assert first.id == again.id
    assert len(emulator.runs_of("org_acme")) == 1
    assert emulator.stats.count(method="POST", route="/runs") == 3


async def test_cancel_and_conflict(emulator: Emulator, zof: AsyncZof) -> None:
    """Cancelling a run cancels it; cancelling it again is a ConflictError with a request id."""
    run = await zof.runs.create(
        project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
    )
    canceled = await zof.runs.cancel(run.id)
    assert canceled.status is RunStatus.CANCELED
    with pytest.raises(ConflictError) as caught:
        await zof.runs.cancel(run.id)
    assert caught.value.code == "conflict"
    assert caught.value.request_id is not None
    assert caught.value.request_id.startswith("req_")


async def test_status_errors_carry_code_param_and_request_id(
    emulator: Emulator, zof: AsyncZof
) -> None:
    """400, 404, another org, a viewer, a wrong key: typed errors with code, param, request id."""
    with pytest.raises(BadRequestError) as bad:
        await zof.runs.create(
            project_id="proj_abc", environment="moon", test_suite_id="suite_pr_smoke"
        )
    assert (bad.value.code, bad.value.param) == ("invalid_request", "environment")
    assert "environment must be one of" in bad.value.message
    with pytest.raises(NotFoundError) as missing:
        await zof.runs.get("run_does_not_exist")
    assert missing.value.request_id
    async with AsyncZof(api_key=emulator.keys.other_org, transport=emulator.transport()) as globex:
        run = await zof.runs.create(
            project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
        )
        with pytest.raises(NotFoundError):
            await globex.runs.get(run.id)
    async with AsyncZof(api_key=emulator.keys.viewer, transport=emulator.transport()) as viewer:
        with pytest.raises(PermissionDeniedError) as denied:
            await viewer.runs.create(
                project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
            )
        assert denied.value.code == "forbidden"
    async with AsyncZof(api_key="zof_wrong", transport=emulator.transport()) as stranger:
        with pytest.raises(AuthenticationError) as unauthorized:
            await stranger.runs.get(run.id)
        assert unauthorized.value.status_code == 401
    assert emulator.stats.count(status=500) == 0


async def test_errors_leave_async_with_unwrapped(emulator: Emulator) -> None:
    """A NotFoundError inside `async with AsyncZof()`, a pager prefetching: raised unwrapped."""

    async def fail_inside_the_client() -> None:
        async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
            await zof.runs.get("run_missing")

    async def fail_inside_a_prefetching_pager() -> None:
        async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
            for _ in range(3):
                await zof.runs.create(
                    project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
                )
            async with zof.runs.list(prefetch=2, page_size=1) as pager:
                await pager.__anext__()
                await zof.runs.get("run_missing")

    with pytest.raises(NotFoundError):
        await fail_inside_the_client()
    with pytest.raises(NotFoundError):
        await fail_inside_a_prefetching_pager()
