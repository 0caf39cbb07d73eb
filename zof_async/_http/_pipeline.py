"""The request pipeline: every call of every resource goes through here.

For each call: build the request once (one `Idempotency-Key` for a POST),
then attempt it until it succeeds, fails for good, or runs out of retries,
budget or time. This is the one retry loop of the SDK:

```
call ──► attempt ──► 2xx ──► consume the body (part of the attempt) ──► value
            ▲         │
            │         └── failure (status, or no usable response)
            │                  │  close the 429 gate on a Retry-After
            │                  ▼
            └── sleep ◄── _retry.decide: Retry(delay) ─► (a "retry" also spends budget)
                                  GiveUp ─► raise the failure's error
```

Each attempt waits at the client-wide 429 gate, takes a pool slot, and sends
straight to the transport. This is the hot path of every fan-out, so it builds
each URL once, reuses prepared headers and avoids generator-based context
managers. Hooks and the attempt's log line: `_hooks`, `_logs`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import httpx

from .._logging import logger
from .._redact import Redactor
from ._channel import Channel, Lease
from ._failures import deadline_exceeded, other_loop_error, status_failure, transport_failure
from ._gate import pass_gate
from ._hooks import CallTrace, Hooks
from ._logs import log_attempt
from ._pacing import Pacer, pace_request
from ._requests import RequestBuilder
from ._retry import (
    Failure,
    GiveUp,
    Retry,
    decide,
)
from ._settings import DEFAULT_CALL, Call, Settings
from ._sleep import sleep
from ._transport._clock import deadline_scope, loop_time

T = TypeVar("T")
Consume = Callable[[httpx.Response], Awaitable[T]]


async def _read(response: httpx.Response) -> httpx.Response:
    try:
        await response.aread()
    except (OSError, EOFError) as exc:  # a transport that does not map its errors
        raise httpx.ReadError(f"{type(exc).__name__}: {exc}", request=response.request) from exc
    return response


class Pipeline:
    """Sends requests with retries, backoff, the 429 gate, budget and deadline."""

    def __init__(self, settings: Settings, channel: Channel, *, pacer: Pacer | None = None) -> None:
        """A pipeline for `settings` over `channel`; `pacer`: a declared limit of its own.

        The channel's pacer (the client's learned or declared rate) paces
        every request; a `with_options(max_requests_per_second=...)` copy
        also waits for its own `pacer`, first.
        """
        self.settings = settings
        self.channel = channel
        self.own_pacer = pacer
        self._pacers = (channel.pacer,) if pacer is None else (pacer, channel.pacer)
        requests = RequestBuilder(settings)
        self.build = requests.build
        self._timeouts = requests.timeouts  # the very dict each built request carries
        bounded = [value for value in self._timeouts.values() if value is not None]
        unbounded = len(bounded) < len(self._timeouts)
        self._longest_timeout = math.inf if unbounded or not bounded else max(bounded)
        self.redactor = Redactor([settings.api_key])

    async def send(self, request: httpx.Request, call: Call = DEFAULT_CALL) -> httpx.Response:
        """Send with retries; return the response with its body read.

        Reading the body is part of the attempt: a body cut off mid-way is
        retried like any other broken connection, never half-parsed.
        """
        return await self.consume(request, _read, call)

    async def consume(
        self,
        request: httpx.Request,
        consume: Consume[T],
        call: Call = DEFAULT_CALL,
        *,
        body_deadline: bool = True,
    ) -> T:
        """Send with retries; return what `consume` makes of a successful response.

        `consume` runs inside the attempt, holding the connection slot: a
        transport error while it reads the body fails the attempt, which is
        retried like any other (so it must start from scratch each time). With
        `body_deadline=False` the call's deadline bounds only the wait for the
        headers, not the reading (a large download).

        Raises:
            ZofError: The last attempt's error once the call gives up.
        """
        result = await self._run(request, call, consume, body_deadline)
        if isinstance(result, Failure):
            raise result.error
        return result

    async def attempt(self, request: httpx.Request, call: Call) -> httpx.Response | Failure:
        """Like `send` with `call`'s retries, but the final failure is returned, not raised.

        For a caller that retries in its own terms (a wait polls again later):
        `Failure.retryable` says whether the failure is a transient one.
        Errors that are not about this request (a closed client, a client from
        another event loop) are still raised.
        """
        return await self._run(request, call, _read, True)

    @asynccontextmanager
    async def stream(
        self, request: httpx.Request, call: Call = DEFAULT_CALL
    ) -> AsyncIterator[httpx.Response]:
        """Send with retries; yield the successful response with its body unread.

        The pool slot is held until the block exits, so reading a large body
        never lets more requests onto the connections than there are.
        """
        holder: list[Lease] = []

        async def hold(response: httpx.Response) -> httpx.Response:
            return response

        try:
            result = await self._run(request, call, hold, False, hold=holder)
        except BaseException:  # after the lease was held: a hook cancelled or failed
            if holder:
                await holder[0].release()  # closes an unread body shielded
            raise
        if isinstance(result, Failure):
            raise result.error
        try:
            yield result
        finally:
            await holder[0].release()

    async def _run(
        self,
        request: httpx.Request,
        call: Call,
        consume: Consume[T],
        body_deadline: bool,
        *,
        hold: list[Lease] | None = None,
    ) -> T | Failure:
        """The retry loop: attempt until a value, or return the failure given up on.

        Calls the hooks (`_hooks`) per attempt; a success goes to any `with_raw_response`.
        """
        hooks = self.settings.hooks if self.settings.hooks else None
        trace = CallTrace(loop_time())
        if hooks is None:
            return await self._loop(request, call, consume, body_deadline, hold, trace, None)
        try:
            return await self._loop(request, call, consume, body_deadline, hold, trace, hooks)
        except BaseException as exc:  # cancelled in an attempt, a backoff or a hook
            await hooks.aborted(trace, request, self.redactor, exc)
            raise

    async def _loop(
        self,
        request: httpx.Request,
        call: Call,
        consume: Consume[T],
        body_deadline: bool,
        hold: list[Lease] | None,
        trace: CallTrace,
        hooks: Hooks | None,
    ) -> T | Failure:
        settings, channel, redactor = self.settings, self.channel, self.redactor
        limit = settings.total_timeout if call.total_timeout is None else call.total_timeout
        deadline = trace.started + limit if limit is not None else math.inf
        channel.budget.record_request(trace.started)
        retries = waits = 0
        while True:
            if hooks is not None:
                await hooks.request(trace, request, redactor)
            trace.response = None
            result = await self._attempt(
                request, call, deadline, consume, body_deadline, hold, trace
            )
            if not isinstance(result, Failure):
                # The hot path (no hooks, no capture, not pacing) awaits nothing more.
                if hooks is not None or call.capture is not None or channel.pacer.active:
                    await self._succeeded(request, call, trace, hooks)
                return result
            failure = result
            if not body_deadline:  # the transfer's time is not the call's to spend
                deadline += failure.consumed
            redactor.exception(failure.error)
            now = loop_time()
            answer = self.channel.learn(failure, call.meter, trace.sent_at, trace.left_at, now)
            decision = self._decide(failure, call, retries=retries, waits=waits, now=now,
                                    deadline=deadline)  # fmt: skip
            await self._report(request, failure, answer, decision, trace, hooks)
            if isinstance(decision, GiveUp):
                return failure
            if decision.kind == "wait":
                waits += 1
            else:
                retries += 1
            trace.attempt += 1
            channel.traffic.retried(call.meter)
            if decision.delay > 0:
                await sleep(decision.delay)
            trace.sent_at = loop_time()

    async def _succeeded(
        self, request: httpx.Request, call: Call, trace: CallTrace, hooks: Hooks | None
    ) -> None:
        """Tell the pacer, the hooks and a `with_raw_response` capture of a success."""
        pacer = self.channel.pacer
        if pacer.active:
            pacer.answered(trace.left_at, loop_time())
        if hooks is not None:
            trace.send_rate = pacer.rate
            await hooks.succeeded(trace, request, self.redactor)
        if call.capture is not None:
            call.capture.record(trace, self.redactor)

    def _decide(
        self, failure: Failure, call: Call, *, retries: int, waits: int, now: float, deadline: float
    ) -> Retry | GiveUp:
        """`decide` (pure), then the retry budget for a "retry" (waits do not spend it)."""
        channel = self.channel
        decision: Retry | GiveUp = decide(
            self.settings.retry,
            failure,
            retries=retries,
            waits=waits,
            now=now,
            deadline=deadline,
            rng=channel.rng,
            max_retries=call.max_retries,
        )
        if (
            isinstance(decision, Retry)
            and decision.kind == "retry"
            and not channel.budget.try_retry(now)
        ):
            return GiveUp("retry budget exhausted")
        return decision

    async def _report(
        self,
        request: httpx.Request,
        failure: Failure,
        answer: httpx.Response | None,
        decision: Retry | GiveUp,
        trace: CallTrace,
        hooks: Hooks | None,
    ) -> None:
        """The failed attempt's log line, and the hooks' `on_response`/`on_retry`."""
        error = type(failure.error.__cause__ or failure.error).__name__
        status = error if answer is None else answer.status_code
        log_attempt(self.redactor, request, status, answer, trace, decision)
        if hooks is not None:
            trace.send_rate = self.channel.pacer.rate
            retry_in = decision.delay if isinstance(decision, Retry) else None
            why = error if answer is None else f"HTTP {status}"
            await hooks.failed(
                trace, request, self.redactor, failure, retry_in=retry_in, reason=why
            )

    async def _attempt(
        self,
        request: httpx.Request,
        call: Call,
        deadline: float,
        consume: Consume[T],
        body_deadline: bool,
        hold: list[Lease] | None,
        trace: CallTrace,
    ) -> T | Failure:
        """One attempt: gate, slot, `_cleared`, send, consume (or classify the failure).

        The answer is kept on `trace` (for hooks and `with_raw_response`).
        """
        channel = self.channel
        gate = channel.gate  # `never_closed`, the hot path: no clock read, no await
        if (
            not gate.never_closed
            and (held := await pass_gate(gate, self.settings.retry, request, deadline)) is not None
        ):
            return held
        pool = channel.pool
        lease = Lease(pool, await pool.acquire())
        consuming = False  # `consume` may raise OSError of its own (a full disk)
        consumed_from = math.inf
        try:
            held = await self._cleared(request, deadline, trace)
            if held is not None:
                await lease.release()
                return held
            channel.traffic.sent(call.meter)
            with deadline_scope(deadline) as scope:
                lease.sent = True
                response = await lease.transport.handle_async_request(request)
                response.request = request
                lease.response = trace.response = response
                if not response.is_success:
                    await response.aread()
                elif body_deadline:
                    consuming = True
                    value = await consume(response)
            if scope.cancelled_caught:
                await lease.release(failed=True)
                return Failure(deadline_exceeded(request), retryable=True)
            if response.is_success and not body_deadline:
                consuming, consumed_from = True, loop_time()
                value = await consume(response)
        except (httpx.RequestError, OSError, EOFError) as exc:
            await lease.release(failed=True)
            if consuming and not isinstance(exc, httpx.RequestError):
                raise  # the consumer's own error (its transport errors are httpx's)
            return transport_failure(request, exc, consumed_from)
        except BaseException as exc:
            await lease.release(failed=True)
            if (other_loop := other_loop_error(request, exc)) is not None:
                raise other_loop from exc
            raise
        if (failed := await self._finish(lease, hold, response, trace)) is not None:
            return failed
        return value

    async def _finish(
        self, lease: Lease, hold: list[Lease] | None, response: httpx.Response, trace: CallTrace
    ) -> Failure | None:
        """Give the slot back (or to `hold`, for a streamed body); a 4xx/5xx's failure."""
        if not response.is_success:
            await lease.release()
            return status_failure(response)
        if logger.isEnabledFor(logging.DEBUG):
            log_attempt(
                self.redactor, response.request, response.status_code, response, trace, None
            )
        if hold is not None:
            hold.append(lease)
        else:
            await lease.release()
        return None

    async def _cleared(
        self, request: httpx.Request, deadline: float, trace: CallTrace
    ) -> Failure | None:
        """With a slot taken: the gate again and the pacers, then the deadline's timeouts.

        The gate is checked again once a slot is taken: a request that queued
        for a slot before a 429 arrived must not slip out after it. Once the
        client paces (a 429 seen, or a declared limit) the request then waits
        for its slot of the send rate (`_pacing`).

        `None` when the request may go (its timeouts cut to what is left of
        the call's deadline); else the failure of the attempt, nothing sent.
        """
        channel, retry = self.channel, self.settings.retry
        gate = channel.gate
        if channel.pacer.active or self.own_pacer is not None:
            held = await pace_request(self._pacers, gate, retry, request, deadline)
            trace.left_at = loop_time()
        elif not gate.never_closed:
            held = await pass_gate(gate, retry, request, deadline)
            trace.left_at = trace.sent_at
        else:
            held, trace.left_at = None, trace.sent_at
        if held is not None or deadline == math.inf:
            return held
        remaining = deadline - loop_time()
        if remaining <= 0:
            return Failure(deadline_exceeded(request), retryable=True)
        if remaining < self._longest_timeout:
            request.extensions = {
                "timeout": {
                    key: remaining if value is None else min(value, remaining)
                    for key, value in self._timeouts.items()
                }
            }
        elif request.extensions["timeout"] is not self._timeouts:  # shrunk by an attempt
            request.extensions = {"timeout": self._timeouts}
        return None
