"""`zof.runs`: start, inspect, cancel, list, wait for and read runs."""

from __future__ import annotations

from collections.abc import Sequence

from ._converter import decode
from ._models import Run
from ._paths import path
from ._pipeline import Pipeline


class Runs:
    """Operations on runs (`/runs`)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    async def create(
        self,
        *,
        project_id: str,
        environment: str,
        test_case_ids: Sequence[str] | None = None,
        test_suite_id: str | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
    ) -> Run:
        """Start a run of a suite or of explicit cases (`POST /runs`).

        Args:
            project_id: The project whose cases run.
            environment: `staging`, `production`, or a custom label.
            test_case_ids: The cases to run; or give `test_suite_id` instead.
            test_suite_id: The suite to run; or give `test_case_ids` instead.
            idempotency_key: Sent as `Idempotency-Key` (a uuid4 if omitted) and
                reused on every retry, so a retried create never starts two
                runs. Pass your own (e.g. the CI build id) to make a re-run of
                your job replay the first run instead of starting another.
            timeout: Total seconds for the call, across retries.

        Raises:
            ValueError: Before any request, for arguments that cannot be valid.
        """
        body: dict[str, object] = {
            "project_id": _text("project_id", project_id),
            "environment": _text("environment", environment),
        }
        if (test_case_ids is None) == (test_suite_id is None):
            raise ValueError("give exactly one of test_case_ids and test_suite_id")
        if test_case_ids is not None:
            if isinstance(test_case_ids, str) or not test_case_ids:
                raise ValueError("test_case_ids must be a non-empty list of case ids")
            body["test_case_ids"] = [_text("test_case_ids[]", c) for c in test_case_ids]
        else:
            body["test_suite_id"] = _text("test_suite_id", test_suite_id)
        if idempotency_key is not None:
            _idempotency_key(idempotency_key)
        pipeline = self._pipeline
        request = pipeline.build("POST", "/runs", json=body, idempotency_key=idempotency_key)
        return decode(await pipeline.send(request, total_timeout=_timeout(timeout)), Run)

    async def get(self, run_id: str, *, timeout: float | None = None) -> Run:
        """Fetch a run with its summary and case outcomes (`GET /runs/{id}`)."""
        request = self._pipeline.build("GET", path("/runs/{run_id}", run_id=run_id))
        return decode(await self._pipeline.send(request, total_timeout=_timeout(timeout)), Run)

    async def cancel(
        self, run_id: str, *, idempotency_key: str | None = None, timeout: float | None = None
    ) -> Run:
        """Cancel a queued or running run; a finished one raises `ConflictError`."""
        if idempotency_key is not None:
            _idempotency_key(idempotency_key)
        request = self._pipeline.build(
            "POST", path("/runs/{run_id}/cancel", run_id=run_id), idempotency_key=idempotency_key
        )
        return decode(await self._pipeline.send(request, total_timeout=_timeout(timeout)), Run)


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{name} must be a non-empty string")
    return value


def _idempotency_key(key: str) -> None:
    if not 1 <= len(key) <= 255 or not all(" " <= c <= "~" for c in key):
        raise ValueError("idempotency_key must be 1 to 255 printable ASCII characters")


def _timeout(timeout: float | None) -> float | None:
    if timeout is not None and timeout <= 0:
        raise ValueError("timeout must be positive")
    return timeout
