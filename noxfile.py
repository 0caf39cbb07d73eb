"""Sessions: tests, lint, typing, demo, bench, emulator. `nox -l` lists them.

`nox -s tests` runs the suite on the oldest and the newest supported Python
(`nox -s tests-3.13 -- -q -x tests/some_file.py` runs one). An interpreter
that is missing is skipped with a message, but is an error under CI (nox's
`--error-on-missing-interpreters`, on when `CI` is set).
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.needs_version = ">=2024.10.9"
nox.options.sessions = ["tests", "lint", "typing"]
nox.options.reuse_venv = "yes"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.download_python = "never"  # no network but PyPI: only this machine's Pythons

PYPROJECT = nox.project.load_toml("pyproject.toml")
EXTRAS = ".[testing,cli,aiohttp]"
# The tests also cover the columnar (pyarrow, pandas) and Ray Data extras.
TEST_EXTRAS = ".[testing,cli,aiohttp,pandas,ray]"
# The oldest (requires-python) and the newest Python the suite must pass on.
TEST_PYTHONS = ["3.10", "3.13"]


def _find_pythons(versions: list[str]) -> None:
    """Put real interpreters for `versions` first on PATH, and never download one.

    pyenv's shims answer `python3.10` with an error unless 3.10 is selected,
    so nox would report it missing: prefer `$PYENV_ROOT/versions/3.10.*/bin`.
    uv must use an interpreter of this machine, never fetch one.
    """
    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = []
    for version in versions:
        candidates = sorted(root.glob(f"{version}.*/bin/python{version}"), key=_patch_level)
        found += [str(path.parent) for path in candidates[-1:]]
    os.environ["PATH"] = os.pathsep.join([*found, os.environ.get("PATH", "")])


def _patch_level(python: Path) -> tuple[int, ...]:
    version = python.parent.parent.name  # versions/3.10.13/bin/python3.10
    return tuple(int(part) if part.isdigit() else -1 for part in version.split("."))


_find_pythons(TEST_PYTHONS)


@nox.session(python=TEST_PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite (pass pytest options after --)."""
    session.install("-e", TEST_EXTRAS, *nox.project.dependency_groups(PYPROJECT, "test"))
    args = session.posargs or ["-q"]
    session.run("pytest", *args)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict on the package."""
    session.install("-e", EXTRAS, *nox.project.dependency_groups(PYPROJECT, "typing"))
    session.run("mypy", "--strict", "zof_async")


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: against the embedded emulator unless ZOF_API_KEY is set."""
    session.install("-e", ".[testing,cli]")
    session.run("zof", "demo", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against peers (pass --quick for the short mode)."""
    session.install("-e", EXTRAS, "matplotlib>=3.8")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session
def emulator(session: nox.Session) -> None:
    """Serve the emulator on 127.0.0.1 for manual use (options after --)."""
    session.install("-e", ".[testing]")
    session.run("python", "-m", "zof_async.testing", *session.posargs)


@nox.session
def bench_ray(session: nox.Session) -> None:
    """Ray Data reads: rows/s with 1, 2, 4 tasks vs one pager (pass --results N)."""
    session.install("-e", ".[testing,ray]")
    session.run("python", "benchmarks/ray_read.py", *session.posargs)
