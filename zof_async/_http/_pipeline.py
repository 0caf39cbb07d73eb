"""The request pipeline: every call of every resource goes through here.

For each call: build the request once (one `Idempotency-Key` for a POST),
then attempt it until it succeeds, fails for good, or runs out of retries,
budget or time. Each attempt waits at the client-wide 429 gate, takes a pool
slot, and sends straight to the transport. This is the hot path of every
fan-out, so it builds each URL once, reuses prepared headers and avoids
generator-based context managers.
"""

from __future__ import annotations

import json as jsonlib
import logging
import math
import platform
import random
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import anyio
import attrs
import httpx

from .._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    RateLimitError,
    ZofError,
    describe,
    status_error,
    transport_error,
)
from .._logging import logger
from .._resources._arguments import idempotency_key as check_idempotency_key
from .._streaming import _meter as meter
from .._streaming._background import Background
from .._streaming._waiting import PollRate
from .._version import __version__
from ._budget import RetryBudget
from ._gate import RateLimitGate
from ._pool import ConnectionPool
from ._redact import Redactor
from ._retry import (
    RetryPolicy,
    Step,
    is_retryable_exception,
    is_retryable_status,
    is_testing,
    next_step,
    parse_retry_after,
    retry_delay,
)

Params = Mapping[str, str | int | list[str] | None]

JSON = "application/json"

USER_AGENT = f"zof-async/{__version__} httpx/{httpx.__version__} python/{platform.python_version()}"


@attrs.frozen(kw_only=True)
class Settings:
    """What a client (or a `with_options` copy) sends with, per call.

    The inputs as given, so `with_options` inherits exactly them; the key is
    left out of the repr.
    """

    base_url: httpx.URL
    api_key: str = attrs.field(repr=False)
    default_headers: tuple[tuple[str, str], ...]
    allow_insecure_http: bool
    timeout: httpx.Timeout
    total_timeout: float | None
    retry: RetryPolicy

    def headers(self) -> httpx.Headers:
        """The headers of every request: identity, defaults, then `Accept` and the key.

        `Accept` is the SDK's, not a default: it says what the SDK can decode
        (`application/json`; `Pipeline.build` sets another for the endpoints
        that answer something else), and a negotiating server answers 406 to
        an `Accept` that excludes what the endpoint returns.
        """
        headers = httpx.Headers(
            [
                ("User-Agent", USER_AGENT),
                *self.default_headers,
                ("Authorization", f"Bearer {self.api_key}"),
            ]
        )
        headers["Accept"] = JSON
        return headers


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


class _Lease:
    """A pool slot and the response read through it, released together."""

    __slots__ = ("pool", "response", "transport")

    def __init__(self, pool: ConnectionPool, transport: httpx.AsyncBaseTransport) -> None:
        self.pool = pool
        self.transport = transport
        self.response: httpx.Response | None = None

    async def release(self) -> None:
        try:
            response = self.response
            if response is not None:
                if response.is_stream_consumed:
                    await response.aclose()
                else:  # a body left mid-way must still be closed, even when cancelled
                    with anyio.CancelScope(shield=True):
                        await response.aclose()
        finally:
            self.pool.release(self.transport)


