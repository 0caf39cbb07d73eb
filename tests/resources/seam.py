"""A transport between the client and the in-process emulator that tests steer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import anyio
import attrs
import httpx

from zof_async import Artifact, AsyncZof
from zof_async.testing import Emulator, ManualClock, RunScript


class Seam(httpx.AsyncBaseTransport):
    """Passes requests to the emulator, unless told to fail or hang first.

    Attributes:
        failures: The next requests to answer 503 without reaching the emulator.
        hang: Answer nothing, ever (a server that stopped answering).
        seen: Requests received.
        request_ids: The `X-Request-Id` of every answer the emulator gave.
    """

    def __init__(self, emulator: Emulator) -> None:
        self._inner = emulator.transport()
        self.failures = 0
        self.hang = False
        self.seen = 0
        self.request_ids: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        if self.hang:
            await anyio.sleep_forever()
        if self.failures > 0:
            self.failures -= 1
            body = {"error": {"code": "internal_error", "message": "injected"}}
            return httpx.Response(503, json=body, headers={"X-Request-Id": f"seam_{self.seen}"})
        response = await self._inner.handle_async_request(request)
        self.request_ids.append(response.headers["x-request-id"])
        return response


@attrs.frozen
class Ids:
    """Ids of the emulator's objects that every method can be called on."""

    finished_run: str
    queued_run: str
    result: str
    artifact: str
    artifact_object: Artifact


async def emulator_with_runs() -> tuple[Emulator, Ids]:
    """A small emulator with a finished run (results, artifacts) and a queued one."""
    emulator = Emulator(data="minimal", clock=ManualClock())
    past = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc) - timedelta(hours=1)
    done = emulator.add_run(
        "proj_abc",
        suite_id="suite_pr_smoke",
        created_at=past,
        script=RunScript(outcome="failed", queue_seconds=0, duration_seconds=1),
    )
    queued = emulator.add_run("proj_abc", suite_id="suite_pr_smoke")
    async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
        artifacts = [a async for a in zof.runs.artifacts(done.id) if a.result_id is not None]
    first = artifacts[0]
    assert first.result_id is not None
    return emulator, Ids(done.id, queued.id, first.result_id, first.id, first)


def client(seam: Seam, emulator: Emulator, **options: object) -> AsyncZof:
    """The real client, sending through `seam`."""
    return AsyncZof(api_key=emulator.keys.qa, transport=seam, **options)  # type: ignore[arg-type]
