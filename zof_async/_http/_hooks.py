"""Hooks: callbacks the pipeline calls around every attempt of every call.

For each attempt of a call, in order and in the task of the call:

```
on_request(RequestView)        the attempt starts (it may then wait at the 429 gate)
on_response(ResponseView)      it ended: a status, or an error with no usable answer;
                               `final` says whether it was the call's last attempt
on_rate_limited(retry_after)   the answer was a 429 (`Retry-After` seconds, or None)
on_retry(attempt, delay, reason)  another attempt (number `attempt`) follows in `delay` s
```

Views are frozen and never hold the API key: `Authorization` is left out of
the headers, and every URL, header value and request id is scrubbed of the
key and of any bearer token. A hook may be a plain callable or a coroutine
function (anything returning an awaitable is awaited). An exception raised by
a hook is logged once per hook (a warning, with its traceback) and otherwise
ignored: it never breaks the call. Cancellation is not caught.
"""

from __future__ import annotations

import inspect
import itertools
import logging
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar

import anyio
import attrs
import httpx

from .._logging import logger

if TYPE_CHECKING:
    from .._redact import Redactor
    from ._retry import Failure

__all__ = [
    "CallTrace",
    "frozen_headers",
    "Hooks",
    "OnRateLimited",
    "OnRequest",
    "OnResponse",
    "OnRetry",
    "RequestView",
    "ResponseView",
]


@attrs.frozen(kw_only=True)
class RequestView:
    """An attempt about to start, as hooks see it (immutable, without the key).

    Attributes:
        call_id: Identifies the SDK call: every attempt of one call shares it.
        attempt: 1 for the first attempt of the call, 2 for its first retry...
        method: `GET` or `POST`.
        url: The full URL, query included.
        headers: The request's headers, lower-cased, without `Authorization`.
    """

    call_id: int
    attempt: int
    method: str
    url: str
    headers: Mapping[str, str]


@attrs.frozen(kw_only=True)
class ResponseView:
    """How an attempt ended, as hooks see it (immutable, without the key).

    Attributes:
        call_id: As the attempt's `RequestView`.
        attempt: As the attempt's `RequestView`.
        method: `GET` or `POST`.
        url: The full URL, query included.
        status: The HTTP status, or `None` if no usable answer came.
        headers: The response's headers, lower-cased (empty without an answer).
        request_id: The answer's `X-Request-Id`.
        elapsed: Seconds since the attempt started (429 gate and pool wait included).
        error: The error's type name when the attempt failed without an answer
            (`ConnectError`, `APITimeoutError`, `CancelledError`...).
        final: Whether this was the call's last attempt (no retry follows).
        send_rate: Requests per second the client paces to as the attempt
            ends (learned from 429s, or `max_requests_per_second`); `None`
            while it does not pace.
    """

    call_id: int
    attempt: int
    method: str
    url: str
    status: int | None
    headers: Mapping[str, str]
    request_id: str | None
    elapsed: float
    error: str | None
    final: bool
    send_rate: float | None = None

    @property
    def ok(self) -> bool:
        """Whether the attempt got a 2xx answer and nothing went wrong after it.

        An answer whose body then broke, or did not decode, is not ok.
        """
        return self.error is None and self.status is not None and 200 <= self.status < 300


OnRequest = Callable[[RequestView], object]
"""`on_request(view)`: a plain function, or a coroutine function."""
OnResponse = Callable[[ResponseView], object]
"""`on_response(view)`: a plain function, or a coroutine function."""
OnRetry = Callable[[int, float, str], object]
"""`on_retry(attempt, delay, reason)`: attempt number `attempt` follows in `delay` s."""
OnRateLimited = Callable[[float | None], object]
"""`on_rate_limited(retry_after)`: a 429 arrived, with `Retry-After` seconds or None."""

_call_ids = itertools.count(1)


class CallTrace:
    """The per-call record the pipeline keeps: attempt number, timing, last response."""

    __slots__ = ("attempt", "call_id", "left_at", "response", "send_rate", "sent_at", "started")

    def __init__(self, started: float) -> None:
        self.started = started
        self.sent_at = started
        self.left_at = started  # after the gate, the pool and the pacer
        self.send_rate: float | None = None  # the client's pacing rate, when hooks look
        self.attempt = 0  # 0-based, as the retry policy counts
        self.response: httpx.Response | None = None
        self.call_id = 0  # given when hooks first see the call

    @property
    def retries_taken(self) -> int:
        return self.attempt


def frozen_headers(headers: httpx.Headers, redactor: Redactor) -> Mapping[str, str]:
    """`headers`, lower-cased and read-only, without credentials, values scrubbed."""
    return MappingProxyType(
        {
            name.lower(): redactor.text(value)
            for name, value in headers.items()
            if name.lower() not in ("authorization", "proxy-authorization")
        }
    )


