"""zof-async: the async-first Python SDK for the Zof API.

```python
from zof_async import AsyncZof

async with AsyncZof() as zof:
    run = await zof.runs.create(project_id="proj_abc", environment="staging",
                                test_suite_id="suite_pr_smoke")
```
"""

from ._client import (
    AsyncZof as AsyncZof,
    ClientStats as ClientStats,
)
from ._exceptions import (
    APIConnectionError as APIConnectionError,
    APIResponseValidationError as APIResponseValidationError,
    APIStatusError as APIStatusError,
    APITimeoutError as APITimeoutError,
    ArtifactTooLargeError as ArtifactTooLargeError,
    AuthenticationError as AuthenticationError,
    BadRequestError as BadRequestError,
    ClientClosedError as ClientClosedError,
    ConfigurationError as ConfigurationError,
    ConflictError as ConflictError,
    InternalServerError as InternalServerError,
    NotFoundError as NotFoundError,
    PaginationError as PaginationError,
    PermissionDeniedError as PermissionDeniedError,
    RateLimitError as RateLimitError,
    WaitTimeoutError as WaitTimeoutError,
    WebhookVerificationError as WebhookVerificationError,
    ZofError as ZofError,
)
from ._http._hooks import (
    OnRateLimited as OnRateLimited,
    OnRequest as OnRequest,
    OnResponse as OnResponse,
    OnRetry as OnRetry,
    RequestView as RequestView,
    ResponseView as ResponseView,
)
from ._http._raw_response import RawResponse as RawResponse
from ._http._retry import RetryPolicy as RetryPolicy
from ._models import (
    Artifact as Artifact,
    ArtifactBatch as ArtifactBatch,
    ArtifactDownload as ArtifactDownload,
    ArtifactKind as ArtifactKind,
    CaseOutcome as CaseOutcome,
    CaseStatus as CaseStatus,
    Page as Page,
    Result as Result,
    ResultStatus as ResultStatus,
    Run as Run,
    RunCompletedEvent as RunCompletedEvent,
    RunStatus as RunStatus,
    RunSummary as RunSummary,
    UnknownWebhookEvent as UnknownWebhookEvent,
    WebhookEvent as WebhookEvent,
)
from ._public import name_public_objects as _name_public_objects
from ._resources._options import (
    CallOptions as CallOptions,
    ListingOptions as ListingOptions,
    RequestOptions as RequestOptions,
    ResultFilters as ResultFilters,
)
from ._resources._raw import (
    RawOpening as RawOpening,
    RawPages as RawPages,
)
from ._streaming._arrow import (
    to_arrow as to_arrow,
    to_pandas as to_pandas,
)
from ._streaming._artifact_body import ArtifactBody as ArtifactBody
from ._streaming._fanout import (
    FanOut as FanOut,
    FanOutStats as FanOutStats,
    Outcome as Outcome,
)
from ._streaming._pagination import Pager as Pager
from ._streaming._streams import (
    ByteStream as ByteStream,
    LineStream as LineStream,
)
from ._streaming._waiting import (
    EVENTS_POLICY as EVENTS_POLICY,
    WaitPolicy as WaitPolicy,
)
from ._sync._client import Zof as Zof
from ._version import __version__ as __version__
from ._webhooks._inbox import (
    InboxStats as InboxStats,
    WebhookInbox as WebhookInbox,
    webhooks_asgi_app as webhooks_asgi_app,
)
from ._webhooks._verify import Webhooks as Webhooks

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "Artifact",
    "ArtifactBatch",
    "ArtifactBody",
    "ArtifactDownload",
    "ArtifactKind",
    "ArtifactTooLargeError",
    "AsyncZof",
    "AuthenticationError",
    "BadRequestError",
    "ByteStream",
    "CallOptions",
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
    "ListingOptions",
    "NotFoundError",
    "OnRateLimited",
    "OnRequest",
    "OnResponse",
    "OnRetry",
    "Outcome",
    "Page",
    "Pager",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "RawOpening",
    "RawPages",
    "RawResponse",
    "RequestOptions",
    "RequestView",
    "ResponseView",
    "Result",
    "ResultFilters",
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
    "Zof",
    "ZofError",
    "__version__",
    "to_arrow",
    "to_pandas",
    "webhooks_asgi_app",
]


# The public names are documented (and shown in reprs and tracebacks) as
# `zof_async.X`, not as the private module each is defined in.
_name_public_objects(globals(), __all__)
