"""`zof.runs`: start, inspect, cancel, list, wait for and read runs."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime

import httpx

from .._converter import decode
from .._http._pipeline import Pipeline
from .._models import Artifact, Run
from .._streaming._pagination import Pager, listing
from .._streaming._streams import LineStream
from .._streaming._waiting import EVENTS_POLICY, RunEvents, WaitPolicy, watch
from . import _arguments as query
from ._paths import path

DEFAULT_WAIT_TIMEOUT = 3600.0
LOG_TYPE = "text/plain"


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
            "project_id": query.text("project_id", project_id),
            "environment": query.text("environment", environment),
        }
        if (test_case_ids is None) == (test_suite_id is None):
            raise ValueError("give exactly one of test_case_ids and test_suite_id")
        if test_case_ids is not None:
            if isinstance(test_case_ids, str) or not test_case_ids:
                raise ValueError("test_case_ids must be a non-empty list of case ids")
            body["test_case_ids"] = [query.text("test_case_ids[]", c) for c in test_case_ids]
        else:
            body["test_suite_id"] = query.text("test_suite_id", test_suite_id)
        pipeline = self._pipeline
        request = pipeline.build("POST", "/runs", json=body, idempotency_key=idempotency_key)
        return decode(await pipeline.send(request, total_timeout=query.timeout(timeout)), Run)

    async def get(self, run_id: str, *, timeout: float | None = None) -> Run:
        """Fetch a run with its summary and case outcomes (`GET /runs/{id}`)."""
        request = self._pipeline.build("GET", path("/runs/{run_id}", run_id=run_id))
        return decode(await self._pipeline.send(request, total_timeout=query.timeout(timeout)), Run)

    async def cancel(
        self, run_id: str, *, idempotency_key: str | None = None, timeout: float | None = None
    ) -> Run:
        """Cancel a queued or running run; a finished one raises `ConflictError`."""
        request = self._pipeline.build(
            "POST", path("/runs/{run_id}/cancel", run_id=run_id), idempotency_key=idempotency_key
        )
        return decode(await self._pipeline.send(request, total_timeout=query.timeout(timeout)), Run)

    def list(
        self,
        *,
        project_id: str | None = None,
        status: query.Statuses = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        page_size: int = 100,
        prefetch: int = 1,
        cursor: str | None = None,
        offset: int = 0,
        resume: str | None = None,
    ) -> Pager[Run]:
        """Iterate runs, newest first (`GET /runs`); see `Pager`.

        Args:
            project_id: Only runs of this project.
            status: Only runs in this status, or any of these statuses.
            created_after: Only runs created after this instant.
            created_before: Only runs created before this instant.
            page_size: Items per request (1 to 1000).
            prefetch: Pages fetched ahead while you work (0: none).
            cursor: Resume at this page (a `Pager.cursor`).
            offset: Skip this many items of the first page (a `Pager.offset`).
            resume: Continue exactly after the last item a pager handed out
                (its `checkpoint`), even while new items are being created.
        """
        params = {
            "project_id": None if project_id is None else query.text("project_id", project_id),
            "status": query.statuses(status),
            "created_after": query.timestamp("created_after", created_after),
            "created_before": query.timestamp("created_before", created_before),
        }
        return listing(
            self._pipeline, "/runs", Run, params=params, page_size=page_size,
            prefetch=prefetch, cursor=cursor, offset=offset, resume=resume,
        )  # fmt: skip

    def artifacts(
        self,
        run_id: str,
        *,
        page_size: int = 100,
        prefetch: int = 1,
        cursor: str | None = None,
        offset: int = 0,
        resume: str | None = None,
    ) -> Pager[Artifact]:
        """Iterate a run's artifacts (`GET /runs/{id}/artifacts`)."""
        return listing(
            self._pipeline, path("/runs/{run_id}/artifacts", run_id=run_id), Artifact,
            params={}, page_size=page_size, prefetch=prefetch, cursor=cursor, offset=offset, resume=resume,
        )  # fmt: skip

    def logs(self, run_id: str) -> LineStream:
        """The run's log, streamed line by line (`GET /runs/{id}/logs`).

        ```python
        async with zof.runs.logs(run.id) as lines:
            async for line in lines:
                print(line)
        ```

        Raises:
            APIResponseValidationError: On opening, if the answer is not
                `text/plain` (nothing else is a log).
        """
        request = self._pipeline.build(
            "GET", path("/runs/{run_id}/logs", run_id=run_id), accept=LOG_TYPE
        )
        return LineStream(self._pipeline, request, expect=LOG_TYPE)

    def watch(
        self,
        run_id: str,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        policy: WaitPolicy | None = None,
        every_poll: bool = False,
        events: RunEvents | None = None,
    ) -> AsyncIterator[Run]:
        """Yield the run each time its status changes, until it finishes.

        With `every_poll=True`, yield it after every poll (for progress bars).
        With `events=` (a `WebhookInbox`), a verified `run.completed` ends the
        wait at once; polling continues as a fallback, by default at
        `EVENTS_POLICY` intervals (at most 60 s).

        Raises:
            WaitTimeoutError: If `timeout` seconds pass first.
        """
        path("/runs/{run_id}", run_id=run_id)
        query.timeout(timeout)
        pipeline = self._pipeline
        pipeline.shared.pool.ensure_open()  # before the first poll's jittered wait

        async def fetch(remaining: float | None) -> tuple[Run, httpx.Headers]:
            request = pipeline.build("GET", path("/runs/{run_id}", run_id=run_id))
            response = await pipeline.send(request, total_timeout=remaining, max_retries=0)
            return decode(response, Run), response.headers

        return watch(
            fetch,
            run_id=run_id,
            timeout=timeout,
            policy=policy or (WaitPolicy() if events is None else EVENTS_POLICY),
            rate=pipeline.shared.poll_rate,
            rng=random.Random(pipeline.shared.rng.random()),
            every_poll=every_poll,
            events=events,
        )

    async def wait_until_complete(
        self,
        run_id: str,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        policy: WaitPolicy | None = None,
        on_update: Callable[[Run], object] | None = None,
        events: RunEvents | None = None,
    ) -> Run:
        """Poll until the run reaches a terminal status; return it.

        Args:
            run_id: The run to wait for.
            timeout: Seconds to wait in all (`None`: no limit).
            policy: Poll intervals; see `WaitPolicy`.
            on_update: Called with the run at every status change.
            events: A `WebhookInbox`: its `run.completed` for this run (even one
                that arrived before this call) ends the wait at once, returning
                the event's run (which, like listings, has no `case_outcomes`).
                Polling continues as the fallback, at `EVENTS_POLICY` intervals
                unless `policy` is given.

        Raises:
            WaitTimeoutError: On the deadline, carrying the last run seen.
            AuthenticationError, PermissionDeniedError, NotFoundError: At once.
        """
        last: Run | None = None
        async for run in self.watch(run_id, timeout=timeout, policy=policy, events=events):
            last = run
            if on_update is not None:
                on_update(run)
        assert last is not None and last.is_terminal
        return last
