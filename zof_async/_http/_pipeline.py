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
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import anyio
import httpx

from .._exceptions import (
    APITimeoutError,
    ConfigurationError,
    describe,
    status_error,
    transport_error,
)
from .._logging import logger
from .._redact import Redactor
from ._channel import Channel, Lease
from ._clock import loop_time
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
    is_retryable_exception,
    is_retryable_status,
    parse_retry_after,
    sleep,
)
from ._settings import DEFAULT_CALL, Call, Settings

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

        result = await self._run(request, call, hold, False, hold=holder)
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
        started = trace.started
        deadline = started + limit if limit is not None else math.inf
        channel.budget.record_request(started)
        retries = waits = 0
        while True:
            if hooks is not None:
                await hooks.request(trace, request, redactor)
            trace.response = None
            result = await self._attempt(
                request, call, deadline, consume, body_deadline, hold, trace
            )
            pacer = channel.pacer
            if not isinstance(result, Failure):
                if pacer.active:
                    pacer.answered(trace.left_at, loop_time())
                if hooks is not None:
                    trace.send_rate = pacer.rate
                    await hooks.succeeded(trace, request, redactor)
                if call.capture is not None:
                    call.capture.record(trace, redactor)
                return result
            failure = result
            if not body_deadline:  # the transfer's time is not the call's to spend
                deadline += failure.consumed
            redactor.exception(failure.error)
            now = loop_time()
            response = getattr(failure.error, "response", None)
            answer = response if isinstance(response, httpx.Response) else None
            if failure.rate_limited:
                channel.traffic.limited(call.meter, trace.sent_at)
                pacer.throttled(trace.left_at, now, failure.retry_after)
                if failure.retry_after is not None:
                    reason = getattr(failure.error, "response", None)
                    channel.gate.close_until(now + failure.retry_after, reason)
            elif answer is not None and pacer.active:
                pacer.answered(trace.left_at, now)
            decision: Retry | GiveUp = decide(
                settings.retry,
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
                decision = GiveUp("retry budget exhausted")
            error = type(failure.error.__cause__ or failure.error).__name__
            status = error if answer is None else answer.status_code
            log_attempt(redactor, request, status, answer, trace, decision)
            if hooks is not None:
                trace.send_rate = pacer.rate
                retry_in = decision.delay if isinstance(decision, Retry) else None
                why = error if answer is None else f"HTTP {status}"
                await hooks.failed(trace, request, redactor, failure, retry_in=retry_in, reason=why)
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
        """One attempt: gate, slot, gate again and pace, send, consume (or classify the failure).

        The gate is checked again once a slot is taken: a request that queued
        for a slot before a 429 arrived must not slip out after it. Once the
        client paces (a 429 seen, or a declared limit) the request then waits
        for its slot of the send rate (`_pacing`). The answer is kept on
        `trace` (for hooks and `with_raw_response`).
        """
        channel, retry = self.channel, self.settings.retry
        gate = channel.gate  # `never_closed`, the hot path: no clock read, no await
        if (
            not gate.never_closed
            and (held := await pass_gate(gate, retry, request, deadline)) is not None
        ):
            return held
        pool = channel.pool
        lease = Lease(pool, await pool.acquire())
        consuming = False  # `consume` may raise OSError of its own (a full disk)
        consumed_from = math.inf
        try:
            if channel.pacer.active or self.own_pacer is not None:
                held = await pace_request(self._pacers, gate, retry, request, deadline)
                trace.left_at = loop_time()
            elif not gate.never_closed:
                held = await pass_gate(gate, retry, request, deadline)
                trace.left_at = trace.sent_at
            else:
                held, trace.left_at = None, trace.sent_at
            if held is not None:
                await lease.release()
                return held
            if deadline != math.inf:
                remaining = deadline - loop_time()
                if remaining <= 0:
                    await lease.release()
                    return Failure(_deadline_exceeded(request), retryable=True)
                if remaining < self._longest_timeout:
                    request.extensions = {
                        "timeout": {
                            key: remaining if value is None else min(value, remaining)
                            for key, value in self._timeouts.items()
                        }
                    }
                elif request.extensions["timeout"] is not self._timeouts:  # shrunk by an attempt
                    request.extensions = {"timeout": self._timeouts}
            channel.traffic.sent(call.meter)
            with anyio.CancelScope(deadline=deadline) as scope:
                response = await lease.transport.handle_async_request(request)
                response.request = request
                lease.response = trace.response = response
                if not response.is_success:
                    await response.aread()
                elif body_deadline:
                    consuming = True
                    value = await consume(response)
            if scope.cancelled_caught:
                await lease.release()
                return Failure(_deadline_exceeded(request), retryable=True)
            if response.is_success and not body_deadline:
                consuming, consumed_from = True, loop_time()
                value = await consume(response)
        except (httpx.RequestError, OSError, EOFError) as exc:
            await lease.release()
            if consuming and not isinstance(exc, httpx.RequestError):
                raise  # the consumer's own error (its transport errors are httpx's)
            error = transport_error(request, exc)
            error.__cause__ = exc
            return Failure(
                error,
                retryable=is_retryable_exception(exc),
                consumed=max(0.0, loop_time() - consumed_from),
            )
        except RuntimeError as exc:
            await lease.release()
            if "loop" not in str(exc).lower():
                raise
            raise ConfigurationError(
                f"{describe(request)}: {exc}: this client's connections belong to another "
                "event loop; create one client per event loop"
            ) from exc
        except BaseException:
            await lease.release()
            raise
        if response.is_success:
            if logger.isEnabledFor(logging.DEBUG):
                log_attempt(self.redactor, request, response.status_code, response, trace, None)
            if hold is not None:
                hold.append(lease)
            else:
                await lease.release()
            return value
        await lease.release()
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("retry-after"), now=time.time())
        return Failure(
            status_error(response, retry_after=retry_after),
            retryable=is_retryable_status(status),
            retry_after=retry_after,
            rate_limited=status == 429,
        )


def _deadline_exceeded(request: httpx.Request) -> APITimeoutError:
    return APITimeoutError(f"{describe(request)}: total deadline exceeded", request=request)
