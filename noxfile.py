"""Sessions: tests, lint, typing, docs, api_check, demo, bench, emulator, readme, package. `nox -l` lists them.

Every session installs what it imports: a fresh machine needs only nox.
`nox -s tests` runs the whole suite on the newest supported Python and its
in-process part on the oldest (`nox -s tests-3.13 -- -q -x tests/some_file.py`
runs one file). An interpreter that is missing is skipped with a message, but
is an error under CI (nox's `--error-on-missing-interpreters`, on when `CI` is set).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nox

nox.needs_version = ">=2024.10.9"
nox.options.sessions = ["tests", "lint", "typing"]
nox.options.reuse_venv = "yes"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.download_python = "never"  # no network but PyPI: only this machine's Pythons

PYPROJECT = nox.project.load_toml("pyproject.toml")
EXTRAS = ".[testing,cli,aiohttp]"
# The tests also cover the columnar (pyarrow, pandas, DuckDB, polars), Ray Data, Dask
# and dlt extras.
TEST_EXTRAS = ".[testing,cli,aiohttp,pandas,duckdb,polars,ray,dask,dlt,otel]"
# The oldest (requires-python) and the newest Python the suite must pass on.
# The newest runs the whole suite; the oldest all but the tests marked
# `newest_only` (tests/conftest.py: engines, the `zof` command and the emulator
# in other processes, long searches), which drive the same code through other
# processes and take most of the time: CI runs the whole suite once.
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
    """Run the test suite (pass pytest options after --).

    Without options, the suite runs on two pytest-xdist workers a core (at least 4):
    all of it on the newest Python, all but `newest_only` on the others; the Ray
    tests share one worker (tests/conftest.py), so one local Ray starts. With
    options, exactly those (add `-n auto` yourself for a big selection).
    """
    # docs and api: tests/docs/ builds the site and runs the API-break check.
    groups = nox.project.dependency_groups(PYPROJECT, "test", "docs", "api")
    session.install("-e", TEST_EXTRAS, *groups)
    # Two workers a core: much of the suite waits on servers, subprocesses and
    # sleeps, so 4 workers on this 2-core machine took 205 s where 2 took 236 s.
    workers = str(max(4, 2 * (os.cpu_count() or 1)))
    args = session.posargs or ["-q", "-n", workers]
    if not session.posargs and session.python != TEST_PYTHONS[-1]:
        args += ["-m", "not newest_only"]
    session.run("pytest", *args)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict on the package and its tests."""
    session.install("-e", EXTRAS, *nox.project.dependency_groups(PYPROJECT, "typing"))
    session.run("mypy", "--strict", "zof_async", "tests")


