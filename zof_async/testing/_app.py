"""The emulator as one ASGI application.

Each request goes: prefix check, latency, authentication, routing, injected
faults, permission, content negotiation, idempotency, then the handler with the
state's lock held and its runs advanced to "now". Every response carries
`X-Request-Id`, and every one is counted in the state's `stats`.

Content negotiation follows zof-api.md: a request whose `Accept` excludes what
the endpoint answers gets `406 not_acceptable`, checked before the handler
where the type is fixed (JSON, run logs), after it where the handler decides
(an export in the format asked, an artifact's own content type).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, unquote

import anyio

from ._faults import Fault
from ._records import PERMISSIONS
from ._routes import ROUTES, Ctx, Route
from ._state import State, StoredResponse
from ._stats import RequestRecord
from ._wire import ApiError, Request, Response, acceptable, bad_request, not_acceptable

logger = logging.getLogger("zof_async.testing")

MAX_BODY = 1024 * 1024
PREFIX = "/v1"
IDEMPOTENCY_TTL = 24 * 3600.0


class App:
    """The ASGI callable over a `State`; `Emulator.app` is one of these.

    Args:
        state: The data it serves and the services it uses; several apps
            may share one.
    """

    def __init__(self, state: State) -> None:
        self._state = state

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        state = self._state
        if scope["path"] == "/_emulator/stats":
            await _send(send, Response.json(200, state.stats.snapshot()), state.new_request_id())
            return
        request_id = state.new_request_id()
        route_name = "unmatched"
        idempotency_key = None
        try:
            body = await _read_body(receive, limit=MAX_BODY)
            if body is None:
                raise bad_request("request body is larger than 1 MiB")
            request = _request(scope, body)
            idempotency_key = request.headers.get("idempotency-key")
            route, params = _match(request)
            route_name = route.template
            response = await self._handle(request, route, params)
        except ApiError as exc:
            response = exc.response()
        except Exception:
            logger.exception("emulator bug while serving %s %s", scope["method"], scope["path"])
            response = ApiError(500, "internal_error", "the emulator failed").response()
        state.stats.record(
            RequestRecord(
                state.clock.now(), scope["method"], route_name, response.status, idempotency_key
            )
        )
        await _send(send, response, request_id)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        """While served, the webhook pump runs in a task group of the server's lifespan."""
        async with anyio.create_task_group() as tg:
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await tg.start(self._state.webhooks.pump)
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    tg.cancel_scope.cancel()
                    break
        await send({"type": "lifespan.shutdown.complete"})

    async def _handle(self, request: Request, route: Route, params: dict[str, str]) -> Response:
        state = self._state
        latency = state.faults.latency_for()
        if latency > 0:
            await anyio.sleep(latency)
        key = state.authenticate(request.headers.get("authorization"))
        fault = state.faults.decide(
            method=request.method,
            route=route.template,
            key=key.secret,
            now=state.clock.now(),
            query=request.query,
        )
        if fault is not None and not fault.after_handler:
            raise _fault_error(fault)
        if route.permission and route.permission not in PERMISSIONS[key.role]:
            raise ApiError(
                403, "forbidden", f"this key's role lacks the {route.permission} permission"
            )
        accept = request.headers.get("accept")
        if route.produces is not None and not acceptable(accept, route.produces):
            raise not_acceptable(route.produces)  # before the handler: nothing is done
        with state.lock:
            now = state.clock.now()
            state.lifecycle.advance(now)
            ctx = Ctx(state, key.org_id, now)
            if request.method == "POST" and "idempotency-key" in request.headers:
                response = self._idempotent(ctx, request, route, params)
            else:
                response = route.handler(ctx, request, params)
        if fault is not None:  # served, and now the answer is lost
            raise _fault_error(fault)
        if response.status < 400 and not acceptable(accept, response.content_type):
            raise not_acceptable(response.content_type)  # an export as asked, an artifact's type
        return response

    def _idempotent(
        self, ctx: Ctx, request: Request, route: Route, params: dict[str, str]
    ) -> Response:
        key = request.headers["idempotency-key"]
        if not 1 <= len(key) <= 255 or not all(" " <= c <= "~" for c in key):
            raise bad_request(
                "Idempotency-Key must be 1 to 255 printable ASCII characters", "Idempotency-Key"
            )
        try:
            canonical = json.dumps(json.loads(request.body), sort_keys=True).encode()
        except ValueError:
            canonical = request.body
        fingerprint = hashlib.sha256(route.template.encode() + b"\0" + canonical).hexdigest()
        slot = (ctx.org_id, key)
        stored = ctx.state.idempotency.get(slot)
        if stored is not None and stored.expires > ctx.now:
            if stored.fingerprint != fingerprint:
                raise ApiError(
                    409, "conflict", "Idempotency-Key was already used with a different request"
                )
            replay = stored.response or _run_handler(ctx, request, route, params)
            return Response(
                replay.status,
                replay.body,
                replay.content_type,
                [*replay.headers, ("idempotent-replayed", "true")],
                replay.length,
            )
        response = _run_handler(ctx, request, route, params)
        keep = response if isinstance(response.body, bytes) else None
        ctx.state.idempotency[slot] = StoredResponse(fingerprint, ctx.now + IDEMPOTENCY_TTL, keep)
        return response


