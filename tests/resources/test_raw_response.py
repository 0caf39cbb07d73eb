"""`with_raw_response` and page request ids, through the real client on the emulator."""

from __future__ import annotations

import inspect
from pathlib import Path

import httpx
import pytest
import respx

from tests.helpers import BASE, KEY, SMOKE, client as helpers_client
from tests.resources.seam import Seam, client, emulator_with_runs
from zof_async import AsyncZof

pytestmark = pytest.mark.anyio


MANY_POLLS = {"runs.wait_until_complete"}  # its run comes from many polls, or a webhook


async def test_request_id_on_success_is_the_servers() -> None:
    """A created run's RawResponse carries the X-Request-Id the emulator sent, and its status."""
    emulator, _ = await emulator_with_runs()
    seam = Seam(emulator)
    async with client(seam, emulator) as zof:
        raw = await zof.runs.with_raw_response.create(**SMOKE)
    assert raw.request_id == seam.request_ids[-1]
    assert raw.status_code == 201
    assert raw.headers["x-request-id"] == raw.request_id
    assert raw.parsed.project_id == "proj_abc"
    assert not raw.idempotent_replayed


async def test_a_replayed_create_says_so() -> None:
    """The same Idempotency-Key twice: one run, and the second answer is marked replayed."""
    emulator, _ = await emulator_with_runs()
    async with client(Seam(emulator), emulator) as zof:
        before = len(emulator.runs_of("org_acme"))
        create = zof.runs.with_raw_response.create
        first = await create(**SMOKE, idempotency_key="ci-7")
        again = await create(**SMOKE, idempotency_key="ci-7")
    assert not first.idempotent_replayed
    assert again.idempotent_replayed
    assert again.parsed.id == first.parsed.id
    assert len(emulator.runs_of("org_acme")) == before + 1


@pytest.mark.usefixtures("no_backoff")
@pytest.mark.parametrize("failures", [0, 1, 3])
async def test_retries_taken_counts_what_the_server_saw(failures: int) -> None:
    """Emulator faults: retries_taken + 1 is the number of POST /runs the emulator served."""
    emulator, _ = await emulator_with_runs()
    if failures:
        emulator.faults.fail_next(failures, status=503, method="POST", route="/runs")
    async with client(Seam(emulator), emulator, max_retries=5) as zof:
        raw = await zof.runs.with_raw_response.create(**SMOKE)
    assert raw.retries_taken == failures
    assert emulator.stats.count(method="POST", route="/runs") == failures + 1
    assert raw.elapsed >= 0


async def test_every_raw_method_reports_its_answer(tmp_path: Path) -> None:
    """get, cancel, results.get, export_to and download: status and the server's request id."""
    emulator, ids = await emulator_with_runs()
    seam = Seam(emulator)
    async with client(seam, emulator) as zof:
        run = await zof.runs.with_raw_response.get(ids.finished_run)
        canceled = await zof.runs.with_raw_response.cancel(ids.queued_run)
        result = await zof.results.with_raw_response.get(ids.result)
        export = await zof.results.with_raw_response.export_to(tmp_path / "r.csv")
        download = await zof.artifacts.with_raw_response.download(ids.artifact, tmp_path / "a")
    assert run.parsed.id == ids.finished_run
    assert canceled.parsed.status.value == "canceled"
    request_ids = [run.request_id, canceled.request_id, result.request_id]
    request_ids += [export.request_id, download.request_id]
    assert request_ids == seam.request_ids
    statuses = {run.status_code, canceled.status_code, result.status_code}
    assert statuses | {export.status_code, download.status_code} == {200}
    assert export.parsed == (tmp_path / "r.csv").stat().st_size
    assert download.parsed == (tmp_path / "a").stat().st_size


async def test_pages_and_pagers_expose_each_pages_request_id() -> None:
    """Page.request_id and Pager.last_request_id are the X-Request-Id of that page's answer."""
    emulator, ids = await emulator_with_runs()
    seam = Seam(emulator)
    async with client(seam, emulator) as zof:
        pages = zof.results.list(run_id=ids.finished_run, page_size=10, prefetch=0)
        seen = [page.request_id async for page in pages.pages()]
        pager = zof.results.list(run_id=ids.finished_run, page_size=10, prefetch=0)
        assert pager.last_request_id is None
        await pager.__anext__()
        first_page_id = pager.last_request_id
    assert len(seen) >= 2
    assert seen == seam.request_ids[: len(seen)]
    assert first_page_id == seam.request_ids[-1]


def test_every_single_answer_method_has_a_raw_twin() -> None:
    """Each coroutine method of each resource (but multi-poll waits) is in with_raw_response."""
    zof = AsyncZof(api_key="zof_test_key", base_url="http://127.0.0.1:9/v1")
    for name, resource in vars(zof).items():
        raw = getattr(resource, "with_raw_response", None)
        if name.startswith("_") or raw is None:
            continue
        for attr, method in inspect.getmembers(resource, inspect.iscoroutinefunction):
            if attr.startswith("_") or f"{name}.{attr}" in MANY_POLLS:
                continue
            twin = getattr(raw, attr, None)
            assert twin is not None, f"{name}.with_raw_response lacks {attr}"
            expected = inspect.signature(method)
            returned = f"RawResponse[{expected.return_annotation}]"
            assert inspect.signature(twin) == expected.replace(return_annotation=returned)


async def test_concurrent_raw_calls_each_report_their_own_answer() -> None:
    """Many raw calls at once through one view: each RawResponse is its own call's."""
    import anyio

    emulator, _ = await emulator_with_runs()
    seam = Seam(emulator)
    async with client(seam, emulator) as zof:
        runs = [await zof.runs.create(**SMOKE) for _ in range(5)]
        view = zof.runs.with_raw_response
        got: dict[str, str | None] = {}

        async def fetch(run_id: str) -> None:
            raw = await view.get(run_id)
            got[raw.parsed.id] = raw.request_id

        async with anyio.create_task_group() as tg:
            for run in runs:
                tg.start_soon(fetch, run.id)
    assert set(got) == {run.id for run in runs}
    assert len(set(got.values())) == 5  # five answers, five request ids
    assert set(got.values()) <= set(seam.request_ids)


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ([b"req_1"], "req_1"),
        ([b"req_1", b"req_2"], "req_1, req_2"),
        (["req_é".encode()], "req_é"),
        ([b"req_" + KEY.encode()], "req_<redacted>"),
    ],
)
async def test_a_pages_request_id_reads_as_httpx_reads_the_header(
    respx_mock: respx.MockRouter, sent: list[bytes], read: str
) -> None:
    """Page.request_id: repeated values joined, UTF-8 decoded, the key scrubbed."""
    page: dict[str, object] = {"data": [], "next_cursor": None, "has_more": False}
    headers = [(b"content-type", b"application/json"), *((b"x-request-id", v) for v in sent)]
    respx_mock.get(f"{BASE}/results").mock(
        return_value=httpx.Response(200, headers=headers, json=page)
    )
    async with helpers_client(respx_mock) as zof:
        pages = [p async for p in zof.results.list(prefetch=0).pages()]
    assert [p.request_id for p in pages] == [read]
