"""End to end over real HTTP on 127.0.0.1: the served emulator delivers to a served receiver."""

from __future__ import annotations

import random
import re
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import anyio
import anyio.lowlevel
import httpx
import pytest
import uvicorn
from anyio.streams.text import TextReceiveStream

from tests.webhooks.vectors import SECRET
from zof_async import AsyncZof, WaitPolicy, WebhookEvent, WebhookInbox, Webhooks, webhooks_asgi_app
from zof_async._webhooks._inbox import WebhookReceiver
from zof_async._webhooks._verify import Headers
from zof_async.testing import Emulator, SystemClock
from zof_async.testing._server import bind

pytestmark = [pytest.mark.served, pytest.mark.anyio]


@asynccontextmanager
async def receiver(inbox: WebhookReceiver) -> AsyncIterator[str]:
    """Serve `webhooks_asgi_app(inbox)` with uvicorn in this event loop, as an app would."""
    sock = bind(0)
    config = uvicorn.Config(
        webhooks_asgi_app(inbox), log_level="warning", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(partial(server.serve, sockets=[sock]))
            # uvicorn offers no event; it starts in this loop, so yielding lets it.
            with anyio.fail_after(10):
                while not server.started:
                    await anyio.lowlevel.checkpoint()
            try:
                yield f"http://127.0.0.1:{sock.getsockname()[1]}/zof-webhooks"
            finally:
                server.should_exit = True
    finally:
        sock.close()


async def test_200_runs_with_drops_and_duplicates_every_wait_completes_once() -> None:
    """Over real HTTP, 200 waits complete once each despite drops and duplicates."""
    emulator = Emulator(data="minimal", clock=SystemClock(), poll_hint=None, seed=7)
    emulator.webhook_faults.drop_rate = 0.1
    emulator.webhook_faults.duplicate_rate = 0.1
    inbox = WebhookInbox(Webhooks(secret=SECRET))
    fallback = WaitPolicy(initial_interval=1.0, max_interval=2.0, growth=2.0)
    rng = random.Random(3)
    finished: Counter[str] = Counter()
    async with receiver(inbox) as url, emulator.serve() as base_url:
        emulator.add_webhook_endpoint(url, secret=SECRET)
        async with AsyncZof(
            api_key=emulator.keys.qa, base_url=base_url, polls_per_second=2000, max_connections=200
        ) as zof:
            ids = []

            async def wait(run_id: str) -> None:
                run = await zof.runs.wait_until_complete(
                    run_id, events=inbox, policy=fallback, timeout=60
                )
                finished[run.id] += 1

            with anyio.fail_after(60):
                async with anyio.create_task_group() as tg:
                    for _ in range(200):  # each wait starts as soon as its run exists
                        emulator.script_next_run(
                            queue_seconds=0, duration_seconds=rng.uniform(1, 3)
                        )
                        run = await zof.runs.create(
                            project_id="proj_abc",
                            environment="staging",
                            test_case_ids=["tc_proj_abc_00000"],
                        )
                        ids.append(run.id)
                        tg.start_soon(wait, run.id)

            def settled() -> bool:
                delivered = sum(a.outcome == "delivered" for a in emulator.webhook_attempts)
                return not emulator.state.webhooks.pending and inbox.stats.received == delivered

            # The last duplicates may still be on their way: both sides must agree soon.
            # The emulator delivers from its server thread, which offers no event.
            with anyio.fail_after(20):
                while not settled():
                    await anyio.lowlevel.checkpoint()
    assert finished == Counter(dict.fromkeys(ids, 1))
    attempts = emulator.webhook_attempts
    dropped = {a.run_id for a in attempts if a.outcome == "dropped"}
    delivered = [a for a in attempts if a.outcome == "delivered"]
    assert 5 <= len(dropped) <= 40 and len(delivered) >= 200 - len(dropped)
    stats = inbox.stats
    assert stats.rejected == 0 and stats.received == len(delivered)
    assert stats.duplicates == len(delivered) - len({a.event_id for a in delivered}) > 0
    # Runs whose event arrived were mostly noticed by it, not by a poll (a poll can
    # still see a run end just before its event lands): the inbox woke their waits.
    by_event = [r for r in ids if r not in dropped]
    assert stats.woken >= len(by_event) // 2, (stats.woken, len(by_event))


class LateInbox:
    """A receiver whose inbox is made once the secret is known."""

    inbox: WebhookInbox | None = None

    async def deliver(self, body: bytes | str, headers: Headers) -> WebhookEvent | None:
        assert self.inbox is not None
        return await self.inbox.deliver(body, headers)


async def test_the_emulator_command_line_delivers_to_webhook_url() -> None:
    """`python -m zof_async.testing --webhook-url` prints a secret and delivers signed events."""
    late = LateInbox()
    async with receiver(late) as url, await anyio.open_process(
        [sys.executable, "-m", "zof_async.testing", "--port", "0", "--data", "minimal",
         "--run-seconds", "0.3", "--webhook-url", url],
        stderr=None,
    ) as process:  # fmt: skip
        try:
            assert process.stdout is not None
            header = ""
            with anyio.fail_after(20):
                async for chunk in TextReceiveStream(process.stdout):
                    header += chunk
                    if "ZOF_WEBHOOK_SECRET=" in header and header.endswith("\n"):
                        break
            base_url = re.search(r"ZOF_BASE_URL=(\S+)", header).group(1)  # type: ignore[union-attr]
            secret = re.search(r"ZOF_WEBHOOK_SECRET=(whsec_\S+)", header).group(1)  # type: ignore[union-attr]
            assert url in header
            inbox = late.inbox = WebhookInbox(Webhooks(secret=secret))
            async with httpx.AsyncClient(base_url=base_url) as http:
                created = await http.post(
                    "/runs",
                    headers={"Authorization": "Bearer zof_emu_qa_acme"},
                    json={"project_id": "proj_abc", "environment": "staging",
                          "test_case_ids": ["tc_proj_abc_00000"]},
                )  # fmt: skip
            assert created.status_code == 201
            run_id = created.json()["id"]
            with anyio.fail_after(10), inbox.subscribe(run_id) as arrived:
                if inbox.finished_run(run_id) is None:
                    await arrived.wait()
            assert inbox.stats.rejected == 0
        finally:
            process.terminate()
