"""Pacing: the client's send rate, declared or learned from 429s, and the schedule it keeps.

A client that learns about a rate limit only by the gate (`_gate`) sends in
bursts: the gate reopens, every waiting request leaves at once, a small
server bucket refuses most of them, and the gate closes again. A `Pacer`
instead spaces requests by a rate:

    declared   `max_requests_per_second`: paced from the first request,
               never above it;
    learned    once a 429 arrives (the "adaptive" retry mode of botocore, a
               client-side token bucket whose rate follows CUBIC): the rate
               drops to `beta` times the rate the server was accepting, then
               grows back along

                   rate(t) = w_max * (1 + growth * (t - t0 - K) ** 3),
                   K = cbrt((1 - beta) / growth)

               so it is back at `w_max` K seconds after pacing resumed (t0:
               the 429's `Retry-After` over), stays near it for a while, and
               only then probes above it, ever faster. `w_max` is relative,
               unlike botocore's absolute scale, so 4/s and 4,000/s recover
               in the same time.

"The rate the server was accepting", measured at a cut: once a token-bucket
server refuses one request its bucket is empty, so the answers it accepted
after that one, among the requests already in flight, came at exactly its
refill rate. Their count over the time they took to arrive is the estimate
when there are enough of them (`min_sample`); else the rate the client was
paced at (all of it accepted until the bucket ran dry); else `initial_rate`.
One cut per episode: a 429 for a request sent before the last cut says
nothing new (as the fan-out's concurrency, once per round trip).

The schedule is GCRA's virtual time (one number, `_next`: the earliest loop
time the next request may leave), so requests leave exactly `1/rate` apart,
never in a burst after an idle time or a closed gate. It could live in a
shared store (one compare-and-set per request) for several processes on one
key; today each process paces on its own (see docs/guides/fan-out.md).
"""

from __future__ import annotations

import math

import attrs
import httpx

from .._exceptions import APITimeoutError, ConfigurationError, describe
from ._gate import RateLimitGate, pass_gate
from ._retry import Failure, RetryPolicy
from ._sleep import sleep
from ._transport._clock import loop_time

__all__ = [
    "Pacer",
    "PacingPolicy",
    "check_limit",
    "cubic_rate",
    "declared",
    "guessed_rate",
    "measure",
    "pace_request",
    "rate_after_cut",
]


@attrs.frozen(kw_only=True)
class PacingPolicy:
    """How a learned rate falls and grows; immutable.

    Attributes:
        beta: After a 429, the share of the accepted rate to send at
            (botocore: 0.7, for congestion; a rate limit is a known ceiling,
            and each 1 s `Retry-After` costs more than sending a bit slower).
        growth: CUBIC's scale, relative to `w_max`, per second cubed.
        min_rate: Requests per second the learned rate never falls below.
        initial_rate: The rate after a first 429 with nothing to measure;
            it then doubles every `doubling` seconds until the next 429.
        doubling: Seconds per doubling of a rate that was guessed.
        min_sample: Accepted answers the rate measured at a first 429 needs.
        window: Seconds of pacing since the last cut (its `Retry-After` over)
            a rate measured at a later one needs.
    """

    beta: float = attrs.field(
        default=0.9, validator=[attrs.validators.gt(0), attrs.validators.lt(1)]
    )
    growth: float = attrs.field(default=0.004, validator=attrs.validators.gt(0))
    min_rate: float = attrs.field(default=0.1, validator=attrs.validators.gt(0))
    initial_rate: float = attrs.field(default=10.0, validator=attrs.validators.gt(0))
    doubling: float = attrs.field(default=0.5, validator=attrs.validators.gt(0))
    min_sample: int = attrs.field(default=4, validator=attrs.validators.ge(1))
    window: float = attrs.field(default=0.5, validator=attrs.validators.gt(0))


def cubic_rate(policy: PacingPolicy, w_max: float, elapsed: float) -> float:
    """The learned rate `elapsed` seconds after pacing resumed from a cut to `beta * w_max`."""
    k = math.pow((1.0 - policy.beta) / policy.growth, 1.0 / 3.0)
    return max(policy.min_rate, w_max * (1.0 + policy.growth * math.pow(elapsed - k, 3)))


def guessed_rate(policy: PacingPolicy, w_max: float, elapsed: float) -> float:
    """A guessed rate `elapsed` seconds on: `beta * w_max`, doubling (slow start) until a 429."""
    return max(policy.min_rate, policy.beta * w_max * math.pow(2.0, elapsed / policy.doubling))


def rate_after_cut(policy: PacingPolicy, *, measured: float | None, paced: float | None) -> float:
    """`w_max` after a 429: what the server was accepting, as well as it is known."""
    known = [rate for rate in (measured, paced) if rate is not None]
    return max(policy.min_rate, min(known) if known else policy.initial_rate)


def measure(count: int, span: float, policy: PacingPolicy) -> float | None:
    """`count` accepted answers over `span` seconds as a rate, if enough to trust."""
    return count / span if count >= policy.min_sample and span > 0 else None


