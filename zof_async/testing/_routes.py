"""The API's operations, one handler each, and the table that routes to them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ._content import artifact_content as content_of
from ._export import export_body
from ._listing import listing_id, paginate, parse_statuses, parse_time, single
from ._records import RESULT_STATUSES, RUN_STATUSES, TERMINAL_RUN_STATUSES, Result, Run
from ._state import State
from ._wire import JSON, ApiError, Request, Response, bad_request, not_found


@dataclass(slots=True)
class Ctx:
    """Who is asking, when, and the emulator state they are asking."""

    state: State
    org_id: str
    now: float


Handler = Callable[[Ctx, Request, dict[str, str]], Response]


@dataclass(frozen=True, slots=True)
class Route:
    """One operation. `produces` is its success media type, or `None` when
    the handler decides it (an export as asked, an artifact's own type)."""

    method: str
    template: str
    permission: str | None
    handler: Handler
    produces: str | None = JSON

    @property
    def segments(self) -> list[str]:
        return self.template.strip("/").split("/")


def _run(ctx: Ctx, run_id: str, param: str | None = None) -> Run:
    run = ctx.state.store.runs.get(run_id)
    if run is None or run.org_id != ctx.org_id:
        raise not_found("run", param)
    return run


def _result(ctx: Ctx, result_id: str) -> Result:
    result = ctx.state.store.results.get(result_id)
    if result is None or result.org_id != ctx.org_id:
        raise not_found("result")
    return result


def list_runs(ctx: Ctx, req: Request, _: dict[str, str]) -> Response:
    project_id = single(req.query, "project_id")
    statuses = parse_statuses(req.query.get("status", []), RUN_STATUSES)
    lower = parse_time(single(req.query, "created_after"), "created_after")
    upper = parse_time(single(req.query, "created_before"), "created_before")
    store = ctx.state.store

    def keep(run: Run) -> bool:
        return (project_id is None or run.project_id == project_id) and (
            statuses is None or run.status in statuses
        )

    page = paginate(
        index=store.org_runs[ctx.org_id],
        codec=ctx.state.cursors,
        listing=listing_id(ctx.org_id, "runs", project_id, statuses, lower, upper),
        query=req.query,
        load=lambda key: store.runs[key[1]],
        keep=keep if project_id is not None or statuses is not None else None,
        render=lambda run: run.render(ctx.state.app_url, detail=False),
        lower=lower,
        upper=upper,
    )
    return Response.json(200, page)


_RUN_FIELDS = frozenset({"project_id", "environment", "test_case_ids", "test_suite_id"})


def create_run(ctx: Ctx, req: Request, _: dict[str, str]) -> Response:
    body = req.json_object()
    for name in body:
        if name not in _RUN_FIELDS:
            raise bad_request(f"unknown field {name!r}", name)
    store = ctx.state.store
    project_id = body.get("project_id")
    if not isinstance(project_id, str) or not project_id:
        raise bad_request("project_id is required and must be a string", "project_id")
    environment = body.get("environment")
    if not isinstance(environment, str) or not environment:
        raise bad_request("environment is required and must be a string", "environment")
    project = store.projects.get(project_id)
    if project is None or project.org_id != ctx.org_id:
        raise not_found("project", "project_id")
    allowed = store.orgs[ctx.org_id].environments
    if environment not in allowed:
        raise bad_request(
            f"environment must be one of: {', '.join(sorted(allowed))}", "environment"
        )
    case_ids = body.get("test_case_ids")
    suite_id = body.get("test_suite_id")
    if ("test_case_ids" in body) == ("test_suite_id" in body):
        raise bad_request("provide exactly one of test_case_ids and test_suite_id", "test_case_ids")
    if case_ids is not None:
        if (
            not isinstance(case_ids, list)
            or not case_ids
            or not all(isinstance(c, str) and c for c in case_ids)
        ):
            raise bad_request("test_case_ids must be a non-empty array of ids", "test_case_ids")
        if len(set(case_ids)) != len(case_ids):
            raise bad_request("test_case_ids must not repeat an id", "test_case_ids")
        unknown = [c for c in case_ids if store.case_project.get(c) != project.id]
        if unknown:
            raise ApiError(
                404, "not_found", f"no test case {unknown[0]!r} in this project", "test_case_ids"
            )
        cases = list(case_ids)
    else:
        if not isinstance(suite_id, str) or not suite_id:
            raise bad_request("test_suite_id must be a string", "test_suite_id")
        suite = store.suites.get(suite_id)
        if suite is None or suite.org_id != ctx.org_id or suite.project_id != project.id:
            raise not_found("test suite", "test_suite_id")
        cases = list(suite.case_ids)
    run = ctx.state.lifecycle.start(
        org_id=ctx.org_id,
        project_id=project.id,
        environment=environment,
        test_case_ids=cases if case_ids is not None else None,
        test_suite_id=suite_id,
        cases=cases,
        script=ctx.state.next_script(),
        now=ctx.now,
    )
    return Response.json(201, run.render(ctx.state.app_url, detail=True))


def get_run(ctx: Ctx, _: Request, params: dict[str, str]) -> Response:
    run = _run(ctx, params["id"])
    headers = []
    hint = ctx.state.poll_hint
    if hint is not None and run.status not in TERMINAL_RUN_STATUSES:
        headers.append(("retry-after", str(hint)))
    return Response.json(200, run.render(ctx.state.app_url, detail=True), headers=headers)


def cancel_run(ctx: Ctx, req: Request, params: dict[str, str]) -> Response:
    if req.body.strip():
        body = req.json_object()
        if body:
            raise bad_request(f"unknown field {next(iter(body))!r}", next(iter(body)))
    run = _run(ctx, params["id"])
    if run.status in TERMINAL_RUN_STATUSES:
        raise ApiError(409, "conflict", f"run is already {run.status} and cannot be canceled")
    ctx.state.lifecycle.cancel(run, ctx.now)
    return Response.json(200, run.render(ctx.state.app_url, detail=True))


def run_logs(ctx: Ctx, _: Request, params: dict[str, str]) -> Response:
    lines = list(_run(ctx, params["id"]).logs)

    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(lines), 500):
            yield "".join(f"{line}\n" for line in lines[start : start + 500]).encode()

    return Response(200, stream(), "text/plain; charset=utf-8")


