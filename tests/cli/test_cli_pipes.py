"""The real `zof` in a shell pipe to `head`: a reader that goes away ends `zof` quietly.

Exit codes mean something in scripts (`set -o pipefail`): 1 a failed run, 2 a
usage error. A closed pipe is neither: `zof` stops writing, says nothing, and
exits with the code it would have had (0; for a wait, the run's outcome),
however fast `head` goes away.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.cli.serving import ZOF, serving
from tests.processes import run
from zof_async.testing import Emulator, RunScript, SystemClock

pytestmark = pytest.mark.served


@pytest.fixture(scope="module")
def served() -> Iterator[Emulator]:
    """The default data set (two weeks of runs), served; `zof` pointed at it."""
    emulator = Emulator(clock=SystemClock(), poll_hint=None)
    with pytest.MonkeyPatch.context() as monkeypatch, serving(emulator, monkeypatch):
        yield emulator


def piped(args: list[str], head: str) -> tuple[int, str]:
    """`zof ARGS | head HEAD` under `set -o pipefail`: zof's exit code and its stderr."""
    script = 'set -o pipefail; "$@" | head ' + head + ' >/dev/null; echo "${PIPESTATUS[0]}"'
    done = run(["bash", "-c", script, "bash", ZOF, *args], timeout=120, env=os.environ.copy())
    return int(done.stdout.strip()), done.stderr


def finished(emulator: Emulator, status: str) -> str:
    """The id of a finished run of the seeded history that ended `status`."""
    return next(r.id for r in emulator.runs_of("org_acme") if r.status == status)


LISTINGS = [
    ["results", "list", "--limit", "3000"],
    ["--json", "results", "list", "--limit", "3000"],
    ["runs", "list", "--limit", "1000"],
    ["--json", "runs", "list", "--limit", "1000"],
    ["--help"],
]


@pytest.mark.parametrize("head", ["-1", "-n 0"])
@pytest.mark.parametrize("args", LISTINGS, ids=" ".join)
def test_a_closed_pipe_ends_a_listing_quietly_with_0(
    served: Emulator, args: list[str], head: str
) -> None:
    """`zof ... | head -1` (and `head -n 0`, which reads nothing) exits 0, silent."""
    assert piped(args, head) == (0, "")


@pytest.mark.parametrize(
    "args",
    [["runs", "logs"], ["runs", "get"], ["--json", "runs", "get"], ["results", "export", "--run"]],
    ids=" ".join,
)
def test_a_closed_pipe_ends_every_command_quietly(served: Emulator, args: list[str]) -> None:
    """Logs, one run, an export to stdout: a reader that is gone is a quiet exit 0."""
    assert piped([*args, finished(served, "passed")], "-n 0") == (0, "")


@pytest.mark.parametrize(("status", "code"), [("passed", 0), ("failed", 1)])
def test_a_closed_pipe_keeps_a_waits_outcome(served: Emulator, status: str, code: int) -> None:
    """`zof runs wait RUN | head` still says how the run ended: 0 passed, 1 failed."""
    assert piped(["runs", "wait", finished(served, status)], "-n 0") == (code, "")


def through(shell: str) -> str:
    """The stdout of a shell line run with `set -e -o pipefail` (`$ZOF` is the real zof)."""
    done = run(["bash", "-e", "-o", "pipefail", "-c", shell], timeout=120, env=_env())
    assert done.returncode == 0, done.stderr
    return done.stdout


def _env() -> dict[str, str]:
    return {**os.environ, "ZOF": ZOF}


def test_one_run_in_a_pipe_is_one_line_with_the_listings_columns(served: Emulator) -> None:
    """`zof runs get RUN | cut -f1` is the id: one object is the same line `runs list` prints."""
    run_id = finished(served, "failed")
    line = through(f'"$ZOF" runs get {run_id}')
    assert line.count("\n") == 1
    assert through(f'"$ZOF" runs get {run_id} | cut -f1') == f"{run_id}\n"
    listing = through('"$ZOF" runs list --limit 1000').splitlines()
    assert line.rstrip("\n") in listing  # id, status, project, environment, created, summary


def test_a_started_runs_id_is_the_first_field(served: Emulator) -> None:
    """`RUN=$(zof runs start ... | cut -f1)` is the run's id; with --wait the status is next."""
    smoke = "--project proj_abc --environment staging --suite suite_pr_smoke"
    run_id = through(f'"$ZOF" runs start {smoke} | cut -f1').strip()
    assert run_id in {r.id for r in served.runs_of("org_acme")}
    served.script_next_run(RunScript(outcome="passed", queue_seconds=0, duration_seconds=0.2))
    fields = through(f'"$ZOF" runs start {smoke} --wait --timeout 60s').rstrip("\n").split("\t")
    assert fields[:2] == [served.runs_of("org_acme")[-1].id, "passed"]


def test_one_result_in_a_pipe_is_one_line_with_the_listings_columns(served: Emulator) -> None:
    """`zof results get RES` in a pipe is the line `results list` prints for it."""
    first = through('"$ZOF" results list --limit 1').rstrip("\n")
    result_id = first.split("\t")[0]
    assert through(f'"$ZOF" results get {result_id}').rstrip("\n") == first
