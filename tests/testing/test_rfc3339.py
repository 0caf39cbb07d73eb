"""The emulator's time filters take RFC 3339 in every form (issue 10, item 4)."""

from __future__ import annotations

import pytest

from zof_async.testing import Emulator, ManualClock

from .helpers import assert_error
from .test_pagination import walk

pytestmark = pytest.mark.anyio


# One instant, written every way RFC 3339 allows; the seed's times are whole seconds.
SAME_INSTANT = [
    "{day}T{hour}:00:00.0Z",
    "{day}T{hour}:00:00.00000Z",
    "{day}T{hour}:00:00.000000000Z",
    "{day}t{hour}:00:00z",
    "{day}T{hour}:00:00+00:00",
    "{day}T{hour}:00:00-00:00",
]


@pytest.mark.parametrize("form", SAME_INSTANT)
@pytest.mark.parametrize("name", ["created_after", "created_before"])
async def test_time_filters_take_every_rfc3339_form(form: str, name: str) -> None:
    """Every RFC 3339 spelling of an instant filters exactly like the canonical one."""
    emulator = Emulator(clock=ManualClock())
    async with emulator.client() as http:
        runs = await walk(http, "/runs", limit=1000)
        boundary = runs[len(runs) // 2]["created_at"]  # e.g. 2026-11-15T07:00:00.000000Z
        day, hour = boundary[:10], boundary[11:13]
        canonical = await walk(http, "/runs", limit=1000, **{name: boundary})
        assert 0 < len(canonical) < len(runs)
        assert await walk(http, "/runs", limit=1000, **{name: form.format(day=day, hour=hour)}) == (
            canonical
        )


async def test_offsets_and_fractions_move_the_boundary() -> None:
    """A nanosecond past the boundary excludes it from created_after and admits it to created_before."""
    emulator = Emulator(clock=ManualClock())
    async with emulator.client() as http:
        runs = await walk(http, "/runs", limit=1000)
        boundary = runs[len(runs) // 2]["created_at"]
        day, hour = boundary[:10], int(boundary[11:13])
        at = await walk(http, "/runs", limit=1000, created_after=boundary)
        # A nanosecond later: the run at the boundary is out of `created_after` (inclusive) ...
        shifted = f"{day}T{hour:02d}:00:00.000000001Z"
        later = await walk(http, "/runs", limit=1000, created_after=shifted)
        assert [r["id"] for r in later] == [r["id"] for r in at if r["created_at"] != boundary]
        # ... and in `created_before` (exclusive), a nanosecond later lets it in.
        before = await walk(http, "/runs", limit=1000, created_before=boundary)
        until = await walk(http, "/runs", limit=1000, created_before=shifted)
        assert [r["created_at"] for r in until if r not in before] == [boundary]


@pytest.mark.parametrize(
    "text", ["2026-11-22T10:00:00", "20261122T100000Z", "2026-11-22", "2026-11-22T10:00:00+0530"]
)
async def test_anything_else_is_a_400(text: str) -> None:
    """Times without an offset, in basic format or date-only are 400 naming the filter."""
    emulator = Emulator(data="minimal", clock=ManualClock())
    async with emulator.client() as http:
        response = await http.get("/runs", params={"created_after": text})
    assert_error(response, 400, "invalid_request", "created_after")
