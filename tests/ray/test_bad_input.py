"""Bad input to `zof_async.ray`: a clear error before or at the first task, nothing written."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.lazy import lazy_or_skip
from zof_async import AuthenticationError

from .conftest import RAY_WARNINGS, WORKERS_KEY, Served

ray = lazy_or_skip("ray", "the ray extra is not installed for this Python")
zray = lazy_or_skip("zof_async.ray", "the extra is not installed")

pytestmark = RAY_WARNINGS

CANARY = "zof_canary_k3y_n0t_f0r_l0gs"
BOUNDED = {"created_after": "2026-11-01T00:00:00Z", "created_before": "2026-11-01T00:10:00Z"}


@pytest.mark.parametrize("parallelism", [0, -3, True, 2.5])
def test_parallelism_must_be_a_positive_integer(parallelism: Any) -> None:
    """A zero, negative, bool or float parallelism is a ValueError."""
    with pytest.raises(ValueError, match="parallelism must be a positive integer"):
        zray.read_results(parallelism=parallelism, api_key="unused", **BOUNDED)


def test_a_window_still_filling_is_refused() -> None:
    """A created_before in the future is refused: that window is still filling."""
    tomorrow = datetime.now(timezone.utc) + timedelta(days=1)
    with pytest.raises(ValueError, match="created_before is in the future"):
        zray.read_results(created_before=tomorrow, api_key="unused")


def test_an_unbounded_read_without_a_key_to_plan_with_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An unbounded read with no key on the driver to plan it is refused."""
    monkeypatch.delenv("ZOF_API_KEY", raising=False)
    with pytest.raises(ValueError, match="needs a key on the driver"):
        zray.read_results(created_after="2026-11-01T00:00:00Z")


def test_a_bound_finer_than_a_microsecond_is_refused() -> None:
    """A bound finer than a microsecond is refused rather than rounded."""
    with pytest.raises(ValueError, match="finer than a microsecond"):
        zray.read_results(created_after="2026-11-01T00:00:00.0000001Z", api_key="unused")


def test_a_bad_key_fails_on_the_driver_before_any_task(served: Served) -> None:
    """A refused key fails on the driver after one probe, without echoing the key."""
    requests = served.emulator.stats.count(route="/results")
    with pytest.raises(AuthenticationError) as caught:
        zray.read_results(api_key="zof_not_a_key", base_url=served.base_url, parallelism=4)
    assert "zof_not_a_key" not in str(caught.value)
    assert served.emulator.stats.count(route="/results") == requests + 1  # the one probe


def test_a_bad_key_on_the_workers_fails_at_the_first_task_and_writes_nothing(
    ray_cluster: Any, served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key the workers' environment gets refused fails at the first task and writes nothing."""
    monkeypatch.delenv("ZOF_API_KEY", raising=False)
    ds = zray.read_results(
        parallelism=4, base_url=served.base_url, **BOUNDED
    )  # the driver has no key: each worker uses its own ZOF_API_KEY (refused)
    with pytest.raises(AuthenticationError) as caught:
        ds.write_parquet(str(tmp_path / "out"))
    assert WORKERS_KEY not in str(caught.value)
    assert not list(tmp_path.rglob("*.parquet"))


def test_the_key_is_in_no_repr_and_no_log(ray_cluster: Any, served: Served) -> None:
    """The API key is in no repr, stats or Ray log file."""
    served.emulator.add_key("org_acme", "viewer", secret=CANARY)
    source = zray.results_datasource(api_key=CANARY, base_url=served.base_url, **BOUNDED)
    ds = ray.data.read_datasource(source, override_num_blocks=2)
    rows = ds.count()
    assert rows > 0
    shown = [repr(source), str(ds), ds.stats(), *map(repr, source.get_read_tasks(2))]
    assert all(CANARY not in text for text in shown)
    logs = Path(ray._private.worker._global_node.get_logs_dir_path())
    assert logs.is_dir()
    leaked = [p for p in logs.rglob("*") if p.is_file() and CANARY.encode() in p.read_bytes()]
    assert leaked == []
