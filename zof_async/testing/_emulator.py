"""`Emulator`: the stateful, in-memory Zof API, in-process or served.

The facade over the two layers below it: a `State` (data and services) and an
`App` (the ASGI application serving that state). It holds both and offers
what tests and users drive: clients, serving, faults, webhooks, data building.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime

import httpx

from ._app import App
from ._clock import Clock, ManualClock
from ._faults import Faults
from ._lifecycle import RunScript
from ._records import Org, Project, Run, Suite
from ._seed import SeedKeys, bulk_run, seed_default
from ._state import State
from ._stats import Stats
from ._webhooks import WebhookAttempt, WebhookFaults, WebhookSender, delivering

__all__ = ["Emulator"]


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

    An emulator holds a `State` (its data and services) and the ASGI app
    that serves it, and offers what tests drive: the faults, the statistics,
    the clock, the data builders and the ways to reach the app.

    Attributes:
        state: The data and services behind the app; its records
            (`state.store.runs`, `state.store.results`) are there for assertions.
        app: The ASGI application over `state`.
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
        self.state = State(
            clock=clock, seed=seed, run_script=run_script, poll_hint=poll_hint, app_url=app_url
        )
        self.app = App(self.state)
        with self.state.lock:
            self.keys: SeedKeys = seed_default(self.state, data)

    # -- what the app reads while serving (replacing one reaches it at once) ----------

    @property
    def clock(self) -> Clock:
        """What "now" is for every record."""
        return self.state.clock

    @property
    def faults(self) -> Faults:
        """Faults injected into answers: errors, latency, rate limits, throttling."""
        return self.state.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self.state.faults = value

    @property
    def stats(self) -> Stats:
        """What the emulator was asked, for assertions."""
        return self.state.stats

    @stats.setter
    def stats(self, value: Stats) -> None:
        self.state.stats = value

    @property
    def app_url(self) -> str:
        """Where run `url`s point (the Zof Console, or this emulator when served)."""
        return self.state.app_url

    @app_url.setter
    def app_url(self, value: str) -> None:
        self.state.app_url = value

    @property
    def poll_hint(self) -> int | None:
        """`Retry-After` seconds sent on `GET /runs/{id}` while a run is not finished."""
        return self.state.poll_hint

    @poll_hint.setter
    def poll_hint(self, value: int | None) -> None:
        self.state.poll_hint = value

    @property
    def run_script(self) -> RunScript:
        """How runs behave unless `script_next_run` says otherwise."""
        return self.state.run_script

    @run_script.setter
    def run_script(self, value: RunScript) -> None:
        self.state.run_script = value

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

    def add_bulk_run(
        self,
        results: int,
        *,
        run_id: str = "run_bench",
        artifacts_per_result: int = 1,
        per_instant: int = 1,
    ) -> str:
        """A finished run of `results` results (and artifacts) in `proj_abc`; returns its id.

        For benchmarks and load tests: written directly, without logs or the
        lifecycle, so a million results take seconds. Results are spread
        evenly over the hour before now, `per_instant` consecutive ones sharing
        one `created_at` (the first group at exactly an hour before now).
        """
        with self.state.lock:
            return bulk_run(
                self.state,
                results,
                run_id=run_id,
                artifacts_per_result=artifacts_per_result,
                per_instant=per_instant,
            )

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
        with self.state.lock:
            return self.state.webhooks.add_endpoint(url, secret=secret, transport=transport)

    def rotate_webhook_secret(self, url: str) -> str:
        """Add a secret to an endpoint and return it; events carry one signature per secret."""
        with self.state.lock:
            return self.state.webhooks.rotate(url)

    @property
    def webhook_faults(self) -> WebhookFaults:
        """Faults injected into webhook deliveries (drop, duplicate, delay, reorder, bad signature)."""
        return self.state.webhooks.faults

    @property
    def webhook_attempts(self) -> list[WebhookAttempt]:
        """The delivery attempts so far (the last 100,000), in order, for assertions."""
        with self.state.lock:
            return list(self.state.webhooks.attempts)

    async def deliver_webhooks(self) -> int:
        """Advance runs to now and send every webhook attempt due; return how many were sent.

        The one-step pump for a `ManualClock`: `emulator.advance(60)`, then this.
        """
        return await self.state.webhooks.deliver_due()

    def delivering(self, *, tick: float = 0.05) -> AbstractAsyncContextManager[WebhookSender]:
        """`async with emulator.delivering():` sends webhooks as they fall due, until the block ends.

        The pump runs in a task group of its own, following the emulator's clock
        (sleeping `tick` seconds at most between looks, so a `ManualClock`
        moved by hand is noticed).
        """
        return delivering(self.state.webhooks, tick=tick)

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
        with self.state.lock:
            self.state.lifecycle.advance(self.clock.now())
            return self.state.store.runs[run_id]

    def runs_of(self, org_id: str) -> list[Run]:
        """Every run of an organization (for assertions such as "exactly one run")."""
        with self.state.lock:
            return [r for r in self.state.store.runs.values() if r.org_id == org_id]
