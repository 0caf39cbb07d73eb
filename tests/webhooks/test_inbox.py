"""The inbox: verification, deduplication, waking waits; the ASGI app; events= on waits."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest
import trio
import trio.testing

from tests.webhooks.vectors import NOW, OTHER_SECRET, SECRET, delivery
from zof_async import (
    AsyncZof,
    RunStatus,
    WaitPolicy,
    WebhookInbox,
    Webhooks,
    WebhookVerificationError,
    webhooks_asgi_app,
)
from zof_async.testing import Emulator, LoopClock, RunScript

pytestmark = pytest.mark.anyio


def fixed_inbox() -> WebhookInbox:
    return WebhookInbox(Webhooks(secret=SECRET), clock=lambda: NOW)


async def test_deliver_verifies_deduplicates_and_counts() -> None:
    """deliver() returns a new event, None for a repeat, raises on a forgery, and counts each."""
    inbox = fixed_inbox()
    body, headers = delivery()
    event = await inbox.deliver(body, headers)
    assert event is not None and event.id == "evt_1"
    assert inbox.finished_run("run_1") is not None
    assert await inbox.deliver(body, headers) is None  # a retry: same webhook-id
    with pytest.raises(WebhookVerificationError):
        await inbox.deliver(*delivery(event_id="evt_2", secret=OTHER_SECRET))
    assert inbox.finished_run("run_2") is None
    stats = inbox.stats
    assert (stats.received, stats.duplicates, stats.rejected) == (2, 1, 1)


async def test_memory_is_bounded() -> None:
    """With max_remembered=3 only the last three event ids and finished runs are kept."""
    inbox = WebhookInbox(Webhooks(secret=SECRET), clock=lambda: NOW, max_remembered=3)
    for i in range(10):
        await inbox.deliver(*delivery(event_id=f"evt_{i}", run_id=f"run_{i}"))
    # The last three finished runs are remembered, the ones before are forgotten.
    remembered = [i for i in range(10) if inbox.finished_run(f"run_{i}") is not None]
    assert remembered == [7, 8, 9]
    # The last three event ids are still duplicates; the one before is new again.
    for i in (9, 8, 7):
        assert await inbox.deliver(*delivery(event_id=f"evt_{i}", run_id=f"run_{i}")) is None
    assert await inbox.deliver(*delivery(event_id="evt_6", run_id="run_6")) is not None


async def test_every_wait_on_a_run_is_woken_by_one_event() -> None:
    """One completion event wakes every wait subscribed to its run, then none remain."""
    inbox = fixed_inbox()
    woken: list[str] = []

    async def wait() -> None:
        with inbox.subscribe("run_1") as signal:
            await signal.wait()
            woken.append("run_1")

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(wait)
        await anyio.wait_all_tasks_blocked()
        assert woken == []
        await inbox.deliver(*delivery())
    assert woken == ["run_1"] * 5 and inbox.stats.woken == 5
    # Nothing left subscribed: a second completion of run_1 wakes nobody.
    await inbox.deliver(*delivery(event_id="evt_again"))
    assert inbox.stats.woken == 5


async def asgi(
    inbox: WebhookInbox, method: str, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    transport = httpx.ASGITransport(app=webhooks_asgi_app(inbox))
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as http:
        return await http.request(method, "/hooks", content=body, headers=headers)


async def test_the_asgi_app_answers_as_a_receiver_should() -> None:
    """The ASGI app answers 200, 200 duplicate, 400 with the check, 405 and 413 as documented."""
    inbox = fixed_inbox()
    body, headers = delivery()
    ok = await asgi(inbox, "POST", body, headers)
    assert ok.status_code == 200 and ok.json() == {"received": True, "duplicate": False}
    again = await asgi(inbox, "POST", body, headers)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    bad = await asgi(inbox, "POST", body + b" ", headers)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "signature_mismatch"
    assert SECRET.removeprefix("whsec_") not in bad.text
    unsigned = await asgi(inbox, "POST", body, {"content-type": "application/json"})
    assert unsigned.status_code == 400 and unsigned.json()["error"]["code"] == "missing_header"
    assert (await asgi(inbox, "GET", b"", {})).status_code == 405
    assert (await asgi(inbox, "POST", b"x" * (1024 * 1024 + 1), headers)).status_code == 413


async def test_the_asgi_app_rejects_and_counts_an_unsigned_huge_timestamp() -> None:
    """A webhook-timestamp of hundreds of digits (no secret needed) is a counted 400, not a 500."""
    inbox = fixed_inbox()
    body, headers = delivery()
    for digits in (400, 5000):
        forged = {**headers, "webhook-timestamp": "9" * digits, "webhook-signature": "v1,AAAA"}
        answer = await asgi(inbox, "POST", body, forged)
        assert answer.status_code == 400
        assert answer.json()["error"]["code"] == "invalid_timestamp"
    assert inbox.stats.rejected == 2 and inbox.stats.received == 0


# -- waits with events=, in virtual time ---------------------------------------------------


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    """Every test of this module runs on trio with a MockClock: waits cost virtual time."""
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


class World:
    """The emulator on the loop's clock, delivering to an inbox through its ASGI app."""

    def __init__(self) -> None:
        self.emulator = Emulator(data="minimal", clock=LoopClock(), poll_hint=None)
        self.inbox = WebhookInbox(Webhooks(secret=SECRET), clock=self.emulator.clock.now)
        self.emulator.add_webhook_endpoint(
            "http://receiver/hooks",
            secret=SECRET,
            transport=httpx.ASGITransport(app=webhooks_asgi_app(self.inbox)),
        )

    def start(self, seconds: float) -> str:
        script = RunScript(queue_seconds=0, duration_seconds=seconds, outcome="passed")
        cases = self.emulator.state.store.projects["proj_abc"].case_ids[:3]
        return self.emulator.add_run("proj_abc", cases=cases, script=script).id

    def end(self, run_id: str) -> float:
        return self.emulator.state.store.runs[run_id].finish_at[-1]

    def polls(self) -> int:
        return self.emulator.stats.count(route="/runs/{id}")

    def client(self) -> AsyncZof:
        return AsyncZof(api_key=self.emulator.keys.viewer, transport=self.emulator.transport())


