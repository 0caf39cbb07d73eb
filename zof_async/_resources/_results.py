"""`zof.results`: per-case outcomes, their artifacts, bulk fetches, exports."""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from contextlib import aclosing
from datetime import datetime
from typing import Any

from .._converter import decode_page
from .._exceptions import APIResponseValidationError
from .._http._pipeline import Pipeline
from .._http._settings import Call
from .._http._traffic import Meter
from .._models import Artifact, ArtifactBatch, Result
from .._streaming._background import Background
from .._streaming._export_formats import (
    ExportError,
    ExportFormat,
    checked_chunks,
    export_results,
)
from .._streaming._fanout import FanOut
from .._streaming._pagination import Pager, collect
from .._streaming._streams import ByteStream, write_atomically
from . import _arguments as arguments
from ._listing import listing, page_fetcher
from ._options import ListingOptions, RequestOptions, ResultFilters, Unpack, result_filters
from ._paths import path
from ._raw import raw, raw_fan_out, raw_items, raw_pages, raw_stream
from ._resource import Resource

_FIRST_PAGE = {"limit": 1000}  # a result's artifacts, all in one page as a rule
EXPORT_TYPES: dict[str, str] = {"csv": "text/csv", "json": "application/json"}


class ExportArgs(ResultFilters, RequestOptions, total=False):
    """The result filters and the per-call options, as one `**kwargs` type."""


