"""Which failures are retried, how often, with which Idempotency-Key."""

from __future__ import annotations

import logging

import httpx
import pytest
import respx

from tests.helpers import SMOKE, client, run_json
from zof_async import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    RunStatus,
)

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_backoff")]


def error(
    status: int, code: str, message: str = "nope", param: str | None = None, **headers: str
) -> httpx.Response:
    body = {"error": {"code": code, "message": message, **({"param": param} if param else {})}}
    return httpx.Response(status, json=body, headers={"X-Request-Id": f"req_{status}", **headers})


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_transient_statuses_are_retried(router: respx.MockRouter, status: int) -> None:
    """429 and 5xx twice, then 200: the call returns the run after two retries."""
    route = router.get("/runs/run_1").mock(
        side_effect=[
            error(status, "internal_error"),
            error(status, "internal_error"),
            httpx.Response(200, json=run_json()),
        ]
    )
    async with client(router) as zof:
        run = await zof.runs.get("run_1")
    assert run.status is RunStatus.QUEUED
    assert route.call_count == 3
    assert zof.stats.retries == 2


@pytest.mark.parametrize(
    ("status", "code", "exc_type"),
    [
        (400, "invalid_request", BadRequestError),
        (401, "unauthorized", AuthenticationError),
        (403, "forbidden", PermissionDeniedError),
        (404, "not_found", NotFoundError),
        (409, "conflict", ConflictError),
        (422, "unprocessable", APIStatusError),
    ],
)
async def test_other_4xx_are_not_retried(
    router: respx.MockRouter, status: int, code: str, exc_type: type[APIStatusError]
) -> None:
    """400, 401, 403, 404, 409, 422: one request, a typed error with code, param and request id."""
    route = router.get("/runs/run_1").mock(
        return_value=error(status, code, "bad thing", param="id")
    )
    async with client(router) as zof:
        with pytest.raises(exc_type) as caught:
            await zof.runs.get("run_1")
    assert route.call_count == 1
    exc = caught.value
    assert type(exc) is exc_type
    assert (exc.status_code, exc.code, exc.message, exc.param, exc.request_id) == (
        status,
        code,
        "bad thing",
        "id",
        f"req_{status}",
    )
    assert exc.response.status_code == status


async def test_gives_up_after_max_retries_with_the_last_error(router: respx.MockRouter) -> None:
    """503 every time, max_retries=2: three requests, then the last error."""
    route = router.get("/runs/run_1").mock(return_value=error(503, "internal_error", "down"))
    async with client(router, max_retries=2) as zof:
        with pytest.raises(InternalServerError, match="down"):
            await zof.runs.get("run_1")
    assert route.call_count == 3


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow connect"),
        httpx.ReadTimeout("slow read"),
        httpx.ReadError("reset"),
        httpx.WriteError("broken pipe"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
)
async def test_connection_failures_are_retried(router: respx.MockRouter, exc: Exception) -> None:
    """Connect, timeout, read, write and protocol failures once, then 200: the run."""
    route = router.get("/runs/run_1").mock(side_effect=[exc, httpx.Response(200, json=run_json())])
    async with client(router) as zof:
        assert (await zof.runs.get("run_1")).id == "run_1"
    assert route.call_count == 2


async def test_connection_failure_surfaces_as_api_connection_error(
    router: respx.MockRouter,
) -> None:
    """A refused connection, retries spent: APIConnectionError caused by httpx's error."""
    router.get("/runs/run_1").mock(side_effect=httpx.ConnectError("refused"))
    async with client(router, max_retries=1) as zof:
        with pytest.raises(APIConnectionError) as caught:
            await zof.runs.get("run_1")
    assert not isinstance(caught.value, APITimeoutError)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


async def test_read_timeout_surfaces_as_api_timeout_error(router: respx.MockRouter) -> None:
    """A read timeout, retries spent: APITimeoutError."""
    router.get("/runs/run_1").mock(side_effect=httpx.ReadTimeout("slow"))
    async with client(router, max_retries=1) as zof:
        with pytest.raises(APITimeoutError):
            await zof.runs.get("run_1")


async def test_pool_timeout_is_never_retried(router: respx.MockRouter) -> None:
    """httpx's PoolTimeout: APITimeoutError after one request, no retry."""
    route = router.get("/runs/run_1").mock(side_effect=httpx.PoolTimeout("full"))
    async with client(router) as zof:
        with pytest.raises(APITimeoutError):
            await zof.runs.get("run_1")
    assert route.call_count == 1


async def test_post_reuses_one_idempotency_key_across_retries(router: respx.MockRouter) -> None:
    """A POST's retries share one generated key; a new call gets a new one; a given key is sent."""
    route = router.post("/runs").mock(
        side_effect=[
            httpx.ReadError("lost"),
            error(502, "internal_error"),
            httpx.Response(201, json=run_json()),
        ]
    )
    async with client(router) as zof:
        await zof.runs.create(**SMOKE)
        keys = [call.request.headers["Idempotency-Key"] for call in route.calls]
        assert len(keys) == 3
        assert len(set(keys)) == 1
        assert len(keys[0]) == 36  # a uuid4
        route.side_effect = None
        route.return_value = httpx.Response(201, json=run_json())
        await zof.runs.create(**SMOKE)
        assert route.calls[-1].request.headers["Idempotency-Key"] != keys[0]
        await zof.runs.create(**SMOKE, idempotency_key="ci-build-42")
        assert route.calls[-1].request.headers["Idempotency-Key"] == "ci-build-42"


