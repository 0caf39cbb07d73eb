"""Each endpoint's Accept, and the Content-Type checked (issue 10, item 2).

The emulator negotiates like a Prism mock of `openapi.yaml` does: an Accept
that excludes the endpoint's answer gets 406. A server that ignores Accept
(respx here) and answers another format must be caught before anything is
parsed or written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
import respx

from tests.helpers import client, run_json
from zof_async import APIResponseValidationError, APIStatusError, AsyncZof, ZofError
from zof_async.testing import Emulator, RunScript

pytestmark = pytest.mark.anyio


async def finished_run(busy: Emulator, zof: AsyncZof) -> str:
    busy.script_next_run(RunScript(outcome="failed", queue_seconds=0, duration_seconds=5))
    run = await zof.runs.create(
        project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
    )
    busy.advance(30)
    return run.id


async def test_every_endpoint_against_a_negotiating_server(
    busy: Emulator, zof: AsyncZof, tmp_path: Path
) -> None:
    """Logs, downloads and both exports against an Accept-checking server: never a 406."""
    run_id = await finished_run(busy, zof)
    async with zof.runs.logs(run_id) as lines:
        received = [line async for line in lines]
    assert "queued with 25 cases" in received[0]
    shots = [a async for a in zof.runs.artifacts(run_id) if a.content_type == "image/png"]
    shot = shots[0]
    assert await zof.artifacts.download(shot, tmp_path / "shot.png") == shot.size_bytes
    assert await zof.results.export_to(tmp_path / "results.csv", format="csv", run_id=run_id)
    assert (tmp_path / "results.csv").read_text().startswith("id,object,run_id,")
    await zof.results.export_to(tmp_path / "results.json", format="json", run_id=run_id)
    assert (tmp_path / "results.json").read_text().startswith("[{")
    listed = [r async for r in zof.results.list(run_id=run_id)]
    for fmt in ("csv", "json"):
        assert [r async for r in zof.results.export_rows(format=fmt, run_id=run_id)] == listed
    assert busy.stats.count(status=406) == 0


async def test_each_request_says_what_it_accepts(router: respx.MockRouter, tmp_path: Path) -> None:
    """Each endpoint sends its own Accept, whatever default_headers says."""
    accepts: dict[str, list[str]] = {}

    def record(response: httpx.Response) -> Any:
        def handler(request: httpx.Request) -> httpx.Response:
            key = f"{request.method} {request.url.path}"
            accepts[key] = request.headers.get_list("accept")
            return response

        return handler

    router.get("/runs/run_1").mock(side_effect=record(httpx.Response(200, json=run_json())))
    router.get("/runs/run_1/logs").mock(side_effect=record(httpx.Response(200, text="a\nb\n")))
    router.get("/artifacts/art_1/content").mock(
        side_effect=record(httpx.Response(200, content=b"\x89PNG", headers={"content-type": "image/png"}))
    )  # fmt: skip
    export = router.post("/results/export")
    async with client(router, default_headers={"Accept": "text/html", "X-Team": "qa"}) as zof:
        await zof.runs.get("run_1")
        assert [line async for line in zof.runs.logs("run_1")] == ["a", "b"]
        await zof.artifacts.download("art_1", tmp_path / "a.png")
        formats: list[tuple[Literal["csv", "json"], str]] = [
            ("csv", "text/csv"),
            ("json", "application/json"),
        ]
        for fmt, media in formats:
            body = b"id,run_id,test_case_id,status,created_at\r\n" if fmt == "csv" else b"[]"
            export.mock(
                side_effect=record(httpx.Response(200, content=body, headers={"content-type": media}))
            )  # fmt: skip
            await zof.results.export_to(tmp_path / f"r.{fmt}", format=fmt)
            assert accepts.pop("POST /v1/results/export") == [media]
    assert accepts == {
        "GET /v1/runs/run_1": ["application/json"],  # the SDK's own, not a default header's
        "GET /v1/runs/run_1/logs": ["text/plain"],
        "GET /v1/artifacts/art_1/content": ["*/*"],
    }


def json_export() -> httpx.Response:
    """What a server ignoring Accept answers to a CSV export: the JSON one."""
    return httpx.Response(
        200, content=b'[{"id": "res_1"}]', headers={"content-type": "application/json", "x-request-id": "req_x"}
    )  # fmt: skip


async def test_an_export_in_another_format_writes_nothing(
    router: respx.MockRouter, tmp_path: Path
) -> None:
    """A JSON answer to a CSV export: validation error; the old file is kept."""
    router.post("/results/export").mock(return_value=json_export())
    target = tmp_path / "results.csv"
    target.write_text("yesterday's export")
    async with client(router) as zof:
        with pytest.raises(APIResponseValidationError, match="asked for text/csv") as caught:
            await zof.results.export_to(target, format="csv")
        assert zof.stats.in_flight == 0
    assert caught.value.request_id == "req_x"
    assert target.read_text() == "yesterday's export"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


async def test_export_rows_in_another_format_is_a_zof_error(router: respx.MockRouter) -> None:
    """export_rows answered in another format: APIResponseValidationError, slot freed."""
    router.post("/results/export").mock(return_value=json_export())
    async with client(router) as zof:
        with pytest.raises(APIResponseValidationError) as caught:
            [r async for r in zof.results.export_rows(format="csv")]
        assert zof.stats.in_flight == 0
    assert caught.value.request_id == "req_x"


@pytest.mark.parametrize(
    ("fmt", "body"),
    [
        ("json", b'{"data": []}'),  # JSON, but not an array
        ("json", b'[{"id": "res_1"'),  # cut short
        ("json", b"[1] 2"),
        ("csv", b"\xff\xfe not utf-8\r\n"),
        ("csv", b"id,duration_ms\r\nres_1,fast\r\n"),  # a row that is not a Result
    ],
)
async def test_an_export_that_does_not_decode_is_a_zof_error(
    router: respx.MockRouter, fmt: Literal["csv", "json"], body: bytes
) -> None:
    """An export body that does not parse, or not to Results: APIResponseValidationError."""
    media = "text/csv" if fmt == "csv" else "application/json"
    router.post("/results/export").mock(
        return_value=httpx.Response(
            200, content=body, headers={"content-type": media, "x-request-id": "req_bad"}
        )
    )
    async with client(router) as zof:
        with pytest.raises(ZofError) as caught:
            [r async for r in zof.results.export_rows(format=fmt)]
    assert isinstance(caught.value, APIResponseValidationError)
    assert caught.value.request_id == "req_bad"


async def test_logs_that_are_not_text_are_refused(router: respx.MockRouter) -> None:
    """Logs answered as JSON: APIResponseValidationError, nothing yielded, slot freed."""
    router.get("/runs/run_1/logs").mock(
        return_value=httpx.Response(200, json={"lines": ["a"]}, headers={"x-request-id": "req_j"})
    )
    async with client(router) as zof:
        with pytest.raises(APIResponseValidationError, match="asked for text/plain") as caught:
            [line async for line in zof.runs.logs("run_1")]
        assert zof.stats.in_flight == 0
    assert caught.value.request_id == "req_j"


async def test_a_406_is_a_status_error_not_retried(router: respx.MockRouter) -> None:
    """A 406: APIStatusError with its code and request id, after one request."""
    route = router.get("/runs/run_1/logs").mock(
        return_value=httpx.Response(
            406,
            json={"error": {"code": "not_acceptable", "message": "no"}},
            headers={"x-request-id": "req_406"},
        )
    )
    async with client(router) as zof:
        with pytest.raises(APIStatusError) as caught:
            [line async for line in zof.runs.logs("run_1")]
    assert caught.value.status_code == 406
    assert caught.value.code == "not_acceptable"
    assert caught.value.request_id == "req_406"
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"<html>busy</html>", "text/html"), (b'{"items": []}', "application/json"), (b"[]", "application/json")],
)  # fmt: skip
async def test_a_page_that_is_not_a_page_is_a_validation_error(
    router: respx.MockRouter, body: bytes, content_type: str
) -> None:
    """A listing answered with HTML, an object without data, or a bare array: validation error."""
    router.get("/runs").mock(
        return_value=httpx.Response(
            200, content=body, headers={"content-type": content_type, "x-request-id": "req_p"}
        )
    )
    async with client(router) as zof:
        with pytest.raises(APIResponseValidationError) as caught:
            [run async for run in zof.runs.list()]
    assert caught.value.request_id == "req_p"
