"""Errors survive pickling (multiprocessing, Ray tasks, caches) and never carry the key."""

from __future__ import annotations

import pickle
from typing import Any

import httpx
import pytest
import respx

from tests.helpers import BASE, KEY, client
from zof_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    WaitTimeoutError,
    WebhookVerificationError,
    ZofError,
)

pytestmark = pytest.mark.anyio


def error_body(code: str, message: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "param": param}}


STATUS_CASES = [
    (400, {}, error_body("invalid_request", "limit is too big", "limit"), BadRequestError),
    (404, {}, error_body("not_found", "no such run"), NotFoundError),
    (409, {}, error_body("conflict", "already finished"), ConflictError),
    (429, {"Retry-After": "7"}, error_body("rate_limited", "slow down"), RateLimitError),
    (503, {}, "<html>down</html>", InternalServerError),
]


def round_trip(error: BaseException) -> Any:
    data = pickle.dumps(error)
    assert KEY.encode() not in data
    return pickle.loads(data)


@pytest.mark.parametrize(("status", "headers", "body", "kind"), STATUS_CASES)
async def test_status_errors_round_trip_with_what_a_user_acts_on(
    router: respx.MockRouter,
    status: int,
    headers: dict[str, str],
    body: Any,
    kind: type[APIStatusError],
) -> None:
    """A status error unpickles as its class, with its text, fields and response, keyless."""
    answer = {"json": body} if isinstance(body, dict) else {"text": body}
    router.get(f"{BASE}/runs/run_1").mock(
        return_value=httpx.Response(status, headers={"X-Request-Id": "req_42", **headers}, **answer)
    )
    async with client(router, max_retries=0) as zof:
        with pytest.raises(kind) as caught:
            await zof.runs.get("run_1")
    error = caught.value
    copy = round_trip(error)
    assert type(copy) is kind
    assert str(copy) == str(error)
    assert copy.args == error.args
    for field in ("status_code", "code", "message", "param", "request_id", "detail"):
        assert getattr(copy, field) == getattr(error, field), field
    assert copy.request_id == "req_42"
    assert copy.response.status_code == status
    assert copy.response.content == error.response.content
    assert copy.response.request.url == error.response.request.url
    assert "authorization" not in copy.response.request.headers
    assert error.response.request.headers["authorization"] == f"Bearer {KEY}"  # untouched
    if isinstance(error, RateLimitError):
        assert isinstance(copy, RateLimitError)
        assert copy.retry_after == error.retry_after == 7


@pytest.mark.parametrize(
    ("raised", "kind"),
    [
        (httpx.ConnectError("refused"), APIConnectionError),
        (httpx.ReadTimeout("slow"), APITimeoutError),
    ],
)
async def test_connection_errors_round_trip_without_the_key(
    router: respx.MockRouter, raised: Exception, kind: type[APIConnectionError]
) -> None:
    """A connection error unpickles with its text and request, the key left behind."""
    router.get(f"{BASE}/runs/run_1").mock(side_effect=raised)
    async with client(router, max_retries=0) as zof:
        with pytest.raises(kind) as caught:
            await zof.runs.get("run_1")
    copy = round_trip(caught.value)
    assert type(copy) is kind
    assert str(copy) == str(caught.value)
    assert copy.request is not None and caught.value.request is not None
    assert copy.request.url == caught.value.request.url
    assert "authorization" not in copy.request.headers


def test_errors_without_a_response_round_trip_with_their_fields() -> None:
    """Errors built from text and fields unpickle equal in class, text and fields."""
    cases: list[ZofError] = [
        WaitTimeoutError("run_1 did not finish in 60 s", run=None),
        WebhookVerificationError("the signature does not match", reason="signature_mismatch"),
        APIConnectionError("the client is closed"),
    ]
    for error in cases:
        copy = round_trip(error)
        assert type(copy) is type(error)
        assert str(copy) == str(error)
        assert vars(copy) == vars(error)


async def test_a_pickled_error_does_not_hold_a_key_the_server_echoed(
    router: respx.MockRouter,
) -> None:
    """A key echoed in the body or a header is scrubbed from the error and so its pickle.

    The client's own redactor scrubs the error's response when it raises it
    (pickling builds no redactor from the request's headers any more).
    """
    body = {"error": {"code": "unauthorized", "message": f"key {KEY} was revoked"}}
    router.get(f"{BASE}/runs/run_1").mock(
        return_value=httpx.Response(
            401, json=body, headers={"X-Request-Id": "req_7", "X-Echo": f"Bearer {KEY}"}
        )
    )
    async with client(router, max_retries=0) as zof:
        with pytest.raises(AuthenticationError) as caught:
            await zof.runs.get("run_1")
    assert KEY not in str(caught.value)
    copy = round_trip(caught.value)
    assert copy.response.json()["error"]["code"] == "unauthorized"
    assert KEY not in copy.response.text and KEY not in copy.response.headers["x-echo"]
    assert copy.response.headers["x-request-id"] == "req_7"
    live = caught.value.response
    assert KEY not in live.text and KEY not in live.headers["x-echo"]
    assert live.json()["error"]["message"] == "key <redacted> was revoked"
