"""`State`: the emulator's data and the services that act on it.

Everything a request handler, the ASGI app, the webhook sender or the seed
needs lives here: the store of records, the clock, the run lifecycle, the
cursor codec, injected faults, request statistics, idempotency slots and
the webhook sender. The app and the routes take a `State`; the `Emulator`
facade builds one and an app over it. Whoever changes the data holds `lock`.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from ._clock import EPOCH, Clock, ManualClock
from ._cursor import CursorCodec
from ._faults import Faults
from ._lifecycle import Lifecycle, RunScript
from ._records import ROLES, ApiKey, Org, Project, Run, Suite
from ._stats import Stats
from ._store import Store
from ._webhooks import WebhookSender
from ._wire import ApiError, Response

__all__ = ["State", "StoredResponse"]


@dataclass(slots=True)
class StoredResponse:
    """What an `Idempotency-Key` answered, kept to replay it (`None`: a stream, re-run)."""

    fingerprint: str
    expires: float
    response: Response | None


class State:
    """The emulator's data and services, shared by its app, routes and facade.

    Args:
        clock: What "now" is; a `ManualClock` if omitted.
        seed: Seed of every random choice (ids, cursors, faults, webhooks).
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
        self.scripts: deque[RunScript] = deque()
        self._request_ids = itertools.count(1)
        self._request_salt = f"{random.Random(seed + 3).getrandbits(32):08x}"

    # -- what serving a request needs ------------------------------------------------

    def next_script(self) -> RunScript:
        """The script of the next run created: the next one queued, else `run_script`."""
        return self.scripts.popleft() if self.scripts else self.run_script

    def new_request_id(self) -> str:
        """A fresh `X-Request-Id`, unique within this state and stable for a seed."""
        return f"req_{self._request_salt}{next(self._request_ids):010d}"

    def authenticate(self, header: str | None) -> ApiKey:
        """The key an `Authorization` header names; 401 if missing, unknown or revoked."""
        if not header:
            raise ApiError(401, "unauthorized", "missing API key: send Authorization: Bearer <key>")
        scheme, _, secret = header.partition(" ")
        key = self.store.keys.get(secret.strip()) if scheme.lower() == "bearer" else None
        if key is None or key.revoked:
            raise ApiError(401, "unauthorized", "invalid or revoked API key")
        return key

    # -- building data (each takes the lock) -----------------------------------------

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
