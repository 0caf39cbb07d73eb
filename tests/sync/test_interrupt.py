"""Ctrl-C during a sync call cancels it in the loop; an unclosed client never hangs the exit.

Each check is a script in a process of its own, interrupted by a real
SIGINT (sent by a timer thread to its own process), as a terminal's Ctrl-C.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.processes import started

PRELUDE = """
import os, signal, threading, time
from zof_async import WaitPolicy, Zof
from zof_async.testing import Emulator, RunScript, SystemClock

emulator = Emulator(data="minimal", clock=SystemClock(), poll_hint=None,
                    run_script=RunScript(queue_seconds=0, duration_seconds=600))
zof = Zof(api_key=emulator.keys.qa, transport=emulator.transport())
run = zof.runs.create(project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke")
"""

INTERRUPTED_WAIT = """
threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
try:
    zof.runs.wait_until_complete(run.id, policy=WaitPolicy(initial_interval=0.05, max_interval=0.05))
except KeyboardInterrupt:
    print("interrupted")
polls = emulator.stats.count(route="/runs/{id}")
time.sleep(0.5)  # ten poll intervals
print("polls after", emulator.stats.count(route="/runs/{id}") - polls)
print("usable", zof.runs.get(run.id).status)
zof.close()
print("threads", sorted(t.name for t in threading.enumerate()))
"""


def run_script(body: str) -> tuple[int, str, str]:
    script = textwrap.dedent(PRELUDE) + textwrap.dedent(body)
    with started(
        [sys.executable, "-W", "error", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        out, err = process.communicate(timeout=60)
        return process.returncode, out, err


def test_ctrl_c_in_a_wait_cancels_it_and_leaves_the_client_usable() -> None:
    """SIGINT during `wait_until_complete`: KeyboardInterrupt, no more polls, the client works."""
    code, out, err = run_script(INTERRUPTED_WAIT)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "interrupted",
        "polls after 0",
        "usable running",
        "threads ['MainThread']",
    ]


def test_a_client_never_closed_does_not_hang_the_interpreters_exit() -> None:
    """A script that forgets `close()` (an open pager too) exits at once, without warnings."""
    code, out, err = run_script(
        'pager = zof.runs.list(page_size=1); next(iter(pager)); print("end")'
    )
    assert (code, out, err) == (0, "end\n", "")
