"""An independent Standard Webhooks signer, written from the spec with hmac/base64 only.

Never imports the SDK: the tests check the SDK against this, not against itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

SECRET = "whsec_" + base64.b64encode(b"zof-test-secret-0123456789abcdef").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"another-secret-entirely-0123456").decode()
NOW = 1_795_860_300  # 2026-11-22T10:05:00Z


def signature(secret: str, msg_id: str, timestamp: int | str, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def run_json(run_id: str = "run_1", status: str = "passed") -> dict[str, object]:
    return {
        "id": run_id, "object": "run", "project_id": "proj_abc", "environment": "staging",
        "status": status, "test_case_ids": None, "test_suite_id": "suite_pr_smoke",
        "created_at": "2026-11-22T10:00:00Z", "started_at": "2026-11-22T10:00:01Z",
        "completed_at": "2026-11-22T10:04:59Z",
        "summary": {"total": 2, "passed": 2, "failed": 0, "error": 0, "skipped": 0},
        "url": f"https://app.zof.ai/runs/{run_id}",
    }  # fmt: skip


def event_body(
    event_id: str = "evt_1", run_id: str = "run_1", type: str = "run.completed", **extra: object
) -> bytes:
    document = {
        "id": event_id, "object": "event", "type": type,
        "created_at": "2026-11-22T10:05:00Z", "data": {"object": run_json(run_id)}, **extra,
    }  # fmt: skip
    return json.dumps(document).encode()


def delivery(
    body: bytes | None = None,
    *,
    event_id: str = "evt_1",
    run_id: str = "run_1",
    secret: str = SECRET,
    timestamp: int = NOW,
) -> tuple[bytes, dict[str, str]]:
    body = event_body(event_id, run_id) if body is None else body
    return body, {
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, event_id, timestamp, body),
        "content-type": "application/json",
    }
