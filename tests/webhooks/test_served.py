"""End to end over real HTTP on 127.0.0.1: the served emulator delivers to a served receiver."""

from __future__ import annotations

import random
import re
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import anyio
import httpx
import pytest
import uvicorn
from anyio.streams.text import TextReceiveStream

from tests.webhooks.vectors import SECRET
from zof_async import AsyncZof, WaitPolicy, WebhookEvent, WebhookInbox, Webhooks, webhooks_asgi_app
from zof_async._webhooks._inbox import Headers, WebhookReceiver
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
            with anyio.fail_after(10):
                while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
                    await anyio.sleep(0.01)
            try:
                yield f"http://127.0.0.1:{sock.getsockname()[1]}/zof-webhooks"
            finally:
                server.should_exit = True
    finally:
        sock.close()


async def test_200_runs_with_drops_and_duplicates_every_wait_completes_once() -> None:
    emulator = Emulator(data="minimal", clock=SystemClock(), poll_hint=None, seed=7)
    emulator.webhook_faults.drop_rate = 0.1
    emulator.webhook_faults.duplicate_rate = 0.1
    inbox = WebhookInbox(Webhooks(secret=SECRET))
    fallback = WaitPolicy(initial_interval=1.0, max_interval=2.0, growth=2.0)
    rng = random.Random(3)
    finished: Counter[str] = Counter()
    lags: dict[str, float] = {}
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
                lags[run_id] = time.time() - emulator.store.runs[run_id].completed  # type: ignore[operator]

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
                return not emulator.webhooks.pending and inbox.stats.received == delivered

            # The last duplicates may still be on their way: both sides must agree soon.
            with anyio.fail_after(20):
                while not settled():  # noqa: ASYNC110 - state of another thread
                    await anyio.sleep(0.05)
    assert finished == Counter(dict.fromkeys(ids, 1))
    # The bound: one fallback interval, plus slack for a loaded 2-core machine
    # (the emulator's server thread shares this process's GIL).
    assert max(lags.values()) <= fallback.max_interval + 3.0, sorted(lags.values())[-5:]
    attempts = emulator.webhook_attempts
    dropped = {a.run_id for a in attempts if a.outcome == "dropped"}
    delivered = [a for a in attempts if a.outcome == "delivered"]
    assert 5 <= len(dropped) <= 40 and len(delivered) >= 200 - len(dropped)
    stats = inbox.stats
    assert stats.rejected == 0 and stats.received == len(delivered)
    assert stats.duplicates == len(delivered) - len({a.event_id for a in delivered}) > 0
    # Runs whose event arrived were noticed by it, not by a poll.
    by_event = [lags[r] for r in ids if r not in dropped]
    assert sorted(by_event)[len(by_event) // 2] < 1.0, sorted(by_event)[len(by_event) // 2]


class LateInbox:
    """A receiver whose inbox is made once the secret is known."""

    inbox: WebhookInbox | None = None

    async def deliver(self, body: bytes | str, headers: Headers) -> WebhookEvent | None:
        assert self.inbox is not None
        return await self.inbox.deliver(body, headers)


async def test_the_emulator_command_line_delivers_to_webhook_url() -> None:
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
