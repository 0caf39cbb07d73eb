"""The `zof_async` logger, and `ZOF_LOG=debug|info` to switch it on.

At INFO the SDK logs retries and failures; at DEBUG one line per attempt:
method, path, status, request id, attempt number, elapsed time and the delay
before any retry. Headers are never logged, so the API key cannot be.
"""

from __future__ import annotations

import logging
import os

logger = logging.getLogger("zof_async")

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}


def setup_from_env() -> None:
    """Attach a stderr handler when `ZOF_LOG` asks for one (once per process)."""
    level = _LEVELS.get(os.environ.get("ZOF_LOG", "").strip().lower())
    if level is None or logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
