"""`import zof_async` loads only what building a client needs."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tests.processes import run

ROOT = Path(__file__).resolve().parents[1]  # the checkout: its zof_async, not an installed one
DEFERRED = [
    "cattrs",
    "asyncio",
    "anyio.abc",
    "anyio.lowlevel",
    "anyio.streams.memory",
    "aiohttp",
    "pyarrow",
    "uvicorn",
]


def test_import_defers_what_a_first_request_or_an_extra_loads() -> None:
    """cattrs, asyncio, anyio's abc and lowlevel, memory streams and extras load on first use."""
    code = f"import json, sys, zof_async; print(json.dumps([m for m in {DEFERRED!r} if m in sys.modules]))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = run([sys.executable, "-c", code], timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []
