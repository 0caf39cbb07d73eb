"""The default data set: two organizations, realistic projects, history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ._clock import to_datetime
from ._lifecycle import RunScript
from ._records import Artifact, Result, Run
from ._state import State

ACME = "org_acme"
GLOBEX = "org_globex"


@dataclass(frozen=True, slots=True)
class SeedKeys:
    """API keys of the seeded organizations, one per role, plus one revoked."""

    admin: str
    qa: str
    viewer: str
    revoked: str
    other_org: str


def seed_default(state: State, data: str) -> SeedKeys:
    """Create the organizations, keys and (unless `empty`) projects and history.

    `org_acme` holds the projects of the seed documents: `proj_abc` with the
    suites `suite_pr_smoke` (25 cases) and `suite_full_regression` (2,000
    cases), and `proj_abc123` with `tc_login_001` and `tc_checkout_014`.
    `org_globex` exists so that scoping can be seen: its ids answer 404 to
    Acme's keys.
    """
    state.add_org(ACME, name="Acme Corp", environments={"qa-eu", "perf"})
    state.add_org(GLOBEX, name="Globex")
    keys = SeedKeys(
        admin=state.add_key(ACME, "admin", secret="zof_emu_admin_acme"),
        qa=state.add_key(ACME, "qa", secret="zof_emu_qa_acme"),
        viewer=state.add_key(ACME, "viewer", secret="zof_emu_viewer_acme"),
        revoked=state.add_key(ACME, "admin", secret="zof_emu_revoked_acme"),
        other_org=state.add_key(GLOBEX, "admin", secret="zof_emu_admin_globex"),
    )
    state.revoke_key(keys.revoked)
    if data == "empty":
        return keys
    abc = state.add_project(ACME, "proj_abc", name="Checkout Service", cases=2000)
    state.add_suite("proj_abc", "suite_pr_smoke", abc.case_ids[:25], name="PR smoke")
    state.add_suite("proj_abc", "suite_full_regression", abc.case_ids, name="Full regression")
    login = ["tc_login_001", "tc_login_002", "tc_login_003"]
    checkout = [f"tc_checkout_{i:03d}" for i in range(1, 21)]
    state.add_project(ACME, "proj_abc123", name="Storefront", cases=login + checkout)
    state.add_suite("proj_abc123", "suite_storefront", login + checkout, name="Storefront")
    state.add_project(GLOBEX, "proj_globex", name="Globex Billing", cases=50)
    state.add_suite("proj_globex", "suite_billing", [f"tc_proj_globex_{i:05d}" for i in range(50)])
    if data == "default":
        _history(state)
    return keys


def _history(state: State) -> None:
    """Finished runs over the past two weeks, with results, logs and artifacts."""
    now = to_datetime(state.clock.now())
    quick = RunScript(queue_seconds=5, duration_seconds=120)
    for day in range(14, 0, -1):
        state.add_run(
            "proj_abc",
            suite_id="suite_pr_smoke",
            created_at=now - timedelta(days=day, hours=3),
            script=quick,
        )
        if day % 3 == 0:
            state.add_run(
                "proj_abc123",
                suite_id="suite_storefront",
                environment="production",
                created_at=now - timedelta(days=day, hours=1),
                script=quick,
            )
    for day in (7, 1):
        state.add_run(
            "proj_abc",
            suite_id="suite_full_regression",
            created_at=now - timedelta(days=day, hours=6),
            script=RunScript(queue_seconds=30, duration_seconds=1800),
        )
    state.add_run(
        "proj_globex",
        suite_id="suite_billing",
        created_at=now - timedelta(days=2),
        script=quick,
    )


def bulk_run(
    state: State,
    results: int,
    *,
    run_id: str = "run_bench",
    artifacts_per_result: int = 1,
    per_instant: int = 1,
) -> str:
    """A finished run of `results` results (and artifacts), written directly.

    For benchmarks and load tests: skips logs and the lifecycle, so a million
    results take seconds. Results are spread evenly over the hour before now,
    `per_instant` consecutive ones sharing one `created_at` (the first group
    at exactly an hour before now).
    """
    store = state.store
    now = state.clock.now()
    start = now - 3600.0
    project = store.projects["proj_abc"]
    cases = [project.case_ids[i % len(project.case_ids)] for i in range(results)]
    run = Run(
        id=run_id, org_id=project.org_id, project_id=project.id, environment="staging",
        test_case_ids=None, test_suite_id="suite_full_regression", cases=cases, created=start,
        start_at=start, finish_at=[], planned=[], status="passed", started=start, completed=now,
        outcomes=[], counts={"passed": results},
    )  # fmt: skip
    store.add_run(run)
    groups = -(-results // max(per_instant, 1))
    step = 3600.0 / max(groups, 1)
    for i, case in enumerate(cases):
        when = start + (i // max(per_instant, 1)) * step
        result = store.add_result(
            Result(
                f"res_{run_id}_{i:07d}",
                project.org_id,
                run_id,
                case,
                "passed",
                1000 + i % 997,
                None,
                when,
            )
        )
        run.outcomes.append(("passed", result.id))
        for k in range(artifacts_per_result):
            store.add_artifact(
                Artifact(
                    f"art_{run_id}_{i:07d}_{k}",
                    project.org_id,
                    run_id,
                    result.id,
                    "log",
                    f"{case}.log",
                    "text/plain",
                    2048,
                    when,
                )
            )
    return run_id
