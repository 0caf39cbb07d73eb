"""Retry policy: frozen data and pure functions over it.

What is retried:
    Connection failures (refused, reset, broken mid-body), timeouts reading a
    response, `RemoteProtocolError`, and the statuses 429, 500, 502, 503, 504,
    for every method: GETs are safe to repeat, and every POST the SDK sends
    carries an `Idempotency-Key` that stays the same across its retries.

What never is:
    Any other 4xx (409 included), a full local pool (`PoolTimeout`), a retry
    the retry budget has no room for, a retry that could not start before
    the call's total deadline, and anything at all with `max_retries=0`.

Failures and waits are counted apart (`decide`):

    retry  a failure (5xx, 429 without `Retry-After`, broken connection):
           spends one of `max_retries` and one retry of the budget;
    wait   a 429 with a `Retry-After` of at most `max_retry_after`: the server
           set the pace, the client-wide gate holds every request until then,
           so waiting adds no load. It spends one of `max_rate_limit_waits`
           and nothing of `max_retries` or the budget, so a long fan-out
           against an ordinary rate limit completes every item.

The delay before retry number `n` (0-based) is

    backoff(n) = uniform(0, min(cap, base * 2**n))            # full jitter

and, when the response carried `Retry-After: s` (seconds or an HTTP date),

    delay(n) = max(backoff(n), s) + uniform(0, min(max_jitter, s * jitter_ratio))

so the server's wish is a lower bound, and a fan-out that was told to wait
the same `s` does not wake up at one instant. A `Retry-After` above
`max_retry_after` is not slept through: `RateLimitError` is raised at once
with `retry_after` set, for the caller to decide.
"""

from __future__ import annotations

import math
import random
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Literal

import attrs
import httpx

from .._exceptions import ZofError
from .._numbers import at_least
from ._transport._proxies import ProxyConnectError

__all__ = [
    "Failure",
    "GiveUp",
    "Retry",
    "RetryPolicy",
    "backoff",
    "decide",
    "is_retryable_exception",
    "is_retryable_status",
    "parse_retry_after",
    "retry_delay",
]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How a client retries; immutable, so it can be shared and compared.

    Attributes:
        max_retries: Retries after the first attempt (0 turns retrying off).
        backoff_base: Seconds; the ceiling of the first backoff.
        backoff_cap: Seconds; no backoff ceiling grows past this.
        max_retry_after: The longest `Retry-After` the client sleeps through.
        max_rate_limit_waits: Retries after a 429 with a `Retry-After` (up to
            `max_retry_after`), counted apart from `max_retries`.
        jitter_ratio: Jitter added after a `Retry-After`, as a fraction of it.
        max_jitter: Seconds; the most jitter added after a `Retry-After`.
        budget_ratio: Retries allowed as a fraction of recent requests.
        budget_floor: Retries allowed per `budget_window` whatever the traffic:
            one for each call a full default pool (100 connections) has in
            flight, so a burst that loses every first answer to one blip
            (a 502 after a run was created) still gets every answer back.
            Finagle's default too (10 retries/s over its 10 s window).
        budget_window: Seconds of recent traffic the budget looks at.
    """

    max_retries: int = attrs.field(default=3, validator=at_least(0, whole=True))
    backoff_base: float = attrs.field(default=0.5, validator=at_least(0))
    backoff_cap: float = attrs.field(default=8.0, validator=at_least(0))
    max_retry_after: float = attrs.field(default=60.0, validator=at_least(0))
    max_rate_limit_waits: int = attrs.field(default=20, validator=at_least(0, whole=True))
    jitter_ratio: float = attrs.field(default=0.1, validator=at_least(0))
    max_jitter: float = attrs.field(default=1.0, validator=at_least(0))
    budget_ratio: float = attrs.field(default=0.2, validator=at_least(0))
    budget_floor: int = attrs.field(default=100, validator=at_least(0, whole=True))
    budget_window: float = attrs.field(
        default=10.0, validator=attrs.validators.and_(at_least(0), attrs.validators.gt(0))
    )


@attrs.frozen
class Failure:
    """How an attempt failed, as the retry decision sees it.

    Attributes:
        error: The error the call raises if it gives up here.
        retryable: Whether this kind of failure is retried at all (see the
            module docstring); `is_retryable_status` or `is_retryable_exception`.
        retry_after: The server's `Retry-After`, in seconds, if it sent one.
        rate_limited: Whether the answer was a 429.
        consumed: Seconds the attempt spent reading a body outside the
            call's deadline (a download) before it broke.
    """

    error: ZofError
    retryable: bool
    retry_after: float | None = None
    rate_limited: bool = False
    consumed: float = 0.0


@attrs.frozen
class Retry:
    """Try again after `delay` seconds; `kind` says what it spends."""

    delay: float
    kind: Literal["retry", "wait"]


@attrs.frozen
class GiveUp:
    """Stop and raise the failure's error; `reason` says why (for logs)."""

    reason: str


