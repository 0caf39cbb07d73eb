"""Authentication, roles and organization scoping."""

from __future__ import annotations

import httpx
import pytest

from zof_async.testing import Emulator

from .helpers import SMOKE, assert_error

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer nope", "Basic zof_emu_admin_acme", "Bearer zof_emu_revoked_acme"],
)
async def test_bad_credentials_are_401(emulator: Emulator, header: str | None) -> None:
    """A missing, malformed, unknown or revoked key is answered 401 `unauthorized`."""
    async with httpx.AsyncClient(
        base_url="http://zof.test/v1", transport=emulator.transport()
    ) as raw:
        headers = {} if header is None else {"Authorization": header}
        assert_error(await raw.get("/runs", headers=headers), 401, "unauthorized")


@pytest.mark.parametrize(("role", "allowed"), [("viewer", False), ("qa", True), ("admin", True)])
async def test_roles(emulator: Emulator, role: str, allowed: bool) -> None:
    """Viewers may read but not create runs or export; qa and admin may do both."""
    async with emulator.client(getattr(emulator.keys, role)) as http:
        assert (await http.get("/runs")).status_code == 200
        created = await http.post("/runs", json=SMOKE)
        export = await http.post("/results/export", json={"format": "json"})
        if allowed:
            assert created.status_code == 201
            assert (await http.post(f"/runs/{created.json()['id']}/cancel")).status_code == 200
            assert export.status_code == 200
        else:
            assert_error(created, 403, "forbidden")
            assert_error(export, 403, "forbidden")


async def test_other_organizations_ids_are_404(emulator: Emulator, http: httpx.AsyncClient) -> None:
    """Another organization's runs, results and artifacts are 404 and absent from listings."""
    async with emulator.client(emulator.keys.other_org) as globex:
        body = {
            "project_id": "proj_globex",
            "environment": "staging",
            "test_suite_id": "suite_billing",
        }
        emulator.script_next_run(queue_seconds=0, duration_seconds=1)
        run = (await globex.post("/runs", json=body)).json()
        emulator.advance(2)
        run = (await globex.get(f"/runs/{run['id']}")).json()
        result_id = run["case_outcomes"][0]["result_id"]
        artifact = (await globex.get(f"/results/{result_id}/artifacts")).json()["data"][0]
    for path in (
        f"/runs/{run['id']}",
        f"/runs/{run['id']}/logs",
        f"/runs/{run['id']}/artifacts",
        f"/results/{result_id}",
        f"/results/{result_id}/artifacts",
        f"/artifacts/{artifact['id']}/content",
    ):
        assert_error(await http.get(path), 404, "not_found")
    assert_error(await http.post(f"/runs/{run['id']}/cancel"), 404, "not_found")
    assert (await http.get("/results", params={"run_id": run["id"]})).json()["data"] == []
    listed = (await http.get("/runs", params={"limit": 1000})).json()["data"]
    assert run["id"] not in {r["id"] for r in listed}


@pytest.mark.parametrize(
    "path",
    [
        "/runs/..%2F..%2Fresults",
        "/runs/a%2Fb",
        "/results/%2e%2e",
        "/runs/%ff%fe",
        "/nope",
        "/runs/x/y/z",
    ],
)
async def test_odd_paths_are_404_not_500(http: httpx.AsyncClient, path: str) -> None:
    """Encoded traversal, bad UTF-8 and unknown paths are a JSON 404, never a 500."""
    response = await http.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_wrong_method_is_405_with_allow(http: httpx.AsyncClient) -> None:
    """A method a path does not take is 405 with an Allow header naming those it does."""
    response = await http.delete("/runs")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert (await http.get("/results/export")).headers["allow"] == "POST"


async def test_every_response_has_a_request_id(emulator: Emulator, http: httpx.AsyncClient) -> None:
    """Every response, success or error, carries its own distinct x-request-id."""
    responses = [
        await http.get("/runs"),
        await http.get("/nope"),
        await http.post("/runs", json={}),
    ]
    ids = {r.headers["x-request-id"] for r in responses}
    assert len(ids) == 3
