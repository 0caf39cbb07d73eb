"""The emulator reads time filters with its own RFC 3339 parser, pinned to fixed vectors.

The client has a parser of its own (`zof_async._rfc3339`); the emulator does
not borrow it, so a bug in one is not silently agreed with by the other.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from zof_async.testing._clock import parse_micros

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01t00:00:00.000001z", 1),
        ("1970-01-01T00:00:00.0000001Z", 1),  # past the microsecond: rounded up
        ("1970-01-01T00:00:00.0000000Z", 0),
        ("1970-01-01T00:00:00.1Z", 100_000),
        ("1970-01-01T01:00:00+01:00", 0),
        ("1969-12-31T19:00:00-05:00", 0),
        ("1969-12-31T23:59:59.999999Z", -1),
        ("2026-11-22T10:00:00Z", 1_795_341_600_000_000),
        ("2016-12-31T23:59:60Z", 1_483_228_799_999_999),  # a leap second: its last microsecond
    ],
)
def test_fixed_vectors(text: str, micros: int) -> None:
    """Hand-computed epoch microseconds, offsets and rounding included."""
    assert parse_micros(text) == micros


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-22T10:00:00",  # no offset
        "2026-11-22 10:00:00Z",  # a space is not RFC 3339's T
        "20261122T100000Z",
        "2026-02-29T00:00:00Z",  # not a leap year
        "2026-13-01T00:00:00Z",
        "2026-11-22T24:00:00Z",
        "2026-11-22T10:00:00+24:00",
        "2026-11-22T10:00:00.Z",
    ],
)
def test_what_is_not_rfc_3339_is_refused(text: str) -> None:
    """Each of these is a ValueError (the emulator answers 400)."""
    with pytest.raises(ValueError, match=r"RFC 3339|range|no such date"):
        parse_micros(text)


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.timezones() | st.just(timezone.utc),
    )
)
def test_any_aware_time_reads_as_the_standard_librarys_arithmetic(when: datetime) -> None:
    """A time written with its offset reads as its distance from the epoch, to the microsecond."""
    offset = when.utcoffset() or timedelta(0)
    if offset % timedelta(minutes=1):
        return  # RFC 3339 offsets are whole minutes
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    text = when.strftime("%Y-%m-%dT%H:%M:%S.%f") + f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    assert parse_micros(text) == (when - EPOCH) // timedelta(microseconds=1)
