"""The API key never reaches a hook, a log field, a RawResponse or a repr, even when echoed."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.helpers import KEY, run_json
from zof_async import AsyncZof, InternalServerError

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_backoff")]

ECHO = {"X-Request-Id": f"req-{KEY}", "X-Echo": f"Bearer {KEY}", "X-Plain": KEY}


def hostile(request: httpx.Request) -> httpx.Response:
    """A server echoing the key in headers; the first attempt of each call fails."""
    if request.headers.get("x-attempt") != "done" and "cursor" not in str(request.url):
        return httpx.Response(503, json={"error": {"code": "internal_error", "message": KEY}})
    if request.url.path.endswith("/runs"):
        page = {"data": [run_json()], "next_cursor": None, "has_more": False}
        return httpx.Response(200, json=page, headers=ECHO)
    return httpx.Response(200, json=run_json(), headers=ECHO)


async def test_no_hook_payload_log_field_or_repr_holds_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Views, retry reasons, RawResponse, Page.request_id and log records: scrubbed."""
    seen: list[object] = []
    transport = httpx.MockTransport(hostile)
    caplog.set_level(logging.DEBUG, logger="zof_async")
    async with AsyncZof(
        api_key=KEY,
        transport=transport,
        on_request=seen.append,
        on_response=seen.append,
        on_retry=lambda *args: seen.append(args),
        on_rate_limited=seen.append,
    ) as zof:
        raw = await zof.runs.with_raw_response.get(
            "run_1", extra_headers={"X-Attempt": "done"}, extra_query={"token": KEY}
        )
        with pytest.raises(InternalServerError):
            await zof.runs.get("run_1", max_retries=0)
        pages = [page async for page in zof.runs.list(extra_headers={"X-Attempt": "done"}).pages()]
        shown = [repr(zof), repr(raw), repr(pages)]
    shown += [repr(item) for item in seen]
    for record in caplog.records:
        shown.append(record.getMessage())
        shown.append(repr(vars(record)))
    assert len(seen) >= 6
    assert raw.request_id == "req-<redacted>"
    assert pages[0].request_id == "req-<redacted>"
    everything = "\n".join(shown)
    assert KEY not in everything
    assert "authorization" not in everything.lower()


async def test_a_key_passed_in_a_query_is_scrubbed_even_percent_encoded() -> None:
    """A key with `+/=` sent in extra_query shows in no view, encoded or not."""
    import httpx

    from tests.helpers import BASE
    from zof_async import AsyncZof, RequestView

    key = "zof_key+with/odd=chars"
    seen: list[RequestView] = []

    def ok(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [], "next_cursor": None, "has_more": False})

    async with AsyncZof(
        api_key=key, base_url=BASE, transport=httpx.MockTransport(ok), on_request=seen.append
    ) as zof:
        assert [r async for r in zof.runs.list(extra_query={"echo": key})] == []
    assert seen and all("key" not in view.url and "%2B" not in view.url for view in seen)