class Hooks:
    """The callbacks of a client: tuples per event, called in the order given.

    `with_options(on_request=...)` makes a copy whose hooks run after the
    client's (`extended`). Immutable but for the note of which hooks have
    failed, kept so that each is logged once.
    """

    __slots__ = ("_failed", "on_rate_limited", "on_request", "on_response", "on_retry")

    def __init__(
        self,
        *,
        on_request: Sequence[OnRequest] = (),
        on_response: Sequence[OnResponse] = (),
        on_retry: Sequence[OnRetry] = (),
        on_rate_limited: Sequence[OnRateLimited] = (),
    ) -> None:
        for name, given in (
            ("on_request", on_request),
            ("on_response", on_response),
            ("on_retry", on_retry),
            ("on_rate_limited", on_rate_limited),
        ):
            if not all(callable(hook) for hook in given):
                raise TypeError(f"{name} must be a callable (or a coroutine function)")
        self.on_request = tuple(on_request)
        self.on_response = tuple(on_response)
        self.on_retry = tuple(on_retry)
        self.on_rate_limited = tuple(on_rate_limited)
        self._failed: set[int] = set()

    def __bool__(self) -> bool:
        return bool(self.on_request or self.on_response or self.on_retry or self.on_rate_limited)

    def __repr__(self) -> str:
        counts = ", ".join(
            f"{name}={len(getattr(self, name))}"
            for name in ("on_request", "on_response", "on_retry", "on_rate_limited")
        )
        return f"Hooks({counts})"

    def extended(
        self,
        *,
        on_request: OnRequest | None = None,
        on_response: OnResponse | None = None,
        on_retry: OnRetry | None = None,
        on_rate_limited: OnRateLimited | None = None,
    ) -> Hooks:
        """These hooks, then the ones given (`None`: none added)."""
        return Hooks(
            on_request=self.on_request + _one(on_request),
            on_response=self.on_response + _one(on_response),
            on_retry=self.on_retry + _one(on_retry),
            on_rate_limited=self.on_rate_limited + _one(on_rate_limited),
        )

    async def _call(self, hook: Callable[..., object], *args: object) -> None:
        try:
            outcome = hook(*args)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception as exc:
            if id(hook) in self._failed:
                return
            self._failed.add(id(hook))
            name = getattr(hook, "__qualname__", type(hook).__name__)
            logger.log(
                logging.WARNING,
                "hook %s raised %s; the call goes on (logged once per hook)",
                name,
                type(exc).__name__,
                exc_info=exc,
                extra={"hook": name},
            )

    async def request(self, trace: CallTrace, request: httpx.Request, redactor: Redactor) -> None:
        """`on_request` for the attempt `trace` is at."""
        if trace.call_id == 0:
            trace.call_id = next(_call_ids)
        if not self.on_request:
            return
        view = RequestView(
            call_id=trace.call_id,
            attempt=trace.attempt + 1,
            method=request.method,
            url=redactor.text(str(request.url)),
            headers=frozen_headers(request.headers, redactor),
        )
        for hook in self.on_request:
            await self._call(hook, view)

    async def response(
        self,
        trace: CallTrace,
        request: httpx.Request,
        redactor: Redactor,
        *,
        response: httpx.Response | None,
        error: BaseException | None,
        final: bool,
    ) -> None:
        """`on_response` for the attempt `trace` is at."""
        if not self.on_response:
            return
        request_id = None if response is None else response.headers.get("x-request-id")
        view = ResponseView(
            call_id=trace.call_id,
            attempt=trace.attempt + 1,
            method=request.method,
            url=redactor.text(str(request.url)),
            status=None if response is None else response.status_code,
            headers=MappingProxyType({})
            if response is None
            else frozen_headers(response.headers, redactor),
            request_id=None if request_id is None else redactor.text(request_id),
            elapsed=anyio.current_time() - trace.sent_at,
            error=None if error is None else type(error).__name__,
            final=final,
            send_rate=trace.send_rate,
        )
        for hook in self.on_response:
            await self._call(hook, view)

    async def succeeded(self, trace: CallTrace, request: httpx.Request, redactor: Redactor) -> None:
        """The final `on_response` of a call that succeeded."""
        await self.response(
            trace, request, redactor, response=trace.response, error=None, final=True
        )

    async def failed(
        self,
        trace: CallTrace,
        request: httpx.Request,
        redactor: Redactor,
        failure: Failure,
        *,
        retry_in: float | None,
        reason: str,
    ) -> None:
        """`on_response`, `on_rate_limited` and `on_retry` after a failed attempt."""
        response = getattr(failure.error, "response", None)
        answered = isinstance(response, httpx.Response)
        await self.response(
            trace,
            request,
            redactor,
            response=response if answered else None,
            error=None if answered else (failure.error.__cause__ or failure.error),
            final=retry_in is None,
        )
        if failure.rate_limited:
            for hook in self.on_rate_limited:
                await self._call(hook, failure.retry_after)
        if retry_in is not None:
            for retry_hook in self.on_retry:
                await self._call(retry_hook, trace.attempt + 2, retry_in, reason)

    async def aborted(
        self, trace: CallTrace, request: httpx.Request, redactor: Redactor, exc: BaseException
    ) -> None:
        """The final `on_response` of a call ended by an exception (cancellation included).

        Shielded, and bounded to a second, so that a hook can close what it
        opened for the call (a span) even while the call is being cancelled.
        """
        if not self.on_response:
            return
        with anyio.move_on_after(1.0, shield=True):
            answer = trace.response  # the attempt's answer, if one came (a body that broke)
            await self.response(trace, request, redactor, response=answer, error=exc, final=True)


H = TypeVar("H", bound=Callable[..., object])


def _one(hook: H | None) -> tuple[H, ...]:
    if hook is None:
        return ()
    if not callable(hook):
        raise TypeError("a hook must be a callable (or a coroutine function)")
    return (hook,)
