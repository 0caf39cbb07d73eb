"""What `with_options` copies of a client share: the connections and what governs them."""

from __future__ import annotations

import random

import anyio
import httpx

from ._budget import RetryBudget
from ._gate import RateLimitGate
from ._pacing import Pacer, PacingPolicy
from ._retry import Failure
from ._traffic import Meter, Traffic
from ._transport._pool import ConnectionPool


class Channel:
    """The connections to the API and what governs them, shared by `with_options` copies.

    The pool of connection slots, the client-wide 429 gate, the send rate
    (learned, or declared by `max_requests_per_second`), the retry budget,
    the traffic counters and the source of jitter: they describe the same
    connections to the same server, whatever settings a copy sends with.
    """

    def __init__(
        self,
        pool: ConnectionPool,
        budget: RetryBudget,
        *,
        max_requests_per_second: float | None = None,
    ) -> None:
        self.pool = pool
        self.rng = random.Random()
        self.gate = RateLimitGate(self.rng)
        limit = max_requests_per_second  # declared: kept, not learned down
        self.pacer = Pacer(PacingPolicy(), limit=limit, learn=limit is None)
        self.budget = budget
        self.traffic = Traffic()

    def learn(
        self, failure: Failure, meter: Meter | None, sent_at: float, left_at: float, now: float
    ) -> httpx.Response | None:
        """What a failed attempt teaches the shared state; the answer it had, if any.

        A 429 is counted (on `meter` too), lowers the pacer's rate and closes
        the gate for its `Retry-After`; any other answer the server counted is
        one the pacer saw accepted. `sent_at`: when the attempt asked to go;
        `left_at`: when it left the gate and the pacer.
        """
        response = getattr(failure.error, "response", None)
        answer = response if isinstance(response, httpx.Response) else None
        pacer = self.pacer
        if failure.rate_limited:
            self.traffic.limited(meter, sent_at)
            pacer.throttled(left_at, now, failure.retry_after)
            if failure.retry_after is not None:
                self.gate.close_until(now + failure.retry_after, answer)
        elif answer is not None and pacer.active:
            pacer.answered(left_at, now)
        return answer


class Lease:
    """A pool slot and the response read through it, released together."""

    __slots__ = ("pool", "released", "response", "sent", "transport")

    def __init__(self, pool: ConnectionPool, transport: httpx.AsyncBaseTransport) -> None:
        self.pool = pool
        self.transport = transport
        self.response: httpx.Response | None = None
        self.sent = False  # the request was handed to the transport
        self.released = False

    async def release(self, *, failed: bool = False) -> None:
        """Give back the slot, closing the response (and, after a failure, maybe the transport).

        Args:
            failed: The attempt ended in an exception or a deadline. If the
                request had gone to the transport and no response had arrived,
                the transport is closed rather than lent again: httpcore can
                leave a connection that was cancelled between its connect and
                its first request neither idle nor closed, holding the
                transport's only connection for good (encode/httpcore#1093).

        A second call does nothing: the slot is given back once.
        """
        if self.released:
            return
        self.released = True
        if failed and self.sent and self.response is None:
            await self.pool.discard(self.transport)
            return
        try:
            response = self.response
            if response is not None:
                if type(response.stream) is httpx.ByteStream:
                    # A body in memory (read, or answered whole): closing it is
                    # only the flag, without httpx's context manager or a
                    # shielded scope.
                    response.is_closed = True
                elif response.is_stream_consumed:
                    await response.aclose()
                else:  # a body left mid-way must still be closed, even when cancelled
                    with anyio.CancelScope(shield=True):
                        await response.aclose()
        finally:
            self.pool.release(self.transport)
