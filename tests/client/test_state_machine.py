"""A Hypothesis state machine over pagination: inserts, faults, prefetch, resume.

Rules interleave creating runs (whose results then land as the clock moves),
reading the next item of an open listing (with or without prefetch),
injecting 5xx and 429 answers, and abandoning a listing to resume from its
`checkpoint`. Invariant, checked whenever a listing ends: every
result that existed when it started was yielded exactly once, and nothing
was yielded twice. A blocking portal keeps one event loop (and one client)
alive across the machine's synchronous steps.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import anyio
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from zof_async import AsyncZof, Pager, Result, ZofError
from zof_async.testing import Emulator, ManualClock, RunScript, set_testing


class Listing(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.portal_cm = start_blocking_portal()
        self.portal: BlockingPortal = self.portal_cm.__enter__()
        self.emulator = Emulator(data="minimal", clock=ManualClock())
        self.zof = AsyncZof(api_key=self.emulator.keys.qa, transport=self.emulator.transport())
        # One long-lived task owns `async with zof` (and so the prefetch task
        # group); every step hands it a coroutine function to run.
        self.commands, receive = self.portal.call(
            lambda: anyio.create_memory_object_stream[Any](10)
        )
        self.driver = self.portal.start_task_soon(self._drive, receive)
        self.pager: Pager[Result] | None = None
        self.present: set[str] = set()
        self.yielded: list[str] = []
        self.page_size = 7
        self.prefetch = 1
        self.completed_listings = 0
        self.crashes = 0

    async def _drive(self, receive: Any) -> None:
        async with self.zof, receive:
            async for function, future in receive:
                try:
                    result = await function()
                except Exception as exc:
                    future.set_exception(exc)
                else:
                    # Let prefetching settle, so each step sees the same state
                    # every time Hypothesis replays it.
                    await anyio.wait_all_tasks_blocked()
                    future.set_result(result)

    def run(self, function: Any) -> Any:
        future: Future[Any] = Future()
        self.portal.call(self.commands.send, (function, future))
        return future.result(timeout=60)

    def teardown(self) -> None:
        if self.pager is not None:
            self.run(self.pager.aclose)
        self.portal.call(self.commands.aclose)
        self.driver.result(timeout=60)
        self.portal_cm.__exit__(None, None, None)

    def _existing(self) -> set[str]:
        with self.emulator.state.lock:
            self.emulator.state.lifecycle.advance(self.emulator.clock.now())
            return {
                r.id for r in self.emulator.state.store.results.values() if r.org_id == "org_acme"
            }

    @initialize(runs=st.integers(1, 3))
    def seed(self, runs: int) -> None:
        for _ in range(runs):
            self.emulator.add_run(
                "proj_abc",
                suite_id="suite_pr_smoke",
                script=RunScript(queue_seconds=0, duration_seconds=1),
            )
        self.emulator.advance(2)

    @rule(duration=st.floats(1, 30), advance=st.floats(0, 20))
    def create_run_and_let_time_pass(self, duration: float, advance: float) -> None:
        self.emulator.add_run(
            "proj_abc",
            suite_id="suite_pr_smoke",
            script=RunScript(queue_seconds=0, duration_seconds=duration),
        )
        self.emulator.advance(advance)

    @precondition(lambda self: self.pager is None)
    @rule(page_size=st.integers(1, 30), prefetch=st.integers(0, 3))
    def open_listing(self, page_size: int, prefetch: int) -> None:
        self.page_size, self.prefetch = page_size, prefetch
        self.present = self._existing()
        self.yielded = []
        self.pager = self.zof.results.list(page_size=page_size, prefetch=prefetch)

    @precondition(lambda self: self.pager is not None)
    @rule(steps=st.integers(1, 40))
    def read(self, steps: int) -> None:
        assert self.pager is not None
        pager = self.pager

        async def take() -> str:
            for _ in range(steps):
                try:
                    self.yielded.append((await pager.__anext__()).id)
                except StopAsyncIteration:
                    return "done"
                except ZofError:
                    return "crashed"  # retries ran out: resume, as a pipeline would
            return "more"

        outcome = self.run(take)
        if outcome == "done":
            self._finish()
        elif outcome == "crashed":
            self.crashes += 1
            self.abandon_and_resume()

    @precondition(lambda self: self.pager is not None)
    @rule(status=st.sampled_from([500, 502, 503, 429]), count=st.integers(1, 3))
    def inject_faults(self, status: int, count: int) -> None:
        self.emulator.faults.fail_next(
            count, status=status, retry_after=0 if status == 429 else None, route="/results"
        )

    @precondition(lambda self: self.pager is not None)
    @rule()
    def abandon_and_resume(self) -> None:
        assert self.pager is not None
        old = self.pager
        self.run(old.aclose)
        if old.exhausted:
            self._finish()
            return
        self.pager = self.zof.results.list(
            page_size=self.page_size, prefetch=self.prefetch, resume=old.checkpoint
        )

    def _finish(self) -> None:
        assert len(self.yielded) == len(set(self.yielded)), "an item was yielded twice"
        missing = self.present - set(self.yielded)
        assert not missing, f"{len(missing)} items present for the whole listing were skipped"
        self.pager = None
        self.completed_listings += 1

    @invariant()
    def never_twice(self) -> None:
        assert len(self.yielded) == len(set(self.yielded))


@pytest.mark.slow
def test_pagination_state_machine() -> None:
    """Inserts, faults, prefetch and resumes in any order: every listing yields each result once."""
    previous = set_testing(True)
    try:
        Listing.TestCase.settings = settings(
            max_examples=100, stateful_step_count=30, deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )  # fmt: skip
        Listing.TestCase().runTest()
    finally:
        set_testing(previous)