async def test_cancel_sends_an_idempotency_key_too(router: respx.MockRouter) -> None:
    """A cancel retried after a 503 sends the same Idempotency-Key both times."""
    route = router.post("/runs/run_1/cancel").mock(
        side_effect=[
            error(503, "internal_error"),
            httpx.Response(200, json=run_json(status="canceled")),
        ]
    )
    async with client(router) as zof:
        run = await zof.runs.cancel("run_1")
    assert run.status is RunStatus.CANCELED
    assert (
        route.calls[0].request.headers["Idempotency-Key"]
        == route.calls[1].request.headers["Idempotency-Key"]
    )


async def test_conflict_on_post_is_not_retried(router: respx.MockRouter) -> None:
    """A 409 to a cancel: ConflictError after one request."""
    route = router.post("/runs/run_1/cancel").mock(
        return_value=error(409, "conflict", "already passed")
    )
    async with client(router) as zof:
        with pytest.raises(ConflictError):
            await zof.runs.cancel("run_1")
    assert route.call_count == 1


async def test_retry_after_beyond_the_cap_raises_at_once(router: respx.MockRouter) -> None:
    """A 429 asking for 600 s with max_retry_after=30: RateLimitError at once, no retry."""
    route = router.get("/runs/run_1").mock(
        return_value=error(429, "rate_limited", **{"Retry-After": "600"})
    )
    async with client(router, retry=RetryPolicy(max_retry_after=30)) as zof:
        with pytest.raises(RateLimitError) as caught:
            await zof.runs.get("run_1")
    assert caught.value.retry_after == 600
    assert route.call_count == 1


async def test_retry_budget_bounds_load_in_a_total_outage(router: respx.MockRouter) -> None:
    """100 calls against a dead server send 100 + floor + 10% retries, not 400 requests."""
    route = router.get("/runs/run_1").mock(return_value=error(503, "internal_error"))
    policy = RetryPolicy(max_retries=3, budget_ratio=0.1, budget_floor=5)
    async with client(router, retry=policy) as zof:
        for _ in range(100):
            with pytest.raises(InternalServerError):
                await zof.runs.get("run_1")
    # Without a budget: 400 requests. With it: 100 first attempts + 5 + 10% of 100.
    assert route.call_count == 100 + 5 + 10


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html>oops</html>", "text/html"),
        (b'{"id": "run_1"}', "application/json"),
        (b'{"id": 5, "status": "queued"}', "application/json"),
        (b"[1, 2]", "application/json"),
        (
            b'{"id":"run_1","project_id":"p","environment":"staging","status":"queued","created_at":"yesterday"}',
            "application/json",
        ),
    ],
)
async def test_2xx_bodies_that_do_not_decode(
    router: respx.MockRouter, body: bytes, content_type: str
) -> None:
    """A 200 that is HTML, lacks fields or has wrong types: APIResponseValidationError."""
    router.get("/runs/run_1").mock(
        return_value=httpx.Response(
            200, content=body, headers={"content-type": content_type, "x-request-id": "req_9"}
        )
    )
    async with client(router) as zof:
        with pytest.raises(APIResponseValidationError) as caught:
            await zof.runs.get("run_1")
    assert caught.value.request_id == "req_9"
    assert "Run" in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [b"Bad Gateway", b'{"detail": "x"}', b'{"error": "flat"}', b'{"error": {"code": 5}}', b""],
)
async def test_error_bodies_without_the_documented_shape(
    router: respx.MockRouter, body: bytes
) -> None:
    """A 404 whose body is not the error envelope: NotFoundError, no code, reason phrase."""
    router.get("/runs/run_1").mock(return_value=httpx.Response(404, content=body))
    async with client(router) as zof:
        with pytest.raises(NotFoundError) as caught:
            await zof.runs.get("run_1")
    assert caught.value.status_code == 404
    assert caught.value.code is None
    assert caught.value.message == "Not Found"


async def test_unknown_fields_and_statuses_are_tolerated(router: respx.MockRouter) -> None:
    """Unknown fields are ignored; unknown statuses are kept as unknown RunStatus values."""
    router.get("/runs/run_1").mock(
        return_value=httpx.Response(
            200,
            json=run_json(
                status="paused",
                shiny_new_field={"x": 1},
                case_outcomes=[
                    {"test_case_id": "tc_1", "status": "quarantined", "result_id": None, "extra": 1}
                ],
            ),
        )
    )
    async with client(router) as zof:
        run = await zof.runs.get("run_1")
    assert run.status == "paused"
    assert isinstance(run.status, RunStatus)
    assert not run.status.is_known
    assert not run.is_terminal
    assert run.case_outcomes is not None
    assert run.case_outcomes[0].status.value == "quarantined"


async def test_debug_log_has_one_line_per_attempt(
    router: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    """One DEBUG line per attempt: method, path, status, request id, attempt, retry delay."""
    router.get("/runs/run_1").mock(
        side_effect=[
            error(503, "internal_error"),
            httpx.Response(200, json=run_json(), headers={"x-request-id": "req_ok"}),
        ]
    )
    caplog.set_level(logging.DEBUG, logger="zof_async")
    async with client(router) as zof:
        await zof.runs.get("run_1")
    lines = [r.getMessage() for r in caplog.records if r.name == "zof_async"]
    assert len(lines) == 2
    assert lines[0].startswith("GET /v1/runs/run_1 -> 503 request_id=req_503 attempt=1 elapsed=")
    assert "retry_in=" in lines[0]
    assert lines[1].startswith("GET /v1/runs/run_1 -> 200 request_id=req_ok attempt=2")
