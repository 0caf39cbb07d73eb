"""Counters of every request the emulator served."""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass

__all__ = ["RequestRecord", "Stats"]


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One served request: emulator time, method, route template, status."""

    at: float
    method: str
    route: str
    status: int
    idempotency_key: str | None


class Stats:
    """Counts by (method, route template, status), plus a bounded request log.

    Routes are the templates (`/runs/{id}`), so a test can say "the client
    fetched `/results/{id}/artifacts` exactly 10 times" without listing ids.
    """

    def __init__(self, *, log_size: int = 100_000) -> None:
        self.counts: Counter[tuple[str, str, int]] = Counter()
        self.log: deque[RequestRecord] = deque(maxlen=log_size)
        self._lock = threading.Lock()

    def record(self, record: RequestRecord) -> None:
        with self._lock:
            self.counts[(record.method, record.route, record.status)] += 1
            self.log.append(record)

    def count(
        self, *, method: str | None = None, route: str | None = None, status: int | None = None
    ) -> int:
        """How many requests matched every given criterion."""
        with self._lock:
            return sum(
                n
                for (m, r, s), n in self.counts.items()
                if (method is None or m == method)
                and (route is None or r == route)
                and (status is None or s == status)
            )

    def snapshot(self) -> dict[str, object]:
        """Counters and the request log as JSON-ready data (`GET /_emulator/stats`)."""
        with self._lock:
            return {
                "counts": [
                    {"method": m, "route": r, "status": s, "count": n}
                    for (m, r, s), n in self.counts.items()
                ],
                "log": [[r.at, r.method, r.route, r.status] for r in self.log],
            }

    @property
    def total(self) -> int:
        """Every request served."""
        return self.count()

    def reset(self) -> None:
        """Forget everything counted so far."""
        with self._lock:
            self.counts.clear()
            self.log.clear()
