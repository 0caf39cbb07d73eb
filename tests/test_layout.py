"""The README's drawing of the layers matches the tree, and layers only import downwards."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.processes import run

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "zof_async"
LAYERS = ["_data", "_webhooks", "_resources", "_streaming", "_http"]  # high to low
"""Subpackages from the top layer down (`_client` is above them all)."""


def _drawing() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### The layers") :]
    start = section.index("```\nzof_async/")
    return section[start : section.index("```", start + 3)]


def test_the_readme_names_every_module_of_the_layers() -> None:
    """Every module of the package and its layer subpackages appears in the README's drawing."""
    drawn = set(re.findall(r"\b(_?[a-z_0-9]+\.py)\b", _drawing()))
    present = {p.name for p in PACKAGE.glob("*.py")}
    for layer in LAYERS:
        present |= {p.name for p in (PACKAGE / layer).glob("*.py") if p.name != "__init__.py"}
    missing = present - drawn - {"__init__.py"}
    assert not missing, f"not in the README's Development drawing: {sorted(missing)}"
    stale = {name for name in drawn - present if name.startswith("_")}
    assert not stale, f"drawn but not in the tree: {sorted(stale)}"


def _imports(path: Path) -> set[str]:
    """The zof_async modules `path` imports, as dotted names relative to the package."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.startswith("zof_async"):
                found.add(target)
                found |= {f"{target}.{alias.name}" for alias in node.names}
    return found


def test_lower_layers_never_import_higher_ones() -> None:
    """_http imports no resource or streaming code; streaming imports no resource code."""
    higher: dict[str, list[str]] = {
        "_http": ["_resources", "_streaming", "_client", "_webhooks", "_data"],
        "_streaming": ["_resources", "_client", "_data"],
        "_resources": ["_client", "_data"],
    }
    for layer, banned in higher.items():
        for path in (PACKAGE / layer).glob("*.py"):
            for target in _imports(path):
                parts = target.split(".")
                assert len(parts) < 2 or parts[1] not in banned, f"{path.name} imports {target}"


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
