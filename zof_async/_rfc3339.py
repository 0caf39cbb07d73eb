"""RFC 3339 timestamps, parsed the same way on every supported Python.

`datetime.fromisoformat` cannot serve: on Python 3.10 it rejects `Z` and any
fraction of other than 3 or 6 digits (`10:00:00.1Z`, nanoseconds), and from
3.11 on it accepts much that is not RFC 3339 (`20261122`, week dates, no
offset). This follows RFC 3339 section 5.6 (`date-time`): `T` or `t`, any
number of fractional digits (cut to microseconds, the most `datetime`
holds), and `Z`, `z` or a `+hh:mm` / `-hh:mm` offset, which is required.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:[Zz]|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)


def parse(text: str, *, round_up: bool = False) -> datetime:
    """An RFC 3339 `date-time` as an aware datetime in its own offset.

    Digits past the microsecond are dropped, or with `round_up` round it up
    (what a `>=` or `<` bound on microsecond times needs to stay exact). A
    leap second (`23:59:60`), which `datetime` cannot hold, becomes the last
    microsecond before it, so order is kept.

    Raises:
        ValueError: `text` is not an RFC 3339 `date-time`.
    """
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    year, month, day, hour, minute, second = (int(part) for part in match.group(1, 2, 3, 4, 5, 6))
    fraction, sign, offset_hours, offset_minutes = match.group(7, 8, 9, 10)
    microsecond = int(fraction[:6].ljust(6, "0")) if fraction else 0
    zone = timezone.utc
    if sign is not None:
        hours, minutes = int(offset_hours), int(offset_minutes)
        if hours > 23 or minutes > 59:
            raise ValueError(f"not an RFC 3339 timestamp (offset out of range): {text!r}")
        offset = timedelta(hours=hours, minutes=minutes)
        if offset:
            zone = timezone(offset if sign == "+" else -offset)
    leap = second == 60
    if leap:
        second, microsecond = 59, 999_999
    try:
        parsed = datetime(year, month, day, hour, minute, second, microsecond, tzinfo=zone)
    except ValueError as exc:  # month 13, February 30, hour 24, ...
        raise ValueError(f"not an RFC 3339 timestamp ({exc}): {text!r}") from None
    if round_up and fraction and fraction[6:].strip("0"):
        parsed += timedelta(microseconds=1)
    return parsed
