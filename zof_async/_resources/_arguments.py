"""Checking arguments before anything is sent: filters, ids, timeouts, keys."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timezone

from .. import _numbers as numbers, _rfc3339 as rfc3339
from .._models import ResultStatus, RunStatus

# Seconds with a fraction finer than a microsecond (a non-zero digit past the sixth).
_SUB_MICROSECOND = re.compile(r":(?P<second>\d{2})\.(?P<fraction>\d{6}\d*[1-9]\d*)")

Statuses = str | RunStatus | ResultStatus | Iterable[str | RunStatus | ResultStatus] | None


def statuses(value: Statuses) -> list[str] | None:
    """`"failed"`, an enum, or several of them, as a list of strings."""
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    out = []
    for item in items:
        text = item.value if isinstance(item, RunStatus | ResultStatus) else item
        if not isinstance(text, str) or not text or "," in text:
            raise ValueError(f"invalid status filter: {item!r}")
        out.append(text)
    if not out:
        raise ValueError("status filter must name at least one status")
    return out


def timestamp(name: str, value: datetime | str | None) -> str | None:
    """An aware datetime (or RFC 3339 text) as RFC 3339 in UTC.

    Text keeps the digits past the microsecond that a datetime cannot hold:
    `created_after` is inclusive and `created_before` exclusive, so a bound
    cut from `.1234567` to `.123456` would move the window.
    """
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = rfc3339.parse(value)
        except ValueError:
            raise ValueError(f"{name} must be an RFC 3339 timestamp") from None
        fine = _SUB_MICROSECOND.search(value)
        if fine is not None and parsed.second == int(fine["second"]):  # not a leap second
            whole = parsed.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
            return f"{whole}.{fine['fraction']}Z"
        value = parsed
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime or an RFC 3339 string")
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def page_size(value: int) -> int:
    if not 1 <= numbers.integer("page_size", value) <= 1000:
        raise ValueError("page_size must be an integer from 1 to 1000")
    return value


def text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{name} must be a non-empty string")
    return value


def idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not isinstance(key, str):
        raise TypeError(f"idempotency_key must be a string, not {type(key).__name__}")
    if not 1 <= len(key) <= 255 or not all(" " <= c <= "~" for c in key):
        raise ValueError("idempotency_key must be 1 to 255 printable ASCII characters")
    return key


def timeout(timeout: float | None) -> float | None:
    if timeout is not None and not numbers.seconds("timeout", timeout) > 0:  # NaN too
        raise ValueError("timeout must be positive")
    return timeout


def retries(value: int | None) -> int | None:
    if value is not None and numbers.integer("max_retries", value) < 0:
        raise ValueError("max_retries must be an integer, 0 or more")
    return value
