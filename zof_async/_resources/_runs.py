"""`zof.runs`: start, inspect, cancel, list, wait for and read runs."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime

import attrs
import httpx

from .._converter import decode
from .._http._pipeline import Pipeline
from .._http._retry import Failure
from .._models import Artifact, Run
from .._streaming._background import Background
from .._streaming._pagination import Pager
from .._streaming._streams import LineStream
from .._streaming._waiting import EVENTS_POLICY, PollRate, RunEvents, WaitPolicy, watch
from . import _arguments as arguments
from ._listing import listing
from ._options import CallOptions, ListingOptions, RequestOptions, Unpack
from ._paths import path
from ._raw import raw, raw_items, raw_pages, raw_stream
from ._resource import Resource

DEFAULT_WAIT_TIMEOUT = 3600.0
LOG_TYPE = "text/plain"


class Runs(Resource):
    """Operations on runs (`/runs`).

    Every method takes the per-call `RequestOptions` as keywords (`timeout=`,
    `max_retries=`, `extra_headers=`, `extra_query=`); listings also take
    the `ListingOptions`.

    Attributes:
        with_raw_response: Every method, with its answers' metadata
            (`RawResponse`: status, headers, request id, whether it was
            replayed, retries taken, elapsed time); see `RunsWithRawResponse`.
    """

    def __init__(self, pipeline: Pipeline, *, background: Background, poll_rate: PollRate) -> None:
        super().__init__(pipeline)
        self._background = background
        self._poll_rate = poll_rate
        self.with_raw_response = RunsWithRawResponse(self)

    async def create(
        self,
        *,
        project_id: str,
        environment: str,
        test_case_ids: Sequence[str] | None = None,
        test_suite_id: str | None = None,
        idempotency_key: str | None = None,
        **options: Unpack[RequestOptions],
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
            **options: Per-call `RequestOptions`.

        Raises:
            ValueError: Before any request, for arguments that cannot be valid.
        """
        call = self._resolve(options)
        body: dict[str, object] = {
            "project_id": arguments.text("project_id", project_id),
            "environment": arguments.text("environment", environment),
        }
        if (test_case_ids is None) == (test_suite_id is None):
            raise ValueError("give exactly one of test_case_ids and test_suite_id")
        if test_case_ids is not None:
            if isinstance(test_case_ids, str) or not test_case_ids:
                raise ValueError("test_case_ids must be a non-empty list of case ids")
            body["test_case_ids"] = [arguments.text("test_case_ids[]", c) for c in test_case_ids]
        else:
            body["test_suite_id"] = arguments.text("test_suite_id", test_suite_id)
        key = arguments.idempotency_key(idempotency_key)
        request = self._pipeline.build("POST", "/runs", call=call, json=body, idempotency_key=key)
        return await self._fetch(Run, request, call)

    async def get(self, run_id: str, **options: Unpack[RequestOptions]) -> Run:
        """Fetch a run with its summary and case outcomes (`GET /runs/{id}`)."""
        call = self._resolve(options)
        route = path("/runs/{run_id}", run_id=run_id)
        return await self._fetch(Run, self._pipeline.build("GET", route, call=call), call)

    async def cancel(
        self,
        run_id: str,
        *,
        idempotency_key: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Run:
        """Cancel a queued or running run; a finished one raises `ConflictError`."""
        call = self._resolve(options)
        route = path("/runs/{run_id}/cancel", run_id=run_id)
        key = arguments.idempotency_key(idempotency_key)
        request = self._pipeline.build("POST", route, call=call, idempotency_key=key)
        return await self._fetch(Run, request, call)

    def list(
        self,
        *,
        project_id: str | None = None,
        status: arguments.Statuses = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        **options: Unpack[ListingOptions],
    ) -> Pager[Run]:
        """Iterate runs, newest first (`GET /runs`); see `Pager` and `ListingOptions`.

        Args:
            project_id: Only runs of this project.
            status: Only runs in this status, or any of these statuses.
            created_after: Only runs created at or after this instant.
            created_before: Only runs created before this instant.
            **options: `ListingOptions` (page size, prefetch, where to resume)
                and per-call `RequestOptions`, applied to every page.
        """
        params = {
            "project_id": None if project_id is None else arguments.text("project_id", project_id),
            "status": arguments.statuses(status),
            "created_after": arguments.timestamp("created_after", created_after),
            "created_before": arguments.timestamp("created_before", created_before),
        }
        return listing(
            self._pipeline, self._background, "/runs", Run,
            params=params, options=options, capture=self._capture,
        )  # fmt: skip

    def artifacts(self, run_id: str, **options: Unpack[ListingOptions]) -> Pager[Artifact]:
        """Iterate a run's artifacts (`GET /runs/{id}/artifacts`); see `ListingOptions`."""
        route = path("/runs/{run_id}/artifacts", run_id=run_id)
        return listing(
            self._pipeline, self._background, route, Artifact,
            params={}, options=options, capture=self._capture,
        )  # fmt: skip

    def logs(self, run_id: str, **options: Unpack[RequestOptions]) -> LineStream:
        """The run's log, streamed line by line (`GET /runs/{id}/logs`).

        ```python
        async with zof.runs.logs(run.id) as lines:
            async for line in lines:
                print(line)
        ```

        The per-call `timeout` bounds the wait for the answer's headers, not
        the reading of the log.

        Raises:
            APIResponseValidationError: On opening, if the answer is not
                `text/plain` (nothing else is a log).
        """
        call = self._resolve(options)
        route = path("/runs/{run_id}/logs", run_id=run_id)
        request = self._pipeline.build("GET", route, call=call, accept=LOG_TYPE)
        return LineStream(self._pipeline, request, call, expect=LOG_TYPE)

    def watch(
        self,
        run_id: str,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        policy: WaitPolicy | None = None,
        every_poll: bool = False,
        events: RunEvents | None = None,
        **options: Unpack[CallOptions],
    ) -> AsyncIterator[Run]:
        """Yield the run each time its status changes, until it finishes.

        With `every_poll=True`, yield it after every poll (for progress bars).
        With `events=` (a `WebhookInbox`), a verified `run.completed` ends the
        wait at once; polling continues as a fallback, by default at
        `EVENTS_POLICY` intervals (at most 60 s). `max_retries` (default 0)
        applies to each poll: the wait itself polls again after a transient
        failure, until `timeout`.

        Raises:
            WaitTimeoutError: If `timeout` seconds pass first.
            ClientClosedError: At once, if the client is closed.
        """
        route = path("/runs/{run_id}", run_id=run_id)
        arguments.timeout(timeout)
        per_poll = self._resolve({"max_retries": 0, **options})
        pipeline = self._pipeline
        pipeline.channel.pool.ensure_open()  # before the first poll's jittered wait

        async def poll(remaining: float | None) -> tuple[Run, httpx.Headers] | Failure:
            call = per_poll
            if remaining is not None:
                call = attrs.evolve(call, total_timeout=remaining)
            outcome = await pipeline.attempt(pipeline.build("GET", route, call=call), call)
            if isinstance(outcome, Failure):
                return outcome
            return decode(outcome, Run, pipeline.redactor), outcome.headers

        return watch(
            poll,
            run_id=run_id,
            timeout=timeout,
            policy=policy or (WaitPolicy() if events is None else EVENTS_POLICY),
            rate=self._poll_rate,
            rng=random.Random(pipeline.channel.rng.random()),
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
        **options: Unpack[CallOptions],
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
            **options: Per-call `CallOptions`, for each poll.

        Raises:
            WaitTimeoutError: On the deadline, carrying the last run seen.
            AuthenticationError, PermissionDeniedError, NotFoundError: At once.
            ClientClosedError: At once, if the client is closed.
        """
        last: Run | None = None
        watching = self.watch(run_id, timeout=timeout, policy=policy, events=events, **options)
        async for run in watching:
            last = run
            if on_update is not None:
                on_update(run)
        assert last is not None and last.is_terminal
        return last


class RunsWithRawResponse:
    """`zof.runs.with_raw_response`: every method of `Runs`, with its answers' metadata.

    `create`, `get` and `cancel` return a `RawResponse`; `wait_until_complete`
    too, of its last poll (a run handed over by a webhook before any poll
    answered has none: `RuntimeError`); `list` and `artifacts` yield one per
    page; `logs` gives one on entering its block; `watch` yields one per run,
    of the poll that brought it.
    """

    def __init__(self, runs: Runs) -> None:
        self.create = raw(runs.create)
        self.get = raw(runs.get)
        self.cancel = raw(runs.cancel)
        self.list = raw_pages(runs.list)
        self.artifacts = raw_pages(runs.artifacts)
        self.logs = raw_stream(runs.logs)
        self.watch = raw_items(runs.watch)
        self.wait_until_complete = raw(runs.wait_until_complete)
