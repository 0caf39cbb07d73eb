"""Waiting for runs: `wait_until_complete` and `watch`.

Each waiter polls `GET /runs/{id}`:

- the first poll comes after `uniform(0, initial_interval)`, so waiters
  started together do not poll together;
- poll `n` (0-based) waits `min(max_interval, initial_interval * growth**n)`
  times `uniform(0.8, 1)`: it never waits longer than `max_interval`, which
  bounds how late a finished run is noticed;
- a `Retry-After` on any answer (the 200 polling hint, a 429, a 503) is a
  floor for the next wait, capped at `max_hint`;
- transient failures, as the pipeline classifies them for retries (429,
  5xx, connection errors), are absorbed until the deadline; any other
  (401, 403, 404, a closed client) raises at once;
- across the client, polls pass a shared rate limit (`polls_per_second`), so
  a thousand waiters stay spread out instead of bursting.

With `events=` (a `WebhookInbox`), a waiter also sleeps on the inbox's
signal for its run: a verified `run.completed` ends the wait at once with the
event's run, and a run the inbox already knows finished ends it before any
poll. Polling continues at the longer `EVENTS_POLICY` intervals as the
fallback, so a lost webhook delays detection by at most its `max_interval`.

Time is the event loop's (`anyio.current_time()`), so trio's `MockClock`
runs hours of waiting in milliseconds.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager, ExitStack
from typing import Protocol

import anyio
import attrs
import httpx

from .._exceptions import WaitTimeoutError
from .._http._retry import Failure, parse_retry_after
from .._models import Run
from .._numbers import at_least

__all__ = ["EVENTS_POLICY", "PollRate", "RunEvents", "WaitPolicy", "poll_interval", "watch"]


_positive = attrs.validators.and_(at_least(0), attrs.validators.gt(0))


@attrs.frozen(kw_only=True)
class WaitPolicy:
    """How `wait_until_complete` polls (defaults chosen by benchmarks/waiting).

    Attributes:
        initial_interval: Seconds; the first poll comes within this.
        max_interval: Seconds; no wait between polls is longer.
        growth: Factor by which the wait grows per poll.
        max_hint: Seconds; the largest `Retry-After` honoured between polls.
    """

    initial_interval: float = attrs.field(default=1.0, validator=_positive)
    max_interval: float = attrs.field(default=15.0, validator=_positive)
    growth: float = attrs.field(default=1.6, validator=at_least(1))
    max_hint: float = attrs.field(default=60.0, validator=at_least(0))


EVENTS_POLICY = WaitPolicy(initial_interval=5.0, max_interval=60.0, growth=2.0)
"""The fallback polling of a wait given `events=`: a lost webhook costs at most 60 s."""


class RunEvents(Protocol):
    """What a wait needs from a source of run events (`WebhookInbox` is one)."""

    def finished_run(self, run_id: str) -> Run | None:
        """The finished run, if an event has reported it."""
        ...

    def subscribe(self, run_id: str) -> AbstractContextManager[anyio.Event]:
        """An event set when an event reports `run_id` finished."""
        ...


def poll_interval(policy: WaitPolicy, poll: int, rng: random.Random) -> float:
    """The wait after poll number `poll` (0-based), jittered downwards."""
    ceiling = min(policy.max_interval, policy.initial_interval * policy.growth ** min(poll, 100))
    return ceiling * rng.uniform(0.8, 1.0)


class PollRate:
    """A client-wide rate limit on polls (GCRA: a smooth token bucket).

    Each poll is given the earliest time slot that keeps the rate at
    `per_second` with bursts of at most `burst`; callers sleep until theirs.
    """

    def __init__(self, per_second: float, burst: int = 10) -> None:
        self._interval = 1.0 / per_second
        self._tolerance = burst * self._interval
        self._tat = -math.inf

    def reserve(self, now: float) -> float:
        """Reserve the next slot; return how long to wait for it."""
        start = max(now, self._tat - self._tolerance)
        self._tat = max(self._tat, now) + self._interval
        return start - now


Poll = Callable[[float | None], Awaitable[tuple[Run, httpx.Headers] | Failure]]


async def watch(
    poll_once: Poll,
    *,
    run_id: str,
    timeout: float | None,
    policy: WaitPolicy,
    rate: PollRate,
    rng: random.Random,
    every_poll: bool = False,
    events: RunEvents | None = None,
) -> AsyncIterator[Run]:
    """Yield the run each time its status changes; end after a terminal status.

    `poll_once(remaining_seconds)` returns `(run, response headers)`, or the
    pipeline's `Failure`: a transient one (`Failure.retryable`: 429, 5xx, a
    broken connection, the poll's own deadline) is absorbed and polled again
    later; any other is raised. Errors not about the poll (a closed client)
    are raised by `poll_once` itself, at once. With
    `every_poll`, yield the run after every successful poll instead. With
    `events`, a finished run reported there ends the wait at once.
    """
    deadline = math.inf if timeout is None else anyio.current_time() + timeout
    last: Run | None = None
    delay = rng.uniform(0.0, policy.initial_interval)
    poll = 0
    with ExitStack() as stack:
        pause = _Pause(run_id, events, stack)
        if events is not None and (early := events.finished_run(run_id)) is not None:
            yield early
            return
        while True:
            due = await _when_due(delay, deadline, rate, pause)
            if isinstance(due, Run):
                yield due
                return
            if not due:
                raise WaitTimeoutError(
                    f"run {run_id} did not finish within {timeout:g} s"
                    + (f" (last status: {last.status})" if last is not None else ""),
                    run=last,
                )
            remaining = None if deadline == math.inf else deadline - anyio.current_time()
            outcome = await poll_once(remaining)
            if isinstance(outcome, Failure):
                if not outcome.retryable:
                    raise outcome.error
                hint = outcome.retry_after
            else:
                run, headers = outcome
                hint = parse_retry_after(headers.get("retry-after"), now=time.time())
                changed = last is None or run.status != last.status
                last = run
                if changed or every_poll:
                    yield run
                if run.is_terminal:
                    return
            delay = poll_interval(policy, poll, rng)
            if hint is not None:
                delay = max(delay, min(hint, policy.max_hint))
            poll += 1


class _Pause:
    """Sleeps between polls, or less if an event reports the run finished."""

    def __init__(self, run_id: str, events: RunEvents | None, stack: ExitStack) -> None:
        self._run_id = run_id
        self._events = events
        self._signal = None if events is None else stack.enter_context(events.subscribe(run_id))

    async def __call__(self, seconds: float) -> Run | None:
        """Sleep `seconds`; the finished run if an event reported it meanwhile."""
        if self._events is None or self._signal is None:
            await anyio.sleep(seconds)
            return None
        with anyio.move_on_after(seconds):
            await self._signal.wait()
        return self._events.finished_run(self._run_id)


async def _when_due(delay: float, deadline: float, rate: PollRate, pause: _Pause) -> Run | bool:
    """Sleep until the next poll is due and has a slot of the client-wide rate.

    Returns `True` when it may go, `False` when the deadline came first, or
    the finished run an event reported meanwhile. The slot is reserved when
    the poll is due, not ahead: a slot reserved far ahead would hold back
    every other waiter of the client until then.
    """
    reserved = False
    while True:
        if anyio.current_time() + delay >= deadline:
            done = await pause(max(0.0, deadline - anyio.current_time()))
            return False if done is None else done
        if (done := await pause(delay)) is not None:
            return done
        if reserved:
            return True
        reserved = True
        delay = rate.reserve(anyio.current_time())
        if delay <= 0:
            return True
