"""`zof_async.otel`: one span per SDK call, its attempts as events."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import zof_async.otel
from tests.resources.seam import Seam, client, emulator_with_runs

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_backoff")]


async def test_one_span_per_call_with_every_attempt_as_an_event() -> None:
    """A get retried once: one span, two attempt events, the server's last request id."""
    emulator, ids = await emulator_with_runs()
    emulator.faults.fail_next(1, status=503, route="/runs/{id}")
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    seam = Seam(emulator)
    async with client(seam, emulator) as zof:
        traced = zof_async.otel.instrument(zof, tracer_provider=provider)
        await traced.runs.get(ids.finished_run)
        await zof.runs.get(ids.finished_run)  # the original client is not traced
    (span,) = exporter.get_finished_spans()
    assert span.name == "zof GET /runs/{id}"
    attributes = dict(span.attributes or {})
    assert attributes["zof.retries"] == 1
    assert attributes["http.response.status_code"] == 200
    assert attributes["zof.request_id"] == seam.request_ids[-2]
    events = [dict(event.attributes or {}) for event in span.events]
    assert [e["http.response.status_code"] for e in events] == [503, 200]
    assert [e["zof.attempt"] for e in events] == [1, 2]
