"""dlt pipelines into DuckDB files under the test's tmp_path; nothing lands in ~."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.lazy import lazy_or_skip

dlt = lazy_or_skip("dlt", "the dlt extra is not installed")


@pytest.fixture
def make_pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """`make_pipeline(name="zof")`: a dlt pipeline loading into tmp_path/NAME_warehouse.duckdb.

    Its state lives in tmp_path/pipelines, the working directory is tmp_path,
    dlt's data dir is tmp_path/dlt and its telemetry is off.
    """
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")

    def make(name: str = "zof") -> Any:
        return dlt.pipeline(
            pipeline_name=name,
            destination=dlt.destinations.duckdb(str(tmp_path / f"{name}_warehouse.duckdb")),
            dataset_name="zof",
            pipelines_dir=str(tmp_path / "pipelines"),
        )

    return make
