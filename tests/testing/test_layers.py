"""The emulator's layers: State below, App and routes over it, Emulator on top.

What each module may import is checked with the rest of the package's
layers (the README's table, `tests/test_layout.py`); these are the
behaviours the layering allows.
"""

from __future__ import annotations

import httpx
import pytest

from zof_async.testing import Emulator, ManualClock, RunScript, Stats
from zof_async.testing._app import App
from zof_async.testing._seed import seed_default
from zof_async.testing._state import State

from .helpers import SMOKE


@pytest.mark.anyio
async def test_app_over_a_bare_state_serves_requests() -> None:
    """An App built over a State alone (no Emulator) creates, reads and counts runs."""
    state = State(clock=ManualClock(), seed=3, run_script=RunScript(queue_seconds=0))
    keys = seed_default(state, "minimal")
    transport = httpx.ASGITransport(app=App(state))
    headers = {"Authorization": f"Bearer {keys.qa}"}
    async with httpx.AsyncClient(
        base_url="http://zof.test/v1", transport=transport, headers=headers
    ) as http:
        created = await http.post("/runs", json=SMOKE)
        assert created.status_code == 201, created.text
        run_id = created.json()["id"]
        fetched = await http.get(f"/runs/{run_id}")
        assert fetched.status_code == 200
        assert fetched.json()["id"] == run_id
        assert (await http.get("/runs/run_nope")).status_code == 404
    assert run_id in state.store.runs
    assert state.stats.count(route="/runs") == 1
    assert state.stats.count(route="/runs/{id}") == 2


@pytest.mark.anyio
async def test_state_built_by_hand_is_served() -> None:
    """Data added through State's own builders (no seed) is what the App answers with."""
    state = State()
    state.add_org("org_solo")
    secret = state.add_key("org_solo", "viewer")
    state.add_project("org_solo", "proj_solo", cases=3)
    run = state.add_run("proj_solo")
    async with httpx.AsyncClient(
        base_url="http://zof.test/v1",
        transport=httpx.ASGITransport(app=App(state)),
        headers={"Authorization": f"Bearer {secret}"},
    ) as http:
        page = (await http.get("/runs")).json()
    assert [item["id"] for item in page["data"]] == [run.id]


@pytest.mark.anyio
async def test_replacing_emulator_attributes_reaches_its_app() -> None:
    """Replacing `stats`, `app_url` or `poll_hint` on the Emulator reaches the app at once."""
    emulator = Emulator(data="minimal")
    fresh = Stats()
    emulator.stats = fresh
    emulator.app_url = "http://console.test"
    emulator.poll_hint = None
    async with emulator.client() as http:
        created = await http.post("/runs", json=SMOKE)
        got = await http.get(f"/runs/{created.json()['id']}")
    assert emulator.stats is fresh and fresh.count(route="/runs") == 1
    assert got.json()["url"].startswith("http://console.test")
    assert "retry-after" not in got.headers


def test_the_emulator_holds_its_state_and_shows_only_its_own_surface() -> None:
    """`Emulator` holds a `State` (not is one): none of the state's services leak as attributes."""
    emulator = Emulator(data="empty")
    assert isinstance(emulator.state, State) and not isinstance(emulator, State)
    public = {name for name in dir(emulator) if not name.startswith("_")}
    internals = {"store", "lock", "lifecycle", "cursors", "idempotency", "webhooks", "scripts"}
    assert not public & internals, public & internals
    assert emulator.faults is emulator.state.faults and emulator.clock is emulator.state.clock