class Pipeline:
    """Sends requests with retries, backoff, the 429 gate, budget and deadline."""

    def __init__(self, settings: Settings, shared: Shared) -> None:
        self.settings = settings
        self.shared = shared
        self._base = str(settings.base_url).rstrip("/")
        self._headers = settings.headers()
        self._timeouts = settings.timeout.as_dict()
        bounded = [value for value in self._timeouts.values() if value is not None]
        unbounded = len(bounded) < len(self._timeouts)
        self._longest_timeout = math.inf if unbounded or not bounded else max(bounded)
        self.redactor = Redactor([settings.api_key])

    def build(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
        accept: str = JSON,
    ) -> httpx.Request:
        """Build the request once; retries resend this same object.

        `path` must already be encoded (see `_paths`); the URL is assembled as
        text and parsed once. `accept` is what the endpoint's answer needs
        (zof-api.md, "Content negotiation"): JSON unless said otherwise.
        """
        url = self._base + path
        if params:
            query = [
                (k, ",".join(v) if isinstance(v, list) else str(v))
                for k, v in params.items()
                if v is not None
            ]
            if query:
                url += "?" + urlencode(query)
        headers = self._headers
        content = None
        if json is not None or method == "POST" or accept != JSON:
            headers = headers.copy()
            if accept != JSON:
                headers["Accept"] = accept
            if json is not None:
                content = jsonlib.dumps(json, separators=(",", ":")).encode()
                headers["Content-Type"] = "application/json"
            if method == "POST":
                if idempotency_key is not None:
                    check_idempotency_key(idempotency_key)
                headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        request = httpx.Request(method, url, headers=headers, content=content)
        request.extensions = {"timeout": self._timeouts}
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
        try:
            lease = await self._exchange(
                request, total_timeout, read_body=True, max_retries=max_retries
            )
        except ZofError as exc:
            self.redactor.exception(exc)
            raise
        await lease.release()
        assert lease.response is not None
        return lease.response

    @asynccontextmanager
    async def stream(
        self, request: httpx.Request, *, total_timeout: float | None = None
    ) -> AsyncIterator[httpx.Response]:
        """Send with retries; yield the successful response with its body unread.

        The pool slot is held until the block exits, so reading a large body
        never lets more requests onto the connections than there are.
        """
        try:
            lease = await self._exchange(request, total_timeout, read_body=False, max_retries=None)
        except ZofError as exc:
            self.redactor.exception(exc)
            raise
        try:
            assert lease.response is not None
            yield lease.response
        finally:
            await lease.release()

    async def _exchange(
        self,
        request: httpx.Request,
        total_timeout: float | None,
        *,
        read_body: bool,
        max_retries: int | None,
    ) -> _Lease:
        """Attempt until success; return the lease holding the successful response."""
        limit = self.settings.total_timeout if total_timeout is None else total_timeout
        started = anyio.current_time()
        deadline = started + limit if limit is not None else math.inf
        self.shared.budget.record_request(started)
        attempt = retries = waits = 0
        attempt_started = started
        while True:
            retry_after: float | None = None
            try:
                lease = await self._attempt(request, deadline, read_body=read_body)
            except APIConnectionError as exc:
                if isinstance(exc, APITimeoutError) and exc.__cause__ is None:
                    raise  # the call's own deadline, not a transport timeout
                cause = exc.__cause__
                outcome: ZofError = exc
                retryable = isinstance(cause, OSError | EOFError) or (
                    isinstance(cause, httpx.TransportError) and is_retryable_exception(cause)
                )
                status: int | str = type(cause or exc).__name__
            else:
                response = lease.response
                assert response is not None
                if response.is_success:
                    if logger.isEnabledFor(logging.DEBUG):
                        self._log(
                            request,
                            response.status_code,
                            response.headers,
                            attempt,
                            attempt_started,
                            None,
                        )
                    return lease
                await lease.release()
                retry_after = parse_retry_after(
                    response.headers.get("retry-after"), now=time.time()
                )
                if response.status_code == 429:
                    meter.note_rate_limited(attempt_started)
                outcome = status_error(response, retry_after=retry_after)
                retryable = is_retryable_status(response.status_code)
                status = response.status_code
            self.redactor.exception(outcome)
            plan = self._plan_retry(
                outcome, retryable, retries, waits, retry_after, deadline, max_retries
            )
            delay = None if plan is None else plan[1]
            headers = outcome.response.headers if isinstance(outcome, APIStatusError) else None
            self._log(request, status, headers, attempt, attempt_started, delay)
            if plan is None:
                raise outcome
            step, delay = plan
            attempt += 1
            if step == "wait":
                waits += 1
            else:
                retries += 1
            self.shared.retries += 1
            meter.note_retry()
            if delay > 0:
                await anyio.sleep(delay)
            attempt_started = anyio.current_time()

    def _plan_retry(
        self,
        outcome: ZofError,
        retryable: bool,
        retries: int,
        waits: int,
        retry_after: float | None,
        deadline: float,
        max_retries: int | None,
    ) -> tuple[Step, float] | None:
        """The next step and the delay before it, or `None` to give up with `outcome`.

        A 429 with `Retry-After` closes the client-wide gate first, whatever
        this call does next (see `_gate`). The step is `next_step`'s; a retry
        (not a rate-limit wait) must also fit in the retry budget, and either
        must start before the deadline.
        """
        policy = self.settings.retry
        now = anyio.current_time()
        rate_limited = isinstance(outcome, RateLimitError)
        if rate_limited and retry_after is not None:
            assert isinstance(outcome, RateLimitError)
            self.shared.gate.close_until(now + retry_after, outcome.response)
        step = next_step(
            policy,
            retryable=retryable,
            rate_limited=rate_limited,
            retry_after=retry_after,
            retries=retries,
            waits=waits,
            max_retries=max_retries,
        )
        if step is None:
            return None
        delay = retry_delay(policy, retries, retry_after, self.shared.rng)
        if is_testing():
            delay = 0.0
        if now + delay >= deadline:
            return None
        if step == "retry" and not self.shared.budget.try_retry(now):
            logger.info("retry budget exhausted; not retrying %s", outcome)
            return None
        return step, delay

    async def _attempt(self, request: httpx.Request, deadline: float, *, read_body: bool) -> _Lease:
        """One attempt: gate, slot, gate again, send (and read).

        The gate is checked again once a slot is taken: a request that queued
        for a slot before a 429 arrived must not slip out after it.
        """
        await self._pass_gate(request, deadline)
        pool = self.shared.pool
        lease = _Lease(pool, await pool.acquire())
        try:
            await self._pass_gate(request, deadline)
            if deadline != math.inf:
                remaining = deadline - anyio.current_time()
                if remaining <= 0:
                    raise APITimeoutError(
                        f"{describe(request)}: total deadline exceeded", request=request
                    )
                if remaining < self._longest_timeout:
                    request.extensions = {
                        "timeout": {
                            key: remaining if value is None else min(value, remaining)
                            for key, value in self._timeouts.items()
                        }
                    }
            self.shared.requests_sent += 1
            meter.note_request()
            with anyio.CancelScope(deadline=deadline) as scope:
                response = await lease.transport.handle_async_request(request)
                response.request = request
                lease.response = response
                if read_body or not response.is_success:
                    await response.aread()
            if scope.cancelled_caught:
                raise APITimeoutError(
                    f"{describe(request)}: total deadline exceeded", request=request
                )
        except (httpx.RequestError, OSError, EOFError) as exc:
            await lease.release()
            raise transport_error(request, exc) from exc
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
        return lease

    async def _pass_gate(self, request: httpx.Request, deadline: float) -> None:
        """Wait at the client-wide 429 gate, or fail at once without sending.

        Raises:
            RateLimitError: The gate stays closed longer than `max_retry_after`:
                what the server would answer this request too, with the
                remaining seconds as `retry_after` and the request id of the
                429 that closed it.
            APITimeoutError: It opens only past this call's deadline.
        """
        policy = self.settings.retry
        gate = self.shared.gate
        closed_for = await gate.wait(
            max_jitter=policy.max_jitter, deadline=deadline, longest=policy.max_retry_after
        )
        if closed_for is None:
            return
        if closed_for > policy.max_retry_after and gate.reason is not None:
            held = gate.held(request, closed_for, f"max_retry_after ({policy.max_retry_after:g} s)")
            raise self.redactor.exception(held)
        raise APITimeoutError(
            f"{describe(request)}: rate limited (Retry-After) past this call's deadline",
            request=request,
        )

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
            self.redactor.text(headers.get("x-request-id", "")) if headers is not None else None,
            attempt + 1,
            anyio.current_time() - started,
            f" retry_in={retry_in:.3f}s" if retry_in is not None else "",
        )
