"""OpenTelemetry: each transport gives spans and `traceparent` with its instrumentor.

The default transport is httpx's, which `HTTPXClientInstrumentor` wraps; the
aiohttp transport sends through an `aiohttp.ClientSession`, which needs
`AioHttpClientInstrumentor` (the README says so).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.helpers import KEY, run_json
from tests.sockets import RawServer, http_answer
from zof_async import AsyncZof

pytestmark = pytest.mark.anyio


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.mark.parametrize(
    ("transport", "instrumentor"),
    [
        pytest.param(None, HTTPXClientInstrumentor, id="default+httpx-instrumentor"),
        pytest.param("aiohttp", AioHttpClientInstrumentor, id="aiohttp+aiohttp-instrumentor"),
    ],
)
async def test_each_transport_traces_with_its_instrumentor(
    exporter: InMemorySpanExporter,
    transport: Literal["aiohttp"] | None,
    instrumentor: Callable[[], HTTPXClientInstrumentor | AioHttpClientInstrumentor],
) -> None:
    """One client span per request, and the server receives its traceparent."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumented = instrumentor()
    instrumented.instrument(tracer_provider=provider)
    try:
        with RawServer([http_answer(200, run_json())]).running() as server:
            async with AsyncZof(api_key=KEY, base_url=server.base_url, transport=transport) as zof:
                await zof.runs.get("run_1")
    finally:
        instrumented.uninstrument()
    spans = exporter.get_finished_spans()
    assert len(spans) == 1
    assert spans[0].kind is trace.SpanKind.CLIENT
    context = spans[0].get_span_context()
    assert context is not None
    traceparent = server.received[0].headers["traceparent"]
    assert traceparent.split("-")[1] == f"{context.trace_id:032x}"
    assert KEY not in str(spans[0].attributes)
