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
from zof_async.testing import Emulator, SystemClock

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
