"""The emulator delivers run.completed: signed as specified, retried, with faults."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest
import trio
import trio.testing

from tests.webhooks.vectors import signature
from zof_async.testing import Emulator, LoopClock, ManualClock, RunScript

pytestmark = pytest.mark.anyio

Handler = Callable[[httpx.Request], httpx.Response]


class Receiver:
    """A mock endpoint recording every request; answers with `answer(n)`."""

    def __init__(self, answer: Callable[[int], int] = lambda n: 200) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.answer(len(self.requests)))

    def ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.requests]


def start(emulator: Emulator, n: int = 1, **script: Any) -> list[str]:
    script = {"queue_seconds": 0, "duration_seconds": 10, "outcome": "passed", **script}
    cases = emulator.state.store.projects["proj_abc"].case_ids[:3]
    return [
        emulator.add_run("proj_abc", cases=cases, script=RunScript(**script)).id for _ in range(n)
    ]


async def test_a_finished_run_is_posted_signed_as_specified(emulator: Emulator) -> None:
    """A finished run is POSTed once as run.completed, signed per Standard Webhooks."""
    receiver = Receiver()
    secret = emulator.add_webhook_endpoint("https://hooks.test/zof", transport=receiver.transport)
    assert secret.startswith("whsec_")
    (run_id,) = start(emulator, outcome="failed")
    assert await emulator.deliver_webhooks() == 0  # not finished yet
    emulator.advance(10)
    assert await emulator.deliver_webhooks() == 1
    (request,) = receiver.requests
    assert request.method == "POST" and str(request.url) == "https://hooks.test/zof"
    assert request.headers["content-type"] == "application/json"
    event_id, stamp = request.headers["webhook-id"], request.headers["webhook-timestamp"]
    assert stamp == str(int(emulator.clock.now()))
    # An independent signer agrees with the signature sent.
    assert request.headers["webhook-signature"] == signature(
        secret, event_id, stamp, request.content
    )
    event = json.loads(request.content)
    assert event["id"] == event_id and event_id.startswith("evt_")
    assert event["object"] == "event" and event["type"] == "run.completed"
    run = event["data"]["object"]
    assert run["id"] == run_id and run["status"] == "failed" and run["object"] == "run"
    assert "case_outcomes" not in run
    assert event["created_at"] == run["completed_at"]
    assert [a.outcome for a in emulator.webhook_attempts] == ["delivered"]
    assert await emulator.deliver_webhooks() == 0  # delivered once


async def test_canceled_runs_are_delivered_too(emulator: Emulator, http: httpx.AsyncClient) -> None:
    """A canceled run is delivered as run.completed with status canceled."""
    receiver = Receiver()
    emulator.add_webhook_endpoint("https://hooks.test/zof", transport=receiver.transport)
    (run_id,) = start(emulator, duration_seconds=100)
    assert (await http.post(f"/runs/{run_id}/cancel")).status_code == 200
    await emulator.deliver_webhooks()
    (request,) = receiver.requests
    assert json.loads(request.content)["data"]["object"]["status"] == "canceled"


async def test_no_endpoint_no_queue(emulator: Emulator) -> None:
    """Without an endpoint, finished runs queue no deliveries."""
    start(emulator, 3)
    emulator.advance(60)
    assert await emulator.deliver_webhooks() == 0 and emulator.state.webhooks.pending == 0


async def test_failures_are_retried_on_schedule_with_the_same_webhook_id(
    emulator: Emulator,
) -> None:
    """Failed deliveries are retried 5 s then 300 s later, same id, each freshly signed."""
    receiver = Receiver(answer=lambda n: 503 if n <= 2 else 204)
    secret = emulator.add_webhook_endpoint("https://hooks.test/zof", transport=receiver.transport)
    start(emulator)
    emulator.advance(10)
    await emulator.deliver_webhooks()
    emulator.advance(4.9)
    assert await emulator.deliver_webhooks() == 0  # the first retry is due 5 s later
    emulator.advance(0.1)
    assert await emulator.deliver_webhooks() == 1
    emulator.advance(299)
    assert await emulator.deliver_webhooks() == 0
    emulator.advance(1)
    assert await emulator.deliver_webhooks() == 1
    assert len(set(receiver.ids())) == 1 and len(receiver.requests) == 3
    stamps = [int(r.headers["webhook-timestamp"]) for r in receiver.requests]
    assert stamps[1] - stamps[0] == 5 and stamps[2] - stamps[1] == 300
    for r in receiver.requests:  # each attempt is signed over its own timestamp
        assert r.headers["webhook-signature"] == signature(
            secret, r.headers["webhook-id"], r.headers["webhook-timestamp"], r.content
        )
    attempts = emulator.webhook_attempts
    assert [(a.attempt, a.status, a.outcome) for a in attempts] == [
        (0, 503, "failed"), (1, 503, "failed"), (2, 204, "delivered")
    ]  # fmt: skip


async def test_gives_up_after_the_last_retry(emulator: Emulator) -> None:
    """An endpoint that never answers gets seven attempts, the last recorded as gave_up."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    emulator.add_webhook_endpoint("https://down.test/", transport=httpx.MockTransport(refuse))
    start(emulator)
    emulator.advance(10)
    sent = 0
    for step in (0, 5, 300, 1800, 7200, 18000, 36000, 100000):
        emulator.advance(step)
        sent += await emulator.deliver_webhooks()
    assert sent == 7
    outcomes = [a.outcome for a in emulator.webhook_attempts]
    assert outcomes == ["failed"] * 6 + ["gave_up"]
    assert "ConnectError" in (emulator.webhook_attempts[0].error or "")
    assert emulator.state.webhooks.pending == 0


