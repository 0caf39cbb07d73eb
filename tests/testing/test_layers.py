"""The emulator's layers: State below, App and routes over it, Emulator on top."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest

import zof_async.testing
from zof_async.testing import Emulator, ManualClock, RunScript, Stats
from zof_async.testing._app import App
from zof_async.testing._seed import seed_default
from zof_async.testing._state import State

from .helpers import SMOKE

PACKAGE = "zof_async.testing"
HERE = Path(zof_async.testing.__file__).parent


def _targets(node: ast.Import | ast.ImportFrom, modules: set[str]) -> set[str]:
    """The package's own modules one import statement names (`__init__` for the package)."""
    if isinstance(node, ast.Import):
        dotted = [alias.name for alias in node.names]
    elif node.level == 1:
        dotted = [f"{PACKAGE}.{node.module}" if node.module else PACKAGE]
    elif node.level == 0 and node.module:
        dotted = [node.module]
    else:
        return set()
    found = set()
    for name in dotted:
        if name != PACKAGE and not name.startswith(PACKAGE + "."):
            continue
        rest = name[len(PACKAGE) + 1 :].split(".")[0] if name != PACKAGE else ""
        if rest:
            found.add(rest)
        elif isinstance(node, ast.ImportFrom):  # `from . import x`: x may be a module
            named = {alias.name for alias in node.names}
            found |= (named & modules) or {"__init__"}
        else:
            found.add("__init__")
    return found


def _import_graph() -> dict[str, set[str]]:
    """Module -> modules of the package it imports anywhere (top level, functions, TYPE_CHECKING)."""
    files = {path.stem: path for path in HERE.glob("*.py")}
    graph = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                edges |= _targets(node, set(files))
        graph[name] = edges - {name}
    return graph


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path (first module repeated at the end), or `None`."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for target in sorted(graph[module]):
            found = visit(target, [*path, module])
            if found:
                return found
        done.add(module)
        return None

    for module in sorted(graph):
        found = visit(module, [])
        if found:
            return found
    return None


def test_graph_sees_the_package_modules() -> None:
    """The import graph covers every module, and finds the known edges (the check is live)."""
    graph = _import_graph()
    assert {"_app", "_routes", "_state", "_emulator", "_seed", "__init__"} <= set(graph)
    assert "_state" in graph["_app"] and "_routes" in graph["_app"]
    assert {"_app", "_state", "_seed"} <= graph["_emulator"]


def test_imports_inside_the_emulator_are_acyclic() -> None:
    """No module of zof_async.testing imports itself back, even under TYPE_CHECKING."""
    assert _cycle(_import_graph()) is None


def test_cycle_finder_finds_a_cycle() -> None:
    """The cycle check reports a cycle when there is one (guards the test above)."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


@pytest.mark.parametrize("module", ["_routes", "_app", "_state", "_seed", "_webhooks"])
def test_lower_layers_never_reach_the_facade(module: str) -> None:
    """Routes, app, state, seed and webhooks import no Emulator, directly or through others."""
    reached = _reachable(_import_graph(), module)
    assert "_emulator" not in reached and "__init__" not in reached
    if module != "_app":
        assert "_app" not in reached


@pytest.mark.anyio
async def test_app_over_a_bare_state_serves_requests() -> None:
    """An App built over a State alone (no Emulator) creates, reads and counts runs."""
    state = State(clock=ManualClock(), seed=3, run_script=RunScript(queue_seconds=0))
    keys = seed_default(state, "minimal")
    transport = httpx.ASGITransport(app=App(state))
    headers = {"Authorization": f"Bearer {keys.qa}"}
    async with httpx.AsyncClient(
        base_url="http://zof.test/v1", transport=transport, headers=headers
    ) as http:
        created = await http.post("/runs", json=SMOKE)
        assert created.status_code == 201, created.text
        run_id = created.json()["id"]
        fetched = await http.get(f"/runs/{run_id}")
        assert fetched.status_code == 200
        assert fetched.json()["id"] == run_id
        assert (await http.get("/runs/run_nope")).status_code == 404
    assert run_id in state.store.runs
    assert state.stats.count(route="/runs") == 1
    assert state.stats.count(route="/runs/{id}") == 2


@pytest.mark.anyio
async def test_state_built_by_hand_is_served() -> None:
    """Data added through State's own builders (no seed) is what the App answers with."""
    state = State()
    state.add_org("org_solo")
    secret = state.add_key("org_solo", "viewer")
    state.add_project("org_solo", "proj_solo", cases=3)
    run = state.add_run("proj_solo")
    async with httpx.AsyncClient(
        base_url="http://zof.test/v1",
        transport=httpx.ASGITransport(app=App(state)),
        headers={"Authorization": f"Bearer {secret}"},
    ) as http:
        page = (await http.get("/runs")).json()
    assert [item["id"] for item in page["data"]] == [run.id]


@pytest.mark.anyio
async def test_replacing_emulator_attributes_reaches_its_app() -> None:
    """Replacing `stats`, `app_url` or `poll_hint` on the Emulator reaches the app at once."""
    emulator = Emulator(data="minimal")
    fresh = Stats()
    emulator.stats = fresh
    emulator.app_url = "http://console.test"
    emulator.poll_hint = None
    async with emulator.client() as http:
        created = await http.post("/runs", json=SMOKE)
        got = await http.get(f"/runs/{created.json()['id']}")
    assert emulator.stats is fresh and fresh.count(route="/runs") == 1
    assert got.json()["url"].startswith("http://console.test")
    assert "retry-after" not in got.headers
