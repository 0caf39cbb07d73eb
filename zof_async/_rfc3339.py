"""RFC 3339 timestamps, parsed the same way on every supported Python.

`datetime.fromisoformat` cannot serve: on Python 3.10 it rejects `Z` and any
fraction of other than 3 or 6 digits (`10:00:00.1Z`, nanoseconds), and from
3.11 on it accepts much that is not RFC 3339 (`20261122`, week dates, no
offset). This follows RFC 3339 section 5.6 (`date-time`): `T` or `t`, any
number of fractional digits (cut to microseconds, the most `datetime`
holds), and `Z`, `z` or a `+hh:mm` / `-hh:mm` offset, which is required.

`format` writes a time back: as the API writes times (UTC, six fractional
digits, `Z`), or, for a `SentTime`, exactly as it was received.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:[Zz]|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)


class SentTime(datetime):
    """A datetime that remembers the text it was parsed from, for `format`.

    The converter makes one only for a time not written as `format` would
    write it (`10:00:00Z`, `10:00:00.1Z`, an offset), so that a model's
    `to_dict()` gives back what the API sent. It is an ordinary datetime in
    every other way (equal to and hashing as the same instant); arithmetic
    on it forgets the text.
    """

    __slots__ = ("text",)
    text: str

    def __repr__(self) -> str:  # as the plain datetime it stands for
        return repr(datetime.combine(self.date(), self.timetz()))

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        return (_unpickle, (self.text,))


def keep_text(parsed: datetime, text: str) -> datetime:
    """`parsed` (of `text`), as a `SentTime` unless `format` writes it back as `text`."""
    if format(parsed) == text:
        return parsed
    sent = SentTime(
        parsed.year, parsed.month, parsed.day, parsed.hour, parsed.minute, parsed.second,
        parsed.microsecond, tzinfo=parsed.tzinfo,
    )  # fmt: skip
    sent.text = text
    return sent


def _unpickle(text: str) -> datetime:
    return keep_text(parse(text), text)


def format(when: datetime) -> str:
    """`when` as received if it is a `SentTime`, else as the API writes times.

    That is six fractional digits and `Z` for UTC (`2026-12-07T19:00:00.000000Z`),
    the offset otherwise; a naive datetime is written without one.
    """
    text: str | None = getattr(when, "text", None)
    if text is not None:
        return text
    written = when.isoformat(timespec="microseconds")
    return written[:-6] + "Z" if written.endswith("+00:00") else written


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
