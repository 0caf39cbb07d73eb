"""`zof webhooks listen`: prints verified events, rejects bad ones, forwards, never leaks the secret."""

from __future__ import annotations

import json
import re
import sys
import time

import anyio
import httpx
import pytest
from anyio.streams.text import TextReceiveStream

from tests.webhooks.test_served import receiver
from tests.webhooks.vectors import OTHER_SECRET, SECRET, delivery
from zof_async import WebhookInbox, Webhooks
from zof_async._cli import main

pytestmark = [pytest.mark.served, pytest.mark.anyio]


async def read_until(stream: TextReceiveStream, pattern: str, seen: list[str]) -> re.Match[str]:
    with anyio.fail_after(20):
        while (match := re.search(pattern, "".join(seen))) is None:
            seen.append(await stream.receive())
    return match


async def test_listen_verifies_prints_and_forwards() -> None:
    """`zof webhooks listen` prints a verified event once, rejects a forgery, and forwards."""
    inbox = WebhookInbox(Webhooks(secret=SECRET))
    async with receiver(inbox) as app_url, await anyio.open_process(
        [sys.executable, "-m", "zof_async._cli", "--json", "webhooks", "listen", "--port", "0",
         "--secret", SECRET, "--forward", app_url]
    ) as process:  # fmt: skip
        assert process.stdout is not None and process.stderr is not None
        out, err = TextReceiveStream(process.stdout), TextReceiveStream(process.stderr)
        out_seen: list[str] = []
        err_seen: list[str] = []
        try:
            url = (await read_until(err, r"listening on (\S+)", err_seen)).group(1)
            now = int(time.time())
            async with httpx.AsyncClient() as http:
                body, headers = delivery(timestamp=now)
                assert (await http.post(url, content=body, headers=headers)).status_code == 200
                line = (await read_until(out, r".*\n", out_seen)).group(0)
                assert json.loads(line) == {
                    "id": "evt_1", "type": "run.completed", "created_at": "2026-11-22T10:05:00Z",
                    "run": "run_1", "status": "passed", "url": "https://app.zof.ai/runs/run_1",
                }  # fmt: skip
                again = await http.post(url, content=body, headers=headers)
                assert again.status_code == 200 and again.json()["duplicate"] is True
                bad_body, bad_headers = delivery(
                    event_id="evt_2", secret=OTHER_SECRET, timestamp=now
                )
                rejected = await http.post(url, content=bad_body, headers=bad_headers)
                assert rejected.status_code == 400
                await read_until(err, r"rejected \(signature_mismatch\)", err_seen)
                # No secret is needed to send a huge timestamp: a 400 naming the check, not a 500.
                huge = {**bad_headers, "webhook-timestamp": "9" * 400}
                assert (await http.post(url, content=bad_body, headers=huge)).status_code == 400
                await read_until(err, r"rejected \(invalid_timestamp\)", err_seen)
            assert inbox.finished_run("run_1") is not None  # forwarded, and verified there
        finally:
            process.terminate()
    assert SECRET.removeprefix("whsec_") not in "".join(out_seen + err_seen)
    assert len("".join(out_seen).splitlines()) == 1  # the duplicate and the forgery print no event


def test_listen_refuses_a_malformed_or_missing_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """listen exits 2 for a malformed or missing secret without echoing the secret."""
    monkeypatch.delenv("ZOF_WEBHOOK_SECRET", raising=False)
    assert main(["webhooks", "listen", "--secret", "whsec_***"]) == 2
    err = capsys.readouterr().err
    assert "whsec_" in err and "***" not in err
    assert main(["webhooks", "listen"]) == 2
    assert "ZOF_WEBHOOK_SECRET" in capsys.readouterr().err
