"""RFC 3339 times, read the same on every supported Python (issue 10, item 4).

Python 3.10's `datetime.fromisoformat` rejects `Z` and fractions of other than
3 or 6 digits; 3.11+ accepts much that is not RFC 3339. `nox -s tests` runs
this on the oldest and the newest supported Python.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import respx

from tests.helpers import client, run_json
from zof_async import APIResponseValidationError

pytestmark = pytest.mark.anyio

UTC = timezone.utc
TEN = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-22T10:00:00Z", TEN),
        ("2026-11-22T10:00:00.1Z", TEN.replace(microsecond=100_000)),
        ("2026-11-22T10:00:00.12Z", TEN.replace(microsecond=120_000)),
        ("2026-11-22T10:00:00.12345Z", TEN.replace(microsecond=123_450)),
        ("2026-11-22T10:00:00.123456Z", TEN.replace(microsecond=123_456)),
        ("2026-11-22T10:00:00.123456789Z", TEN.replace(microsecond=123_456)),  # truncated
        ("2026-11-22T10:00:00.999999999Z", TEN.replace(microsecond=999_999)),
        ("2026-11-22t10:00:00z", TEN),
        ("2026-11-22T10:00:00.5z", TEN.replace(microsecond=500_000)),
        ("2026-11-22T15:30:00.25+05:30", TEN.replace(microsecond=250_000)),
        ("2026-11-22T05:00:00-05:00", TEN),
        ("2026-11-22T10:00:00+00:00", TEN),
        ("2026-11-22T10:00:00-00:00", TEN),
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)),
    ],
)
async def test_models_read_every_rfc3339_form(
    router: respx.MockRouter, text: str, expected: datetime
) -> None:
    """Z, any fraction (cut to microseconds), offsets, lowercase, a leap second: read exactly."""
    router.get("/runs/run_1").mock(
        return_value=httpx.Response(200, json=run_json(created_at=text, started_at=text))
    )
    async with client(router) as zof:
        run = await zof.runs.get("run_1")
    assert run.created_at == expected
    assert run.started_at == expected
    offsets = {"+05:30": timedelta(hours=5, minutes=30), "-05:00": timedelta(hours=-5)}
    assert run.created_at.utcoffset() == offsets.get(text[-6:], timedelta(0))  # as given


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-22T10:00:00",  # no offset: RFC 3339 requires one
        "2026-11-22",
        "20261122T100000Z",
        "2026-11-22 10:00:00Z",
        "2026-11-22T10:00Z",
        "2026-11-22T10:00:00.Z",
        "2026-11-22T10:00:00+0530",
        "2026-11-22T10:00:00+24:00",
        "2026-02-30T10:00:00Z",
        "2026-W47-7T10:00:00Z",
        "yesterday",
        "",
    ],
)
async def test_anything_else_is_a_validation_error(router: respx.MockRouter, text: str) -> None:
    """No offset, date only, basic format, a space, no seconds, bad dates: validation error."""
    router.get("/runs/run_1").mock(return_value=httpx.Response(200, json=run_json(created_at=text)))
    async with client(router) as zof:
        with pytest.raises(APIResponseValidationError, match="created_at"):
            await zof.runs.get("run_1")


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("2026-11-22T10:00:00.1Z", "2026-11-22T10:00:00.100000Z"),
        # Kept whole: cut to .123456, an inclusive created_after would move.
        ("2026-11-22T10:00:00.123456789Z", "2026-11-22T10:00:00.123456789Z"),
        ("2026-11-22T12:00:00.1234560001+02:00", "2026-11-22T10:00:00.1234560001Z"),
        ("2026-11-22T10:00:00.123456000Z", "2026-11-22T10:00:00.123456Z"),
        ("2026-11-22t15:30:00+05:30", "2026-11-22T10:00:00Z"),
        (TEN.astimezone(timezone(timedelta(hours=-3))), "2026-11-22T10:00:00Z"),
    ],
)
async def test_time_filters_take_every_rfc3339_form(
    router: respx.MockRouter, given: Any, sent: str
) -> None:
    """created_after= takes RFC 3339 text or an aware datetime and sends it in UTC."""
    route = router.get("/runs").mock(
        return_value=httpx.Response(200, json={"data": [], "next_cursor": None})
    )
    async with client(router) as zof:
        assert [r async for r in zof.runs.list(created_after=given, prefetch=0)] == []
    assert route.calls.last.request.url.params["created_after"] == sent


@pytest.mark.parametrize("text", ["2026-11-22T10:00:00", "20261122T100000Z", "2026-11-22"])
async def test_time_filters_refuse_anything_else(router: respx.MockRouter, text: str) -> None:
    """created_after= without an offset or in another format: ValueError, nothing sent."""
    async with client(router) as zof:
        with pytest.raises(ValueError, match="created_after"):
            zof.runs.list(created_after=text)
    assert not router.calls
