"""The CLI tests' emulator, served on 127.0.0.1, with ZOF_API_KEY and ZOF_BASE_URL set."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from anyio.from_thread import start_blocking_portal

from tests.processes import started
from zof_async.testing import Emulator

# The real `zof` command: the console script installed beside this interpreter.
ZOF = str(Path(sys.executable).with_name("zof"))


@contextmanager
def serving(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Serve `emulator` from a thread and point the `zof` command at it; yield its URL."""
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(emulator.serve()) as base_url,
    ):
        monkeypatch.setenv("ZOF_API_KEY", emulator.keys.qa)
        monkeypatch.setenv("ZOF_BASE_URL", base_url)
        yield base_url


def on_terminal(command: list[str]) -> tuple[int, str]:
    """Run `command` on a pseudo-terminal (120 columns); its exit code and screen."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm-256color"}
    pipes = {"stdin": follower, "stdout": follower, "stderr": follower}
    try:
        with started(command, **pipes, env=env, close_fds=True) as process:
            os.close(follower)
            follower = -1
            screen = _read_screen(leader, process)
            code = process.wait(10)
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    return code, screen.decode(errors="replace")


def _read_screen(leader: int, process: subprocess.Popen[str]) -> bytes:
    """What the process writes to its terminal until it ends (60 s at most)."""
    screen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
        elif process.poll() is not None:
            break
    return screen