class Pacer:
    """A send rate and its schedule; one per client (`Channel`), or per declared copy.

    Attributes:
        active: Whether requests are paced at all: a declared limit, or a
            429 seen. While not, `pace_request` is never called (no clock read).
        limit: The declared limit, if any; the rate never exceeds it.
        cuts: 429 episodes that lowered the learned rate.
    """

    def __init__(
        self, policy: PacingPolicy, *, limit: float | None = None, learn: bool = True
    ) -> None:
        self.policy = policy
        self.limit = limit
        self.learn = learn
        self.active = limit is not None
        self.cuts = 0
        self._next = -math.inf  # loop time the next request may leave
        self._w_max: float | None = None  # learned: None until a 429
        self._guessed = False  # `w_max` is `initial_rate`: slow start
        self._t0 = 0.0  # loop time pacing resumed after the last cut
        self._ok = 0  # accepted answers to requests sent since then
        self._cut_at = -math.inf
        self._paced_at_cut: float | None = None
        self._draining = False  # answers to requests sent before the cut still count
        self._drain = (0, 0.0)  # accepted ones, and the time the last came

    @property
    def rate(self) -> float | None:
        """Requests per second sent at now, at most; `None` while not pacing."""
        return self.rate_at(loop_time()) if self.active else None

    def rate_at(self, now: float) -> float:
        """The rate at loop time `now` (`inf`: a learning pacer that saw no 429)."""
        learned = math.inf
        if self._w_max is not None:
            grow = guessed_rate if self._guessed else cubic_rate
            learned = grow(self.policy, self._w_max, max(0.0, now - self._t0))
        return min(learned, self.limit if self.limit is not None else math.inf)

    def reserve(self, now: float, deadline: float) -> float | None:
        """Take the next slot: seconds to wait for it, or `None` if it is past `deadline`."""
        if self._draining:
            self._settle()
        slot = max(now, self._next)
        if slot >= deadline:
            return None
        self._next = slot + 1.0 / self.rate_at(slot)
        return slot - now

    def answered(self, sent_at: float, now: float) -> None:
        """An answer other than 429 (the server counted it) to a request sent at `sent_at`."""
        if sent_at >= max(self._t0, self._cut_at):
            self._ok += 1
        elif self._draining:
            self._drain = (self._drain[0] + 1, now)

    def throttled(self, sent_at: float, now: float, retry_after: float | None) -> None:
        """A 429 to a request sent at `sent_at`: cut the rate, once per episode."""
        if not self.learn or sent_at < self._cut_at:
            return
        if self._draining:
            self._settle()
        paced = self.rate_at(sent_at) if self.active else None
        since = sent_at - max(self._t0, self._cut_at)  # paced time since the gate reopened
        measured = self._ok / since if self.active and since >= self.policy.window else None
        self.active = True
        self.cuts += 1
        self._cut_at = now
        self._paced_at_cut = None if paced == math.inf else paced
        self._w_max = rate_after_cut(self.policy, measured=measured, paced=self._paced_at_cut)
        self._guessed = measured is None and self._paced_at_cut is None
        self._draining = self._guessed  # a first 429: measure the answers in flight
        self._drain = (0, now)
        self._t0 = now + (retry_after or 0.0)
        self._ok = 0
        self._next = now  # waiters take new slots at the new rate

    def _settle(self) -> None:
        """`w_max` from the answers in flight at a first 429 (at the first slot taken after it)."""
        self._draining = False
        count, last = self._drain
        measured = measure(count, last - self._cut_at, self.policy)
        if measured is not None:
            self._w_max = rate_after_cut(self.policy, measured=measured, paced=None)
            self._guessed = False


def check_limit(limit: float | None) -> float | None:
    """`max_requests_per_second` as given, once checked: `None`, or a positive finite rate."""
    if limit is not None and not (0 < limit < math.inf):
        raise ConfigurationError("max_requests_per_second must be positive (or None)")
    return limit


def declared(limit: float | None, inherited: Pacer | None) -> Pacer | None:
    """The own pacer of a `with_options` copy: a new one for a limit given, else the parent's."""
    if check_limit(limit) is None:
        return inherited
    return Pacer(PacingPolicy(), limit=limit, learn=False)


def _late(request: httpx.Request) -> Failure:
    error = APITimeoutError(
        f"{describe(request)}: paced to the rate limit past this call's deadline",
        request=request,
    )
    return Failure(error, retryable=True)


async def _slot(
    pacer: Pacer, request: httpx.Request, deadline: float, *, again: bool = True
) -> Failure | bool:
    """Wait for the next slot of `pacer`: `True` once it came, `False` if cut meanwhile.

    A request that wakes more than one interval after its slot (the event
    loop was busy) takes a new slot, once: late wakers would otherwise leave
    together, a burst the server's bucket (which did not refill past its size
    while nothing came) refuses.
    """
    cuts = pacer.cuts
    now = loop_time()
    wait = pacer.reserve(now, deadline)
    if wait is None:
        return _late(request)
    if wait > 0 and await sleep(wait):  # not while sleeping is off (tests)
        if pacer.cuts != cuts:
            return False
        slot = now + wait
        if again and loop_time() - slot > 1.0 / pacer.rate_at(slot):
            return await _slot(pacer, request, deadline, again=False)
    return True


async def pace_request(
    pacers: tuple[Pacer, ...],
    gate: RateLimitGate,
    policy: RetryPolicy,
    request: httpx.Request,
    deadline: float,
) -> Failure | None:
    """Wait at the gate, then for a slot of every active pacer; or the failure of the attempt.

    A 429 that arrives while a request waits for its slot (a cut, a closed
    gate) sends it back to the gate, then to a slot at the new rate: requests
    leave a reopened gate spaced by the rate too, never at once.
    """
    while True:
        if not gate.never_closed:
            held = await pass_gate(gate, policy, request, deadline)
            if held is not None:
                return held
        taken: Failure | bool = True
        for pacer in pacers:
            if pacer.active and (taken := await _slot(pacer, request, deadline)) is not True:
                break
        if isinstance(taken, Failure):
            return taken
        if taken and (gate.never_closed or gate.closed_for(loop_time()) <= 0):
            return None
