"""The emulator's webhook deliveries: `run.completed`, signed, retried, with faults.

When a run reaches a terminal status (the lifecycle's `on_terminal` hook),
one event is made and queued for every registered endpoint, due at the run's
completion time on the emulator's clock. A pump sends what is due: in-process
`await emulator.deliver_webhooks()` sends once (for a `ManualClock`), `async
with emulator.delivering():` keeps a pump running in its own task group, and
the served emulator runs one in the server's lifespan. Every attempt is a
`POST` signed as Standard Webhooks says; anything but a 2xx within 15 s is
retried after 5 s, 5 min, 30 min, 2 h, 5 h and 10 h (emulator time) with the
same `webhook-id`, then given up. `WebhookFaults` injects what a receiver must
survive: lost events, duplicates, delays, reordering and bad signatures.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import random
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio
import httpx

from ._clock import Clock, rfc3339
from ._lifecycle import Lifecycle
from ._records import Run

__all__ = [
    "RETRY_DELAYS",
    "WebhookAttempt",
    "WebhookFaults",
    "WebhookHost",
    "WebhookSender",
    "sign_delivery",
]

MAX_ATTEMPTS_KEPT = 100_000
RETRY_DELAYS = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0)
ANSWER_TIMEOUT = 15.0


@dataclass
class WebhookFaults:
    """Faults injected into deliveries, each drawn once per event and endpoint.

    Attributes:
        drop_rate: Chance that an event is lost for good: never sent, never retried.
        duplicate_rate: Chance that an event is sent twice (same `webhook-id`).
        delay: Seconds added before an event's first attempt.
        reorder_window: Each event's first attempt is delayed by `uniform(0, window)`
            more, so events arrive out of order.
        bad_signature_rate: Chance that an event's first attempt is signed with
            a wrong key (the receiver should answer 400). Retries are always
            signed correctly, so even at 1.0 a correct receiver gets every event,
            on its first retry (a duplicate's first attempt is drawn on its own).
    """

    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    delay: float = 0.0
    reorder_window: float = 0.0
    bad_signature_rate: float = 0.0


@dataclass(frozen=True)
class WebhookAttempt:
    """One delivery attempt (or a fault that replaced it), for assertions.

    Attributes:
        event_id: The `webhook-id`.
        run_id: The run the event reports.
        url: The endpoint.
        attempt: 0 for the first send, 1 for the first retry, ...
        at: Emulator time of the attempt.
        status: The receiver's HTTP status, if it answered.
        outcome: `delivered`, `failed` (retried later), `gave_up`, `dropped`
            (a `drop_rate` fault) or `bad_signature` (sent signed wrongly).
        error: What went wrong, when it did.
    """

    event_id: str
    run_id: str
    url: str
    attempt: int
    at: float
    status: int | None
    outcome: str
    error: str | None = None


@dataclass
class _Endpoint:
    url: str
    secrets: list[str]
    transport: httpx.AsyncBaseTransport | None


@dataclass(order=True)
class _Due:
    due: float
    seq: int
    event_id: str = field(compare=False)
    run_id: str = field(compare=False)
    body: bytes = field(compare=False)
    endpoint: _Endpoint = field(compare=False)
    attempt: int = field(compare=False, default=0)


class WebhookHost(Protocol):
    """What the sender reads of the emulator's state (a `State` is one).

    Read on every use, not copied: a clock or `app_url` replaced later counts.
    """

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def lifecycle(self) -> Lifecycle: ...

    @property
    def app_url(self) -> str: ...


def new_secret(rng: random.Random) -> str:
    """A fresh `whsec_` secret: 24 random bytes, base64."""
    return "whsec_" + base64.b64encode(rng.randbytes(24)).decode()


def sign_delivery(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `v1,<base64>` entry for one secret, as Standard Webhooks specifies.

    The emulator's own few lines (it shares no code with the client it tests):
    HMAC-SHA256 of `"{id}.{timestamp}.{body}"`, keyed with the bytes the
    `whsec_<base64>` secret decodes to (its `=` padding may be left off).
    """
    encoded = secret.removeprefix("whsec_")
    key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


class WebhookSender:
    """Queues and sends the emulator's `run.completed` events; see the module doc."""

    def __init__(self, host: WebhookHost, *, seed: int) -> None:
        self._host = host
        self._rng = random.Random(seed)
        self._ids = itertools.count(1)
        self._seq = itertools.count()
        self._salt = f"{self._rng.getrandbits(32):08x}"
        self._endpoints: list[_Endpoint] = []
        self._queue: list[_Due] = []
        self.faults = WebhookFaults()
        # The most recent attempts (bounded: a served emulator may run for days).
        self.attempts: deque[WebhookAttempt] = deque(maxlen=MAX_ATTEMPTS_KEPT)

    # -- registration (under the emulator's lock) -----------------------------------

    def add_endpoint(
        self, url: str, *, secret: str | None, transport: httpx.AsyncBaseTransport | None
    ) -> str:
        secret = secret or new_secret(self._rng)
        try:  # a secret that is not base64 fails here, not mid-pump
            sign_delivery(secret, "", 0, b"")
        except ValueError:
            raise ValueError("the webhook secret is not 'whsec_' followed by base64") from None
        self._endpoints.append(_Endpoint(url, [secret], transport))
        return secret

    def rotate(self, url: str) -> str:
        endpoint = self._endpoint(url)
        secret = new_secret(self._rng)
        endpoint.secrets.append(secret)
        return secret

    def retire(self, url: str, secret: str) -> None:
        endpoint = self._endpoint(url)
        if secret not in endpoint.secrets or len(endpoint.secrets) == 1:
            raise ValueError("can only retire one of several secrets of the endpoint")
        endpoint.secrets.remove(secret)

    def _endpoint(self, url: str) -> _Endpoint:
        for endpoint in self._endpoints:
            if endpoint.url == url:
                return endpoint
        raise KeyError(f"no webhook endpoint {url}")

    @property
    def pending(self) -> int:
        """Attempts queued and not yet sent."""
        return len(self._queue)

    # -- the lifecycle hook (under the emulator's lock) -----------------------------

    def run_finished(self, run: Run) -> None:
        """Queue `run.completed` for every endpoint; called when `run` turns terminal."""
        if not self._endpoints:
            return
        host = self._host
        completed = run.completed if run.completed is not None else host.clock.now()
        event_id = f"evt_{self._salt}{next(self._ids):08d}"
        body = json.dumps(
            {
                "id": event_id,
                "object": "event",
                "type": "run.completed",
                "created_at": rfc3339(completed),
                "data": {"object": run.render(host.app_url, detail=False)},
            }
        ).encode()
        faults = self.faults
        for endpoint in self._endpoints:
            if self._rng.random() < faults.drop_rate:
                self._log(event_id, run.id, endpoint, 0, completed, None, "dropped")
                continue
            due = completed + faults.delay + self._rng.uniform(0.0, faults.reorder_window)
            copies = 2 if self._rng.random() < faults.duplicate_rate else 1
            for copy in range(copies):
                heapq.heappush(
                    self._queue,
                    _Due(due + copy * 0.001, next(self._seq), event_id, run.id, body, endpoint),
                )

    # -- sending ----------------------------------------------------------------------

    def _take_due(self) -> list[_Due]:
        host = self._host
        with host.lock:
            if not self._endpoints:
                return []  # no endpoint: the emulator behaves exactly as without webhooks
            now = host.clock.now()
            host.lifecycle.advance(now)
            batch = []
            while self._queue and self._queue[0].due <= now:
                batch.append(heapq.heappop(self._queue))
            return batch

    async def deliver_due(self) -> int:
        """Send every attempt due now and wait for the answers; return how many."""
        batch = self._take_due()
        if batch:
            async with _Clients() as clients, anyio.create_task_group() as tg:
                for item in batch:
                    tg.start_soon(self._attempt, item, clients)
        return len(batch)

    async def pump(
        self,
        *,
        tick: float = 0.05,
        task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Send attempts as they fall due, forever (cancel to stop).

        Sleeps until the next due attempt or run change, at most `tick`
        seconds, so runs finishing and clocks moved by hand are noticed.
        """
        limiter = anyio.CapacityLimiter(100)
        async with _Clients() as clients, anyio.create_task_group() as tg:
            task_status.started()
            while True:
                for item in self._take_due():
                    tg.start_soon(self._limited, limiter, item, clients)
                await anyio.sleep(self._sleep_for(tick))

    def _sleep_for(self, tick: float) -> float:
        host = self._host
        with host.lock:
            if not self._endpoints:
                return tick
            now = host.clock.now()
            wake = now + tick
            if self._queue:
                wake = min(wake, self._queue[0].due)
            change = host.lifecycle.next_change()
            if change is not None:
                wake = min(wake, change)
        return max(0.0, wake - now)

    async def _limited(self, limiter: anyio.CapacityLimiter, item: _Due, clients: _Clients) -> None:
        async with limiter:
            await self._attempt(item, clients)

    async def _attempt(self, item: _Due, clients: _Clients) -> None:
        host = self._host
        endpoint = item.endpoint
        with host.lock:
            now = host.clock.now()
            # Drawn for every attempt (the seeded sequence stays as it was), applied
            # to a first attempt only: the retry is signed correctly.
            forge = self._rng.random() < self.faults.bad_signature_rate
            bad = forge and item.attempt == 0
            secrets = [new_secret(self._rng)] if bad else list(endpoint.secrets)
        stamp = int(now)
        headers = {
            "content-type": "application/json",
            "user-agent": "zof-emulator-webhooks/1",
            "webhook-id": item.event_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": " ".join(
                sign_delivery(s, item.event_id, stamp, item.body) for s in secrets
            ),
        }
        status: int | None = None
        error: str | None = None
        try:
            with anyio.fail_after(ANSWER_TIMEOUT):
                response = await clients.get(endpoint).post(
                    endpoint.url, content=item.body, headers=headers
                )
            status = response.status_code
            if not 200 <= status < 300:
                error = f"answered {status}"
        except TimeoutError:
            error = f"no answer within {ANSWER_TIMEOUT:g} s"
        except Exception as exc:  # whatever the receiver does, the pump goes on
            error = f"{type(exc).__name__}: {exc}"
        with host.lock:
            if error is None:
                outcome = "delivered"
            elif item.attempt < len(RETRY_DELAYS):
                outcome = "bad_signature" if bad else "failed"
                retry = _Due(
                    now + RETRY_DELAYS[item.attempt], next(self._seq), item.event_id,
                    item.run_id, item.body, endpoint, item.attempt + 1,
                )  # fmt: skip
                heapq.heappush(self._queue, retry)
            else:
                outcome = "gave_up"
            self._log(
                item.event_id, item.run_id, endpoint, item.attempt, now, status, outcome, error
            )

    def _log(
        self,
        event_id: str,
        run_id: str,
        endpoint: _Endpoint,
        attempt: int,
        at: float,
        status: int | None,
        outcome: str,
        error: str | None = None,
    ) -> None:
        self.attempts.append(
            WebhookAttempt(event_id, run_id, endpoint.url, attempt, at, status, outcome, error)
        )


class _Clients:
    """One httpx client per transport, open while the pump (or one pass) runs."""

    def __init__(self) -> None:
        self._stack = AsyncExitStack()
        self._clients: dict[int, httpx.AsyncClient] = {}

    def get(self, endpoint: _Endpoint) -> httpx.AsyncClient:
        key = id(endpoint.transport)
        client = self._clients.get(key)
        if client is None:
            client = httpx.AsyncClient(transport=endpoint.transport, timeout=ANSWER_TIMEOUT)
            self._clients[key] = client
        return client

    async def __aenter__(self) -> _Clients:
        return self

    async def __aexit__(self, *exc: object) -> None:
        clients, self._clients = list(self._clients.values()), {}
        with anyio.CancelScope(shield=True):
            for client in clients:
                await client.aclose()


@asynccontextmanager
async def delivering(sender: WebhookSender, *, tick: float) -> AsyncIterator[WebhookSender]:
    """Run `sender.pump` in a task group of its own for the block's duration."""
    async with anyio.create_task_group() as tg:
        await tg.start(lambda task_status: sender.pump(tick=tick, task_status=task_status))
        try:
            yield sender
        finally:
            tg.cancel_scope.cancel()
