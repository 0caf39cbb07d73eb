"""How runs move from `queued` to a terminal status, driven by the clock.

A run is planned when it is created: when it starts, when each case's result
appears and what that result is. Nothing runs in the background; every request
first calls `Lifecycle.advance(now)`, which materialises whatever the plan says
has happened by `now` (results, their artifacts, log lines, status changes).
That is what lets a `ManualClock` drive runs without any sleeping.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ._clock import rfc3339
from ._records import RESULT_STATUSES, TERMINAL_RUN_STATUSES, Artifact, Result, Run
from ._store import Store

Outcome = Literal["passed", "failed", "error"]

_FAILURES = (
    "AssertionError: expected status 200, got 500",
    "TimeoutError: element #checkout-button not visible after 10s",
    "AssertionError: cart total 41.99 != 42.00",
    "ConnectionError: payment sandbox refused connection",
)


@dataclass(frozen=True, slots=True)
class RunScript:
    """How a run will behave.

    Attributes:
        outcome: Force the terminal status: `passed` (every case passes),
            `failed` (at least one case fails, none errors) or `error` (one case
            errors). `None` draws each case at random with the rates below.
        queue_seconds: Time spent `queued` before the run starts.
        duration_seconds: Time from start to the last result; `None` means
            `2 + 0.01 * cases` seconds.
        fail_rate: Chance that a case fails when `outcome` is `None`.
        error_rate: Chance that a case errors when `outcome` is `None`.
        skip_rate: Chance that a case is skipped when `outcome` is `None`.
        case_statuses: Exact statuses for named cases, applied last.
    """

    outcome: Outcome | None = None
    queue_seconds: float = 1.0
    duration_seconds: float | None = None
    fail_rate: float = 0.03
    error_rate: float = 0.002
    skip_rate: float = 0.02
    case_statuses: dict[str, str] = field(default_factory=dict)

    def plan(self, rng: random.Random, cases: list[str]) -> list[str]:
        """Draw the result status of every case."""
        n = len(cases)
        if self.outcome == "passed":
            statuses = ["passed"] * n
        elif self.outcome in ("failed", "error"):
            statuses = ["passed"] * n
            statuses[rng.randrange(n)] = self.outcome
        else:
            statuses = []
            for _ in cases:
                draw = rng.random()
                if draw < self.error_rate:
                    statuses.append("error")
                elif draw < self.error_rate + self.fail_rate:
                    statuses.append("failed")
                elif draw < self.error_rate + self.fail_rate + self.skip_rate:
                    statuses.append("skipped")
                else:
                    statuses.append("passed")
        for i, case in enumerate(cases):
            if case in self.case_statuses:
                statuses[i] = self.case_statuses[case]
        return statuses


class Lifecycle:
    """Plans runs and materialises their progress as the clock moves."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._due: list[tuple[float, str]] = []
        # Called with each run as it turns terminal (the webhook sender's hook).
        self.on_terminal: Callable[[Run], None] | None = None

    def next_change(self) -> float | None:
        """When the next planned change of any run happens (`None`: nothing planned)."""
        return self._due[0][0] if self._due else None

    def start(
        self,
        *,
        org_id: str,
        project_id: str,
        environment: str,
        test_case_ids: list[str] | None,
        test_suite_id: str | None,
        cases: list[str],
        script: RunScript,
        now: float,
    ) -> Run:
        """Create and plan a run created at `now`."""
        rng = self._store.rng
        start_at = now + max(script.queue_seconds, 0.0)
        duration = script.duration_seconds
        if duration is None:
            duration = 2.0 + 0.01 * len(cases)
        n = len(cases)
        finish_at = sorted(start_at + duration * (i + rng.random()) / n for i in range(n))
        order = list(range(n))
        rng.shuffle(order)
        planned = script.plan(rng, cases)
        run = Run(
            id=self._store.new_id("run"),
            org_id=org_id,
            project_id=project_id,
            environment=environment,
            test_case_ids=test_case_ids,
            test_suite_id=test_suite_id,
            cases=cases,
            created=now,
            start_at=start_at,
            finish_at=finish_at,
            planned=planned,
            order=order,
            outcomes=[("pending", None)] * n,
        )
        run.logs.append(f"{rfc3339(now)} INFO run {run.id} queued with {n} cases")
        self._store.add_run(run)
        heapq.heappush(self._due, (start_at, run.id))
        return run

    def cancel(self, run: Run, now: float) -> None:
        """Stop a run: no further results appear."""
        run.status = "canceled"
        run.completed = now
        run.logs.append(f"{rfc3339(now)} WARN run canceled")
        if self.on_terminal is not None:
            self.on_terminal(run)

    def advance(self, now: float) -> None:
        """Materialise everything that has happened by `now`."""
        due = self._due
        while due and due[0][0] <= now:
            _, run_id = heapq.heappop(due)
            run = self._store.runs[run_id]
            if run.status in TERMINAL_RUN_STATUSES:
                continue
            next_at = self._progress(run, now)
            if next_at is not None:
                heapq.heappush(due, (next_at, run_id))

    def _progress(self, run: Run, now: float) -> float | None:
        if run.status == "queued":
            if now < run.start_at:
                return run.start_at
            run.status = "running"
            run.started = run.start_at
            run.logs.append(f"{rfc3339(run.start_at)} INFO run started")
        n = len(run.cases)
        while run.produced < n and run.finish_at[run.produced] <= now:
            self._produce(run, run.produced)
            run.produced += 1
        if run.produced < n:
            return run.finish_at[run.produced]
        finished = run.finish_at[-1] if n else run.start_at
        if run.terminal_override:
            run.status = run.terminal_override
        elif run.counts.get("error"):
            run.status = "error"
        elif run.counts.get("failed"):
            run.status = "failed"
        else:
            run.status = "passed"
        run.completed = finished
        self._store.add_artifact(
            Artifact(
                id=self._store.new_id("art"),
                org_id=run.org_id,
                run_id=run.id,
                result_id=None,
                kind="export",
                name="junit-report.xml",
                content_type="application/xml",
                size_bytes=200 + 120 * n,
                created=finished,
            )
        )
        run.logs.append(f"{rfc3339(finished)} INFO run {run.status}: {run.counts}")
        if self.on_terminal is not None:
            self.on_terminal(run)
        return None

    def _produce(self, run: Run, slot: int) -> None:
        store = self._store
        index = run.order[slot]
        case = run.cases[index]
        when = run.finish_at[slot]
        status = run.planned[index]
        if status not in RESULT_STATUSES:
            status = "error"
        rng = store.rng
        failure = rng.choice(_FAILURES) if status in ("failed", "error") else None
        result = store.add_result(
            Result(
                id=store.new_id("res"),
                org_id=run.org_id,
                run_id=run.id,
                test_case_id=case,
                status=status,
                duration_ms=rng.randint(50, 20_000),
                failure_summary=failure,
                created=when,
            )
        )
        run.outcomes[index] = (status, result.id)
        run.counts[status] = run.counts.get(status, 0) + 1
        level = "INFO" if status in ("passed", "skipped") else "ERROR"
        line = f"{rfc3339(when)} {level} {case} {status} in {result.duration_ms} ms"
        run.logs.append(line + (f": {failure}" if failure else ""))
        kinds = [("log", f"{case}.log", "text/plain", rng.randint(800, 6_000))]
        if status in ("failed", "error"):
            kinds.append(("screenshot", f"{case}.png", "image/png", rng.randint(20_000, 90_000)))
            kinds.append(
                ("trace", f"{case}.trace.zip", "application/zip", rng.randint(50_000, 200_000))
            )
        for kind, name, content_type, size in kinds:
            store.add_artifact(
                Artifact(
                    id=store.new_id("art"),
                    org_id=run.org_id,
                    run_id=run.id,
                    result_id=result.id,
                    kind=kind,
                    name=name,
                    content_type=content_type,
                    size_bytes=size,
                    created=when,
                )
            )