DOCS_ENV = {"NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's banner about its successor


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site into site/, strict: any warning fails (mkdocs.yml).

    mkdocstrings reads the package statically, so neither it nor its extras are installed.
    """
    session.install(*nox.project.dependency_groups(PYPROJECT, "docs"))
    session.run("mkdocs", "build", "--strict", *session.posargs, env=DOCS_ENV)


@nox.session
def docs_screenshots(session: nox.Session) -> None:
    """Screenshots of the built site (landing page, an API page) with headless Chromium.

    Needs Debian's `chromium` (`apt-get install chromium`); not run by CI. Writes
    site-screenshots/*.png.
    """
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        session.error("no chromium on PATH: apt-get install chromium")
    session.install(*nox.project.dependency_groups(PYPROJECT, "docs"))
    session.run("mkdocs", "build", "--strict", "--quiet", env=DOCS_ENV)
    out = Path("site-screenshots").resolve()
    out.mkdir(exist_ok=True)
    with _serve(Path("site")) as base_url:
        for name, page in [("landing", ""), ("api-client", "reference/client/")]:
            session.run(
                browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--window-size=1280,1600", f"--screenshot={out / name}.png", base_url + page,
                external=True,
            )  # fmt: skip
    session.log(f"screenshots in {out}")


@contextmanager
def _serve(root: Path) -> Iterator[str]:
    """Serve `root` over HTTP on 127.0.0.1 (a free port) while the block runs."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@nox.session
def api_check(session: nox.Session) -> None:
    """Public API against the last release tag: every break named in CHANGELOG.md.

    `.ci/api_check.py` (griffe); pass `--against REF` after `--` for another base.
    """
    session.install(*nox.project.dependency_groups(PYPROJECT, "api"))
    session.run("python", ".ci/api_check.py", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: against the embedded emulator unless ZOF_API_KEY is set."""
    session.install("-e", ".[testing,cli]")
    session.run("zof", "demo", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against peers (pass --quick for the short mode)."""
    session.install(
        "-e", ".[testing,cli,aiohttp,fast]", *nox.project.dependency_groups(PYPROJECT, "bench")
    )
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session
def emulator(session: nox.Session) -> None:
    """Serve the emulator on 127.0.0.1 for manual use (options after --)."""
    session.install("-e", ".[testing]")
    session.run("python", "-m", "zof_async.testing", *session.posargs)


@nox.session(venv_backend="none")
def readme(session: nox.Session) -> None:
    """The README's fresh-clone commands, in a copy of the repository and a new venv.

    Copies the files git knows (committed or not, minus ignored ones), makes a
    virtualenv with only pip, and runs every block marked
    `<!-- readme-test: fresh-clone -->` there with bash, showing their output as
    it comes: the demo, the test suite, the install line and `nox -s bench --
    --quick`. Any failure, traceback or Python warning fails the session. This
    is CI's one run of the suite (`.ci/run`), so without arguments it insists
    on a block running `nox -s tests`. Pass substrings after `--` to run only
    the blocks containing them (`nox -s readme -- bench`). Takes minutes; with
    `BENCH_SMOKE=1` (CI) the benchmarks run at smoke sizes, in seconds.
    """
    sys.path.insert(0, str(Path(__file__).parent))
    from tests.readme import blocks

    chosen = [b for b in blocks() if "fresh-clone" in b.fixtures]
    if session.posargs:
        chosen = [b for b in chosen if any(arg in b.source for arg in session.posargs)]
    if not chosen:
        session.error("no fresh-clone block of README.md matches")
    if not session.posargs and not any(TEST_COMMAND in b.source for b in chosen):
        session.error(f"no fresh-clone block of README.md runs {TEST_COMMAND!r}")
    workdir = Path(session.create_tmp()).resolve() / "readme"  # PATH needs it absolute
    shutil.rmtree(workdir, ignore_errors=True)
    clone = workdir / "zof-async"
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True, check=True, text=True,
    ).stdout.split("\0")  # fmt: skip
    for name in filter(None, files):
        if Path(name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(name, clone / name)
    venv = workdir / "venv"
    session.run(sys.executable, "-m", "venv", str(venv))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZOF_", "NOX", "VIRTUAL_ENV"))}
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(venv)
    for block in chosen:
        session.log(f"{block.id}:\n{block.source}")
        returncode, found = _run_shown(block.source, cwd=clone, env=env)
        if returncode != 0:
            session.error(f"{block.id} exited {returncode}")
        if found:
            session.error(f"{block.id} printed {found!r}")


TEST_COMMAND = "nox -s tests"
_WARNING = re.compile(r"Traceback|\b\w+Warning\b")


def _run_shown(script: str, *, cwd: Path, env: dict[str, str]) -> tuple[int, str | None]:
    """Run `script` with bash, printing its output as it comes.

    Returns its exit status and the first traceback or warning it printed.
    """
    found = None
    with subprocess.Popen(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    ) as process:  # fmt: skip
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            if found is None and (match := _WARNING.search(line)):
                found = match.group()
    return process.returncode, found


@nox.session
def package(session: nox.Session) -> None:
    """Build the sdist and wheel, `twine check --strict` them, and check their contents.

    The sdist must hold what README.md links to (a package index shows the
    README without the repository) and the LICENSE; the wheel its LICENSE.
    """
    session.install("build>=1.2", "twine>=6.1")
    dist = Path(session.create_tmp()) / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(dist))
    built = sorted(dist.iterdir())
    session.run("twine", "check", "--strict", *map(str, built))
    (sdist,) = (p for p in built if p.name.endswith(".tar.gz"))
    (wheel,) = (p for p in built if p.suffix == ".whl")
    with tarfile.open(sdist) as tar:
        in_sdist = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    with zipfile.ZipFile(wheel) as whl:
        in_wheel = set(whl.namelist())
    text = Path("README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\((?!https?://|#|mailto:)([^)\s#]+)", text))  # anchors dropped
    linked |= set(re.findall(r"`((?:benchmarks|tests|zof_async)/[\w./-]+\.\w+)`", text))
    missing = sorted(p for p in linked | {"LICENSE", "README.md"} if p not in in_sdist)
    if missing:
        session.error(f"README.md names files the sdist lacks: {missing}")
    if not any(name.endswith(".dist-info/licenses/LICENSE") for name in in_wheel):
        session.error("the wheel has no LICENSE")
    if any("/quick/" in name or "__pycache__" in name for name in in_sdist):
        session.error("the sdist holds local leftovers (quick benchmark results, caches)")
    session.log(f"{sdist.name}: {len(in_sdist)} files; {wheel.name}: {len(in_wheel)} files")


@nox.session
def bench_ray(session: nox.Session) -> None:
    """Ray Data reads: rows/s with 1, 2, 4 tasks vs one pager (pass --results N)."""
    session.install("-e", ".[testing,ray]")
    session.run("python", "benchmarks/ray_read.py", *session.posargs)


@nox.session
def bench_dlt(session: nox.Session) -> None:
    """dlt loads of results into DuckDB vs the SDK's pager (pass --results N --rounds R)."""
    session.install("-e", ".[testing,dlt,pyarrow]")
    session.run("python", "benchmarks/dlt_load.py", *session.posargs)


@nox.session
def bench_scale_out(session: nox.Session) -> None:
    """Balanced vs equal-time partitions: sizes and Ray/Dask read times (--results N)."""
    session.install("-e", ".[testing,ray,dask]")
    session.run("python", "benchmarks/scale_out.py", *session.posargs)
