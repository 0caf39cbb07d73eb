"""`Emulator`: the stateful, in-memory Zof API, in-process or served.

The facade over the two layers below it: a `State` (data and services) and an
`App` (the ASGI application serving that state). It builds both and offers
what tests and users drive: clients, serving, webhooks, data building.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any, Generic, TypeVar, overload

import httpx

from ._app import App
from ._clock import Clock, ManualClock
from ._cursor import CursorCodec
from ._faults import Faults
from ._lifecycle import Lifecycle, RunScript
from ._records import ApiKey, Org, Project, Run, Suite
from ._seed import SeedKeys, seed_default
from ._state import State, StoredResponse
from ._stats import Stats
from ._store import Store
from ._webhooks import WebhookAttempt, WebhookFaults, WebhookSender, delivering

__all__ = ["Emulator"]

T = TypeVar("T")


class _OnState(Generic[T]):
    """An `Emulator` attribute that lives on its `State`: reads and writes go there.

    So `emulator.stats = Stats(...)` or `emulator.app_url = ...` reaches the
    app at once, as when these were the emulator's own attributes.
    """

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> _OnState[T]: ...

    @overload
    def __get__(self, obj: Emulator, owner: type[Any]) -> T: ...

    def __get__(self, obj: Emulator | None, owner: type[Any]) -> T | _OnState[T]:
        if obj is None:
            return self
        value: T = getattr(obj.state, self._name)
        return value

    def __set__(self, obj: Emulator, value: T) -> None:
        setattr(obj.state, self._name, value)


class Emulator:
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

    Attributes:
        state: The data and services (`State`) the app serves.
        app: The ASGI application over `state`.
        keys: The seeded organizations' API keys.
    """

    clock: _OnState[Clock] = _OnState()
    lock: _OnState[threading.RLock] = _OnState()
    store: _OnState[Store] = _OnState()
    lifecycle: _OnState[Lifecycle] = _OnState()
    cursors: _OnState[CursorCodec] = _OnState()
    faults: _OnState[Faults] = _OnState()
    stats: _OnState[Stats] = _OnState()
    idempotency: _OnState[dict[tuple[str, str], StoredResponse]] = _OnState()
    run_script: _OnState[RunScript] = _OnState()
    poll_hint: _OnState[int | None] = _OnState()
    app_url: _OnState[str] = _OnState()
    webhooks: _OnState[WebhookSender] = _OnState()

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
        self.state = State(
            clock=clock, seed=seed, run_script=run_script, poll_hint=poll_hint, app_url=app_url
        )
        self.app = App(self.state)
        with self.state.lock:
            self.keys: SeedKeys = seed_default(self.state, data)

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
        self.state.scripts.append(script or RunScript(**fields))  # type: ignore[arg-type]

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

    # -- building data ---------------------------------------------------------------

    def add_org(self, org_id: str, *, name: str = "", environments: set[str] | None = None) -> Org:
        """Add an organization; staging and production are always available."""
        return self.state.add_org(org_id, name=name, environments=environments)

    def add_key(self, org_id: str, role: str = "admin", *, secret: str | None = None) -> str:
        """Add an API key with `role` to `org_id` and return its secret."""
        return self.state.add_key(org_id, role, secret=secret)

    def revoke_key(self, secret: str) -> None:
        """Revoke a key: it answers 401 from now on."""
        self.state.revoke_key(secret)

    def add_project(
        self, org_id: str, project_id: str, *, name: str = "", cases: int | list[str] = 0
    ) -> Project:
        """Add a project with test cases (a count, or explicit ids)."""
        return self.state.add_project(org_id, project_id, name=name, cases=cases)

    def add_suite(
        self, project_id: str, suite_id: str, case_ids: list[str], *, name: str = ""
    ) -> Suite:
        """Add a suite of cases of `project_id`."""
        return self.state.add_suite(project_id, suite_id, case_ids, name=name)

    def add_run(
        self,
        project_id: str,
        *,
        cases: list[str] | None = None,
        suite_id: str | None = None,
        environment: str = "staging",
        created_at: datetime | None = None,
        script: RunScript | None = None,
    ) -> Run:
        """Start a run directly (no HTTP), optionally in the past.

        A run created in the past with a short script is already finished by
        now: that is how historical data is made.
        """
        return self.state.add_run(
            project_id,
            cases=cases,
            suite_id=suite_id,
            environment=environment,
            created_at=created_at,
            script=script,
        )

    # -- what the application uses, kept for callers of the facade ------------------

    def next_script(self) -> RunScript:
        """The script of the next run created (see `State.next_script`)."""
        return self.state.next_script()

    def new_request_id(self) -> str:
        """A fresh `X-Request-Id` (see `State.new_request_id`)."""
        return self.state.new_request_id()

    def authenticate(self, header: str | None) -> ApiKey:
        """The key an `Authorization` header names (see `State.authenticate`)."""
        return self.state.authenticate(header)
