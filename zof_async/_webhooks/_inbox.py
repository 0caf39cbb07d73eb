"""`WebhookInbox`: deliveries in, waiting runs woken; and the ASGI app that feeds it.

Your web handler hands each delivery to `await inbox.deliver(body, headers)`
(or mounts `webhooks_asgi_app(inbox)`). The inbox verifies it, drops a
`webhook-id` it has already seen (delivery is at-least-once), remembers the
finished run, and wakes every `wait_until_complete(run_id, events=inbox)` and
`watch(run_id, events=inbox)` waiting for it. A run that finished before its
wait started is remembered, so that wait returns at once. The waits keep
polling at a long interval, so a webhook that never comes costs latency, never
a hang.

The inbox is plain in-memory state of one event loop: deliver from the loop
the waits run in (the usual case: a FastAPI/Starlette/aiohttp app that also
waits for runs). Memory is bounded: the last `max_remembered` event ids and
finished runs are kept.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, Protocol

import anyio
import attrs

from .._exceptions import WebhookVerificationError
from .._models import Run, RunCompletedEvent, WebhookEvent
from ._verify import DEFAULT_TOLERANCE, Headers, Webhooks

__all__ = ["InboxStats", "WebhookInbox", "WebhookReceiver", "webhooks_asgi_app"]

MAX_BODY = 1024 * 1024


@attrs.frozen
class InboxStats:
    """Counters of an inbox.

    Attributes:
        received: Deliveries that verified, duplicates included.
        duplicates: Deliveries whose `webhook-id` had been seen already.
        rejected: Deliveries that failed verification.
        woken: Waits woken by an event.
    """

    received: int
    duplicates: int
    rejected: int
    woken: int


class WebhookInbox:
    """Verified, deduplicated webhook events that wake waiting runs.

    ```python
    inbox = WebhookInbox(zof.webhooks)         # or WebhookInbox(Webhooks(secret=...))
    app.mount("/zof-webhooks", webhooks_asgi_app(inbox))   # Starlette / FastAPI
    run = await zof.runs.wait_until_complete(run.id, events=inbox)
    ```

    Args:
        webhooks: Verifies deliveries (default: `Webhooks()`, which reads
            `ZOF_WEBHOOK_SECRET`).
        tolerance: Seconds a `webhook-timestamp` may be off.
        max_remembered: Event ids and finished runs kept in memory.
        clock: What "now" is when judging `webhook-timestamp` (Unix seconds;
            default the wall clock). Tests against an emulator on a
            `ManualClock` pass `emulator.clock.now`.
    """

    def __init__(
        self,
        webhooks: Webhooks | None = None,
        *,
        tolerance: float = DEFAULT_TOLERANCE,
        max_remembered: int = 100_000,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if max_remembered < 1:
            raise ValueError("max_remembered must be at least 1")
        self._webhooks = webhooks or Webhooks()
        self._tolerance = tolerance
        self._clock = clock
        self._max = max_remembered
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._finished: OrderedDict[str, Run] = OrderedDict()
        self._signals: dict[str, tuple[anyio.Event, int]] = {}
        self._received = self._duplicates = self._rejected = self._woken = 0

    def __repr__(self) -> str:
        return f"WebhookInbox(received={self._received}, finished_runs={len(self._finished)})"

    @property
    def stats(self) -> InboxStats:
        """A snapshot of the counters."""
        return InboxStats(self._received, self._duplicates, self._rejected, self._woken)

    async def deliver(self, body: bytes | str, headers: Headers) -> WebhookEvent | None:
        """Take one delivery: verify it, deduplicate it, wake the waits it finishes.

        Returns:
            The event, or `None` if its `webhook-id` was delivered before (answer
            2xx either way, so the sender stops retrying).

        Raises:
            WebhookVerificationError: The delivery is not authentic or not an
                event (answer 400).
        """
        try:
            now = None if self._clock is None else self._clock()
            event = self._webhooks.unwrap(body, headers, tolerance=self._tolerance, now=now)
        except WebhookVerificationError:
            self._rejected += 1
            raise
        self._received += 1
        if event.id in self._seen:
            self._duplicates += 1
            self._seen.move_to_end(event.id)
            return None
        _remember(self._seen, event.id, None, self._max)
        if isinstance(event, RunCompletedEvent) and event.run.is_terminal:
            run_id = event.run.id
            _remember(self._finished, run_id, event.run, self._max)
            signal = self._signals.get(run_id)
            if signal is not None:
                self._woken += signal[1]
                signal[0].set()
        return event

    def finished_run(self, run_id: str) -> Run | None:
        """The finished run an event reported, if one has arrived."""
        return self._finished.get(run_id)

    @contextmanager
    def subscribe(self, run_id: str) -> Iterator[anyio.Event]:
        """An event set when `run_id` finishes; shared by every wait on that run."""
        signal, count = self._signals.get(run_id) or (anyio.Event(), 0)
        self._signals[run_id] = (signal, count + 1)
        try:
            yield signal
        finally:
            signal, count = self._signals[run_id]
            if count == 1:
                del self._signals[run_id]
            else:
                self._signals[run_id] = (signal, count - 1)


def _remember(store: OrderedDict[str, Any], key: str, value: Any, limit: int) -> None:
    store[key] = value
    store.move_to_end(key)
    while len(store) > limit:
        store.popitem(last=False)


class WebhookReceiver(Protocol):
    """Anything with the inbox's `deliver` (what `webhooks_asgi_app` feeds)."""

    async def deliver(self, body: bytes | str, headers: Headers) -> WebhookEvent | None: ...


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def webhooks_asgi_app(receiver: WebhookReceiver) -> ASGIApp:
    """A tiny ASGI app that hands every POST to `receiver.deliver`.

    Mount it at any path (`app.mount("/zof-webhooks", webhooks_asgi_app(inbox))`
    in Starlette or FastAPI), or serve it alone with uvicorn. It answers 200
    to a delivery (a duplicate too), 400 with the failed check to one that does
    not verify, 405 to other methods and 413 to bodies over 1 MiB.
    """

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        if scope["method"] != "POST":
            await _answer(
                send, 405, {"error": {"code": "method_not_allowed"}}, [(b"allow", b"POST")]
            )
            return
        body = await read_body(receive, limit=MAX_BODY)
        if body is None:
            await _answer(send, 413, {"error": {"code": "too_large"}})
            return
        try:
            event = await receiver.deliver(body, scope["headers"])
        except WebhookVerificationError as exc:
            await _answer(send, 400, {"error": {"code": exc.reason, "message": str(exc)}})
            return
        await _answer(send, 200, {"received": True, "duplicate": event is None})

    return app


async def read_body(receive: Receive, *, limit: int) -> bytes | None:
    """An ASGI request's whole body, or `None` once it grows past `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _answer(
    send: Send, status: int, document: object, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps(document).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
