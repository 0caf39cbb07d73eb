"""The documentation site builds strict, and its API reference covers exactly the public API.

The site is built once for this module (`mkdocs build --strict`, as `nox -s docs`
does, into a temporary folder: seconds), and its object inventory (`objects.inv`,
the Sphinx format mkdocstrings writes) is read with zlib. Every name in `__all__`
of every public module must have an entry, and nothing else directly under a public
module may, so the reference and `__all__` cannot drift apart. Under xdist the module
runs on one worker (tests/conftest.py), so the site is built once.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import zlib
from pathlib import Path

import pytest

from tests.processes import run

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_MODULES = [
    "zof_async",
    "zof_async.testing",
    "zof_async.otel",
    "zof_async.ray",
    "zof_async.dask",
    "zof_async.dlt",
]
_ENTRY = re.compile(r"^(?P<name>\S+)\s+(?P<domain>\w+):(?P<role>\w+)\s+-?\d+\s+\S+\s+.*$")


def read_inventory(data: bytes) -> dict[str, str]:
    """Names -> roles (`py:class`, `py:function`, ...) of a Sphinx v2 object inventory."""
    header, _, body = data.partition(b"zlib.\n")
    lines = header.decode().splitlines()
    if lines[:1] != ["# Sphinx inventory version 2"] or not body:
        raise ValueError("not a version 2 Sphinx inventory")
    entries = {}
    for line in zlib.decompress(body).decode().splitlines():
        if match := _ENTRY.match(line):
            entries[match["name"]] = f"{match['domain']}:{match['role']}"
    return entries


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The built site's inventory (the build must pass strict: no warning at all)."""
    site = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)]
    done = run(command, cwd=ROOT, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return read_inventory((site / "objects.inv").read_bytes())


def test_the_inventory_reader_reads_what_sphinx_writes() -> None:
    """An inventory made by hand (Sphinx's v2 format) reads back as its names and roles."""
    body = "zof_async.AsyncZof py:class 1 reference/client/#$ -\nx py:module 0 x/ -\n"
    data = b"# Sphinx inventory version 2\n# Project: p\n# Version: 0\n"
    data += b"# The remainder of this file is compressed using zlib.\n" + zlib.compress(
        body.encode()
    )
    assert read_inventory(data) == {"zof_async.AsyncZof": "py:class", "x": "py:module"}
    with pytest.raises(ValueError, match="version 2"):
        read_inventory(b"# Sphinx inventory version 1\n")


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_name_has_a_reference_entry(module: str, inventory: dict[str, str]) -> None:
    """The reference documents each name of the module's `__all__`, and no other name of it."""
    public = set(importlib.import_module(module).__all__)
    submodules = {m.rpartition(".")[2] for m in PUBLIC_MODULES if m.startswith(module + ".")}
    documented = {
        name.removeprefix(module + ".")
        for name in inventory
        if name.startswith(module + ".") and "." not in name.removeprefix(module + ".")
    } - submodules
    assert sorted(public - documented) == [], "public names without a reference entry"
    assert sorted(documented - public) == [], "reference entries that are not public names"


def test_the_resources_a_client_hands_out_are_documented(inventory: dict[str, str]) -> None:
    """`zof.runs`, `zof.results` and `zof.artifacts` have their methods in the reference."""
    for method in (
        "Runs.create",
        "Runs.wait_until_complete",
        "Results.bulk_artifacts",
        "Artifacts.download",
    ):
        assert any(
            name.endswith(f"._resources._{method.split('.')[0].lower()}.{method}")
            for name in inventory
        ), method
