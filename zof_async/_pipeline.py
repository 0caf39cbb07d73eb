"""The request pipeline: every call of every resource goes through here.

For each call: build the request once (one `Idempotency-Key` for a POST),
then attempt it until it succeeds, fails for good, or runs out of retries,
budget or time. Each attempt waits at the client-wide 429 gate, takes a pool
slot, and sends straight to the transport.
"""

from __future__ import annotations

import json as jsonlib
import logging
import math
import random
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
import attrs
import httpx

from . import _meter as meter
from ._background import Background
from ._budget import RetryBudget
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    RateLimitError,
    ZofError,
    describe,
    status_error,
)
from ._gate import RateLimitGate
from ._logging import logger
from ._pool import ConnectionPool
from ._retry import (
    RetryPolicy,
    is_retryable_exception,
    is_retryable_status,
    is_testing,
    parse_retry_after,
    retry_delay,
)
from ._waiting import PollRate

Params = Mapping[str, str | int | list[str] | None]


@attrs.frozen(kw_only=True)
class Settings:
    """What a client (or a `with_options` copy) sends with, per call."""

    base_url: httpx.URL
    headers: tuple[tuple[str, str], ...]
    timeout: httpx.Timeout
    total_timeout: float | None
    retry: RetryPolicy


class Shared:
    """State shared by a client and all its `with_options` copies."""

    def __init__(
        self, pool: ConnectionPool, retry: RetryPolicy, *, polls_per_second: float
    ) -> None:
        self.pool = pool
        self.background = Background()
        self.poll_rate = PollRate(polls_per_second)
        self.rng = random.Random()
        self.gate = RateLimitGate(self.rng)
        self.budget = RetryBudget(
            ratio=retry.budget_ratio, floor=retry.budget_floor, window=retry.budget_window
        )
        self.requests_sent = 0
        self.retries = 0