async def test_rotation_sends_one_signature_per_secret(emulator: Emulator) -> None:
    """After a secret rotation each delivery carries a signature under each secret."""
    receiver = Receiver()
    old = emulator.add_webhook_endpoint("https://hooks.test/zof", transport=receiver.transport)
    new = emulator.rotate_webhook_secret("https://hooks.test/zof")
    start(emulator)
    emulator.advance(10)
    await emulator.deliver_webhooks()
    (r,) = receiver.requests
    args = (r.headers["webhook-id"], r.headers["webhook-timestamp"], r.content)
    assert r.headers["webhook-signature"].split() == [signature(old, *args), signature(new, *args)]


async def test_fault_drop_and_duplicate(emulator: Emulator) -> None:
    """drop_rate and duplicate_rate drop and repeat about that share of deliveries."""
    receiver = Receiver()
    emulator.add_webhook_endpoint("https://hooks.test/zof", transport=receiver.transport)
    emulator.webhook_faults.drop_rate = 0.3
    emulator.webhook_faults.duplicate_rate = 0.3
    runs = start(emulator, 200)
    emulator.advance(10)
    await emulator.deliver_webhooks()
    emulator.advance(100_000)
    await emulator.deliver_webhooks()  # no retries: everything sent was answered 200
    dropped = {a.run_id for a in emulator.webhook_attempts if a.outcome == "dropped"}
    per_id = Counter(receiver.ids())
    delivered_runs = {json.loads(r.content)["data"]["object"]["id"] for r in receiver.requests}
    assert 30 <= len(dropped) <= 90 and delivered_runs == set(runs) - dropped
    assert set(per_id.values()) == {1, 2} and 20 <= list(per_id.values()).count(2) <= 70


async def test_fault_delay_and_reorder(emulator: Emulator) -> None:
    """delay holds every event back 30 s, and reorder_window changes their order."""
    receiver = Receiver()
    emulator.add_webhook_endpoint("https://hooks.test/zof", transport=receiver.transport)
    emulator.webhook_faults.delay = 30
    emulator.webhook_faults.reorder_window = 20
    runs = []
    for i in range(20):  # runs finish one second apart, in this order
        runs += start(emulator, duration_seconds=10 + i)
    emulator.advance(40)
    await emulator.deliver_webhooks()
    assert receiver.requests == []  # every event waits at least 30 s past its run's end
    for _ in range(60):
        emulator.advance(1)
        await emulator.deliver_webhooks()
    order = [json.loads(r.content)["data"]["object"]["id"] for r in receiver.requests]
    assert sorted(order) == sorted(runs) and order != runs


