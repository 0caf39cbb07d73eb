"""Content negotiation (zof-api.md): 406 `not_acceptable` when Accept excludes the answer."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml

import zof_async.testing
from zof_async.testing import Emulator, RunScript
from zof_async.testing._routes import ROUTES

from .helpers import SMOKE, assert_error

OPENAPI = Path(zof_async.testing.__file__).with_name("openapi.yaml")

pytestmark = pytest.mark.anyio


async def finished_run(emulator: Emulator, http: httpx.AsyncClient) -> str:
    emulator.script_next_run(RunScript(outcome="failed", queue_seconds=0, duration_seconds=5))
    response = await http.post("/runs", json=SMOKE)
    assert response.status_code == 201
    emulator.advance(30)
    return str(response.json()["id"])


async def test_logs_answer_text_plain_or_406(emulator: Emulator, http: httpx.AsyncClient) -> None:
    """Logs are text/plain for any Accept allowing it, and 406 for one that excludes it."""
    run_id = await finished_run(emulator, http)
    for accept in ["text/plain", "*/*", "text/*", "application/json, text/plain;q=0.5", None]:
        headers = {} if accept is None else {"Accept": accept}
        response = await http.get(f"/runs/{run_id}/logs", headers=headers)
        assert response.status_code == 200, accept
        assert response.headers["content-type"].startswith("text/plain")
    for accept in ["application/json", "text/csv", "text/plain;q=0", "*/*, text/plain;q=0"]:
        response = await http.get(f"/runs/{run_id}/logs", headers={"Accept": accept})
        assert_error(response, 406, "not_acceptable")


@pytest.mark.parametrize(
    ("fmt", "accept", "status"),
    [
        ("csv", "text/csv", 200),
        ("json", "application/json", 200),
        ("csv", "*/*", 200),
        ("csv", "application/json", 406),
        ("json", "text/csv", 406),
    ],
)
async def test_export_answers_the_format_asked_or_406(
    emulator: Emulator, http: httpx.AsyncClient, fmt: str, accept: str, status: int
) -> None:
    """An export answers its requested format if Accept allows it, else 406."""
    run_id = await finished_run(emulator, http)
    response = await http.post(
        "/results/export", json={"format": fmt, "run_id": run_id}, headers={"Accept": accept}
    )
    if status == 406:
        assert_error(response, 406, "not_acceptable")
    else:
        assert response.status_code == 200
        want = "text/csv" if fmt == "csv" else "application/json"
        assert response.headers["content-type"].split(";")[0] == want


async def test_artifact_content_answers_its_own_type_or_406(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    """Artifact content comes as its own type when accepted, else 406."""
    run_id = await finished_run(emulator, http)
    artifacts = (await http.get(f"/runs/{run_id}/artifacts")).json()["data"]
    shot = next(a for a in artifacts if a["content_type"] == "image/png")
    for accept in ["*/*", "image/png", "image/*"]:
        response = await http.get(f"/artifacts/{shot['id']}/content", headers={"Accept": accept})
        assert response.status_code == 200
        assert response.content.startswith(b"\x89PNG")
    response = await http.get(
        f"/artifacts/{shot['id']}/content", headers={"Accept": "application/json"}
    )
    assert_error(response, 406, "not_acceptable")


async def test_json_endpoints_406_before_doing_anything(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    """A JSON endpoint refuses a non-JSON Accept with 406 and creates nothing."""
    before = len(emulator.runs_of("org_acme"))
    response = await http.post("/runs", json=SMOKE, headers={"Accept": "text/plain"})
    assert_error(response, 406, "not_acceptable")
    assert len(emulator.runs_of("org_acme")) == before, "a refused create must create nothing"
    assert_error(await http.get("/runs", headers={"Accept": "text/csv"}), 406, "not_acceptable")
    for accept in ["application/json", "application/*", "*/*", "application/json; charset=utf-8"]:
        assert (await http.get("/runs", headers={"Accept": accept})).status_code == 200


async def test_errors_are_json_whatever_the_accept(http: httpx.AsyncClient) -> None:
    """A 404 is still the documented JSON error, not a 406."""
    response = await http.get("/runs/run_nope/logs", headers={"Accept": "text/plain"})
    assert_error(response, 404, "not_found")


def test_the_document_names_406_and_the_types_the_emulator_negotiates() -> None:
    """openapi.yaml and the emulator's routes agree on what each operation answers."""
    document = yaml.safe_load(OPENAPI.read_text())
    for route in ROUTES:
        operation = document["paths"][route.template][route.method.lower()]
        assert "406" in operation["responses"], route.template
        success = next(r for s, r in operation["responses"].items() if s.startswith("2"))
        success = (
            document["components"]["responses"][success["$ref"].rsplit("/", 1)[1]]
            if "$ref" in success
            else success
        )
        types = set(success["content"])
        if route.produces is None:  # decided per request: an export's format, an artifact's type
            assert types in ({"text/csv", "application/json"}, {"*/*"}), route.template
        else:
            assert types == {route.produces}, route.template
