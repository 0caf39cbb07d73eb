"""The log line of an attempt, with its fields as structured `extra=` attributes."""

from __future__ import annotations

import logging

import anyio
import httpx

from .._exceptions import describe
from .._logging import logger
from .._redact import Redactor
from ._hooks import CallTrace
from ._retry import GiveUp, Retry


def log_attempt(
    redactor: Redactor,
    request: httpx.Request,
    status: int | str,
    response: httpx.Response | None,
    trace: CallTrace,
    decision: Retry | GiveUp | None,
) -> None:
    """One line per attempt: INFO for a failure, DEBUG for a success.

    The record carries the fields as attributes too (`extra=`): `method`,
    `path`, `status` (an int, or the error's type name), `request_id`,
    `attempt` (1 for the first) and `elapsed` (seconds since the attempt
    started), so that a JSON log handler gets fields, not only text. No
    header is logged, and the path and request id are scrubbed of the key.
    """
    failed = not (isinstance(status, int) and status < 400)
    level = logging.INFO if failed else logging.DEBUG
    if not logger.isEnabledFor(level):
        return
    request_id = None if response is None else response.headers.get("x-request-id", "")
    request_id = redactor.text(request_id) if request_id else request_id
    elapsed = anyio.current_time() - trace.sent_at
    fields = {
        "method": request.method,
        "path": redactor.text(request.url.path),
        "status": status,
        "request_id": request_id,
        "attempt": trace.attempt + 1,
        "elapsed": elapsed,
    }
    logger.log(
        level,
        "%s -> %s request_id=%s attempt=%d elapsed=%.3fs%s",
        describe(request),
        status,
        request_id,
        trace.attempt + 1,
        elapsed,
        f" retry_in={decision.delay:.3f}s"
        if isinstance(decision, Retry)
        else f" giving up: {decision.reason}"
        if isinstance(decision, GiveUp)
        else "",
        extra=fields,
    )
