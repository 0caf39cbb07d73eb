"""The implementation of `zof_async.otel` (its docstring says what it does)."""

from __future__ import annotations

import re
from contextvars import Token
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from ._http._hooks import RequestView, ResponseView

if TYPE_CHECKING:
    from ._client import AsyncZof

__all__ = ["TracingHooks", "instrument"]

_ID = re.compile(r"^[a-z]+_[A-Za-z0-9_-]+$")


def _route(url: str) -> str:
    """`https://api.zof.ai/v1/runs/run_1/cancel?x=1` as `/runs/{id}/cancel`."""
    path = url.split("?", 1)[0].split("://", 1)[-1]
    segments = path.split("/")[1:]
    if segments and segments[0] == "v1":
        segments = segments[1:]
    return "/" + "/".join("{id}" if _ID.match(s) else s for s in segments)


class TracingHooks:
    """`on_request` and `on_response` hooks that trace each SDK call as a span.

    Args:
        tracer_provider: Where spans go (default: the global provider).

    Use `instrument(client)`, or pass both methods to `AsyncZof(...)` or
    `with_options(...)` yourself, next to hooks of your own.
    """

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        from ._version import __version__

        self._tracer = trace.get_tracer("zof_async", __version__, tracer_provider)
        self._open: dict[int, tuple[Span, Token[otel_context.Context]]] = {}

    def on_request(self, view: RequestView) -> None:
        """The first attempt of a call opens its span and makes it current."""
        if view.call_id in self._open:
            return
        span = self._tracer.start_span(
            f"zof {view.method} {_route(view.url)}",
            kind=SpanKind.INTERNAL,
            attributes={"http.request.method": view.method, "url.full": view.url},
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        self._open[view.call_id] = (span, token)

    def on_response(self, view: ResponseView) -> None:
        """Every attempt is an event; the last one ends the span."""
        opened = self._open.get(view.call_id)
        if opened is None:
            return
        span = opened[0]
        attributes: dict[str, Any] = {"zof.attempt": view.attempt, "zof.elapsed": view.elapsed}
        if view.status is not None:
            attributes["http.response.status_code"] = view.status
        if view.request_id is not None:
            attributes["zof.request_id"] = view.request_id
        if view.error is not None:
            attributes["error.type"] = view.error
        span.add_event("attempt", attributes)
        if not view.final:
            return
        del self._open[view.call_id]
        span.set_attributes(
            {key: value for key, value in attributes.items() if key != "zof.elapsed"}
        )
        span.set_attribute("zof.retries", view.attempt - 1)
        if not view.ok:
            span.set_status(Status(StatusCode.ERROR, view.error or f"HTTP {view.status}"))
        span.end()
        otel_context.detach(opened[1])


def instrument(
    client: AsyncZof, *, tracer_provider: trace.TracerProvider | None = None
) -> AsyncZof:
    """A copy of `client` (`with_options`) that traces every call; see the module."""
    hooks = TracingHooks(tracer_provider)
    return client.with_options(on_request=hooks.on_request, on_response=hooks.on_response)
