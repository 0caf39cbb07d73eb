"""Hostile input: fuzzed ids, invalid arguments, hostile responses, a canary key."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.helpers import client
from zof_async import (
    APIResponseValidationError,
    APIStatusError,
    AsyncZof,
    PaginationError,
    RateLimitError,
    RetryPolicy,
    WaitPolicy,
    ZofError,
)
from zof_async.testing import Emulator, RunScript, set_testing

pytestmark = pytest.mark.anyio

CANARY = "zof_CANARY_k3y_d0_n0t_l34k_7f9a"

ID_CALLS: dict[str, tuple[str, Callable[[AsyncZof, str], Awaitable[object]]]] = {
    "runs.get": ("/runs/{}", lambda z, i: z.runs.get(i)),
    "runs.cancel": ("/runs/{}/cancel", lambda z, i: z.runs.cancel(i)),
    "results.get": ("/results/{}", lambda z, i: z.results.get(i)),
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.slow
@settings(
    max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(
    raw=st.one_of(
        st.text(min_size=1, max_size=50),
        st.sampled_from(
            ["/", "?", "#", "..", ".", "%2e%2e", "%2F", "../runs", "a/b?c#d", "\x00", "\r\n", " "]
        ),
        st.text(min_size=1000, max_size=3000),
    ),
    call=st.sampled_from(sorted(ID_CALLS)),
)
async def test_fuzzed_ids_stay_inside_their_template(raw: str, call: str) -> None:
    """Any text as an id, on get, cancel and results.get: one segment of its template, no query."""
    template, invoke = ID_CALLS[call]
    router = respx.MockRouter(base_url="https://api.zof.ai/v1", assert_all_called=False)
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "no"}})

    router.route().mock(side_effect=handler)
    async with client(router) as zof:
        with pytest.raises(ZofError):
            await invoke(zof, raw)
    (url,) = seen
    assert url.host == "api.zof.ai"
    assert url.query == b""
    expected_parts = template.strip("/").split("/")
    parts = url.raw_path.decode().strip("/").split("/")[1:]
    assert len(parts) == len(expected_parts)
    for want, got in zip(expected_parts, parts, strict=True):
        if want != "{}":
            assert got == want
        else:
            assert "/" not in got and "?" not in got and "#" not in got and got not in (".", "..")


@pytest.mark.parametrize(
    "bad_call",
    [
        lambda z: z.runs.create(project_id="p", environment="", test_suite_id="s"),
        lambda z: z.runs.create(project_id="p", environment="staging"),
        lambda z: z.runs.create(
            project_id="p", environment="staging", test_suite_id="s", test_case_ids=["c"]
        ),
        lambda z: z.runs.get("r", timeout=-1),
        lambda z: z.runs.wait_until_complete("r", timeout=-5),
        lambda z: z.runs.wait_until_complete("", timeout=5),
        lambda z: _first(z.results.list(page_size=0)),
        lambda z: _first(z.results.list(page_size=5000)),
        lambda z: _first(z.runs.list(prefetch=-1)),
        lambda z: _first(z.results.list(resume="garbage!")),
        lambda z: _first(z.results.bulk_artifacts(["r"], concurrency=0)),
    ],
)
async def test_invalid_arguments_fail_before_any_request(
    router: respx.MockRouter, bad_call: Any
) -> None:
    """Bad create, wait, listing and bulk arguments: ValueError or TypeError, nothing sent."""
    async with client(router) as zof:
        with pytest.raises((ValueError, TypeError)):
            await bad_call(zof)
    assert not router.calls


async def _first(iterable: Any) -> Any:
    async for item in iterable:
        return item
    return None


def test_wait_policy_rejects_nonsense() -> None:
    """WaitPolicy and RetryPolicy refuse a zero interval and negative retries."""
    with pytest.raises(ValueError, match="initial_interval"):
        WaitPolicy(initial_interval=0)
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)


HOSTILE = [
    (200, b"<html>not json</html>", {}, APIResponseValidationError),
    (200, b'{"id": ["not", "a", "run"]}', {}, APIResponseValidationError),
    (200, b"null", {}, APIResponseValidationError),
    (
        200,
        b'{"id":"r","project_id":"p","environment":"e","status":7,"created_at":"2026-11-22T10:00:00Z"}',
        {},
        APIResponseValidationError,
    ),
    (429, b"{}", {"Retry-After": "99999999999"}, RateLimitError),
    (503, b"nope", {"Retry-After": "-3"}, APIStatusError),
    (503, b"nope", {"Retry-After": "soon"}, APIStatusError),
    (503, b'{"error": null}', {"Retry-After": "1e400"}, APIStatusError),
    (400, b'{"message": "no error key"}', {}, APIStatusError),
    (418, b"\xff\xfe\x00", {}, APIStatusError),
]


@pytest.mark.parametrize(("status", "body", "headers", "error"), HOSTILE)
async def test_hostile_responses_give_a_clear_zof_error(
    router: respx.MockRouter,
    status: int,
    body: bytes,
    headers: dict[str, str],
    error: type[Exception],
) -> None:
    """Undecodable 200s, absurd Retry-After values, odd error bodies: errors saying what failed."""
    router.get("/runs/run_1").mock(
        return_value=httpx.Response(status, content=body, headers=headers)
    )
    previous = set_testing(True)
    try:
        async with client(router, total_timeout=5) as zof:
            with pytest.raises(error) as caught:
                await zof.runs.get("run_1")
    finally:
        set_testing(previous)
    said = "not a valid Run" if status == 200 else f"GET /v1/runs/run_1 -> {status}"
    assert said in str(caught.value)


@pytest.mark.parametrize(
    "page",
    [
        {"data": "nope", "next_cursor": None},
        {"data": [1, 2], "next_cursor": None},
        {"data": [], "next_cursor": 5},
        {"items": []},
        [],
    ],
)
async def test_hostile_pages(router: respx.MockRouter, page: Any) -> None:
    """A page whose data is not a list of items, or that is no page at all: validation error."""
    router.get("/results").mock(return_value=httpx.Response(200, json=page))
    async with client(router) as zof:
        with pytest.raises(APIResponseValidationError):
            await _first(zof.results.list())


async def test_a_repeating_next_cursor_stops(router: respx.MockRouter) -> None:
    """A next_cursor equal to the one just sent: PaginationError after two requests."""
    router.get("/results").mock(
        return_value=httpx.Response(200, json={"data": [], "next_cursor": "same", "has_more": True})
    )
    async with client(router) as zof:
        with pytest.raises(PaginationError):
            await _first(zof.results.list())
    assert len(router.calls) == 2


async def test_the_canary_key_never_appears(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A canary key is in no repr, error or log record (ours, httpx's, httpcore's) at DEBUG."""
    caplog.set_level(logging.DEBUG)
    emulator = Emulator(data="minimal")
    emulator.add_key("org_acme", "qa", secret=CANARY)
    emulator.faults.fail_next(2, status=503, retry_after=0)
    texts: list[str] = []
    previous = set_testing(True)
    try:
        async with AsyncZof(api_key=CANARY, transport=emulator.transport()) as zof:
            texts += [repr(zof), str(zof), repr(zof.stats)]
            texts.append(repr(zof.with_options(max_retries=1)))
            emulator.script_next_run(
                RunScript(outcome="failed", queue_seconds=0, duration_seconds=1)
            )
            run = await zof.runs.create(
                project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
            )
            emulator.advance(2)
            texts += [repr(run), repr(await zof.runs.get(run.id))]
            texts += [repr(r) async for r in zof.results.list(run_id=run.id)]
            async for batch in zof.results.bulk_artifacts(zof.results.list(run_id=run.id)):
                texts.append(repr(batch))
            bad_calls: list[Callable[[], Awaitable[object]]] = [
                lambda: zof.runs.get("missing"),
                lambda: zof.runs.cancel(run.id),
            ]
            for bad in bad_calls:
                try:
                    await bad()
                except ZofError as exc:
                    texts += [str(exc), repr(exc), repr(exc.__dict__.get("request"))]
            emulator.faults.fail_next(10, status=500)
            try:
                await zof.runs.get(run.id)
            except ZofError as exc:
                texts += [str(exc), repr(exc)]
        async with AsyncZof(api_key=CANARY + "x", transport=emulator.transport()) as wrong:
            try:
                await wrong.runs.get(run.id)
            except ZofError as exc:
                texts += [str(exc), repr(exc)]
    finally:
        set_testing(previous)
    texts.append(caplog.text)
    texts += [str(record.__dict__) for record in caplog.records]
    assert len(caplog.records) > 10
    leaks = [text for text in texts if CANARY in text]
    assert not leaks