def _fault_error(fault: Fault) -> ApiError:
    headers = []
    if fault.retry_after is not None:
        headers.append(("retry-after", f"{fault.retry_after:g}"))
    code = "rate_limited" if fault.status == 429 else "internal_error"
    message = "rate limit exceeded" if fault.status == 429 else "transient server fault"
    return ApiError(fault.status, code, message, headers=headers)


def _run_handler(ctx: Ctx, request: Request, route: Route, params: dict[str, str]) -> Response:
    try:
        return route.handler(ctx, request, params)
    except ApiError as exc:
        return exc.response()


def _request(scope: MutableMapping[str, Any], body: bytes) -> Request:
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    path = raw_path.decode("latin-1").split("?", 1)[0]
    if path != PREFIX and not path.startswith(PREFIX + "/"):
        raise ApiError(404, "not_found", "no such endpoint")
    try:
        segments = [unquote(s, errors="strict") for s in path[len(PREFIX) :].strip("/").split("/")]
    except UnicodeDecodeError:
        raise ApiError(404, "not_found", "no such endpoint") from None
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    host = headers.get("host", "localhost")
    base_url = f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}{PREFIX}"
    return Request(scope["method"], segments, query, headers, body, base_url)


def _match(request: Request) -> tuple[Route, dict[str, str]]:
    """Find the route; literal segments win over `{id}` (`/results/export`)."""
    candidates = [
        (route, params)
        for route in ROUTES
        if (params := _match_segments(route.segments, request.path)) is not None
    ]
    if not candidates:
        raise ApiError(404, "not_found", "no such endpoint")
    most_literal = max(len(route.segments) - len(params) for route, params in candidates)
    candidates = [(r, p) for r, p in candidates if len(r.segments) - len(p) == most_literal]
    for route, params in candidates:
        if route.method == request.method:
            return route, params
    raise ApiError(
        405,
        "invalid_request",
        f"{request.method} is not allowed here",
        headers=[("allow", ", ".join(route.method for route, _ in candidates))],
    )


def _match_segments(template: list[str], path: list[str]) -> dict[str, str] | None:
    if len(template) != len(path):
        return None
    params = {}
    for want, got in zip(template, path, strict=True):
        if want.startswith("{"):
            if not got:
                return None
            params[want[1:-1]] = got
        elif want != got:
            return None
    return params


async def _send(send: Any, response: Response, request_id: str) -> None:
    headers = [
        (b"content-type", response.content_type.encode()),
        (b"x-request-id", request_id.encode()),
        *((k.encode(), v.encode()) for k, v in response.headers),
    ]
    body = response.body
    if isinstance(body, bytes):
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    if response.length is not None:
        headers.append((b"content-length", str(response.length).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    async for chunk in body:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def _read_body(
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]], *, limit: int
) -> bytes | None:
    """The request's whole body, or `None` once it grows past `limit` bytes.

    The emulator's own reading of ASGI messages: it shares no code with the
    client's webhook receiver, which reads bodies too.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
