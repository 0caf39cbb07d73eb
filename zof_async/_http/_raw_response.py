"""What a successful call's answer said besides its body: `RawResponse`.

A `with_raw_response` method runs the ordinary method on a copy of its
resource that names a `Capture` in every call's options (`Call.capture`);
the pipeline, at the end of each successful call (`Pipeline._run`), hands
its `CallTrace` to it. So the metadata of any method comes for free, without
changing what the method returns by default, and a call without a capture
costs one attribute test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Generic, TypeVar

import anyio
import attrs

from ._hooks import CallTrace, frozen_headers

if TYPE_CHECKING:
    from .._redact import Redactor

__all__ = ["Capture", "RawResponse"]

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class RawResponse(Generic[T]):
    """A method's value, with what the answer said besides its body.

    ```python
    raw = await zof.runs.with_raw_response.create(...)
    run = raw.parsed
    raw.request_id, raw.idempotent_replayed, raw.retries_taken
    ```

    Attributes:
        parsed: What the method returns by default (the `Run`, `Result`...).
        status_code: The HTTP status of the successful answer.
        headers: Its headers, lower-cased and read-only (rate-limit headers
            included), scrubbed of the API key.
        request_id: Its `X-Request-Id`, for support escalation.
        idempotent_replayed: Whether the server replayed the first answer to
            this `Idempotency-Key` (`Idempotent-Replayed: true`): the run was
            not created again.
        retries_taken: Attempts before the successful one (0: the first
            attempt succeeded), so the server saw `retries_taken + 1` requests.
        elapsed: Seconds the call took, retries and backoff included, until
            its value was ready: for `export_to`, until the export's answer
            began (its body is then written); for `download` and `read`, with
            the transfer; for a stream (`open`, `logs`, `export`), until its
            answer began; for a page, that page's call.
    """

    parsed: T
    status_code: int
    headers: Mapping[str, str]
    request_id: str | None
    idempotent_replayed: bool
    retries_taken: int
    elapsed: float


class Capture:
    """Collects the trace of the last successful call made in its context."""

    __slots__ = ("elapsed", "redactor", "trace")

    def __init__(self) -> None:
        self.trace: CallTrace | None = None
        self.redactor: Redactor | None = None
        self.elapsed = 0.0

    def record(self, trace: CallTrace, redactor: Redactor) -> None:
        """A call succeeded: its trace (with the response) is the one to report."""
        self.trace = trace
        self.redactor = redactor
        self.elapsed = anyio.current_time() - trace.started

    def result(self, value: T) -> RawResponse[T]:
        trace, redactor = self.trace, self.redactor
        if trace is None or trace.response is None or redactor is None:
            raise RuntimeError("the method sent no request: there is no response to report")
        response = trace.response
        headers = frozen_headers(response.headers, redactor)
        return RawResponse(
            parsed=value,
            status_code=response.status_code,
            headers=headers,
            request_id=headers.get("x-request-id"),
            idempotent_replayed=headers.get("idempotent-replayed", "").lower() == "true",
            retries_taken=trace.retries_taken,
            elapsed=self.elapsed,
        )
