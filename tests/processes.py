"""Child processes that tests start, and always clean up.

Every process starts with default SIGINT handling, whatever the suite was
started with: `nohup pytest &`, `make test &` and CI wrappers start it with
SIGINT ignored, which children inherit across `exec`, and a child that ignores
SIGINT cannot be stopped with Ctrl-C (nor tested for it). Each process leads a
process group of its own; leaving `started` (normally, on a failure, on a
timeout, on Ctrl-C) kills that whole group, so a shell's children (`bash -e
script.sh` running `zof ...`) die with it, reaps the child and closes its pipes.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

# Runs first in the child: default SIGINT (and SIGPIPE, SIGXFSZ, which Python
# ignores and exec would pass on), then exec the command (same pid). Portable, and unlike `preexec_fn` safe in a process with threads.
_RESET = (
    "import os, signal, sys; "
    "signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "signal.signal(signal.SIGPIPE, signal.SIG_DFL); "
    "signal.signal(signal.SIGXFSZ, signal.SIG_DFL); "
    "os.execvp(sys.argv[1], sys.argv[1:])"
)


@contextmanager
def sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT here, as `nohup pytest &` starts the suite (children inherit it)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def with_default_signals(command: Sequence[str]) -> list[str]:
    """`command`, started through a prelude that restores default signal handling."""
    return [sys.executable, "-c", _RESET, *command]


@contextmanager
def started(command: Sequence[str], **options: Any) -> Iterator[subprocess.Popen[str]]:
    """`Popen(command, text=True, **options)`, killed with its group and reaped on exit."""
    process: subprocess.Popen[str] = subprocess.Popen(
        with_default_signals(command), text=True, start_new_session=True, **options
    )
    try:
        yield process
    finally:
        kill_group(process)
        process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def kill_group(process: subprocess.Popen[str]) -> None:
    """SIGKILL every process of `process`'s group (it leads one: `start_new_session`)."""
    with suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(process.pid, signal.SIGKILL)


def read_lines(process: subprocess.Popen[str], count: int, *, timeout: float) -> list[str]:
    """The first `count` lines of `process`'s stdout (fewer if it ends or `timeout` passes).

    Reads the pipe's file descriptor directly, so a process that hangs without
    printing cannot hang the test; do not read `process.stdout` as well.
    """
    assert process.stdout is not None
    fd = process.stdout.fileno()
    data = b""
    deadline = time.monotonic() + timeout
    while data.count(b"\n") < count and (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        chunk = os.read(fd, 65536) if ready else b""
        if ready and not chunk:
            break  # the process closed its stdout (it ended)
        data += chunk
    return data.decode(errors="replace").splitlines()[:count]


def run(
    command: Sequence[str], *, timeout: float, input: str | None = None, **options: Any
) -> subprocess.CompletedProcess[str]:
    """Like `subprocess.run(capture_output=True, text=True)`, cleaned up as `started` is.

    Raises `subprocess.TimeoutExpired` after `timeout` seconds, the group killed.
    """
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    if input is not None:
        pipes["stdin"] = subprocess.PIPE
    with started(command, **pipes, **options) as process:
        out, err = process.communicate(input, timeout=timeout)
    return subprocess.CompletedProcess(list(command), process.returncode, out, err)
