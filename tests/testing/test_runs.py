"""Runs: creation, validation, the state machine, cancel, logs, idempotency."""

from __future__ import annotations

import httpx
import pytest

from zof_async.testing import Emulator, RunScript

from .helpers import SMOKE, assert_error

pytestmark = pytest.mark.anyio


async def test_run_moves_from_queued_to_running_to_passed(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    """A run goes queued, running, passed on the clock, with counts and times to match."""
    emulator.script_next_run(outcome="passed", queue_seconds=5, duration_seconds=50)
    created = await http.post("/runs", json=SMOKE)
    assert created.status_code == 201
    run = created.json()
    assert run["status"] == "queued"
    assert run["summary"] == {"total": 25, "passed": 0, "failed": 0, "error": 0, "skipped": 0}
    assert [o["status"] for o in run["case_outcomes"]] == ["pending"] * 25
    assert run["url"].endswith(f"/runs/{run['id']}")

    emulator.advance(4.9)
    assert (await http.get(f"/runs/{run['id']}")).json()["status"] == "queued"
    emulator.advance(25)
    halfway = (await http.get(f"/runs/{run['id']}")).json()
    assert halfway["status"] == "running"
    assert 0 < halfway["summary"]["passed"] < 25
    assert halfway["started_at"] is not None and halfway["completed_at"] is None
    emulator.advance(26)
    done = (await http.get(f"/runs/{run['id']}")).json()
    assert done["status"] == "passed"
    assert done["summary"]["passed"] == 25
    assert all(o["status"] == "passed" and o["result_id"] for o in done["case_outcomes"])
    assert done["completed_at"] >= done["started_at"]


@pytest.mark.parametrize(("outcome", "status"), [("failed", "failed"), ("error", "error")])
async def test_scripted_outcomes(
    emulator: Emulator, http: httpx.AsyncClient, outcome: str, status: str
) -> None:
    """A run scripted to fail or error ends so, with a failing result that has a summary."""
    emulator.script_next_run(RunScript(outcome=outcome, queue_seconds=0, duration_seconds=1))  # type: ignore[arg-type]
    run = (await http.post("/runs", json=SMOKE)).json()
    emulator.advance(2)
    done = (await http.get(f"/runs/{run['id']}")).json()
    assert done["status"] == status
    assert done["summary"][status] == 1
    failing = [o for o in done["case_outcomes"] if o["status"] == status]
    result = (await http.get(f"/results/{failing[0]['result_id']}")).json()
    assert result["status"] == status and result["failure_summary"]


async def test_case_statuses_script_exact_cases(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    """case_statuses sets the outcome of the named cases of a run of explicit cases."""
    emulator.script_next_run(
        case_statuses={"tc_login_002": "skipped"}, outcome="passed", queue_seconds=0
    )
    run = (
        await http.post(
            "/runs",
            json={
                "project_id": "proj_abc123",
                "environment": "qa-eu",
                "test_case_ids": ["tc_login_001", "tc_login_002"],
            },
        )
    ).json()
    emulator.advance(60)
    done = (await http.get(f"/runs/{run['id']}")).json()
    assert done["test_case_ids"] == ["tc_login_001", "tc_login_002"]
    assert done["test_suite_id"] is None
    assert [o["status"] for o in done["case_outcomes"]] == ["passed", "skipped"]
    assert done["status"] == "passed"


async def test_poll_hint_only_while_not_finished(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    """A run carries Retry-After while it is unfinished and none once it ends."""
    emulator.script_next_run(queue_seconds=0, duration_seconds=1)
    run = (await http.post("/runs", json=SMOKE)).json()
    assert (await http.get(f"/runs/{run['id']}")).headers["retry-after"] == "2"
    emulator.advance(2)
    assert "retry-after" not in (await http.get(f"/runs/{run['id']}")).headers


async def test_cancel_then_cancel_again_is_409(emulator: Emulator, http: httpx.AsyncClient) -> None:
    """Canceling a run makes it canceled for good; canceling it again is 409."""
    run = (await http.post("/runs", json=SMOKE)).json()
    canceled = await http.post(f"/runs/{run['id']}/cancel")
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled"
    emulator.advance(3600)
    assert (await http.get(f"/runs/{run['id']}")).json()["status"] == "canceled"
    assert_error(await http.post(f"/runs/{run['id']}/cancel"), 409, "conflict")


async def test_cancel_of_finished_run_is_409(emulator: Emulator, http: httpx.AsyncClient) -> None:
    """Canceling a run that has already finished is 409 `conflict`."""
    emulator.script_next_run(queue_seconds=0, duration_seconds=1)
    run = (await http.post("/runs", json=SMOKE)).json()
    emulator.advance(5)
    assert_error(await http.post(f"/runs/{run['id']}/cancel"), 409, "conflict")


async def test_logs_are_plain_text_lines_that_grow(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    """A run's logs are plain text that gains a line per case as the run goes on."""
    emulator.script_next_run(queue_seconds=1, duration_seconds=10)
    run = (await http.post("/runs", json=SMOKE)).json()
    first = await http.get(f"/runs/{run['id']}/logs")
    assert first.headers["content-type"].startswith("text/plain")
    assert len(first.text.splitlines()) == 1
    emulator.advance(20)
    lines = (await http.get(f"/runs/{run['id']}/logs")).text.splitlines()
    assert len(lines) == 1 + 1 + 25 + 1  # queued, started, one per case, finished
    assert "started" in lines[1] and "tc_proj_abc_" in lines[2]


async def test_artifacts_of_results_and_their_content(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    """A failed result's artifacts list and download with their stated type and size."""
    emulator.script_next_run(outcome="failed", queue_seconds=0, duration_seconds=1)
    run = (await http.post("/runs", json=SMOKE)).json()
    emulator.advance(2)
    done = (await http.get(f"/runs/{run['id']}")).json()
    failed = next(o for o in done["case_outcomes"] if o["status"] == "failed")
    page = (await http.get(f"/results/{failed['result_id']}/artifacts")).json()
    kinds = sorted(a["kind"] for a in page["data"])
    assert kinds == ["log", "screenshot", "trace"]
    shot = next(a for a in page["data"] if a["kind"] == "screenshot")
    assert shot["download_url"] == f"http://zof.test/v1/artifacts/{shot['id']}/content"
    content = await http.get(f"/artifacts/{shot['id']}/content")
    assert content.headers["content-type"] == "image/png"
    assert len(content.content) == shot["size_bytes"] == int(content.headers["content-length"])
    assert content.content.startswith(b"\x89PNG")
    assert (await http.get(f"/artifacts/{shot['id']}/content")).content == content.content
    run_artifacts = (await http.get(f"/runs/{run['id']}/artifacts", params={"limit": 1000})).json()
    assert {a["kind"] for a in run_artifacts["data"]} == {"log", "screenshot", "trace", "export"}


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"environment": "staging", "test_suite_id": "suite_pr_smoke"}, 400, "project_id"),
        ({"project_id": "proj_abc", "test_suite_id": "suite_pr_smoke"}, 400, "environment"),
        ({**SMOKE, "environment": "moon"}, 400, "environment"),
        ({**SMOKE, "environment": 3}, 400, "environment"),
        ({**SMOKE, "test_case_ids": ["tc_proj_abc_00001"]}, 400, "test_case_ids"),
        ({"project_id": "proj_abc", "environment": "staging"}, 400, "test_case_ids"),
        (
            {"project_id": "proj_abc", "environment": "staging", "test_case_ids": []},
            400,
            "test_case_ids",
        ),
        (
            {"project_id": "proj_abc", "environment": "staging", "test_case_ids": "tc"},
            400,
            "test_case_ids",
        ),
        (
            {"project_id": "proj_abc", "environment": "staging", "test_case_ids": [1]},
            400,
            "test_case_ids",
        ),
        ({**SMOKE, "test_suite_id": None}, 400, "test_suite_id"),
        ({**SMOKE, "colour": "red"}, 400, "colour"),
        ({**SMOKE, "project_id": "proj_nope"}, 404, "project_id"),
        ({**SMOKE, "project_id": "proj_globex"}, 404, "project_id"),
        ({**SMOKE, "test_suite_id": "suite_nope"}, 404, "test_suite_id"),
        (
            {"project_id": "proj_abc", "environment": "staging", "test_case_ids": ["tc_nope"]},
            404,
            "test_case_ids",
        ),
    ],
)
async def test_create_validation(
    http: httpx.AsyncClient, body: dict[str, object], status: int, param: str
) -> None:
    """Each missing, wrong or unknown field of a create is 400 or 404 naming it."""
    code = "invalid_request" if status == 400 else "not_found"
    assert_error(await http.post("/runs", json=body), status, code, param)


@pytest.mark.parametrize("raw", [b"{", b"[]", b"", b"null", b'"x"', b"\xff\xfe"])
async def test_malformed_bodies_are_400(http: httpx.AsyncClient, raw: bytes) -> None:
    """A create body that is not a JSON object is 400 `invalid_request`."""
    response = await http.post("/runs", content=raw, headers={"content-type": "application/json"})
    assert_error(response, 400, "invalid_request")


async def test_oversized_body_is_400(http: httpx.AsyncClient) -> None:
    """A create body over 1 MiB is 400 `invalid_request`."""
    response = await http.post("/runs", content=b" " * (1024 * 1024 + 1))
    assert_error(response, 400, "invalid_request")


async def test_idempotent_replay(emulator: Emulator, http: httpx.AsyncClient) -> None:
    """A repeated Idempotency-Key replays the first run for 24 h; another body is 409."""
    headers = {"Idempotency-Key": "ci-build-42"}
    first = await http.post("/runs", json=SMOKE, headers=headers)
    again = await http.post("/runs", json=dict(reversed(SMOKE.items())), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.json() == first.json()
    assert len(emulator.runs_of("org_acme")) == 1
    assert_error(
        await http.post("/runs", json={**SMOKE, "environment": "production"}, headers=headers),
        409,
        "conflict",
    )
    emulator.advance(24 * 3600 + 1)
    later = await http.post("/runs", json=SMOKE, headers=headers)
    assert later.status_code == 201 and later.json()["id"] != first.json()["id"]


async def test_idempotency_is_per_organization(emulator: Emulator, http: httpx.AsyncClient) -> None:
    """The same Idempotency-Key in two organizations creates two runs."""
    headers = {"Idempotency-Key": "shared", "Authorization": f"Bearer {emulator.keys.other_org}"}
    body = {"project_id": "proj_globex", "environment": "staging", "test_suite_id": "suite_billing"}
    assert (await http.post("/runs", json=body, headers=headers)).status_code == 201
    response = await http.post("/runs", json=SMOKE, headers={"Idempotency-Key": "shared"})
    assert response.status_code == 201
    assert "idempotent-replayed" not in response.headers


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "tab\there"])
async def test_bad_idempotency_keys(http: httpx.AsyncClient, key: str) -> None:
    """An empty, overlong, non-ASCII or control-character Idempotency-Key is 400."""
    headers = {b"Idempotency-Key": key.encode()}
    response = await http.post("/runs", json=SMOKE, headers=headers)
    assert_error(response, 400, "invalid_request", "Idempotency-Key")
