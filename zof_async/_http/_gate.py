"""The client-wide rate-limit gate.

When any request of a client receives 429 with `Retry-After`, the gate closes
until then, and every request of that client waits at the gate before it is
sent: one shared deadline, not N requests each learning about the limit by
being rejected in turn. It closes whatever the call that got the 429 does
next: retry, give up on its last allowed attempt, run with retries off, or
raise because the `Retry-After` is longer than it sleeps through.
"""

from __future__ import annotations

import math
import random

import anyio
import httpx

from .._exceptions import APITimeoutError, RateLimitError, describe
from ._retry import Failure, RetryPolicy
from ._sleep import sleep


class RateLimitGate:
    """One per connection pool; shared by clients made with `with_options`.

    Attributes:
        reason: The 429 response that set the current closing time, if any.
    """

    def __init__(self, rng: random.Random) -> None:
        self._until = -math.inf
        self._rng = rng
        self.reason: httpx.Response | None = None

    @property
    def never_closed(self) -> bool:
        """Whether no 429 ever closed the gate (then `wait` returns at once)."""
        return self._until == -math.inf

    def closed_for(self, now: float) -> float:
        """Seconds the gate stays closed from loop time `now` (0 or less: open)."""
        return self._until - now

    def close_until(self, when: float, reason: httpx.Response | None = None) -> None:
        """Hold every request until `when` (loop time); never shortens a closure."""
        if when > self._until:
            self._until = when
            self.reason = reason

    def held(self, request: httpx.Request, closed_for: float, limit: str) -> RateLimitError:
        """The error of a request not sent because the gate stays closed past `limit`.

        What the server would answer it too: a 429 with the remaining seconds
        as `retry_after` and the request id of the 429 that closed the gate.
        """
        assert self.reason is not None
        kept = ("content-type", "retry-after", "x-request-id")  # the body is decoded already
        return RateLimitError(
            f"not sent: the client is rate limited for {closed_for:.1f} s more, longer than {limit}",
            response=httpx.Response(
                429,
                headers=[(k, v) for k, v in self.reason.headers.items() if k in kept],
                content=self.reason.content,
                request=request,
            ),
            code="rate_limited",
            retry_after=closed_for,
        )

    async def wait(
        self, *, max_jitter: float, deadline: float = math.inf, longest: float = math.inf
    ) -> float | None:
        """Wait until the gate opens, plus a little jitter.

        The jitter (up to 10% of the wait, at most `max_jitter`) spreads the
        waiters' wake-ups so they do not hit the server at one instant.

        Returns:
            `None` once the gate is open; or, at once and without waiting, the
            seconds it stays closed when that is longer than `longest` or
            reaches past `deadline` (loop time): waiting could only end in a
            timeout, or in a sleep longer than the caller accepts.
        """
        if self._until == -math.inf:
            return None  # never closed: no clock read on the hot path
        while (remaining := self._until - anyio.current_time()) > 0:
            if self._until >= deadline or remaining > longest:
                return remaining
            jitter = self._rng.uniform(0.0, min(max_jitter, remaining * 0.1))
            if not await sleep(remaining + jitter):
                break  # sleeping is off (tests): the gate lets everything through
        return None


async def pass_gate(
    gate: RateLimitGate, policy: RetryPolicy, request: httpx.Request, deadline: float
) -> Failure | None:
    """Wait at the client-wide 429 gate; or, without sending, the failure of the attempt.

    A `RateLimitError` when the gate stays closed longer than
    `max_retry_after` (what the server would answer this request too, with
    the remaining seconds as `retry_after` and the request id of the 429 that
    closed it), an `APITimeoutError` when it opens only past the call's
    deadline (loop time). Both are transient: `decide` gives up on them at
    once, and a wait polls again later.
    """
    closed_for = await gate.wait(
        max_jitter=policy.max_jitter, deadline=deadline, longest=policy.max_retry_after
    )
    if closed_for is None:
        return None
    if closed_for > policy.max_retry_after and gate.reason is not None:
        held = gate.held(request, closed_for, f"max_retry_after ({policy.max_retry_after:g} s)")
        return Failure(held, retryable=True, retry_after=closed_for)
    late = APITimeoutError(
        f"{describe(request)}: rate limited (Retry-After) past this call's deadline",
        request=request,
    )
    return Failure(late, retryable=True, retry_after=closed_for)
