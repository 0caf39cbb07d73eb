"""The emulator's records and how each renders on the wire."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._clock import micros, rfc3339

TERMINAL_RUN_STATUSES = frozenset({"passed", "failed", "error", "canceled"})
RUN_STATUSES = frozenset({"queued", "running"}) | TERMINAL_RUN_STATUSES
RESULT_STATUSES = frozenset({"passed", "failed", "error", "skipped"})
ROLES = ("viewer", "qa", "admin")
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset(),
    "qa": frozenset({"runs:create", "runs:cancel", "results:export"}),
    "admin": frozenset({"runs:create", "runs:cancel", "results:export", "*"}),
}


@dataclass(slots=True)
class Org:
    id: str
    name: str
    environments: set[str]


@dataclass(slots=True)
class ApiKey:
    secret: str
    org_id: str
    role: str
    revoked: bool = False


@dataclass(slots=True)
class Project:
    id: str
    org_id: str
    name: str
    case_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Suite:
    id: str
    org_id: str
    project_id: str
    name: str
    case_ids: list[str]


@dataclass(slots=True)
class Run:
    id: str
    org_id: str
    project_id: str
    environment: str
    test_case_ids: list[str] | None
    test_suite_id: str | None
    cases: list[str]
    created: float
    start_at: float
    # Per case, in case order: when its result appears and what it will be.
    finish_at: list[float]
    planned: list[str]
    status: str = "queued"
    started: float | None = None
    completed: float | None = None
    # Indices of `cases` in the order their results appear.
    order: list[int] = field(default_factory=list)
    produced: int = 0
    outcomes: list[tuple[str, str | None]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    terminal_override: str | None = None

    @property
    def key(self) -> tuple[int, str]:
        return (micros(self.created), self.id)

    def render(self, base_app_url: str, *, detail: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "object": "run",
            "project_id": self.project_id,
            "environment": self.environment,
            "status": self.status,
            "test_case_ids": self.test_case_ids,
            "test_suite_id": self.test_suite_id,
            "created_at": rfc3339(self.created),
            "started_at": None if self.started is None else rfc3339(self.started),
            "completed_at": None if self.completed is None else rfc3339(self.completed),
            "summary": {
                "total": len(self.cases),
                "passed": self.counts.get("passed", 0),
                "failed": self.counts.get("failed", 0),
                "error": self.counts.get("error", 0),
                "skipped": self.counts.get("skipped", 0),
            },
            "url": f"{base_app_url}/runs/{self.id}",
        }
        if detail:
            body["case_outcomes"] = [
                {"test_case_id": case, "status": status, "result_id": result_id}
                for case, (status, result_id) in zip(self.cases, self.outcomes, strict=True)
            ]
        return body


@dataclass(slots=True)
class Result:
    id: str
    org_id: str
    run_id: str
    test_case_id: str
    status: str
    duration_ms: int
    failure_summary: str | None
    created: float

    @property
    def key(self) -> tuple[int, str]:
        return (micros(self.created), self.id)

    def render(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "result",
            "run_id": self.run_id,
            "test_case_id": self.test_case_id,
            "status": self.status,
            "duration_ms": self.duration_ms,
            "logs_ref": f"logs/{self.run_id}/{self.test_case_id}",
            "failure_summary": self.failure_summary,
            "created_at": rfc3339(self.created),
        }


@dataclass(slots=True)
class Artifact:
    id: str
    org_id: str
    run_id: str
    result_id: str | None
    kind: str
    name: str
    content_type: str
    size_bytes: int
    created: float

    @property
    def key(self) -> tuple[int, str]:
        return (micros(self.created), self.id)

    def render(self, base_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "artifact",
            "run_id": self.run_id,
            "result_id": self.result_id,
            "kind": self.kind,
            "name": self.name,
            "content_type": self.content_type,
            "size_bytes": self.size_bytes,
            "download_url": f"{base_url}/artifacts/{self.id}/content",
            "created_at": rfc3339(self.created),
        }