class Pipeline:
    """Sends requests with retries, backoff, the 429 gate, budget and deadline."""

    def __init__(self, settings: Settings, shared: Shared) -> None:
        self.settings = settings
        self.shared = shared

    def build(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
        url: str | None = None,
    ) -> httpx.Request:
        """Build the request once; retries resend this same object."""
        settings = self.settings
        target = (
            httpx.URL(url)
            if url is not None
            else settings.base_url.copy_with(
                raw_path=settings.base_url.raw_path.rstrip(b"/") + path.encode("ascii")
            )
        )
        if params:
            clean = {
                k: (",".join(v) if isinstance(v, list) else v)
                for k, v in params.items()
                if v is not None
            }
            target = target.copy_merge_params(clean)
        headers = list(settings.headers)
        content = None
        if json is not None:
            content = jsonlib.dumps(json, separators=(",", ":")).encode()
            headers.append(("Content-Type", "application/json"))
        if method == "POST":
            headers.append(("Idempotency-Key", idempotency_key or str(uuid.uuid4())))
        request = httpx.Request(method, target, headers=headers, content=content)
        request.extensions["timeout"] = settings.timeout.as_dict()
        return request

    async def send(
        self,
        request: httpx.Request,
        *,
        total_timeout: float | None = None,
        max_retries: int | None = None,
    ) -> httpx.Response:
        """Send with retries; return the response with its body read.

        Reading the body is part of the attempt: a body cut off mid-way is
        retried like any other broken connection, never half-parsed.
        """
        async with self._exchange(
            request, total_timeout, read_body=True, max_retries=max_retries
        ) as response:
            return response

    def stream(
        self, request: httpx.Request, *, total_timeout: float | None = None
    ) -> AbstractAsyncContextManager[httpx.Response]:
        """Send with retries; yield the successful response with its body unread.

        The pool slot is held until the block exits, so reading a large body
        never lets more requests onto the connections than there are.
        """
        return self._exchange(request, total_timeout, read_body=False, max_retries=None)

    @asynccontextmanager
    async def _exchange(
        self,
        request: httpx.Request,
        total_timeout: float | None,
        *,
        read_body: bool,
        max_retries: int | None,
    ) -> AsyncIterator[httpx.Response]:
        limit = self.settings.total_timeout if total_timeout is None else total_timeout
        started = anyio.current_time()
        deadline = started + limit if limit is not None else math.inf
        self.shared.budget.record_request(started)
        attempt = 0
        while True:
            stack = AsyncExitStack()
            retry_after: float | None = None
            attempt_started = anyio.current_time()
            try:
                response = await self._attempt(request, stack, deadline, read_body=read_body)
            except APIConnectionError as exc:
                await stack.aclose()
                if isinstance(exc, APITimeoutError) and exc.__cause__ is None:
                    raise  # the call's own deadline, not a transport timeout
                cause = exc.__cause__
                outcome: ZofError = exc
                retryable = isinstance(cause, httpx.TransportError) and is_retryable_exception(
                    cause
                )
                status: int | str = type(cause or exc).__name__
            except BaseException:
                await stack.aclose()
                raise
            else:
                if response.is_success:
                    self._log(
                        request,
                        response.status_code,
                        response.headers,
                        attempt,
                        attempt_started,
                        None,
                    )
                    async with stack:
                        yield response
                    return
                await stack.aclose()
                retry_after = parse_retry_after(
                    response.headers.get("retry-after"), now=time.time()
                )
                if response.status_code == 429:
                    meter.note_rate_limited(attempt_started)
                outcome = status_error(response, retry_after=retry_after)
                retryable = is_retryable_status(response.status_code)
                status = response.status_code
            delay = self._plan_retry(
                outcome, retryable, attempt, retry_after, deadline, max_retries
            )
            headers = outcome.response.headers if isinstance(outcome, APIStatusError) else None
            self._log(request, status, headers, attempt, attempt_started, delay)
            if delay is None:
                raise outcome
            attempt += 1
            self.shared.retries += 1
            meter.note_retry()
            if delay > 0:
                await anyio.sleep(delay)

    def _plan_retry(
        self,
        outcome: ZofError,
        retryable: bool,
        attempt: int,
        retry_after: float | None,
        deadline: float,
        max_retries: int | None,
    ) -> float | None:
        """The delay before the next attempt, or `None` to give up with `outcome`."""
        policy = self.settings.retry
        limit = policy.max_retries if max_retries is None else max_retries
        if not retryable or attempt >= limit:
            return None
        if retry_after is not None and retry_after > policy.max_retry_after:
            return None
        now = anyio.current_time()
        if isinstance(outcome, RateLimitError) and retry_after is not None:
            self.shared.gate.close_until(now + retry_after)
        delay = retry_delay(policy, attempt, retry_after, self.shared.rng)
        if is_testing():
            delay = 0.0
        if now + delay >= deadline:
            return None
        if not self.shared.budget.try_retry(now):
            logger.info("retry budget exhausted; not retrying %s", outcome)
            return None
        return delay

    async def _attempt(
        self, request: httpx.Request, stack: AsyncExitStack, deadline: float, *, read_body: bool
    ) -> httpx.Response:
        """One attempt: gate, slot, gate again, send (and read).

        The gate is checked again once a slot is taken: a request that queued
        for a slot before a 429 arrived must not slip out after it.
        """
        gate = self.shared.gate
        max_jitter = self.settings.retry.max_jitter
        where = describe(request)
        closed = f"{where}: rate limited (Retry-After) past this call's deadline"
        if not await gate.wait(max_jitter=max_jitter, deadline=deadline):
            raise APITimeoutError(closed, request=request)
        transport = await stack.enter_async_context(self.shared.pool.slot())
        if not await gate.wait(max_jitter=max_jitter, deadline=deadline):
            raise APITimeoutError(closed, request=request)
        remaining = deadline - anyio.current_time()
        if remaining <= 0:
            raise APITimeoutError(f"{where}: total deadline exceeded", request=request)
        if remaining != math.inf:
            request.extensions["timeout"] = {
                key: remaining if value is None else min(value, remaining)
                for key, value in self.settings.timeout.as_dict().items()
            }
        self.shared.requests_sent += 1
        meter.note_request()
        try:
            with anyio.fail_after(None if remaining == math.inf else remaining):
                response = await transport.handle_async_request(request)
                response.request = request
                stack.push_async_callback(response.aclose)
                if read_body or not response.is_success:
                    await response.aread()
        except TimeoutError:
            raise APITimeoutError(f"{where}: total deadline exceeded", request=request) from None
        except httpx.TimeoutException as exc:
            raise APITimeoutError(f"{where}: {type(exc).__name__}", request=request) from exc
        except httpx.TransportError as exc:
            raise APIConnectionError(
                f"{where}: {type(exc).__name__}: {exc}", request=request
            ) from exc
        return response

    def _log(
        self,
        request: httpx.Request,
        status: int | str,
        headers: httpx.Headers | None,
        attempt: int,
        started: float,
        retry_in: float | None,
    ) -> None:
        failed = not (isinstance(status, int) and status < 400)
        level = logging.INFO if failed else logging.DEBUG
        if not logger.isEnabledFor(level):
            return
        logger.log(
            level,
            "%s -> %s request_id=%s attempt=%d elapsed=%.3fs%s",
            describe(request),
            status,
            headers.get("x-request-id") if headers is not None else None,
            attempt + 1,
            anyio.current_time() - started,
            f" retry_in={retry_in:.3f}s" if retry_in is not None else "",
        )