async def test_fault_bad_signature_then_a_good_retry(emulator: Emulator) -> None:
    """A delivery signed badly by the fault is refused and its retry verifies."""
    from zof_async import Webhooks, WebhookVerificationError

    outcomes: list[str] = []
    secret = ""

    def verify(request: httpx.Request) -> httpx.Response:
        try:
            Webhooks(secret=secret).verify(
                request.content, request.headers, now=emulator.clock.now()
            )
        except WebhookVerificationError as exc:
            outcomes.append(exc.reason)
            return httpx.Response(400)
        outcomes.append("ok")
        return httpx.Response(200)

    secret = emulator.add_webhook_endpoint(
        "https://hooks.test/", transport=httpx.MockTransport(verify)
    )
    emulator.webhook_faults.bad_signature_rate = 1.0
    start(emulator)
    emulator.advance(10)
    await emulator.deliver_webhooks()
    emulator.webhook_faults.bad_signature_rate = 0.0
    emulator.advance(5)
    await emulator.deliver_webhooks()
    assert outcomes == ["signature_mismatch", "ok"]
    assert [a.outcome for a in emulator.webhook_attempts] == ["bad_signature", "delivered"]


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_fault_bad_signature_at_rate_one_still_signs_every_retry_correctly(
    emulator: Emulator,
) -> None:
    """At bad_signature_rate=1.0 each event's first attempt is forged and its retry verifies."""
    secret = ""

    def check(request: httpx.Request) -> httpx.Response:
        h = request.headers
        good = signature(secret, h["webhook-id"], h["webhook-timestamp"], request.content)
        return httpx.Response(200 if good in h["webhook-signature"].split() else 400)

    secret = emulator.add_webhook_endpoint(
        "https://hooks.test/", transport=httpx.MockTransport(check)
    )
    emulator.webhook_faults.bad_signature_rate = 1.0
    emulator.webhook_faults.duplicate_rate = 1.0  # each copy is a first attempt of its own
    start(emulator, 3)
    emulator.advance(10)
    await emulator.deliver_webhooks()
    emulator.advance(5)  # the first retry, with the rate still 1.0
    await emulator.deliver_webhooks()
    emulator.advance(100_000)
    assert await emulator.deliver_webhooks() == 0  # nothing left to retry
    outcomes = Counter((a.attempt, a.status, a.outcome) for a in emulator.webhook_attempts)
    assert outcomes == {(0, 400, "bad_signature"): 6, (1, 200, "delivered"): 6}


@pytest.mark.parametrize(
    "anyio_backend", [("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})]
)
async def test_the_pump_delivers_on_the_emulator_clock_in_virtual_time() -> None:
    """delivering() on a LoopClock posts each event within one tick of its run's end."""
    emulator = Emulator(data="minimal", clock=LoopClock())
    arrivals: dict[str, float] = {}

    def record(request: httpx.Request) -> httpx.Response:
        arrivals[json.loads(request.content)["data"]["object"]["id"]] = emulator.clock.now()
        return httpx.Response(200)

    emulator.add_webhook_endpoint("https://hooks.test/", transport=httpx.MockTransport(record))
    ends = {}
    for i in range(10):
        (run_id,) = start(emulator, duration_seconds=60 * (i + 1))
        ends[run_id] = emulator.state.store.runs[run_id].finish_at[-1]
    began = trio.current_time()
    async with emulator.delivering():
        await trio.sleep(700)
    assert trio.current_time() - began == pytest.approx(700)
    for run_id, end in ends.items():
        assert 0 <= arrivals[run_id] - end <= 0.06  # within one tick of the run's end
    assert set(arrivals) == set(ends)


async def test_the_pump_stops_cleanly_with_a_manual_clock() -> None:
    """delivering() on a ManualClock delivers after advance() and stops with its block."""
    emulator = Emulator(data="minimal", clock=ManualClock())
    all_in = anyio.Event()

    def answer(n: int) -> int:
        if n == 5:
            all_in.set()
        return 200

    receiver = Receiver(answer)
    emulator.add_webhook_endpoint("https://hooks.test/", transport=receiver.transport)
    start(emulator, 5)
    async with emulator.delivering(tick=0.001):
        emulator.advance(10)
        with anyio.fail_after(5):
            await all_in.wait()
    assert len(set(receiver.ids())) == 5


def test_an_endpoint_secret_that_is_not_base64_is_refused_at_registration() -> None:
    """add_webhook_endpoint refuses a malformed secret at once, not in the pump; bare padding is fine."""
    emulator = Emulator(data="minimal", clock=ManualClock())
    with pytest.raises(ValueError, match="not 'whsec_' followed by base64"):
        emulator.add_webhook_endpoint("https://hooks.test/", secret="whsec_***")
    secret = "whsec_" + "QUJD" + "RA"  # base64 of b"ABCD" without its "=="
    assert emulator.add_webhook_endpoint("https://hooks.test/", secret=secret) == secret
