"""Sessions: tests, lint, typing, demo, bench, emulator. `nox -l` lists them."""

from __future__ import annotations

import nox

nox.needs_version = ">=2024.10.9"
nox.options.sessions = ["tests", "lint", "typing"]
nox.options.reuse_venv = "yes"
nox.options.default_venv_backend = "uv|virtualenv"

PYPROJECT = nox.project.load_toml("pyproject.toml")
EXTRAS = ".[testing,cli,aiohttp]"
# The tests also cover the columnar (pyarrow, pandas) and Ray Data extras.
TEST_EXTRAS = ".[testing,cli,aiohttp,pandas,ray]"


@nox.session
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
