"""The CLI tests' emulator, served on 127.0.0.1, with ZOF_API_KEY and ZOF_BASE_URL set."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from anyio.from_thread import start_blocking_portal

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
