"""What a failed attempt is: the `Failure` the retry loop decides on.

A transport error (no usable response), a 4xx/5xx answer, the call's
deadline, or a transport that belongs to another event loop: each becomes
the SDK's error, classified once (`retryable`, `retry_after`,
`rate_limited`) so nothing downstream unwraps causes to classify again.
"""

from __future__ import annotations

import time

import httpx

from .._exceptions import (
    APITimeoutError,
    ConfigurationError,
    describe,
    status_error,
    transport_error,
)
from ._retry import Failure, is_retryable_exception, is_retryable_status, parse_retry_after
from ._transport._clock import loop_time

__all__ = ["deadline_exceeded", "other_loop_error", "status_failure", "transport_failure"]


def transport_failure(request: httpx.Request, exc: BaseException, consumed_from: float) -> Failure:
    """The failure of an attempt that got no usable response (`exc` chained as the cause)."""
    error = transport_error(request, exc)
    error.__cause__ = exc
    return Failure(
        error,
        retryable=is_retryable_exception(exc),
        consumed=max(0.0, loop_time() - consumed_from),
    )


def status_failure(response: httpx.Response) -> Failure:
    """The failure of an attempt answered 4xx/5xx (its body read)."""
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("retry-after"), now=time.time())
    return Failure(
        status_error(response, retry_after=retry_after),
        retryable=is_retryable_status(status),
        retry_after=retry_after,
        rate_limited=status == 429,
    )


def other_loop_error(request: httpx.Request, exc: BaseException) -> ConfigurationError | None:
    """The error for a transport that refused this event loop (the caller chains `exc`)."""
    if not isinstance(exc, RuntimeError) or "loop" not in str(exc).lower():
        return None
    return ConfigurationError(
        f"{describe(request)}: {exc}: this client's connections belong to another "
        "event loop; create one client per event loop"
    )


def deadline_exceeded(request: httpx.Request) -> APITimeoutError:
    """The error of an attempt (or a wait) that the call's total deadline cut short."""
    return APITimeoutError(f"{describe(request)}: total deadline exceeded", request=request)
