"""The Development page's drawing of the layers matches the tree, and its rules hold in the imports.

One import graph of the whole package (every `import`, at module level, in
functions and under `TYPE_CHECKING`), one table of "never" rules read from
the documentation's Development page (docs/development.md, "The layers"), so the
rules a reader sees are the rules that are checked. Plus: no import circle anywhere, and the size limits of
the house (functions of at most 60 lines; complexity is ruff's C901).
"""

from __future__ import annotations

import ast
import fnmatch
import re
from pathlib import Path

import pytest

from tests.processes import run

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "zof_async"
LAYERS = [
    "_distributed",
    "_dlt",
    "_webhooks",
    "_resources",
    "_streaming",
    "_http",
    "_http/_transport",
    "_sync",
]
"""Subpackages whose modules the drawing must name."""


DEVELOPMENT = ROOT / "docs" / "development.md"
"""The documentation's Development page, where the drawing and the table of rules live."""


def _layers_section() -> str:
    page = DEVELOPMENT.read_text()
    return page[page.index("## The layers") :]


def _drawing() -> str:
    section = _layers_section()
    start = section.index("```\nzof_async/")
    return section[start : section.index("```", start + 3)]


def _rules() -> list[tuple[str, list[str], list[str]]]:
    """(layer, module patterns, never-imported patterns) from the Development page's table."""
    rows = []
    for line in _layers_section().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 3 and "`" in cells[1]:
            rows.append(
                (cells[0], re.findall(r"`([^`]+)`", cells[1]), re.findall(r"`([^`]+)`", cells[2]))
            )
    return rows


def _module_name(path: Path) -> str:
    """`_http._pipeline` for zof_async/_http/_pipeline.py; `testing.__init__` for a package's."""
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def _resolve(dotted: str, modules: set[str]) -> str | None:
    """The package's module `dotted` (absolute) names: itself, its `__init__`, or a parent's."""
    if dotted != "zof_async" and not dotted.startswith("zof_async."):
        return None
    relative = dotted.removeprefix("zof_async").removeprefix(".")
    while True:
        for candidate in (relative, f"{relative}.__init__" if relative else "__init__"):
            if candidate in modules:
                return candidate
        if not relative:
            return None
        relative = relative.rpartition(".")[0]


def _targets(node: ast.Import | ast.ImportFrom, module: str, modules: set[str]) -> set[str]:
    """The modules of the package one import statement loads (the most specific of each name)."""
    if isinstance(node, ast.Import):
        named = [alias.name for alias in node.names]
    else:
        base = module
        if node.level:
            base = ".".join(["zof_async", *module.split(".")][: -node.level])
        elif node.module:
            base = node.module
        if node.level and node.module:
            base = f"{base}.{node.module}"
        named = [f"{base}.{alias.name}" for alias in node.names]
    return {found for name in named if (found := _resolve(name, modules)) is not None}


def _graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports, anywhere in its file."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                edges |= _targets(node, name, set(paths))
        graph[name] = edges - {name}
    return graph


def _matches(module: str, pattern: str) -> bool:
    """Whether `module` is `pattern` (a glob), or inside it; `__init__` only by its name."""
    if module.rpartition(".")[2].startswith("__"):  # a door (`__init__`, `__main__`): by name
        return module == pattern
    return fnmatch.fnmatchcase(module, pattern) or module.startswith(pattern + ".")


def _broken(graph: dict[str, set[str]]) -> list[str]:
    broken = []
    for layer, modules, never in _rules():
        for module, targets in sorted(graph.items()):
            if not any(_matches(module, pattern) for pattern in modules):
                continue
            for target in sorted(targets):
                own = any(_matches(target, pattern) for pattern in modules)
                if not own and any(_matches(target, pattern) for pattern in never):
                    broken.append(f"{layer}: {module} imports {target}")
    return broken


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path (its first module repeated at the end), or `None`."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for target in sorted(graph.get(module, ())):
            if found := visit(target, [*path, module]):
                return found
        done.add(module)
        return None

    for module in sorted(graph):
        if found := visit(module, []):
            return found
    return None


def test_the_development_page_names_every_module_of_the_layers() -> None:
    """Every module of the package and its layer subpackages appears in the Development page's drawing."""
    drawn = set(re.findall(r"\b(_?[a-z_0-9]+\.py)\b", _drawing()))
    present = {p.name for p in PACKAGE.glob("*.py")}
    for layer in LAYERS:
        present |= {p.name for p in (PACKAGE / layer).glob("*.py") if p.name != "__init__.py"}
    missing = present - drawn - {"__init__.py"}
    assert not missing, f"not in docs/development.md's drawing: {sorted(missing)}"
    stale = {name for name in drawn - present if name.startswith("_")}
    assert not stale, f"drawn but not in the tree: {sorted(stale)}"


def test_the_development_page_rules_hold_in_the_imports() -> None:
    """No module imports what the Development page's table of layers says its layer never imports."""
    assert len(_rules()) >= 8, "docs/development.md's table of layers was not found"
    assert _broken(_graph()) == []


def test_the_package_has_no_import_circle() -> None:
    """No module imports itself back, through any path, even under `TYPE_CHECKING`."""
    assert _cycle(_graph()) is None


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"_models": {"_http._pipeline"}}, ["ground"]),
        ({"testing._routes": {"_streaming._arrow"}}, ["emulator (public names only)"]),
        ({"_cli._runs_cmd": {"__init__", "_cli._output", "testing.__init__"}}, []),
        ({"_cli._runs_cmd": {"_webhooks._verify"}}, ["cli (public names only)"]),
        ({"testing._routes": {"testing.__init__"}}, ["emulator, below its facade"]),
    ],
)
def test_the_rules_catch_a_broken_one(graph: dict[str, set[str]], expected: list[str]) -> None:
    """A ground module importing _http, or the emulator a private module, is caught."""
    assert [line.split(":")[0] for line in _broken(graph)] == expected
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_function_is_longer_than_60_lines() -> None:
    """Functions of the package fit on a screen (complexity is checked by ruff's C901)."""
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > 60:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines})")
    assert not long, long


def test_no_module_is_longer_than_400_lines() -> None:
    """A file is one named concept: at most about 400 lines."""
    sizes = {p: len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert not [f"{p.relative_to(ROOT)} ({n})" for p, n in sizes.items() if n > 400]


def test_every_test_says_what_it_checks() -> None:
    """Each test function of the suite has a docstring whose first line names its behaviour."""
    missing = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
                "test_"
            ):
                doc = ast.get_docstring(node)
                if not doc or not doc.splitlines()[0].strip():
                    missing.append(f"{path.relative_to(ROOT)}::{node.name}")
    assert not missing, f"tests without a docstring: {missing}"


def test_what_the_demo_writes_is_ignored_by_git() -> None:
    """`nox -s demo` writes ./zof-demo/ in the checkout: git must not offer to commit it."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (an sdist)")
    done = run(["git", "-C", str(ROOT), "check-ignore", "-q", "zof-demo/results.csv"], timeout=60)
    assert done.returncode == 0, "zof-demo/ is missing from .gitignore"
