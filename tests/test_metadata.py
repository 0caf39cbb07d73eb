"""What a package index shows about zof-async: pyproject.toml's metadata."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - pytest brings tomli on 3.10
    import tomli as tomllib  # type: ignore[import-not-found]

ROOT = Path(__file__).resolve().parent.parent


def _project() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        project: dict[str, Any] = tomllib.load(file)["project"]
    return project


def test_the_package_names_its_authors_as_the_license_does() -> None:
    """`authors` is set, to the holder the LICENSE names."""
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    names = [author["name"] for author in _project().get("authors", [])]
    assert names, "pyproject.toml has no authors"
    assert all(name in license_text for name in names)
