"""Every fault knob, and the counters that let a test see what a client did."""

from __future__ import annotations

import anyio
import httpx
import pytest
import trio.testing

from zof_async.testing import Emulator

from .helpers import SMOKE, assert_error

pytestmark = pytest.mark.anyio


async def test_error_rate_answers_transient_errors(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    """error_rate answers about that share with the chosen 5xx, until reset."""
    emulator.faults.error_rate = 0.25
    emulator.faults.error_statuses = (500, 503)
    emulator.faults.error_retry_after = 3
    statuses = [(await http.get("/runs")) for _ in range(400)]
    errors = [r for r in statuses if r.status_code != 200]
    assert 60 <= len(errors) <= 140  # 100 expected; seeded, so stable
    assert {r.status_code for r in errors} == {500, 503}
    for response in errors:
        assert_error(response, response.status_code, "internal_error")
        assert response.headers.get("retry-after") == ("3" if response.status_code == 503 else None)
    emulator.faults.reset()
    assert [(await http.get("/runs")).status_code for _ in range(50)] == [200] * 50


async def test_rate_limit_per_key(emulator: Emulator, http: httpx.AsyncClient) -> None:
    """The per-key token bucket answers 429 past its burst and refills at its rate."""
    emulator.faults.rate_limit = 2.0
    emulator.faults.rate_limit_burst = 5
    codes = [(await http.get("/runs")).status_code for _ in range(8)]
    assert codes == [200] * 5 + [429] * 3
    limited = await http.get("/runs")
    assert_error(limited, 429, "rate_limited")
    assert limited.headers["retry-after"] == "1"
    async with emulator.client(emulator.keys.viewer) as other_key:
        assert (await other_key.get("/runs")).status_code == 200
    emulator.advance(1.0)  # two tokens back at 2/s
    assert [(await http.get("/runs")).status_code for _ in range(3)] == [200, 200, 429]


async def test_throttle_window(emulator: Emulator, http: httpx.AsyncClient) -> None:
    """A throttle window answers 429 with Retry-After until it ends."""
    emulator.faults.throttle(now=emulator.clock.now(), seconds=2, retry_after=2)
    first = await http.get("/runs")
    assert_error(first, 429, "rate_limited")
    assert first.headers["retry-after"] == "2"
    emulator.advance(1.5)
    assert (await http.get("/runs")).headers["retry-after"] == "2"
    emulator.advance(0.5)
    assert (await http.get("/runs")).status_code == 200


async def test_reset_also_cancels_a_scheduled_throttle(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    """faults.reset() cancels a throttle scheduled to start later."""
    emulator.faults.throttle_after(2, seconds=60, retry_after=5)
    emulator.faults.reset()
    assert [(await http.get("/runs")).status_code for _ in range(5)] == [200] * 5


async def test_fail_next_by_route_and_method(emulator: Emulator, http: httpx.AsyncClient) -> None:
    """fail_next fails only the next matching requests, and a failed POST creates nothing."""
    emulator.faults.fail_next(2, status=502, method="POST", route="/runs")
    emulator.faults.fail_next(1, status=429, route="/runs/{id}")
    assert (await http.get("/runs")).status_code == 200
    assert (await http.post("/runs", json=SMOKE)).status_code == 502
    assert (await http.post("/runs", json=SMOKE)).status_code == 502
    created = await http.post("/runs", json=SMOKE)
    assert created.status_code == 201
    limited = await http.get(f"/runs/{created.json()['id']}")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    assert (await http.get(f"/runs/{created.json()['id']}")).status_code == 200
    assert len(emulator.runs_of("org_acme")) == 1, "a failed POST must not create anything"


async def test_fail_next_by_query(emulator: Emulator, http: httpx.AsyncClient) -> None:
    """fail_next(query=) fails only requests whose query string holds those values."""
    emulator.faults.fail_next(2, status=503, route="/results", query={"run_id": "run_b"})
    assert (await http.get("/results", params={"run_id": "run_a"})).status_code == 200
    assert (await http.get("/results")).status_code == 200
    assert (await http.get("/results", params={"run_id": "run_b", "limit": 5})).status_code == 503
    assert (await http.get("/runs", params={"run_id": "run_b"})).status_code == 200  # other route
    assert (await http.get("/results", params={"run_id": "run_b"})).status_code == 503
    assert (await http.get("/results", params={"run_id": "run_b"})).status_code == 200


async def test_counters(emulator: Emulator, http: httpx.AsyncClient) -> None:
    """The stats count requests by route, method and status, keep a log, and reset."""
    run = (await http.post("/runs", json=SMOKE)).json()
    for _ in range(3):
        await http.get(f"/runs/{run['id']}")
    await http.get("/runs/run_nope")
    stats = emulator.stats
    assert stats.count(route="/runs/{id}") == 4
    assert stats.count(route="/runs/{id}", status=200) == 3
    assert stats.count(route="/runs/{id}", status=404) == 1
    assert stats.count(method="POST") == 1
    assert stats.total == 5
    assert [r.route for r in stats.log][:2] == ["/runs", "/runs/{id}"]
    stats.reset()
    assert stats.total == 0


@pytest.mark.parametrize(
    "anyio_backend", [("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})]
)
async def test_fixed_latency_delays_each_response(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    """A fixed latency delays each response by exactly that much (virtual) time."""
    emulator.faults.latency = 5.0
    began = anyio.current_time()
    for _ in range(3):
        assert (await http.get("/runs")).status_code == 200
    assert anyio.current_time() - began == pytest.approx(15.0)