async def test_an_event_ends_the_wait_at_once_with_few_polls() -> None:
    """A wait with events= returns within a tick of the run's end, polling rarely."""
    world = World()
    run_id = world.start(300)
    async with world.client() as zof, world.emulator.delivering():
        run = await zof.runs.wait_until_complete(run_id, events=world.inbox)
        noticed = world.emulator.clock.now()
    assert run.status is RunStatus.PASSED and run.id == run_id
    assert noticed - world.end(run_id) <= 0.06  # one pump tick, not a poll interval
    assert world.polls() <= 9  # the 60 s fallback over 300 s, instead of ~25


async def test_an_event_that_came_before_the_wait_is_not_missed() -> None:
    """A wait on a run whose event already arrived returns at once without polling."""
    world = World()
    run_id = world.start(10)
    async with world.emulator.delivering():
        await trio.sleep(11)
    assert world.inbox.finished_run(run_id) is not None
    async with world.client() as zof:
        began = trio.current_time()
        run = await zof.runs.wait_until_complete(run_id, events=world.inbox)
        assert trio.current_time() == began  # no sleep
    assert run.is_terminal and world.polls() == 0


async def test_a_lost_webhook_costs_at_most_the_fallback_interval() -> None:
    """With every webhook lost, the fallback poll still ends the wait within its interval."""
    world = World()
    world.emulator.webhook_faults.drop_rate = 1.0
    run_id = world.start(200)
    policy = WaitPolicy(initial_interval=5, max_interval=30, growth=2)
    async with world.client() as zof, world.emulator.delivering():
        run = await zof.runs.wait_until_complete(run_id, events=world.inbox, policy=policy)
        noticed = world.emulator.clock.now()
    assert run.is_terminal and world.inbox.stats.received == 0
    assert 0 < noticed - world.end(run_id) <= 30


