"""Helpers shared by the test packages: clients on a respx router, canned JSON."""

from __future__ import annotations

import gc
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypedDict

import anyio
import httpx
import respx

from zof_async import AsyncZof

BASE = "https://api.zof.ai/v1"
KEY = "zof_canary_5up3r53cr3t"


class CreateArgs(TypedDict):
    """Keyword arguments of `runs.create` for a suite run."""

    project_id: str
    environment: str
    test_suite_id: str


SMOKE: CreateArgs = {
    "project_id": "proj_abc",
    "environment": "staging",
    "test_suite_id": "suite_pr_smoke",
}
"""A run of the seeded smoke suite."""


def client(router: respx.MockRouter, **options: Any) -> AsyncZof:
    """A client whose transport is the respx router (no sockets)."""
    options.setdefault("api_key", KEY)
    return AsyncZof(transport=httpx.MockTransport(router.async_handler), **options)


async def settle_until(condition: Callable[[], bool]) -> None:
    """Let every other task run until `condition()` holds: no timed sleep.

    For what another thread (a served emulator) or the network completes; a
    test bounds it with `anyio.fail_after`, as a hang is a failure.
    """
    while not condition():
        await anyio.wait_all_tasks_blocked()


def run_json(run_id: str = "run_1", status: str = "queued", **extra: Any) -> dict[str, Any]:
    """A run as the API returns it, with `extra` fields added or replaced."""
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


def result_json(result_id: str) -> dict[str, Any]:
    """A passed result of `run_1` as the API returns it."""
    return {
        "id": result_id, "object": "result", "run_id": "run_1", "test_case_id": "tc_1",
        "status": "passed", "duration_ms": 5, "logs_ref": "x", "failure_summary": None,
        "created_at": "2026-11-22T10:00:00Z",
    }  # fmt: skip


# httpx's own async generators nested inside the one a stream closes
# (pyproject's filterwarnings says why they are left to the garbage collector).
_HTTPX_INNER = re.compile(
    r"Async generator '(httpx|httpcore)\..*\.(aiter_text|aiter_bytes|aiter_raw|__aiter__)'"
)


@contextmanager
def no_leaks() -> Iterator[None]:
    """Fail if anything the block dropped was left unclosed (a `ResourceWarning`).

    Collects garbage before leaving, so objects the SDK left open are
    finalised, and so reported, inside the block.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield
        gc.collect()
    leaks = [
        str(w.message)
        for w in caught
        if issubclass(w.category, ResourceWarning) and not _HTTPX_INNER.match(str(w.message))
    ]
    assert not leaks, leaks
