"""`zof.runs`, `zof.results`, `zof.artifacts` for sync code: each method derived from its async one.

Every public method of an async resource has its sync counterpart here,
assigned from `derive` (tests/sync/test_parity.py checks that none is
missing and that each has the same parameters).
"""

from __future__ import annotations

from .._resources._artifacts import Artifacts, ArtifactsWithRawResponse
from .._resources._results import Results, ResultsWithRawResponse
from .._resources._runs import Runs, RunsWithRawResponse
from ._derive import Owner, derive

__all__ = ["SyncArtifacts", "SyncResults", "SyncRuns"]


class SyncRuns:
    """Operations on runs (`/runs`); see `zof_async.AsyncZof.runs` for each method.

    Attributes:
        with_raw_response: every method, with its answers' metadata.
    """

    def __init__(self, owner: Owner, runs: Runs) -> None:
        self.create = derive(owner, runs.create)
        self.get = derive(owner, runs.get)
        self.cancel = derive(owner, runs.cancel)
        self.list = derive(owner, runs.list)
        self.artifacts = derive(owner, runs.artifacts)
        self.logs = derive(owner, runs.logs)
        self.watch = derive(owner, runs.watch)
        self.wait_until_complete = derive(owner, runs.wait_until_complete)
        self.with_raw_response = SyncRunsWithRawResponse(owner, runs.with_raw_response)


class SyncRunsWithRawResponse:
    """`zof.runs.with_raw_response`: each method with its answers' metadata."""

    def __init__(self, owner: Owner, raw: RunsWithRawResponse) -> None:
        self.create = derive(owner, raw.create)
        self.get = derive(owner, raw.get)
        self.cancel = derive(owner, raw.cancel)
        self.list = derive(owner, raw.list)
        self.artifacts = derive(owner, raw.artifacts)
        self.logs = derive(owner, raw.logs)
        self.watch = derive(owner, raw.watch)
        self.wait_until_complete = derive(owner, raw.wait_until_complete)


class SyncResults:
    """Operations on results (`/results`); see `zof_async.AsyncZof.results` for each method.

    Attributes:
        with_raw_response: every method, with its answers' metadata.
    """

    def __init__(self, owner: Owner, results: Results) -> None:
        self.get = derive(owner, results.get)
        self.list = derive(owner, results.list)
        self.artifacts = derive(owner, results.artifacts)
        self.bulk_artifacts = derive(owner, results.bulk_artifacts)
        self.export = derive(owner, results.export)
        self.export_to = derive(owner, results.export_to)
        self.export_rows = derive(owner, results.export_rows)
        self.with_raw_response = SyncResultsWithRawResponse(owner, results.with_raw_response)


class SyncResultsWithRawResponse:
    """`zof.results.with_raw_response`: each method with its answers' metadata."""

    def __init__(self, owner: Owner, raw: ResultsWithRawResponse) -> None:
        self.get = derive(owner, raw.get)
        self.export_to = derive(owner, raw.export_to)
        self.list = derive(owner, raw.list)
        self.artifacts = derive(owner, raw.artifacts)
        self.bulk_artifacts = derive(owner, raw.bulk_artifacts)
        self.export = derive(owner, raw.export)
        self.export_rows = derive(owner, raw.export_rows)


class SyncArtifacts:
    """Operations on artifacts (`/artifacts`); see `zof_async.AsyncZof.artifacts`.

    Attributes:
        with_raw_response: every method, with its answers' metadata.
    """

    def __init__(self, owner: Owner, artifacts: Artifacts) -> None:
        self.download = derive(owner, artifacts.download)
        self.read = derive(owner, artifacts.read)
        self.open = derive(owner, artifacts.open)
        self.download_many = derive(owner, artifacts.download_many)
        self.with_raw_response = SyncArtifactsWithRawResponse(owner, artifacts.with_raw_response)


class SyncArtifactsWithRawResponse:
    """`zof.artifacts.with_raw_response`: each method with its answers' metadata."""

    def __init__(self, owner: Owner, raw: ArtifactsWithRawResponse) -> None:
        self.download = derive(owner, raw.download)
        self.read = derive(owner, raw.read)
        self.open = derive(owner, raw.open)
        self.download_many = derive(owner, raw.download_many)