def decide(
    policy: RetryPolicy,
    failure: Failure,
    *,
    retries: int,
    waits: int,
    now: float,
    deadline: float,
    rng: random.Random,
    max_retries: int | None = None,
) -> Retry | GiveUp:
    """What follows a failed attempt: a `Retry` after a delay, or `GiveUp`.

    Pure: frozen data and numbers in, a decision out; the caller sleeps,
    closes the 429 gate and spends the retry budget (which depend on the rest
    of the client's traffic). In order:

    - not retryable, or retries off (`max_retries == 0`): give up;
    - a `Retry-After` above `max_retry_after`: give up (raised at once, for
      the caller to decide);
    - a 429 with a `Retry-After`: a `"wait"`, while fewer than
      `max_rate_limit_waits` were spent;
    - anything else: a `"retry"`, while fewer than `max_retries` were spent;
    - and either only if it can start before `deadline` (loop time), after
      `retry_delay(policy, retries, retry_after)`.

    Args:
        policy: The client's policy.
        failure: How the attempt failed.
        retries: Retries this call has spent so far.
        waits: Rate-limit waits this call has spent so far.
        now: The event loop's time.
        deadline: The loop time the call must end by (`math.inf`: none).
        rng: The source of jitter.
        max_retries: The call's own `max_retries`, overriding the policy's.
    """
    limit = policy.max_retries if max_retries is None else max_retries
    if not failure.retryable:
        return GiveUp("not retryable")
    if limit <= 0:
        return GiveUp("retries are off")
    retry_after = failure.retry_after
    if retry_after is not None and retry_after > policy.max_retry_after:
        return GiveUp(f"Retry-After above max_retry_after ({policy.max_retry_after:g} s)")
    kind: Literal["retry", "wait"]
    if failure.rate_limited and retry_after is not None:
        if waits >= policy.max_rate_limit_waits:
            return GiveUp("max_rate_limit_waits spent")
        kind = "wait"
    elif retries >= limit:
        return GiveUp("max_retries spent")
    else:
        kind = "retry"
    delay = retry_delay(policy, retries, retry_after, rng)
    if now + delay >= deadline:
        return GiveUp("the next attempt could not start before the deadline")
    return Retry(delay, kind)


def backoff(policy: RetryPolicy, attempt: int, rng: random.Random) -> float:
    """Full-jitter exponential backoff before retry number `attempt` (0-based)."""
    ceiling = min(policy.backoff_cap, policy.backoff_base * 2 ** min(attempt, 62))
    return rng.uniform(0.0, ceiling)


def retry_delay(
    policy: RetryPolicy, attempt: int, retry_after: float | None, rng: random.Random
) -> float:
    """The delay before retry number `attempt`, honouring `Retry-After` as a floor."""
    delay = backoff(policy, attempt, rng)
    if retry_after is None:
        return delay
    jitter = rng.uniform(0.0, min(policy.max_jitter, retry_after * policy.jitter_ratio))
    return max(delay, retry_after) + jitter


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` header, or `None` if absent or invalid.

    Args:
        value: The header: delta-seconds (`"120"`, also `"1.5"`) or an HTTP date
            in any of the three forms RFC 9110 requires recipients to accept:
            IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), obsolete RFC 850
            (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
            (`Sun Nov  6 08:49:37 1994`, which names no zone: it is GMT).
        now: The current wall-clock time (epoch seconds) to measure a date from.

    Negative, non-finite and unparseable values are ignored rather than trusted;
    a date in the past means "now" (0).
    """
    if value is None:
        return None
    text = value.strip()
    if not text or len(text) > 64:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:  # asctime (or "-0000"): HTTP dates are always GMT
            when = when.replace(tzinfo=timezone.utc)
        return max(0.0, when.timestamp() - now)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def is_retryable_status(status: int) -> bool:
    """429 and the transient 5xx."""
    return status in RETRY_STATUSES


def is_retryable_exception(exc: BaseException) -> bool:
    """Connection and read failures; never a full local pool.

    `exc` is what the transport raised: an httpx error, or an `OSError` or
    `EOFError` from a transport that does not map its errors.
    """
    if isinstance(exc, OSError | EOFError):
        return True
    return isinstance(
        exc,
        httpx.ConnectError
        | httpx.ConnectTimeout
        | httpx.ReadError
        | httpx.ReadTimeout
        | httpx.WriteError
        | httpx.RemoteProtocolError
        | ProxyConnectError,
    )
