"""`AsyncZof`: configuration, lifecycle and the resources hanging off it."""

from __future__ import annotations

import os
import ssl
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any, TypeVar

import attrs
import httpx

from . import _numbers as numbers
from ._exceptions import ConfigurationError
from ._http._budget import RetryBudget
from ._http._channel import Channel
from ._http._hooks import Hooks, OnRateLimited, OnRequest, OnResponse, OnRetry
from ._http._pacing import check_limit, declared
from ._http._pipeline import Pipeline
from ._http._retry import RetryPolicy
from ._http._settings import build_settings
from ._http._transport._transports import TransportChoice, build_pool, user_client_headers
from ._logging import setup_from_env
from ._resources._artifacts import Artifacts
from ._resources._results import Results
from ._resources._runs import Runs
from ._streaming._background import Background
from ._streaming._fanout import Engine, FanOut, Outcome
from ._streaming._waiting import PollRate
from ._webhooks._verify import ENV_SECRET, Secret, Webhooks

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_TOTAL_TIMEOUT = 120.0
DEFAULT_MAX_CONNECTIONS = 100


class _Unset:
    """The default of a `with_options` argument that keeps the client's setting."""

    def __repr__(self) -> str:
        return "<the client's>"


_UNSET: Any = _Unset()
I = TypeVar("I")  # noqa: E741
R = TypeVar("R")


@attrs.frozen
class ClientStats:
    """Counters of a client's traffic (shared with its `with_options` copies).

    Attributes:
        requests_sent: HTTP requests handed to the transport, retries included.
        retries: Attempts after the first one, over all calls.
        in_flight: Requests holding a connection slot right now.
        rate_limited: 429 answers received.
        connections: Single-connection transports the client has made (the
            default transport makes one per slot, lazily; 0 for a transport
            or `http_client` of yours, which pools on its own).
        idle_connections: Of those, the ones not lent to a request now.
    """

    requests_sent: int
    retries: int
    in_flight: int
    rate_limited: int = 0
    connections: int = 0
    idle_connections: int = 0


