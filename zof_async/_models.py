"""The API's objects as plain frozen attrs classes.

Statuses are enums that tolerate values this version does not know: the API
may add a status, and a client built today must keep working, so
`RunStatus("paused")` yields a `RunStatus` whose `.value` is `"paused"`
instead of raising. Conversion from JSON lives in `_converter`.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs

__all__ = [
    "Artifact",
    "ArtifactBatch",
    "ArtifactKind",
    "CaseOutcome",
    "CaseStatus",
    "Page",
    "Result",
    "ResultStatus",
    "Run",
    "RunStatus",
    "RunSummary",
]

T = TypeVar("T")


class _OpenEnum(str, enum.Enum):
    """A string enum that accepts unknown values as pseudo-members."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        pseudo = str.__new__(cls, value)
        pseudo._name_ = value.upper()
        pseudo._value_ = value
        return pseudo

    def __str__(self) -> str:
        return str(self.value)

    @property
    def is_known(self) -> bool:
        """Whether this value is one this version of the SDK documents."""
        return self._name_ in type(self).__members__


class RunStatus(_OpenEnum):
    """Where a run is: `queued`, `running`, or a terminal status."""

    QUEUED = "queued"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        """`passed`, `failed`, `error` and `canceled` are final."""
        return self in _TERMINAL


_TERMINAL = frozenset({RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR, RunStatus.CANCELED})


class ResultStatus(_OpenEnum):
    """The outcome of one test case."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


class CaseStatus(_OpenEnum):
    """A case's status inside a run: `pending` until its result exists."""

    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


class ArtifactKind(_OpenEnum):
    """What an artifact holds."""

    SCREENSHOT = "screenshot"
    TRACE = "trace"
    EXPORT = "export"
    LOG = "log"


@attrs.frozen(kw_only=True)
class RunSummary:
    """Counts of a run's results by status."""

    total: int = 0
    passed: int = 0
    failed: int = 0
    error: int = 0
    skipped: int = 0

    @property
    def done(self) -> int:
        """Cases whose result exists."""
        return self.passed + self.failed + self.error + self.skipped


@attrs.frozen(kw_only=True)
class CaseOutcome:
    """One case of a run and, once it exists, its result."""

    test_case_id: str
    status: CaseStatus
    result_id: str | None = None


@attrs.frozen(kw_only=True)
class Run:
    """A run of test cases against an environment.

    `case_outcomes` is present on `get`, `create` and `cancel`; listings omit it.
    """

    id: str
    project_id: str
    environment: str
    status: RunStatus
    created_at: datetime
    test_case_ids: tuple[str, ...] | None = None
    test_suite_id: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    summary: RunSummary = RunSummary()
    case_outcomes: tuple[CaseOutcome, ...] | None = None
    url: str | None = None

    @property
    def is_terminal(self) -> bool:
        """Whether the run has finished (passed, failed, error or canceled)."""
        return self.status.is_terminal


@attrs.frozen(kw_only=True)
class Result:
    """The outcome of one test case in one run."""

    id: str
    run_id: str
    test_case_id: str
    status: ResultStatus
    created_at: datetime
    duration_ms: int | None = None
    logs_ref: str | None = None
    failure_summary: str | None = None


@attrs.frozen(kw_only=True)
class Artifact:
    """A screenshot, trace, export or log attached to a run or a result."""

    id: str
    run_id: str
    kind: ArtifactKind
    name: str
    content_type: str
    size_bytes: int
    download_url: str
    created_at: datetime
    result_id: str | None = None


@attrs.frozen(kw_only=True)
class Page(Generic[T]):
    """One page of a listing: its items and the cursor of the next page.

    Attributes:
        items: The page's items.
        next_cursor: Where the next page starts; `None` on the last page.
        has_more: As the API said.
        request_id: The `X-Request-Id` of the answer that brought this page,
            for support escalation. Not part of the page's JSON (it comes
            from the headers), and not compared by `==`.
    """

    items: tuple[T, ...]
    next_cursor: str | None
    has_more: bool = False
    request_id: str | None = attrs.field(default=None, eq=False)


@attrs.frozen(kw_only=True)
class ArtifactBatch:
    """What `bulk_artifacts` found for one result: its artifacts, or the error."""

    result_id: str
    artifacts: tuple[Artifact, ...] | None
    error: Exception | None

    @property
    def ok(self) -> bool:
        return self.error is None


# Webhook events: a `run.completed` event becomes a `RunCompletedEvent` carrying
# the `Run`; any event type this version does not know becomes an
# `UnknownWebhookEvent` with its raw `data`, so a receiver built today keeps
# working when the API starts sending new event types.


@attrs.frozen(kw_only=True)
class WebhookEvent:
    """What every event has: its id (the `webhook-id`), type and creation time."""

    id: str
    type: str
    created_at: datetime


@attrs.frozen(kw_only=True)
class RunCompletedEvent(WebhookEvent):
    """`run.completed`: a run reached a terminal status.

    `run` is the run as `GET /runs/{id}` renders it, without `case_outcomes`.
    """

    run: Run


@attrs.frozen(kw_only=True)
class UnknownWebhookEvent(WebhookEvent):
    """An event type this version of the SDK does not know; `data` is its raw `data`."""

    data: dict[str, Any] = attrs.field(factory=dict)
