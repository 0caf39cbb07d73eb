"""tests/processes.py: children get default signals and never outlive their test."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import run, sigint_ignored, started


@pytest.fixture
def ignoring_sigint() -> Iterator[None]:
    """The suite as `nohup pytest &` starts it: SIGINT ignored (inherited by children)."""
    with sigint_ignored():
        yield


SHOW_SIGNALS = (
    "import signal; "
    "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler, "
    "signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN)"
)


def test_a_child_of_a_suite_ignoring_sigint_has_default_handling(ignoring_sigint: None) -> None:
    """A Python child gets Ctrl-C as KeyboardInterrupt even when the suite ignores SIGINT."""
    done = run([sys.executable, "-c", SHOW_SIGNALS], timeout=60)
    # Python installs its handler only when SIGINT is not ignored at start; it
    # ignores SIGPIPE itself, as always.
    assert done.stdout.split() == ["True", "True"], done.stderr


def test_a_shell_child_gets_sigpipe_back(ignoring_sigint: None) -> None:
    """A non-Python child is not left ignoring SIGPIPE (`yes | head` ends by it)."""
    done = run(["bash", "-c", "yes | head -1; echo ${PIPESTATUS[0]}"], timeout=60)
    assert done.stdout.split() == ["y", str(128 + signal.SIGPIPE)]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_timeout_kills_the_grandchildren_too(tmp_path: Path) -> None:
    """On a timeout the whole process group dies: no `sleep` started by the shell survives."""
    pid_file = tmp_path / "pid"
    script = f"sleep 300 & echo $! > {pid_file}; wait"
    with pytest.raises(subprocess.TimeoutExpired):
        run(["bash", "-c", script], timeout=2)
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def test_leaving_on_a_failure_kills_reaps_and_closes(tmp_path: Path) -> None:
    """An assertion failing inside `started` still leaves no process and no open pipe."""
    with pytest.raises(AssertionError):
        with started(["sleep", "300"], stdout=subprocess.PIPE) as process:
            raise AssertionError("the test failed")
    assert process.returncode == -signal.SIGKILL
    assert process.stdout is not None and process.stdout.closed
