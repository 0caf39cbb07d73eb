"""zof-async: the async-first Python SDK for the Zof API.

```python
from zof_async import AsyncZof

async with AsyncZof() as zof:
    run = await zof.runs.create(project_id="proj_abc", environment="staging",
                                test_suite_id="suite_pr_smoke")
```
"""

from ._client import AsyncZof, ClientStats
from ._data._arrow import to_arrow, to_pandas
from ._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConfigurationError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PaginationError,
    PermissionDeniedError,
    RateLimitError,
    WaitTimeoutError,
    WebhookVerificationError,
    ZofError,
)
from ._http._aiohttp import aiohttp_transport
from ._http._retry import RetryPolicy
from ._models import (
    Artifact,
    ArtifactBatch,
    ArtifactKind,
    CaseOutcome,
    CaseStatus,
    Page,
    Result,
    ResultStatus,
    Run,
    RunStatus,
    RunSummary,
)
from ._streaming._fanout import FanOut, FanOutStats, Outcome
from ._streaming._pagination import Pager
from ._streaming._streams import ByteStream, LineStream
from ._streaming._waiting import EVENTS_POLICY, WaitPolicy
from ._version import __version__
from ._webhooks._events import RunCompletedEvent, UnknownWebhookEvent, WebhookEvent
from ._webhooks._inbox import InboxStats, WebhookInbox, webhooks_asgi_app
from ._webhooks._verify import Webhooks

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "Artifact",
    "ArtifactBatch",
    "ArtifactKind",
    "AsyncZof",
    "AuthenticationError",
    "BadRequestError",
    "ByteStream",
    "CaseOutcome",
    "CaseStatus",
    "ClientClosedError",
    "ClientStats",
    "ConfigurationError",
    "ConflictError",
    "EVENTS_POLICY",
    "FanOut",
    "FanOutStats",
    "InboxStats",
    "InternalServerError",
    "LineStream",
    "NotFoundError",
    "Outcome",
    "Page",
    "Pager",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "Result",
    "ResultStatus",
    "RetryPolicy",
    "Run",
    "RunCompletedEvent",
    "RunStatus",
    "RunSummary",
    "UnknownWebhookEvent",
    "WaitPolicy",
    "WaitTimeoutError",
    "WebhookEvent",
    "WebhookInbox",
    "WebhookVerificationError",
    "Webhooks",
    "ZofError",
    "__version__",
    "aiohttp_transport",
    "to_arrow",
    "to_pandas",
    "webhooks_asgi_app",
]
