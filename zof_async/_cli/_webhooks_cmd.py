"""`zof webhooks listen`: receive webhooks on 127.0.0.1, print verified events, forward them.

For development: point an endpoint (or the emulator's `--webhook-url`) at
`http://127.0.0.1:PORT/`, and see each delivery verified, deduplicated and
printed; with `--forward URL` each verified delivery is also passed on,
body and headers unchanged, to your own app.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias, Union

import anyio
import httpx

from zof_async import (
    ConfigurationError,
    RunCompletedEvent,
    WebhookEvent,
    WebhookInbox,
    Webhooks,
    WebhookVerificationError,
    webhooks_asgi_app,
)

from ._output import Exit, Output

HOST = "127.0.0.1"
ENV_SECRET = "ZOF_WEBHOOK_SECRET"
Headers: TypeAlias = Union[Mapping[str, str], Mapping[bytes, bytes], Iterable[tuple[Any, Any]]]  # noqa: UP007
"""What a delivery's headers may be: as `Webhooks.verify` takes them."""


NO_SECRET = "no webhook secret: pass --secret whsec_... or set ZOF_WEBHOOK_SECRET"


def register(webhooks: Any, formatter: type[argparse.HelpFormatter]) -> argparse.ArgumentParser:
    """Add `listen` to the `zof webhooks` group; return its parser (for the global options)."""
    p = webhooks.add_parser(
        "listen",
        help="print verified webhook events (and forward them)",
        description="Listen on 127.0.0.1, verify every delivery with the endpoint secret, "
        "drop duplicates (same webhook-id) and print each event.",
        epilog="example:\n  zof webhooks listen --port 9000 --secret whsec_... "
        "--forward http://127.0.0.1:8000/zof-webhooks",
        formatter_class=formatter,
    )
    p.set_defaults(handler="webhooks.listen")
    p.add_argument("--port", type=int, default=9000, help="port on 127.0.0.1 (0: any free port)")
    p.add_argument("--secret", help="the endpoint secret, whsec_... (default: ZOF_WEBHOOK_SECRET)")
    p.add_argument("--forward", metavar="URL", help="also POST each verified delivery to URL")
    p.add_argument(
        "--tolerance", type=float, default=300.0, help="seconds a webhook-timestamp may be off"
    )
    return p  # type: ignore[no-any-return]


class Listener:
    """Verifies through an inbox, prints, forwards."""

    def __init__(self, args: argparse.Namespace, out: Output, http: httpx.AsyncClient) -> None:
        self._inbox = WebhookInbox(Webhooks(secret=args.secret), tolerance=args.tolerance)
        self._out = out
        self._http = http
        self._forward: str | None = args.forward

    async def deliver(self, body: bytes | str, headers: Headers) -> WebhookEvent | None:
        try:
            event = await self._inbox.deliver(body, headers)
        except WebhookVerificationError as exc:
            self._out.err.print(f"rejected ({exc.reason}): {exc}", markup=False)
            raise
        if event is None:
            self._out.note("duplicate delivery (same webhook-id): ignored")
            return None
        self._out.record(_summary(event))
        if self._forward:
            await self._pass_on(body, headers)
        return event

    async def _pass_on(self, body: bytes | str, headers: Headers) -> None:
        items = headers.items() if hasattr(headers, "items") else headers
        keep = {}
        for name, value in items:
            key = (name.decode("latin-1") if isinstance(name, bytes) else str(name)).lower()
            if key.startswith("webhook-") or key == "content-type":
                keep[key] = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        assert self._forward is not None
        try:
            response = await self._http.post(self._forward, content=body, headers=keep)
            self._out.note(f"forwarded to {self._forward}: {response.status_code}")
        except httpx.HTTPError as exc:
            self._out.err.print(f"forward to {self._forward} failed: {exc}", markup=False)


def _summary(event: WebhookEvent) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": event.id,
        "type": event.type,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
    }
    if isinstance(event, RunCompletedEvent):
        record.update(run=event.run.id, status=str(event.run.status), url=event.run.url)
    return record


def main(args: argparse.Namespace, out: Output) -> int:
    """Serve until interrupted."""
    try:
        import uvicorn
    except ImportError:
        print(
            "zof webhooks listen needs uvicorn: pip install 'zof-async[testing]'", file=sys.stderr
        )
        return Exit.USAGE
    # Fail early on a bad or missing secret, not on the first delivery, in the CLI's
    # words (the SDK's name its Python arguments).
    if not (args.secret or os.environ.get(ENV_SECRET)):
        out.error(ConfigurationError(NO_SECRET))
        return Exit.USAGE
    try:
        Webhooks(secret=args.secret).check_secret()
    except WebhookVerificationError as exc:
        out.error(exc)
        return Exit.USAGE
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, args.port))
    sock.listen(128)

    async def serve() -> None:
        async with httpx.AsyncClient(timeout=15.0) as http:
            app = webhooks_asgi_app(Listener(args, out, http))
            config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
            await uvicorn.Server(config).serve(sockets=[sock])

    print(f"listening on http://{HOST}:{sock.getsockname()[1]}/", file=sys.stderr, flush=True)
    try:
        anyio.run(serve)
    except KeyboardInterrupt:
        return 130
    finally:
        sock.close()
    return Exit.OK