def _artifacts_page(ctx: Ctx, req: Request, scope: str, index_key: str, by_run: bool) -> Response:
    store = ctx.state.store
    index = (store.run_artifacts if by_run else store.result_artifacts)[index_key]
    page = paginate(
        index=index,
        codec=ctx.state.cursors,
        listing=listing_id(ctx.org_id, scope, index_key),
        query=req.query,
        load=lambda key: store.artifacts[key[1]],
        keep=None,
        render=lambda artifact: artifact.render(req.base_url),
    )
    return Response.json(200, page)


def run_artifacts(ctx: Ctx, req: Request, params: dict[str, str]) -> Response:
    run = _run(ctx, params["id"])
    return _artifacts_page(ctx, req, "run_artifacts", run.id, by_run=True)


def result_artifacts(ctx: Ctx, req: Request, params: dict[str, str]) -> Response:
    result = _result(ctx, params["id"])
    return _artifacts_page(ctx, req, "result_artifacts", result.id, by_run=False)


def _status_filter(statuses: frozenset[str] | None) -> Callable[[Result], bool] | None:
    if statuses is None:
        return None
    return lambda result: result.status in statuses


def list_results(ctx: Ctx, req: Request, _: dict[str, str]) -> Response:
    run_id = single(req.query, "run_id")
    statuses = parse_statuses(req.query.get("status", []), RESULT_STATUSES)
    lower = parse_time(single(req.query, "created_after"), "created_after")
    upper = parse_time(single(req.query, "created_before"), "created_before")
    store = ctx.state.store
    index = store.run_results[run_id] if run_id is not None else store.org_results[ctx.org_id]
    if run_id is not None and (run_id not in store.runs or store.runs[run_id].org_id != ctx.org_id):
        index = store.run_results["\0none"]
    page = paginate(
        index=index,
        codec=ctx.state.cursors,
        listing=listing_id(ctx.org_id, "results", run_id, statuses, lower, upper),
        query=req.query,
        load=lambda key: store.results[key[1]],
        keep=_status_filter(statuses),
        render=Result.render,
        lower=lower,
        upper=upper,
    )
    return Response.json(200, page)


