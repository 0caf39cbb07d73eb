"""A newest-first index of (created_at, id) keys, the order of every listing."""

from __future__ import annotations

import bisect
from collections.abc import Iterator

Key = tuple[int, str]


class Index:
    """Keys kept sorted ascending; listings read them from the end backwards.

    Keys are `(created_at in microseconds, id)`, so the order is `created_at`
    descending, then `id` descending, as the API documents. A cursor is the key
    of the last item handed out, so items inserted later (newer keys) never
    shift the items a client has not yet seen.
    """

    __slots__ = ("_keys",)

    def __init__(self) -> None:
        self._keys: list[Key] = []

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: Key) -> None:
        """Insert a key, appending in O(1) when it is the newest."""
        if not self._keys or key > self._keys[-1]:
            self._keys.append(key)
        else:
            bisect.insort(self._keys, key)

    def newest_first(
        self, *, before: Key | None = None, lower: int | None = None, upper: int | None = None
    ) -> Iterator[Key]:
        """Yield keys newest first.

        Args:
            before: Only keys strictly older than this one (the cursor).
            lower: Only keys whose created_at is at or after this (µs), as
                `created_after` (inclusive).
            upper: Only keys whose created_at is strictly before this (µs), as
                `created_before` (exclusive).
        """
        keys = self._keys
        end = len(keys)
        if before is not None:
            end = bisect.bisect_left(keys, before)
        if upper is not None:
            end = min(end, bisect.bisect_left(keys, (upper, "")))
        start = 0
        if lower is not None:
            start = bisect.bisect_left(keys, (lower, ""))  # the first with created_at >= lower
        for i in range(end - 1, start - 1, -1):
            yield keys[i]