async def test_a_late_webhook_beats_the_next_poll_and_duplicates_do_not_matter() -> None:
    """A 7 s late webhook ends a watch before its next poll, and its duplicate changes nothing."""
    world = World()
    world.emulator.webhook_faults.delay = 7
    world.emulator.webhook_faults.duplicate_rate = 1.0
    run_id = world.start(100)
    async with world.client() as zof, world.emulator.delivering():
        seen = [r.status async for r in zof.runs.watch(run_id, events=world.inbox)]
        noticed = world.emulator.clock.now()
        await trio.sleep(1)
    assert seen[-1] is RunStatus.PASSED and seen.count(RunStatus.PASSED) == 1
    assert 7 <= noticed - world.end(run_id) <= 7.1
    assert world.inbox.stats.duplicates == 1


async def test_many_waits_with_events_each_complete_once() -> None:
    """200 waits with 10% of webhooks dropped each finish once, within the fallback bound."""
    world = World()
    ids = [world.start(30 + i) for i in range(200)]
    world.emulator.webhook_faults.drop_rate = 0.1
    finished: list[str] = []
    lags: list[float] = []
    async with world.client() as zof, world.emulator.delivering():

        async def wait(run_id: str) -> None:
            run = await zof.runs.wait_until_complete(run_id, events=world.inbox)
            finished.append(run.id)
            lags.append(world.emulator.clock.now() - world.end(run_id))

        async with anyio.create_task_group() as tg:
            for run_id in ids:
                tg.start_soon(wait, run_id)
    assert sorted(finished) == sorted(ids)
    assert max(lags) <= 60 + 1  # the events fallback bound
    dropped = sum(a.outcome == "dropped" for a in world.emulator.webhook_attempts)
    assert sum(lag <= 0.06 for lag in lags) >= len(ids) - dropped


async def test_events_of_other_runs_and_unknown_types_wake_nobody() -> None:
    """Another run's completion and an event of an unknown type leave a run's wait asleep."""
    inbox = fixed_inbox()
    body = json.dumps(
        {"id": "evt_x", "object": "event", "type": "run.started",
         "created_at": "2026-11-22T10:05:00Z", "data": {"object": {"id": "run_1"}}}
    ).encode()  # fmt: skip
    with inbox.subscribe("run_1") as signal:
        event = await inbox.deliver(*delivery(body, event_id="evt_x"))
        assert event is not None and event.type == "run.started"
        await inbox.deliver(*delivery(event_id="evt_2", run_id="run_2"))
        assert not signal.is_set()
    assert inbox.stats.woken == 0


async def test_with_events_a_deadline_still_raises_and_a_404_still_raises_at_once() -> None:
    """With events=, a timeout still raises at its deadline and a missing run at the first poll."""
    from zof_async import NotFoundError, WaitTimeoutError

    world = World()
    world.emulator.webhook_faults.drop_rate = 1.0
    run_id = world.start(500)
    async with world.client() as zof, world.emulator.delivering():
        began = trio.current_time()
        with pytest.raises(WaitTimeoutError) as info:
            await zof.runs.wait_until_complete(run_id, events=world.inbox, timeout=100)
        assert trio.current_time() - began == pytest.approx(100)
        assert info.value.run is not None and info.value.run.status is RunStatus.RUNNING
        began = trio.current_time()
        with pytest.raises(NotFoundError):
            await zof.runs.wait_until_complete("run_missing", events=world.inbox)
        assert trio.current_time() - began <= 5  # the first fallback poll
    # Every wait unsubscribed: completions of both runs arriving now wake nobody.
    now = int(world.emulator.clock.now())
    for i, run in enumerate((run_id, "run_missing")):
        await world.inbox.deliver(*delivery(event_id=f"evt_late_{i}", run_id=run, timestamp=now))
    assert world.inbox.stats.received == 2 and world.inbox.stats.woken == 0


async def test_an_event_arriving_at_the_deadline_still_counts() -> None:
    """An event arriving before the deadline ends the wait though no poll saw the run end."""
    world = World()
    world.emulator.webhook_faults.delay = 40  # the event comes 40 s after the run ends
    run_id = world.start(50)
    policy = WaitPolicy(initial_interval=1, max_interval=1000, growth=1000)  # one early poll only
    async with world.client() as zof, world.emulator.delivering():
        run = await zof.runs.wait_until_complete(
            run_id, events=world.inbox, policy=policy, timeout=95
        )
    assert run.is_terminal and world.polls() == 2  # both before the run ended
