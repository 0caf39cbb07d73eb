"""The Ray block of docs/guides/scale-out.md, run as written on the session's local Ray.

It is a plain block in the guide (it needs a Ray cluster, which the README
runner, tests/test_readme.py, does not start); this test runs its text, unchanged, against an
emulator served on 127.0.0.1 whose results lie in the month it reads.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.lazy import lazy_or_skip
from zof_async.testing import Emulator, ManualClock

from .conftest import RAY_WARNINGS, Served, served_emulator

lazy_or_skip("ray", "the ray extra is not installed for this Python")
lazy_or_skip("zof_async.ray", "the extra is not installed")

pytestmark = [
    *RAY_WARNINGS,
    # Ray's pandas blocks call reset_index(inplace=True), which pandas 3.1
    # deprecates (ray/data/_internal/pandas_block.py, Ray 2.60): Ray's to fix.
    pytest.mark.filterwarnings(
        "ignore:The inplace keyword in DataFrame.reset_index is deprecated:DeprecationWarning"
    ),
]

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "scale-out.md"


def ray_block() -> str:
    section = GUIDE.read_text(encoding="utf-8")
    fence = section.index("```\n")
    return section[fence + 4 : section.index("```", fence + 4)]


def test_the_readme_block_reads_a_month_into_ray_and_pandas(
    ray_cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scale-out guide's Ray block, run as written, reads the month's 3,000 rows into pandas."""
    emulator = Emulator(
        data="minimal", clock=ManualClock(datetime(2026, 10, 15, 1, tzinfo=timezone.utc))
    )
    emulator.add_bulk_run(3_000, run_id="run_october", artifacts_per_result=0)
    with served_emulator(emulator) as served:
        served_: Served = served
        monkeypatch.setenv("ZOF_API_KEY", emulator.keys.viewer)
        monkeypatch.setenv("ZOF_BASE_URL", served_.base_url)
        scope: dict[str, Any] = {}
        exec(compile(ray_block(), "docs/guides/scale-out.md", "exec"), scope)
    frame = scope["frame"]
    assert len(frame) == 3_000
    assert frame["id"].is_unique
    assert str(frame["created_at"].dt.tz) == "UTC"  # numpy- or Arrow-backed, as Ray chooses