def _split(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`(filters, options)` out of one `**kwargs`."""
    names = ResultFilters.__annotations__
    filters = {k: v for k, v in kwargs.items() if k in names}
    return filters, {k: v for k, v in kwargs.items() if k not in names}


class Results(Resource):
    """Operations on results (`/results`).

    Every method takes the per-call `RequestOptions` as keywords; listings
    also take the `ListingOptions`; listings and exports take the
    `ResultFilters` (`run_id=`, `status=`, `created_after=`, `created_before=`).

    Attributes:
        with_raw_response: Every method, with its answers' metadata
            (`RawResponse`); see `ResultsWithRawResponse`.
    """

    def __init__(self, pipeline: Pipeline, *, background: Background) -> None:
        super().__init__(pipeline)
        self._background = background
        self.with_raw_response = ResultsWithRawResponse(self)

    async def get(self, result_id: str, **options: Unpack[RequestOptions]) -> Result:
        """Fetch one result (`GET /results/{id}`)."""
        call = self._resolve(options)
        route = path("/results/{result_id}", result_id=result_id)
        return await self._fetch(Result, self._pipeline.build("GET", route, call=call), call)

    def list(
        self,
        *,
        run_id: str | None = None,
        status: arguments.Statuses = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        **options: Unpack[ListingOptions],
    ) -> Pager[Result]:
        """Iterate results, newest first (`GET /results`); see `Pager` and `ListingOptions`.

        Args:
            run_id: Only results of this run.
            status: Only results in this status, or any of these statuses.
            created_after: Only results created at or after this instant.
            created_before: Only results created before this instant.
            **options: `ListingOptions` (page size, prefetch, where to resume)
                and per-call `RequestOptions`, applied to every page.
        """
        filters = ResultFilters(
            run_id=run_id, status=status, created_after=created_after, created_before=created_before
        )
        return listing(
            self._pipeline, self._background, "/results", Result,
            params=result_filters(filters), options=options, capture=self._capture,
        )  # fmt: skip

    def artifacts(self, result_id: str, **options: Unpack[ListingOptions]) -> Pager[Artifact]:
        """Iterate a result's artifacts (`GET /results/{id}/artifacts`)."""
        route = path("/results/{result_id}/artifacts", result_id=result_id)
        return listing(
            self._pipeline, self._background, route, Artifact,
            params={}, options=options, capture=self._capture,
        )  # fmt: skip

    def bulk_artifacts(
        self,
        results: Iterable[str | Result] | AsyncIterable[str | Result],
        *,
        concurrency: int | None = None,
        ordered: bool = False,
        **options: Unpack[RequestOptions],
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
            **options: Per-call `RequestOptions`, for each result's fetch.

        Returns:
            A `FanOut` of `ArtifactBatch`, one per input: an item's own error
            (e.g. a 404) is in its batch; a 401/403 stops everything and raises.
            Its `.stats` counts exactly its own requests, retries and 429s.
        """
        meter = Meter()
        return self._fan_out(
            functools.partial(_artifacts_fetcher, self._pipeline), results,
            call=self._resolve(options, meter=meter), meter=meter,
            concurrency=concurrency, ordered=ordered, outcome=_batch,
        )  # fmt: skip

    def export(
        self,
        *,
        format: ExportFormat = "csv",
        idempotency_key: str | None = None,
        **kwargs: Unpack[ExportArgs],
    ) -> ByteStream:
        """The export, streamed as bytes (`POST /results/export`).

        ```python
        async with zof.results.export(format="csv", run_id=run.id) as chunks:
            async for chunk in chunks:
                ...
        ```

        Sent with `Accept: text/csv` or `application/json`, as asked. The
        per-call `timeout` bounds the wait for the headers, not the reading.

        Args:
            format: `"csv"` or `"json"`.
            idempotency_key: As for `runs.create` (a uuid4 if omitted).
            **kwargs: `ResultFilters` and per-call `RequestOptions`.

        Raises:
            APIResponseValidationError: On opening, if the answer's
                Content-Type is not the format asked for.
        """
        if format not in ("csv", "json"):
            raise ValueError("format must be 'csv' or 'json'")
        filters, options = _split(dict(kwargs))
        call = self._resolve(options)
        body: dict[str, Any] = {"format": format}
        for name, value in result_filters(filters).items():  # type: ignore[arg-type]
            if value is not None:
                body[name] = value
        media_type = EXPORT_TYPES[format]
        request = self._pipeline.build("POST", "/results/export", call=call, json=body,
            idempotency_key=arguments.idempotency_key(idempotency_key), accept=media_type,
        )  # fmt: skip
        return ByteStream(self._pipeline, request, call, expect=media_type)

    async def export_to(
        self,
        destination: str | os.PathLike[str],
        *,
        format: ExportFormat = "csv",
        on_progress: Callable[[int], object] | None = None,
        **kwargs: Unpack[ExportArgs],
    ) -> int:
        """Write the export to `destination` atomically; return its size in bytes.

        The file appears only when complete: a failure part-way leaves no file
        (and an existing file at `destination` untouched). `on_progress` is
        called with the size of each chunk written. An answer in another
        format than asked (its Content-Type) is refused before a byte is
        written, with `APIResponseValidationError`; so is a body that is not
        an export (the check `export_rows` makes: it does not parse, or a row
        is not a `Result`), and the file is not kept. Takes the
        `ResultFilters` and per-call `RequestOptions` as `export` does.
        """
        async with (
            self.export(format=format, **kwargs) as stream,
            aclosing(checked_chunks(stream, format)) as chunks,
        ):
            try:
                return await write_atomically(destination, chunks, on_chunk=on_progress)
            except ExportError as exc:
                raise _not_an_export(stream, exc) from exc

    def export_rows(
        self, *, format: ExportFormat = "json", **kwargs: Unpack[ExportArgs]
    ) -> AsyncIterator[Result]:
        """Iterate the exported rows as `Result`s as they arrive, in constant memory.

        Takes the `ResultFilters` and per-call `RequestOptions` as `export`
        does, checked here, before anything is sent.

        Raises:
            APIResponseValidationError: If the answer is not in the format
                asked for (its Content-Type), does not parse as one, or holds
                a row that is not a `Result`; it carries the request id.
        """
        return _rows(self.export(format=format, **kwargs), format)


async def _rows(stream: ByteStream, format: ExportFormat) -> AsyncIterator[Result]:
    """The rows of an opened-on-demand export stream, as `Result`s."""
    async with stream, aclosing(export_results(stream, format)) as rows:
        while True:
            try:
                row = await rows.__anext__()
            except StopAsyncIteration:
                break
            except ExportError as exc:
                raise _not_an_export(stream, exc) from exc
            yield row


def _not_an_export(stream: ByteStream, exc: ExportError) -> APIResponseValidationError:
    assert stream.response is not None
    return APIResponseValidationError(str(exc), response=stream.response)


def _result_id(item: str | Result) -> str:
    return item.id if isinstance(item, Result) else item


class ResultsWithRawResponse:
    """`zof.results.with_raw_response`: every method of `Results`, with its answers' metadata.

    `get` and `export_to` return a `RawResponse`; `list` and `artifacts`
    yield one per page; `export` gives one on entering its block;
    `export_rows` yields one per row (the export's answer); `bulk_artifacts`
    hands out an `Outcome` per result whose value is one.
    """

    def __init__(self, results: Results) -> None:
        self.get = raw(results.get)
        self.list = raw_pages(results.list)
        self.artifacts = raw_pages(results.artifacts)
        self.bulk_artifacts = raw_fan_out(results.bulk_artifacts)
        self.export = raw_stream(results.export)
        self.export_to = raw(results.export_to)
        self.export_rows = raw_items(results.export_rows)


def _artifacts_fetcher(
    pipeline: Pipeline, call: Call
) -> Callable[[str | Result], Awaitable[tuple[Artifact, ...]]]:
    """What `bulk_artifacts` does per result: all its artifacts, with `call`'s options."""

    async def fetch(item: str | Result) -> tuple[Artifact, ...]:
        route = path("/results/{result_id}/artifacts", result_id=_result_id(item))
        # Almost always one page: a Pager would cost more than the request,
        # and a page walk more than the page; the first page is the request
        # `page_fetcher` sends, and further pages are walked (with every
        # cursor check) only when the first hands a cursor on.
        request = pipeline.build("GET", route, params=_FIRST_PAGE, call=call)
        first = decode_page(await pipeline.send(request, call), Artifact, pipeline.redactor)
        if first.next_cursor is None:
            return first.items
        fetch_page = page_fetcher(
            pipeline, route, Artifact, params={}, limit=_FIRST_PAGE["limit"], options=call
        )
        return first.items + tuple(await collect(fetch_page, first.next_cursor))

    return fetch


def _batch(
    item: str | Result, value: tuple[Artifact, ...] | None, error: Exception | None
) -> ArtifactBatch:
    return ArtifactBatch(result_id=_result_id(item), artifacts=value, error=error)
