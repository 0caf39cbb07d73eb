"""Webhook events as plain frozen attrs models (decoded by `_converter`).

A `run.completed` event becomes a `RunCompletedEvent` carrying the `Run`;
any event type this version does not know becomes an `UnknownWebhookEvent`
with its raw `data`, so a receiver built today keeps working when the API
starts sending new event types.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from .._models import Run

__all__ = ["RunCompletedEvent", "UnknownWebhookEvent", "WebhookEvent"]


@attrs.frozen(kw_only=True)
class WebhookEvent:
    """What every event has: its id (the `webhook-id`), type and creation time."""

    id: str
    type: str
    created_at: datetime


@attrs.frozen(kw_only=True)
class RunCompletedEvent(WebhookEvent):
    """`run.completed`: a run reached a terminal status.

    `run` is the run as `GET /runs/{id}` renders it, without `case_outcomes`.
    """

    run: Run


@attrs.frozen(kw_only=True)
class UnknownWebhookEvent(WebhookEvent):
    """An event type this version of the SDK does not know; `data` is its raw `data`."""

    data: dict[str, Any] = attrs.field(factory=dict)
