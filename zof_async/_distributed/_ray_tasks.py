"""The worker side of `zof_async.ray`: what a Ray read task runs, and what it ships.

Kept free of Ray itself: a read task is a plain function over slices that
yields Arrow tables, each read by an event loop of its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import anyio
import attrs

from .._client import AsyncZof
from .._exceptions import APIConnectionError, InternalServerError, RateLimitError
from .._models import Result, Run
from .._streaming._arrow import artifacts_table, table
from ._partition import Slice

log = logging.getLogger("zof_async.ray")

#: Errors after which a read task resumes its slice from the last checkpoint,
#: once the client's own retries of the request gave up.
TRANSIENT = (APIConnectionError, InternalServerError, RateLimitError)
RESUMES = 3  # per block


class Key:
    """An API key on its way to the workers: pickled with the task, never shown."""

    __slots__ = ("_secret",)

    def __init__(self, secret: str | None) -> None:
        self._secret = secret

    def reveal(self) -> str | None:
        return self._secret

    def __repr__(self) -> str:
        return "<redacted>" if self._secret else "<the worker's ZOF_API_KEY>"

    def __getstate__(self) -> tuple[str | None]:
        return (self._secret,)  # a tuple: pickle skips __setstate__ for a false state

    def __setstate__(self, state: tuple[str | None]) -> None:
        (self._secret,) = state


@attrs.frozen(kw_only=True)
class Settings:
    """How a read task connects; its repr never holds the key."""

    key: Key
    base_url: str | None
    page_size: int
    block_rows: int
    max_retries: int | None


def read_partition(slices: tuple[Slice, ...], settings: Settings) -> Iterator[Any]:
    """A read task: every slice, a block of up to `block_rows` rows at a time.

    Each block is read by its own event loop (none is held open across a
    `yield`); the next one continues from the pager's checkpoint.
    """
    model: type[Result] | type[Run] = Result if slices[0].kind == "results" else Run
    produced = False
    for part in slices:
        while True:
            block, checkpoint = _read_block_resuming(part, settings)
            if block.num_rows:
                produced = True
                yield block
            if checkpoint is None:
                break
            part = attrs.evolve(part, resume=checkpoint)
    if not produced:
        yield table([], model=model)


def _read_block_resuming(part: Slice, settings: Settings) -> tuple[Any, str | None]:
    """A block, read again from the same checkpoint after a transient failure.

    Ray retries a task whose worker died (from its start: the blocks it had
    yielded are replaced, not repeated); an API that keeps failing after the
    client's own retries is this function's to ride out.
    """
    for attempt in range(RESUMES + 1):
        try:
            return anyio.run(_read_block, part, settings)
        except TRANSIENT as exc:
            if attempt == RESUMES:
                raise
            log.warning("reading a slice failed (%s); resuming from its checkpoint", exc)
            time.sleep(min(0.5 * 2**attempt, 8.0))
    raise AssertionError("unreachable")  # pragma: no cover


async def _read_block(part: Slice, settings: Settings) -> tuple[Any, str | None]:
    model: type[Result] | type[Run] = Result if part.kind == "results" else Run
    options: dict[str, Any] = {}
    if settings.max_retries is not None:
        options["max_retries"] = settings.max_retries
    async with AsyncZof(
        api_key=settings.key.reveal(), base_url=settings.base_url, **options
    ) as zof:
        resource = zof.results if part.kind == "results" else zof.runs
        pager = resource.list(page_size=settings.page_size, **part.filters())
        rows: list[Any] = []
        async for item in pager:
            rows.append(item)
            if len(rows) >= settings.block_rows:
                break
        checkpoint = None if pager.exhausted else pager.checkpoint
        await pager.aclose()
    return table(rows, model=model), checkpoint


def artifacts_of_batch(batch: Any, *, settings: Settings, concurrency: int) -> Any:
    """A `map_batches` step: the artifacts of the results in `batch` (its `id` column)."""
    ids = batch.column("id").to_pylist()

    async def fetch() -> list[Any]:
        async with AsyncZof(api_key=settings.key.reveal(), base_url=settings.base_url) as zof:
            return [
                outcome
                async for outcome in zof.results.bulk_artifacts(
                    ids, concurrency=concurrency, ordered=True
                )
            ]

    return artifacts_table(anyio.run(fetch))
