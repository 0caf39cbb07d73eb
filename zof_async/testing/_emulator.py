"""`Emulator`: the stateful, in-memory Zof API, in-process or served.

The facade over the two layers below it: a `State` (data and services) and an
`App` (the ASGI application serving that state). It builds both and offers
what tests and users drive: clients, serving, webhooks, data building.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx

from ._app import App
from ._clock import Clock, ManualClock
from ._lifecycle import RunScript
from ._records import Run
from ._seed import SeedKeys, seed_default
from ._state import State
from ._webhooks import WebhookAttempt, WebhookFaults, WebhookSender, delivering

__all__ = ["Emulator"]


class Emulator(State):
    """A faithful, stateful, in-memory implementation of the Zof API.

    Use it in-process through `transport()` (no sockets) or over real HTTP on
    127.0.0.1 with `async with emulator.serve() as base_url:`.

    Args:
        clock: What "now" is; defaults to a `ManualClock`, so runs progress only
            when a test calls `clock.advance()`. Serve with a `SystemClock`.
        seed: Seed of every random choice (ids, outcomes, faults).
        data: `"default"` seeds two organizations with projects, a 2,000-case
            suite and historical runs; `"minimal"` the same without historical
            runs; `"empty"` only the organizations and their keys.
        run_script: How runs behave unless `script_next_run` says otherwise.
        poll_hint: `Retry-After` seconds sent on `GET /runs/{id}` while the
            run is not finished; `None` to send none.
        app_url: Where run `url`s point (the Zof Console).

    An emulator is the `State` its ASGI app serves (data and services: the
    store, clock, faults, stats, webhooks, and the methods that build data),
    plus the ways to reach that app.

    Attributes:
        app: The ASGI application over this state.
        keys: The seeded organizations' API keys.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        data: str = "default",
        run_script: RunScript | None = None,
        poll_hint: int | None = 2,
        app_url: str = "https://app.zof.ai",
    ) -> None:
        if data not in ("default", "minimal", "empty"):
            raise ValueError("data must be 'default', 'minimal' or 'empty'")
        super().__init__(
            clock=clock, seed=seed, run_script=run_script, poll_hint=poll_hint, app_url=app_url
        )
        self.app = App(self)
        with self.lock:
            self.keys: SeedKeys = seed_default(self, data)

    # -- what tests and users drive --------------------------------------------------

    def transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport that calls the emulator in-process, with no sockets."""
        return httpx.ASGITransport(app=self.app)

    def client(self, api_key: str | None = None, **kwargs: object) -> httpx.AsyncClient:
        """A plain httpx client for the in-process emulator, authenticated."""
        return httpx.AsyncClient(
            base_url="http://zof.test/v1",
            transport=self.transport(),
            headers={"Authorization": f"Bearer {api_key or self.keys.admin}"},
            **kwargs,  # type: ignore[arg-type]
        )

    @asynccontextmanager
    async def serve(self, *, port: int = 0) -> AsyncIterator[str]:
        """Serve over HTTP on 127.0.0.1; yields the base URL (`http://127.0.0.1:N/v1`).

        The server runs in a thread of its own, so this works from asyncio and
        trio alike, and stops when the block exits.
        """
        from ._server import serve_in_thread

        async with serve_in_thread(self.app, port=port) as base_url:
            yield base_url

    # -- webhooks ----------------------------------------------------------------------

    def add_webhook_endpoint(
        self,
        url: str,
        *,
        secret: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> str:
        """Deliver `run.completed` to `url` from now on; return its secret (`whsec_...`).

        Args:
            url: Where to `POST` events.
            secret: The endpoint secret; a random one if omitted.
            transport: Send through this httpx transport instead of the network
                (`httpx.ASGITransport(app=webhooks_asgi_app(inbox))`: no sockets).

        Deliveries happen when a pump runs: `await deliver_webhooks()`,
        `async with delivering():`, or while served.

        Raises:
            ValueError: `secret` is not `whsec_` followed by base64.
        """
        with self.lock:
            return self.webhooks.add_endpoint(url, secret=secret, transport=transport)

    def rotate_webhook_secret(self, url: str) -> str:
        """Add a secret to an endpoint and return it; events carry one signature per secret."""
        with self.lock:
            return self.webhooks.rotate(url)

    @property
    def webhook_faults(self) -> WebhookFaults:
        """Faults injected into webhook deliveries (drop, duplicate, delay, reorder, bad signature)."""
        return self.webhooks.faults

    @property
    def webhook_attempts(self) -> list[WebhookAttempt]:
        """The delivery attempts so far (the last 100,000), in order, for assertions."""
        with self.lock:
            return list(self.webhooks.attempts)

    async def deliver_webhooks(self) -> int:
        """Advance runs to now and send every webhook attempt due; return how many were sent.

        The one-step pump for a `ManualClock`: `emulator.advance(60)`, then this.
        """
        return await self.webhooks.deliver_due()

    def delivering(self, *, tick: float = 0.05) -> AbstractAsyncContextManager[WebhookSender]:
        """`async with emulator.delivering():` sends webhooks as they fall due, until the block ends.

        The pump runs in a task group of its own, following the emulator's clock
        (sleeping `tick` seconds at most between looks, so a `ManualClock`
        moved by hand is noticed).
        """
        return delivering(self.webhooks, tick=tick)

    def script_next_run(self, script: RunScript | None = None, /, **fields: object) -> None:
        """Make the next run created follow `script` (or a `RunScript(**fields)`)."""
        self.scripts.append(script or RunScript(**fields))  # type: ignore[arg-type]

    def advance(self, seconds: float) -> None:
        """Advance a `ManualClock` by `seconds`."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs the emulator to run on a ManualClock")
        self.clock.advance(seconds)

    def run(self, run_id: str) -> Run:
        """The emulator's own record of a run, advanced to now (for assertions)."""
        with self.lock:
            self.lifecycle.advance(self.clock.now())
            return self.store.runs[run_id]

    def runs_of(self, org_id: str) -> list[Run]:
        """Every run of an organization (for assertions such as "exactly one run")."""
        with self.lock:
            return [r for r in self.store.runs.values() if r.org_id == org_id]