class AsyncZof:
    """The async client of the Zof API.

    ```python
    async with AsyncZof() as zof:
        run = await zof.runs.create(project_id="proj_abc", environment="staging",
                                    test_suite_id="suite_pr_smoke")
    ```

    Args:
        api_key: The organization API key; defaults to `ZOF_API_KEY`.
        base_url: Defaults to `ZOF_BASE_URL`, then `https://api.zof.ai/v1`.
        timeout: Per-attempt timeouts (seconds, or an `httpx.Timeout`).
        total_timeout: Seconds a whole call may take across all its attempts
            and backoff; `None` for no bound. Each method takes `timeout=` to
            override it per call.
        max_retries: Shorthand for `retry=RetryPolicy(max_retries=...)`.
        retry: The retry policy (backoff, `Retry-After` cap, budget).
        max_connections: Requests in flight at once; more wait their turn in
            the client, never in the connection pool.
        transport: What to send through: `None` (or `"httpx"`) for the default
            pool of httpcore connections, `"aiohttp"` for the faster aiohttp
            transport (`pip install 'zof-async[aiohttp]'`, asyncio only), or
            an httpx transport of yours used as it is (the in-process
            emulator, a mock).
        http_client: An `httpx.AsyncClient` of yours to send through; you keep
            ownership and close it. It contributes its transport (pool,
            mounts, proxies, TLS), event hooks and headers; the SDK sets the
            URL, `Authorization`, timeouts and no redirects. A client with a
            `base_url`, `params`, `auth` or `Authorization` header is
            refused rather than silently overridden.
        proxy: A forward proxy (`http://host:port`) for the transports the
            client builds; CONNECT tunnels https. Overrides the environment.
        verify: TLS verification for the transports the client builds:
            `True` (certifi, or `SSL_CERT_FILE`/`SSL_CERT_DIR`), a CA bundle
            path (a private CA), an `ssl.SSLContext`, or `False`.
        trust_env: Read `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY` and
            `SSL_CERT_FILE`/`SSL_CERT_DIR` as httpx does (loopback hosts are
            never proxied from the environment); on unless set to `False`.
            Like `proxy=` and `verify=`, refused next to a `transport=` or
            `http_client=` object.
        default_headers: Extra headers sent with every request.
        allow_insecure_http: Allow `http://` to hosts other than loopback.
        polls_per_second: Across all `wait_until_complete` calls of this
            client, polls sent per second at most.
        max_requests_per_second: Your plan's rate limit, if you know it: every
            request of the client (and its `with_options` copies) is paced
            to it from the first one, never above it. Without it the client
            learns a rate from the API's 429s (see the fan-out guide, "Rate limits").
        webhook_secret: The webhook endpoint secret (`whsec_...`, or several)
            that `zof.webhooks` verifies deliveries with; defaults to
            `ZOF_WEBHOOK_SECRET`. Never shown in a repr.
        on_request: Called as each attempt starts, with a `RequestView`.
        on_response: Called as each attempt ends, with a `ResponseView`.
        on_retry: Called as `on_retry(attempt, delay, reason)` before a retry.
        on_rate_limited: Called as `on_rate_limited(retry_after)` on each 429.
            Every hook may be a plain function or a coroutine function; it is
            called in the task of the call, never sees the API key, and an
            exception it raises is logged once and ignored (see the guide
            "Options, hooks and networks").

    Use it as `async with AsyncZof() as zof:`: that also gives prefetching
    pagers and fan-outs the task group they run in, and stops them all when
    the block ends. `await zof.aclose()` closes a client used without it.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        total_timeout: float | None = DEFAULT_TOTAL_TIMEOUT,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        transport: TransportChoice = None,
        http_client: httpx.AsyncClient | None = None,
        proxy: str | httpx.URL | None = None,
        verify: ssl.SSLContext | str | bool | None = None,
        trust_env: bool | None = None,
        default_headers: dict[str, str] | None = None,
        allow_insecure_http: bool = False,
        polls_per_second: float = 100.0,
        max_requests_per_second: float | None = None,
        webhook_secret: Secret | None = None,
        on_request: OnRequest | None = None,
        on_response: OnResponse | None = None,
        on_retry: OnRetry | None = None,
        on_rate_limited: OnRateLimited | None = None,
    ) -> None:
        setup_from_env()
        self.webhooks = Webhooks(secret=webhook_secret or os.environ.get(ENV_SECRET) or None)
        _check_sizes(polls_per_second=polls_per_second, max_connections=max_connections)
        if isinstance(http_client, httpx.AsyncClient):
            default_headers = {**dict(user_client_headers(http_client)), **(default_headers or {})}
        hooks = Hooks().extended(
            on_request=on_request,
            on_response=on_response,
            on_retry=on_retry,
            on_rate_limited=on_rate_limited,
        )
        settings = build_settings(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            total_timeout=total_timeout,
            max_retries=max_retries,
            retry=retry or RetryPolicy(),
            default_headers=default_headers,
            allow_insecure_http=allow_insecure_http,
            hooks=hooks,
        )
        pool = build_pool(
            base_url=settings.base_url, max_connections=max_connections, transport=transport,
            http_client=http_client, proxy=proxy, verify=verify, trust_env=trust_env,
        )  # fmt: skip
        channel = Channel(
            pool,
            _budget(settings.retry),
            max_requests_per_second=check_limit(max_requests_per_second),
        )
        self._setup(
            Pipeline(settings, channel), Background(), PollRate(polls_per_second), owns_pool=True
        )

    def _setup(
        self, pipeline: Pipeline, background: Background, poll_rate: PollRate, *, owns_pool: bool
    ) -> None:
        self._pipeline = pipeline
        self._background = background
        self._poll_rate = poll_rate
        self._owns_pool = owns_pool
        self.runs = Runs(pipeline, background=background, poll_rate=poll_rate)
        self.results = Results(pipeline, background=background)
        self.artifacts = Artifacts(pipeline, background=background)

    def with_options(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout = _UNSET,
        total_timeout: float | None = _UNSET,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        default_headers: dict[str, str] | None = None,
        allow_insecure_http: bool = False,
        max_requests_per_second: float | None = None,
        on_request: OnRequest | None = None,
        on_response: OnResponse | None = None,
        on_retry: OnRetry | None = None,
        on_rate_limited: OnRateLimited | None = None,
    ) -> AsyncZof:
        """A client with other settings that shares this one's connection pool.

        The copy also shares the 429 gate, the retry budget and the counters
        (they describe the same connections to the same server). Closing the
        copy leaves the pool open; closing the original closes it for both.
        Settings given here override the client's, and per-call options
        override both. Hooks add up instead: the copy calls the client's
        hooks, then the ones given here. A `max_requests_per_second` given
        here paces the copy's requests (and its copies') to it, on top of
        the client's rate, which they share.
        """
        current = self._pipeline.settings
        settings = build_settings(
            api_key=api_key or current.api_key,
            base_url=base_url or current.base_url,
            timeout=current.timeout if timeout is _UNSET else timeout,
            total_timeout=current.total_timeout if total_timeout is _UNSET else total_timeout,
            max_retries=max_retries,
            retry=retry or current.retry,
            default_headers={**dict(current.default_headers), **(default_headers or {})},
            allow_insecure_http=allow_insecure_http or current.allow_insecure_http,
            hooks=current.hooks.extended(
                on_request=on_request,
                on_response=on_response,
                on_retry=on_retry,
                on_rate_limited=on_rate_limited,
            ),
        )
        clone = object.__new__(AsyncZof)
        own = declared(max_requests_per_second, self._pipeline.own_pacer)
        pipeline = Pipeline(settings, self._pipeline.channel, pacer=own)
        clone._setup(pipeline, self._background, self._poll_rate, owns_pool=False)
        clone.webhooks = self.webhooks
        return clone

    @property
    def base_url(self) -> httpx.URL:
        """The API root every path is relative to."""
        return self._pipeline.settings.base_url

    @property
    def max_connections(self) -> int:
        """Requests this client (and its copies) keeps in flight at most."""
        return self._pipeline.channel.pool.max_connections

    @property
    def stats(self) -> ClientStats:
        """A snapshot of the traffic counters."""
        channel = self._pipeline.channel
        traffic, pool = channel.traffic, channel.pool
        return ClientStats(
            requests_sent=traffic.requests_sent,
            retries=traffic.retries,
            in_flight=pool.in_flight,
            rate_limited=traffic.rate_limited,
            connections=pool.connections,
            idle_connections=pool.idle,
        )

    @property
    def is_closed(self) -> bool:
        return self._pipeline.channel.pool.closed

    async def aclose(self) -> None:
        """Close the connections (if this client owns them); idempotent."""
        if self._owns_pool:
            await self._pipeline.channel.pool.aclose()

    def map(
        self,
        fn: Callable[[I], Awaitable[R]],
        inputs: Iterable[I] | AsyncIterable[I],
        *,
        concurrency: int | None = None,
        ordered: bool = False,
    ) -> FanOut[I, R, Outcome[I, R]]:
        """Call `fn` on every input concurrently; iterate one `Outcome` per input.

        The engine of `bulk_artifacts`, for any coroutine function that calls
        this client: inputs pulled lazily, at most `concurrency` calls in
        flight (default `max_connections`), fewer while the API answers 429,
        outcomes as they complete or in input order (`ordered=True`). A
        `ZofError` raised by `fn` becomes that input's outcome; a 401/403 or
        any other exception stops everything and is raised. Its `.stats`
        count every request of the client while it runs (`fn` may send
        anything), and any 429 among them lowers its concurrency.
        """
        engine = Engine(
            fn,
            inputs,
            concurrency=self.max_connections if concurrency is None else concurrency,
            ordered=ordered,
            outcome=Outcome,
            traffic=self._pipeline.channel.traffic,
            pacer=self._pipeline.channel.pacer,
        )
        return FanOut(engine, background=self._background)

    async def __aenter__(self) -> AsyncZof:
        if self._owns_pool:
            await self._background.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._owns_pool:
                await self._background.__aexit__(exc_type, exc, tb)
        finally:
            await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncZof(base_url={str(self.base_url)!r}, api_key='<redacted>')"


def _check_sizes(*, polls_per_second: float, max_connections: int) -> None:
    if not numbers.number("polls_per_second", polls_per_second, error=ConfigurationError) > 0:
        raise ConfigurationError("polls_per_second must be positive")
    if numbers.integer("max_connections", max_connections, error=ConfigurationError) < 1:
        raise ConfigurationError("max_connections must be at least 1")


def _budget(policy: RetryPolicy) -> RetryBudget:
    """The retry budget of a client's policy (shared by its `with_options` copies)."""
    return RetryBudget(
        ratio=policy.budget_ratio, floor=policy.budget_floor, window=policy.budget_window
    )
