"""Building request paths from templates, with every id percent-encoded.

An id is always exactly one path segment: `/`, `?`, `#`, `%` and every
character outside the unreserved set are encoded, and `.`/`..` are encoded
too so that no URL normaliser can collapse them. `../runs` or `a/b?c#d`
cannot reach another endpoint.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# Unreserved characters but `.`: `quote(value, safe="")` leaves them as they are.
_PLAIN = re.compile(r"[A-Za-z0-9_~-]+", re.ASCII)


def segment(name: str, value: object) -> str:
    """Encode one id as a single path segment.

    Raises:
        TypeError: If the id is not a string.
        ValueError: If the id is empty.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    if _PLAIN.fullmatch(value):  # what `quote` keeps as is (ids mostly are): nothing to do
        return value
    if not value:
        raise ValueError(f"{name} must be a non-empty string")
    return quote(value, safe="").replace(".", "%2E")


def path(template: str, **ids: object) -> str:
    """Fill `{name}` placeholders of `template` with encoded ids."""
    return template.format(**{name: segment(name, value) for name, value in ids.items()})
