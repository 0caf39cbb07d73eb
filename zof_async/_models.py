"""The API's objects as plain frozen attrs classes.

Statuses are enums that tolerate values this version does not know: the API
may add a status, and a client built today must keep working, so
`RunStatus("paused")` yields a `RunStatus` whose `.value` is `"paused"`
instead of raising. Conversion from JSON lives in `_converter`.

The API adds fields over time. The models of its objects (`Run`,
`RunSummary`, `CaseOutcome`, `Result`, `Artifact`) keep the fields this
version does not know in `extra`, a read-only mapping (JSON objects inside it
are read-only mappings too, arrays are tuples), and `to_dict()` gives the
model back as the JSON the API sent: known and unknown fields together, a
field the API left out left out again, and a time in the very text it came
in (see `_rfc3339.SentTime`; a time set by hand is written as the API writes
them, `2026-12-07T19:00:00.000000Z`). The `object` field every API object
carries (`"run"`, `"result"`, `"artifact"`) is implied by the model and
written back when it was sent. Two models are equal (and hash alike) when
their fields and their `extra` are; how their times were spelled and which
fields were left out do not count. Webhook events are not such models (a
`run.completed` event's `run` is); `Page` and `ArtifactBatch` are not API
objects at all.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

import attrs

from . import _rfc3339 as rfc3339

__all__ = [
    "Artifact",
    "ArtifactBatch",
    "ArtifactDownload",
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


class _FrozenObject(Mapping[str, Any]):
    """A JSON object, read-only and hashable: what `extra` holds.

    Nested objects are `_FrozenObject`s and arrays tuples, so that a model
    holding one stays hashable. `absent` names the known fields the JSON left
    out (so `to_dict()` leaves them out too); it is not compared.
    """

    __slots__ = ("_absent", "_data", "_hash")

    def __init__(self, data: Mapping[str, Any] = {}, absent: frozenset[str] = frozenset()) -> None:
        self._data = {key: _freeze(value) for key, value in data.items()}
        self._absent = absent
        self._hash: int | None = None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _FrozenObject):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __repr__(self) -> str:
        return repr(self._data)

    def __reduce__(self) -> tuple[Any, ...]:
        # Not the cached hash: a string's hash differs from one process to the next.
        return (_FrozenObject, (self._data, self._absent))


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return _FrozenObject(value)
    if isinstance(value, list):
        return tuple([_freeze(each) for each in value])
    return value


def _as_extra(value: Mapping[str, Any]) -> _FrozenObject:
    return value if type(value) is _FrozenObject else _FrozenObject(value)


_NO_EXTRA = _FrozenObject()


def _thaw(value: Any) -> Any:
    if isinstance(value, _JSONModel):
        return value.to_dict()
    if isinstance(value, _FrozenObject):
        return {key: _thaw(each) for key, each in value.items()}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return rfc3339.format(value)
    if isinstance(value, tuple | list):
        return [_thaw(each) for each in value]
    return value


@attrs.frozen(kw_only=True)
class _JSONModel:
    """What every model of an API object has: `extra` and `to_dict()`."""

    OBJECT: ClassVar[str | None] = None
    """The API's `object` field of this kind of object, if it has one."""

    extra: Mapping[str, Any] = attrs.field(default=_NO_EXTRA, converter=_as_extra, repr=False)
    """The fields this version of the SDK does not know, as the API sent them
    (read-only; empty when there are none)."""

    def to_dict(self) -> dict[str, Any]:
        """The model as JSON-shaped data: known and unknown fields, as the API sent them.

        Of a decoded object, this equals the JSON it came from, times in the
        text they came in (see the module's docstring); `converter.structure`
        of it gives an equal object back. `attrs.evolve(obj, extra=...)`
        forgets which fields the API left out: they are written as `null`.
        """
        extra = self.extra
        absent = extra._absent if isinstance(extra, _FrozenObject) else frozenset()
        out = {} if self.OBJECT is None or "object" in absent else {"object": self.OBJECT}
        out.update(
            (field.name, _thaw(getattr(self, field.name)))
            for field in attrs.fields(type(self))
            if field.name != "extra" and field.name not in absent
        )
        out.update((key, _thaw(value)) for key, value in extra.items())
        return out


@attrs.frozen(kw_only=True)
class RunSummary(_JSONModel):
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
class CaseOutcome(_JSONModel):
    """One case of a run and, once it exists, its result."""

    test_case_id: str
    status: CaseStatus
    result_id: str | None = None


@attrs.frozen(kw_only=True)
class Run(_JSONModel):
    """A run of test cases against an environment.

    `case_outcomes` is present on `get`, `create` and `cancel`; listings omit it.
    """

    OBJECT = "run"

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
class Result(_JSONModel):
    """The outcome of one test case in one run."""

    OBJECT = "result"

    id: str
    run_id: str
    test_case_id: str
    status: ResultStatus
    created_at: datetime
    duration_ms: int | None = None
    logs_ref: str | None = None
    failure_summary: str | None = None


@attrs.frozen(kw_only=True)
class Artifact(_JSONModel):
    """A screenshot, trace, export or log attached to a run or a result."""

    OBJECT = "artifact"

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


@attrs.frozen(kw_only=True)
class ArtifactDownload:
    """What `download_many` did with one artifact.

    Attributes:
        artifact: The artifact.
        path: The file it was (or was to be) written to.
        size: Bytes in that file; `None` when the download failed.
        skipped: The file was already complete (of the artifact's size), so
            nothing was fetched: a bulk download run again resumes.
        error: The artifact's own error (e.g. a 404), or `None`.
    """

    artifact: Artifact
    path: Path
    size: int | None
    skipped: bool = False
    error: Exception | None = None

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
