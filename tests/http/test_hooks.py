"""Hooks on every attempt, through the real client on the in-process emulator."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import trio.testing

from tests.helpers import SMOKE
from tests.resources.seam import Seam, client, emulator_with_runs
from zof_async import RequestView, ResponseView

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_backoff")]

Event = tuple[object, ...]


class Recorder:
    """Every hook, recording what it saw in one ordered list."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def on_request(self, view: RequestView) -> None:
        self.events.append(("request", view.call_id, view.attempt))

    async def on_response(self, view: ResponseView) -> None:  # a coroutine hook
        self.events.append(("response", view.call_id, view.attempt, view.status, view.final))

    def on_retry(self, attempt: int, delay: float, reason: str) -> None:
        self.events.append(("retry", attempt, reason))

    def on_rate_limited(self, retry_after: float | None) -> None:
        self.events.append(("rate_limited", retry_after))

    def hooks(self) -> dict[str, object]:
        return {
            "on_request": self.on_request,
            "on_response": self.on_response,
            "on_retry": self.on_retry,
            "on_rate_limited": self.on_rate_limited,
        }


async def test_hooks_see_every_attempt_of_a_retried_call_in_order() -> None:
    """A 503 then a 429 then a 201: request/response per attempt, then 429 and retry hooks."""
    emulator, _ = await emulator_with_runs()
    emulator.faults.fail_next(1, status=503, route="/runs")
    emulator.faults.fail_next(1, status=429, retry_after=1, route="/runs")
    recorder = Recorder()
    async with client(Seam(emulator), emulator, **recorder.hooks()) as zof:
        await zof.runs.create(**SMOKE)
    call = recorder.events[0][1]
    assert recorder.events == [
        ("request", call, 1),
        ("response", call, 1, 503, False),
        ("retry", 2, "HTTP 503"),
        ("request", call, 2),
        ("response", call, 2, 429, False),
        ("rate_limited", 1.0),
        ("retry", 3, "HTTP 429"),
        ("request", call, 3),
        ("response", call, 3, 201, True),
    ]
    assert emulator.stats.count(route="/runs") == 3


async def test_a_fan_outs_429s_reach_on_rate_limited() -> None:
    """bulk_artifacts under 429s: one on_rate_limited per 429 the emulator sent."""
    emulator, ids = await emulator_with_runs()
    route = "/results/{id}/artifacts"
    emulator.faults.fail_next(5, status=429, retry_after=1, route=route)
    served_before = emulator.stats.total
    recorder = Recorder()
    async with client(Seam(emulator), emulator, **recorder.hooks()) as zof:
        results = [r async for r in zof.results.list(run_id=ids.finished_run)]
        fan_out = zof.results.bulk_artifacts(results, concurrency=4)
        batches = [batch async for batch in fan_out]
    assert all(batch.ok for batch in batches)
    limited = [e for e in recorder.events if e[0] == "rate_limited"]
    assert len(limited) == emulator.stats.count(route=route, status=429) == 5
    assert fan_out.stats.rate_limited == 5
    responses = [e for e in recorder.events if e[0] == "response"]
    requests = [e for e in recorder.events if e[0] == "request"]
    assert len(responses) == len(requests) == emulator.stats.total - served_before


async def test_with_options_adds_its_hooks_after_the_clients() -> None:
    """A with_options copy calls the client's hook, then its own; the client keeps only its own."""
    emulator, ids = await emulator_with_runs()
    seen: list[str] = []
    async with client(
        Seam(emulator), emulator, on_request=lambda view: seen.append("client")
    ) as zof:
        copy = zof.with_options(on_request=lambda view: seen.append("copy"))
        await copy.runs.get(ids.finished_run)
        await zof.runs.get(ids.finished_run)
    assert seen == ["client", "copy", "client"]


async def test_a_raising_hook_never_breaks_the_call_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Sync and async hooks that raise: every call succeeds, one warning per hook."""
    emulator, ids = await emulator_with_runs()

    def broken(view: RequestView) -> None:
        raise RuntimeError("hook bug")

    async def broken_too(view: ResponseView) -> None:
        raise ValueError("another")

    caplog.set_level(logging.WARNING, logger="zof_async")
    async with client(Seam(emulator), emulator, on_request=broken, on_response=broken_too) as zof:
        for _ in range(3):
            run = await zof.runs.get(ids.finished_run)
            assert run.id == ids.finished_run
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert sorted(r.getMessage().split()[1] for r in warnings) == [
        "test_a_raising_hook_never_breaks_the_call_and_is_logged_once.<locals>.broken",
        "test_a_raising_hook_never_breaks_the_call_and_is_logged_once.<locals>.broken_too",
    ]


async def test_log_records_carry_structured_fields(caplog: pytest.LogCaptureFixture) -> None:
    """Each attempt's record has method, path, status, request_id, attempt, elapsed attributes."""
    emulator, ids = await emulator_with_runs()
    emulator.faults.fail_next(1, status=503, route="/runs/{id}")
    seam = Seam(emulator)
    caplog.set_level(logging.DEBUG, logger="zof_async")
    async with client(seam, emulator) as zof:
        await zof.runs.get(ids.finished_run)
    records = [r for r in caplog.records if hasattr(r, "attempt")]
    fields = [
        (r.method, r.path, r.status, r.attempt)  # type: ignore[attr-defined]
        for r in records
    ]
    assert fields == [
        ("GET", f"/v1/runs/{ids.finished_run}", 503, 1),
        ("GET", f"/v1/runs/{ids.finished_run}", 200, 2),
    ]
    assert records[1].request_id == seam.request_ids[-1]  # type: ignore[attr-defined]
    assert all(r.elapsed >= 0 for r in records)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "anyio_backend", [("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})]
)
async def test_a_call_cancelled_in_its_backoff_still_gets_a_final_response() -> None:
    """Cancelled between attempts: the last on_response is final, so a span can close."""
    import anyio
    import httpx

    from tests.helpers import BASE, KEY
    from zof_async import AsyncZof
    from zof_async.testing import set_testing

    seen: list[tuple[int, bool, str | None]] = []

    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error": {"code": "down", "message": "down"}})

    with set_testing(False):  # a real backoff, to be cancelled in
        async with AsyncZof(
            api_key=KEY,
            base_url=BASE,
            transport=httpx.MockTransport(down),
            on_response=lambda v: seen.append((v.attempt, v.final, v.error)),
        ) as zof:
            with anyio.move_on_after(0.3):
                await zof.runs.get("run_1")
    assert [final for _, final, _ in seen[:-1]] == [False] * (len(seen) - 1)
    assert seen[-1][1] is True and seen[-1][2] == "Cancelled"  # trio's cancellation


async def test_a_body_that_fails_after_a_2xx_is_reported_with_its_answer(tmp_path: Path) -> None:
    """A download short of its size: the final view has the 200, its request id, and the error."""
    import httpx

    from tests.helpers import BASE, KEY
    from zof_async import APIResponseValidationError, AsyncZof

    seen: list[ResponseView] = []

    def short(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=b"abc", headers={"x-request-id": "req_42", "content-length": "10"}
        )

    async with AsyncZof(
        api_key=KEY, base_url=BASE, transport=httpx.MockTransport(short), on_response=seen.append
    ) as zof:
        with pytest.raises(APIResponseValidationError):
            await zof.artifacts.download("art_1", tmp_path / "a.bin")
    assert len(seen) == 1
    view = seen[0]
    assert (view.status, view.request_id, view.final) == (200, "req_42", True)
    assert view.error is not None and not view.ok
