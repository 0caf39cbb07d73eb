"""`zof.results`: per-case outcomes, their artifacts, bulk fetches, exports."""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from contextlib import aclosing
from datetime import datetime
from typing import Any, Literal

from .._converter import converter, decode
from .._exceptions import APIResponseValidationError
from .._http._pipeline import Pipeline
from .._models import Artifact, ArtifactBatch, Result
from .._streaming._export_formats import csv_records, json_array_items
from .._streaming._fanout import FanOut
from .._streaming._pagination import Pager, collect, listing, page_fetcher
from .._streaming._streams import ByteStream, write_atomically
from . import _arguments as query
from ._paths import path

ExportFormat = Literal["csv", "json"]
EXPORT_TYPES: dict[str, str] = {"csv": "text/csv", "json": "application/json"}


class Results:
    """Operations on results (`/results`)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    async def get(self, result_id: str, *, timeout: float | None = None) -> Result:
        """Fetch one result (`GET /results/{id}`)."""
        request = self._pipeline.build("GET", path("/results/{result_id}", result_id=result_id))
        return decode(
            await self._pipeline.send(request, total_timeout=query.timeout(timeout)), Result
        )

    def list(
        self,
        *,
        run_id: str | None = None,
        status: query.Statuses = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        page_size: int = 100,
        prefetch: int = 1,
        cursor: str | None = None,
        offset: int = 0,
        resume: str | None = None,
    ) -> Pager[Result]:
        """Iterate results, newest first (`GET /results`); see `Pager`.

        Args:
            run_id: Only results of this run.
            status: Only results in this status, or any of these statuses.
            created_after: Only results created after this instant.
            created_before: Only results created before this instant.
            page_size: Items per request (1 to 1000).
            prefetch: Pages fetched ahead while you work (0: none).
            cursor: Resume at this page (a `Pager.cursor`).
            offset: Skip this many items of the first page (a `Pager.offset`).
            resume: Continue exactly after the last item a pager handed out
                (its `checkpoint`), even while new items are being created.
        """
        return listing(
            self._pipeline, "/results", Result, params=self._filters(run_id, status, created_after, created_before),
            page_size=page_size, prefetch=prefetch, cursor=cursor, offset=offset, resume=resume,
        )  # fmt: skip

    def artifacts(
        self,
        result_id: str,
        *,
        page_size: int = 100,
        prefetch: int = 1,
        cursor: str | None = None,
        offset: int = 0,
        resume: str | None = None,
    ) -> Pager[Artifact]:
        """Iterate a result's artifacts (`GET /results/{id}/artifacts`)."""
        return listing(
            self._pipeline, path("/results/{result_id}/artifacts", result_id=result_id), Artifact,
            params={}, page_size=page_size, prefetch=prefetch, cursor=cursor, offset=offset, resume=resume,
        )  # fmt: skip

    def bulk_artifacts(
        self,
        results: Iterable[str | Result] | AsyncIterable[str | Result],
        *,
        concurrency: int | None = None,
        ordered: bool = False,
    ) -> FanOut[str | Result, tuple[Artifact, ...], ArtifactBatch]:
        """Fetch the artifacts of many results concurrently.

        ```python
        async for batch in zof.results.bulk_artifacts(zof.results.list(run_id=run.id)):
            batch.result_id, batch.artifacts, batch.error
        ```

        Args:
            results: Result ids or `Result`s, from a list or any (async)
                iterable such as a pager; pulled lazily, so a million inputs
                keep only about `concurrency` of them in memory.
            concurrency: Results fetched at once, at most (default: the
                client's `max_connections`); lowered while the API answers 429.
            ordered: Hand out outcomes in input order instead of as they come.

        Returns:
            A `FanOut` of `ArtifactBatch`, one per input: an item's own error
            (e.g. a 404) is in its batch; a 401/403 stops everything and raises.
            Its `.stats` counts requests, retries and 429s.
        """

        pipeline = self._pipeline

        async def fetch(item: str | Result) -> tuple[Artifact, ...]:
            route = path("/results/{result_id}/artifacts", result_id=_result_id(item))
            # Almost always one page: a Pager would cost more than the request.
            fetch_page = page_fetcher(pipeline, route, Artifact, params={}, limit=1000)
            return tuple(await collect(fetch_page))

        def outcome(
            item: str | Result, value: tuple[Artifact, ...] | None, error: Exception | None
        ) -> ArtifactBatch:
            return ArtifactBatch(result_id=_result_id(item), artifacts=value, error=error)

        return FanOut(
            fetch,
            results,
            concurrency=self._pipeline.shared.pool.max_connections
            if concurrency is None
            else concurrency,
            ordered=ordered,
            background=self._pipeline.shared.background,
            outcome=outcome,
        )

    def export(
        self,
        *,
        format: ExportFormat = "csv",
        run_id: str | None = None,
        status: query.Statuses = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        idempotency_key: str | None = None,
    ) -> ByteStream:
        """The export, streamed as bytes (`POST /results/export`).

        ```python
        async with zof.results.export(format="csv", run_id=run.id) as chunks:
            async for chunk in chunks:
                ...
        ```

        Sent with `Accept: text/csv` or `application/json`, as asked.

        Raises:
            APIResponseValidationError: On opening, if the answer's
                Content-Type is not the format asked for.
        """
        if format not in ("csv", "json"):
            raise ValueError("format must be 'csv' or 'json'")
        body: dict[str, Any] = {"format": format}
        for name, value in self._filters(run_id, status, created_after, created_before).items():
            if value is not None:
                body[name] = value
        media_type = EXPORT_TYPES[format]
        request = self._pipeline.build(
            "POST", "/results/export", json=body, idempotency_key=idempotency_key, accept=media_type
        )
        return ByteStream(self._pipeline, request, expect=media_type)

    async def export_to(
        self,
        destination: str | os.PathLike[str],
        *,
        format: ExportFormat = "csv",
        run_id: str | None = None,
        status: query.Statuses = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        on_progress: Callable[[int], object] | None = None,
    ) -> int:
        """Write the export to `destination` atomically; return its size in bytes.

        The file appears only when complete: a failure part-way leaves no file
        (and an existing file at `destination` untouched). `on_progress` is
        called with the size of each chunk written. An answer in another
        format than asked (its Content-Type) is refused before a byte is
        written, with `APIResponseValidationError`.
        """
        stream = self.export(
            format=format, run_id=run_id, status=status,
            created_after=created_after, created_before=created_before,
        )  # fmt: skip
        return await write_atomically(destination, stream, on_chunk=on_progress)

    async def export_rows(
        self,
        *,
        format: ExportFormat = "json",
        run_id: str | None = None,
        status: query.Statuses = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
    ) -> AsyncIterator[Result]:
        """Iterate the exported rows as `Result`s as they arrive, in constant memory.

        Raises:
            APIResponseValidationError: If the answer is not in the format
                asked for (its Content-Type), does not parse as one, or holds
                a row that is not a `Result`; it carries the request id.
        """
        stream = self.export(
            format=format, run_id=run_id, status=status,
            created_after=created_after, created_before=created_before,
        )  # fmt: skip
        parse = json_array_items if format == "json" else csv_records
        async with stream, aclosing(parse(stream)) as rows:
            while True:
                try:
                    row = await rows.__anext__()
                except StopAsyncIteration:
                    break
                except ValueError as exc:  # not JSON / CSV (UnicodeDecodeError included)
                    assert stream.response is not None
                    raise APIResponseValidationError(
                        f"the {format} export does not parse: {exc}", response=stream.response
                    ) from exc
                try:
                    result = converter.structure(_from_csv(row) if format == "csv" else row, Result)
                except Exception as exc:
                    assert stream.response is not None
                    raise APIResponseValidationError(
                        f"an exported row is not a Result: {exc}", response=stream.response
                    ) from exc
                yield result

    @staticmethod
    def _filters(
        run_id: str | None,
        status: query.Statuses,
        created_after: datetime | str | None,
        created_before: datetime | str | None,
    ) -> dict[str, Any]:
        return {
            "run_id": None if run_id is None else query.text("run_id", run_id),
            "status": query.statuses(status),
            "created_after": query.timestamp("created_after", created_after),
            "created_before": query.timestamp("created_before", created_before),
        }


def _result_id(item: str | Result) -> str:
    return item.id if isinstance(item, Result) else item


def _from_csv(row: dict[str, str]) -> dict[str, Any]:
    """CSV has only text: empty means null, and durations are numbers."""
    out: dict[str, Any] = {key: (value if value != "" else None) for key, value in row.items()}
    if out.get("duration_ms") is not None:
        out["duration_ms"] = int(out["duration_ms"])
    return out
