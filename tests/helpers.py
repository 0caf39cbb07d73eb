"""Helpers shared by the test packages: clients on a respx router, canned JSON."""

from __future__ import annotations

from typing import Any

import httpx
import respx

from zof_async import AsyncZof

BASE = "https://api.zof.ai/v1"
KEY = "zof_canary_5up3r53cr3t"


def client(router: respx.MockRouter, **options: Any) -> AsyncZof:
    """A client whose transport is the respx router (no sockets)."""
    options.setdefault("api_key", KEY)
    return AsyncZof(transport=httpx.MockTransport(router.async_handler), **options)


def run_json(run_id: str = "run_1", status: str = "queued", **extra: Any) -> dict[str, Any]:
    return {
        "id": run_id,
        "object": "run",
        "project_id": "proj_abc",
        "environment": "staging",
        "status": status,
        "test_case_ids": None,
        "test_suite_id": "suite_pr_smoke",
        "created_at": "2026-11-22T10:00:00Z",
        "started_at": None,
        "completed_at": None,
        "summary": {"total": 2, "passed": 0, "failed": 0, "error": 0, "skipped": 0},
        "url": f"https://app.zof.ai/runs/{run_id}",
        **extra,
    }