def get_result(ctx: Ctx, _: Request, params: dict[str, str]) -> Response:
    return Response.json(200, _result(ctx, params["id"]).render())


_EXPORT_FIELDS = frozenset({"format", "run_id", "status", "created_after", "created_before"})


def export_results(ctx: Ctx, req: Request, _: dict[str, str]) -> Response:
    body = req.json_object()
    for name in body:
        if name not in _EXPORT_FIELDS:
            raise bad_request(f"unknown field {name!r}", name)
    fmt = body.get("format")
    if fmt not in ("csv", "json"):
        raise bad_request("format must be one of: csv, json", "format")
    run_id = body.get("run_id")
    if run_id is not None and not isinstance(run_id, str):
        raise bad_request("run_id must be a string", "run_id")
    raw_status = body.get("status")
    if raw_status is None:
        raw_status = []
    elif isinstance(raw_status, str):
        raw_status = [raw_status]
    if not isinstance(raw_status, list) or not all(isinstance(s, str) for s in raw_status):
        raise bad_request("status must be a string or an array of strings", "status")
    statuses = parse_statuses(raw_status, RESULT_STATUSES)
    lower = parse_time(body.get("created_after"), "created_after")
    upper = parse_time(body.get("created_before"), "created_before")
    state = ctx.state
    if run_id is not None:
        run = state.store.runs.get(run_id)
        index = state.store.run_results[run_id if run and run.org_id == ctx.org_id else "\0none"]
    else:
        index = state.store.org_results[ctx.org_id]
    keep = _status_filter(statuses)

    def pages() -> Iterator[list[dict[str, Any]]]:
        before = None
        while True:
            with state.lock:
                keys = []
                for key in index.newest_first(before=before, lower=lower, upper=upper):
                    keys.append(key)
                    if len(keys) == 500:
                        break
                items = [state.store.results[k[1]] for k in keys]
            if not keys:
                return
            before = keys[-1]
            yield [r.render() for r in items if keep is None or keep(r)]

    return Response(
        200,
        export_body(fmt, pages),
        "text/csv; charset=utf-8" if fmt == "csv" else "application/json",
    )


def artifact_content(ctx: Ctx, _: Request, params: dict[str, str]) -> Response:
    artifact = ctx.state.store.artifacts.get(params["id"])
    if artifact is None or artifact.org_id != ctx.org_id:
        raise not_found("artifact")
    content_type, body = content_of(artifact)
    return Response(200, body, content_type, length=artifact.size_bytes)


ROUTES = (
    Route("GET", "/runs", None, list_runs),
    Route("POST", "/runs", "runs:create", create_run),
    Route("GET", "/runs/{id}", None, get_run),
    Route("POST", "/runs/{id}/cancel", "runs:cancel", cancel_run),
    Route("GET", "/runs/{id}/logs", None, run_logs, "text/plain"),
    Route("GET", "/runs/{id}/artifacts", None, run_artifacts),
    Route("GET", "/results", None, list_results),
    Route("POST", "/results/export", "results:export", export_results, None),
    Route("GET", "/results/{id}", None, get_result),
    Route("GET", "/results/{id}/artifacts", None, result_artifacts),
    Route("GET", "/artifacts/{id}/content", None, artifact_content, None),
)
