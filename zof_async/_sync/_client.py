"""`Zof`: the synchronous client, one `AsyncZof` on an event loop of its own."""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from typing import Any, ParamSpec, TypeVar

import httpx

from .._client import AsyncZof, ClientStats
from .._streaming._fanout import Outcome
from .._webhooks._verify import Webhooks
from ._derive import derive, same_arguments_as
from ._pump import SyncFanOut
from ._resources import SyncArtifacts, SyncResults, SyncRuns
from ._runner import ClosedOnExit, Runner

__all__ = ["Zof"]

P = ParamSpec("P")
I = TypeVar("I")  # noqa: E741
R = TypeVar("R")


class Zof(ClosedOnExit):
    """The synchronous client of the Zof API: `AsyncZof`'s methods, for code that cannot `await`.

    ```python
    with Zof() as zof:
        run = zof.runs.create(project_id="proj_abc", environment="staging",
                              test_suite_id="suite_pr_smoke")
        run = zof.runs.wait_until_complete(run.id)
        for result in zof.results.list(run_id=run.id, status=["failed"]):
            print(result.test_case_id)
    ```

    It takes `AsyncZof`'s arguments and runs an `AsyncZof` of them, entered
    (`async with`), on an asyncio event loop in a daemon thread of its own,
    started by the first call and stopped by `close()` or the `with` block.
    So the pool, the 429 gate, pacing, retries, hooks, prefetch and fan-outs
    are the async client's. One `Zof` may be shared by any number of
    threads; Ctrl-C during a call cancels that call in the loop. Hooks,
    `on_update` and `on_progress` run in the loop's thread. Inside a running
    event loop, use `AsyncZof`: a `Zof` call works there but blocks that
    loop until it returns. See docs/guides/sync.md.
    """

    @same_arguments_as(AsyncZof.__init__)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        client = AsyncZof(*args, **kwargs)
        runner = Runner(client)
        self._attach(client, runner, parent=None)
        # Closed at interpreter exit (or when collected) if `close()` was forgotten.
        weakref.finalize(self, runner.close)

    def _attach(self, client: AsyncZof, runner: Runner, *, parent: Zof | None) -> None:
        self._async = client
        self._runner = runner
        self._parent = parent  # a `with_options` copy keeps its original alive
        self.runs = SyncRuns(self, client.runs)
        self.results = SyncResults(self, client.results)
        self.artifacts = SyncArtifacts(self, client.artifacts)
        self.webhooks: Webhooks = client.webhooks
        self.with_options = _copying(self, client.with_options)

    @property
    def base_url(self) -> httpx.URL:
        """The API root every path is relative to."""
        return self._async.base_url

    @property
    def max_connections(self) -> int:
        """Requests this client (and its copies) keeps in flight at most."""
        return self._async.max_connections

    @property
    def stats(self) -> ClientStats:
        """A snapshot of the traffic counters."""
        return self._async.stats

    @property
    def is_closed(self) -> bool:
        return self._async.is_closed

    def map(
        self,
        fn: Callable[[I], Awaitable[R]],
        inputs: Iterable[I] | AsyncIterable[I],
        *,
        concurrency: int | None = None,
        ordered: bool = False,
    ) -> SyncFanOut[Outcome[I, R]]:
        """`AsyncZof.map` for sync code: `fn` is a coroutine function, run in the client's loop.

        The one method written out here rather than derived: a generic
        method's type variables do not pass through a `ParamSpec`. The
        parity test checks its parameters against `AsyncZof.map`'s.
        """
        mapped: SyncFanOut[Outcome[I, R]] = derive(self, self._async.map)(
            fn, inputs, concurrency=concurrency, ordered=ordered
        )
        return mapped

    def close(self) -> None:
        """Close open pagers and streams, the connections and the loop; idempotent.

        A `with_options` copy closes nothing: the original owns the loop.
        """
        if self._parent is None:
            self._runner.close()

    def __repr__(self) -> str:
        return f"Zof(base_url={str(self.base_url)!r}, api_key='<redacted>')"


def _copying(zof: Zof, method: Callable[P, AsyncZof]) -> Callable[P, Zof]:
    """`AsyncZof.with_options` for a `Zof`: the copy shares the loop, the pool and the gate."""

    @functools.wraps(method)
    def with_options(*args: P.args, **kwargs: P.kwargs) -> Zof:
        copy = object.__new__(Zof)
        copy._attach(method(*args, **kwargs), zof._runner, parent=zof)
        return copy

    signature = inspect.signature(method)
    with_options.__signature__ = signature.replace(return_annotation="Zof")  # type: ignore[attr-defined]
    return with_options
