"""`Emulator`: the stateful, in-memory Zof API, in-process or served."""

from __future__ import annotations

import itertools
import random
import threading
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime

import httpx

from ._app import App, StoredResponse
from ._clock import EPOCH, Clock, ManualClock
from ._cursor import CursorCodec
from ._faults import Faults
from ._lifecycle import Lifecycle, RunScript
from ._records import ROLES, ApiKey, Org, Project, Run, Suite
from ._seed import SeedKeys, seed_default
from ._stats import Stats
from ._store import Store
from ._webhooks import WebhookAttempt, WebhookFaults, WebhookSender, delivering
from ._wire import ApiError

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
        self.clock: Clock = clock or ManualClock()
        self.lock = threading.RLock()
        self.store = Store(random.Random(seed))
        self.lifecycle = Lifecycle(self.store)
        self.cursors = CursorCodec(random.Random(seed + 1).randbytes(32))
        self.faults = Faults(seed=seed + 2)
        self.stats = Stats()
        self.idempotency: dict[tuple[str, str], StoredResponse] = {}
        self.run_script = run_script or RunScript()
        self.poll_hint = poll_hint
        self.app_url = app_url
        self.webhooks = WebhookSender(self, seed=seed + 4)
        self.lifecycle.on_terminal = self.webhooks.run_finished
        self.app = App(self)
        self._scripts: deque[RunScript] = deque()
        self._request_ids = itertools.count(1)
        self._request_salt = f"{random.Random(seed + 3).getrandbits(32):08x}"
        if data not in ("default", "minimal", "empty"):
            raise ValueError("data must be 'default', 'minimal' or 'empty'")
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
        self._scripts.append(script or RunScript(**fields))  # type: ignore[arg-type]

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
        envs = {"staging", "production"} | set(environments or ())
        with self.lock:
            return self.store.add_org(Org(org_id, name or org_id, envs))

    def add_key(self, org_id: str, role: str = "admin", *, secret: str | None = None) -> str:
        """Add an API key with `role` to `org_id` and return its secret."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        with self.lock:
            secret = secret or f"zof_emu_{role}_{self.store.rng.getrandbits(64):016x}"
            self.store.add_key(ApiKey(secret, org_id, role))
            return secret

    def revoke_key(self, secret: str) -> None:
        """Revoke a key: it answers 401 from now on."""
        with self.lock:
            self.store.keys[secret].revoked = True

    def add_project(
        self, org_id: str, project_id: str, *, name: str = "", cases: int | list[str] = 0
    ) -> Project:
        """Add a project with test cases (a count, or explicit ids)."""
        case_ids = (
            cases if isinstance(cases, list) else [f"tc_{project_id}_{i:05d}" for i in range(cases)]
        )
        with self.lock:
            return self.store.add_project(Project(project_id, org_id, name or project_id, case_ids))

    def add_suite(
        self, project_id: str, suite_id: str, case_ids: list[str], *, name: str = ""
    ) -> Suite:
        """Add a suite of cases of `project_id`."""
        with self.lock:
            project = self.store.projects[project_id]
            return self.store.add_suite(
                Suite(suite_id, project.org_id, project_id, name or suite_id, list(case_ids))
            )

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
        with self.lock:
            project = self.store.projects[project_id]
            if suite_id is not None:
                cases = self.store.suites[suite_id].case_ids
            run_cases = list(cases if cases is not None else project.case_ids)
            now = self.clock.now()
            created = now if created_at is None else (created_at - EPOCH).total_seconds()
            run = self.lifecycle.start(
                org_id=project.org_id,
                project_id=project_id,
                environment=environment,
                test_case_ids=None if suite_id else run_cases,
                test_suite_id=suite_id,
                cases=run_cases,
                script=script or self.run_script,
                now=created,
            )
            self.lifecycle.advance(now)
            return run

    # -- used by the application -----------------------------------------------------

    def next_script(self) -> RunScript:
        return self._scripts.popleft() if self._scripts else self.run_script

    def new_request_id(self) -> str:
        return f"req_{self._request_salt}{next(self._request_ids):010d}"

    def authenticate(self, header: str | None) -> ApiKey:
        if not header:
            raise ApiError(401, "unauthorized", "missing API key: send Authorization: Bearer <key>")
        scheme, _, secret = header.partition(" ")
        key = self.store.keys.get(secret.strip()) if scheme.lower() == "bearer" else None
        if key is None or key.revoked:
            raise ApiError(401, "unauthorized", "invalid or revoked API key")
        return key
