"""Every error the SDK raises, under one base class.

```
ZofError
├── ConfigurationError           bad client settings (no API key, plain http:// to a remote host)
├── APIConnectionError           no usable HTTP response (refused, reset, not HTTP, truncated)
│   ├── APITimeoutError          an attempt or the call's total deadline timed out (also a TimeoutError)
│   └── ClientClosedError        the client was closed (never retried)
├── APIResponseValidationError   a 2xx body that does not decode into its model
├── APIStatusError               the API answered 4xx/5xx: status_code, code, message, param, request_id
│   ├── BadRequestError          400
│   ├── AuthenticationError      401
│   ├── PermissionDeniedError    403
│   ├── NotFoundError            404
│   ├── ConflictError            409
│   ├── RateLimitError           429, with retry_after
│   └── InternalServerError      5xx
├── PaginationError              a listing whose cursor does not advance
├── WaitTimeoutError             wait_until_complete ran out of time (also a TimeoutError)
└── WebhookVerificationError     a webhook failed a check (.reason says which); never shows the secret
```

No exception text ever contains the API key: messages are built from the
method, the URL (which never carries the key) and the API's error body, and
the client scrubs its key and any echoed `Bearer <token>` from every error it
raises and from the chain of exceptions behind it (`_redact`).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from ._models import Run

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "ArtifactTooLargeError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "ZofError",
]


class ZofError(Exception):
    """Base class of every error raised by zof-async.

    Errors pickle (for multiprocessing, Ray tasks, caches) with their text,
    fields and notes; a request they carry is pickled without its
    `Authorization` header, and a response with the key scrubbed from its
    body and headers, so the bytes never hold the key.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        state = {name: _keyless(value) for name, value in vars(self).items()}
        return (_rebuild, (type(self), self.args, state))


class ConfigurationError(ZofError, ValueError):
    """The client was configured in a way that cannot work or is unsafe."""


class APIConnectionError(ZofError):
    """No usable HTTP response: the connection failed, broke, or the client is closed.

    Attributes:
        request: The request that failed, if one was built.
    """

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.request = request


class APITimeoutError(APIConnectionError, TimeoutError):
    """An attempt timed out, or the call's total deadline ran out.

    Also a `TimeoutError` (as `WaitTimeoutError` is), so `except TimeoutError`
    catches every timeout the SDK raises.
    """


class ClientClosedError(APIConnectionError):
    """The client (or the client a `with_options` copy shares) is closed.

    Never retried, and not a transient fault: open a new client.
    """


class APIResponseValidationError(ZofError):
    """The API answered 2xx, but the body is not what the model needs.

    Attributes:
        response: The response whose body did not decode.
        status_code: Its status.
        request_id: Its `X-Request-Id`, for support.
    """

    def __init__(self, message: str, *, response: httpx.Response) -> None:
        super().__init__(message)
        self.response = response
        self.status_code = response.status_code
        self.request_id: str | None = response.headers.get("x-request-id")


class APIStatusError(ZofError):
    """The API answered with a 4xx or 5xx status.

    Attributes:
        status_code: The HTTP status.
        code: The API's error code (`invalid_request`, `not_found`, ...), if sent.
        message: The API's human-readable message.
        param: The request parameter at fault, for validation errors.
        request_id: The response's `X-Request-Id`, for support escalation.
        response: The full response.
    """

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        self.status_code = response.status_code
        self.code = code
        self.message = message
        self.param = param
        self.request_id: str | None = response.headers.get("x-request-id")
        self.response = response
        where = describe(response.request) if response._request is not None else "request"
        super().__init__(f"{where} -> {self.status_code}: {self.detail}")

    @property
    def detail(self) -> str:
        """`code: message (param: ...) [request_id: ...]`, what the API said, for people."""
        text = f"{self.code}: {self.message}" if self.code else self.message
        if self.param:
            text += f" (param: {self.param})"
        if self.request_id:
            text += f" [request_id: {self.request_id}]"
        return text


class BadRequestError(APIStatusError):
    """400: malformed request or invalid parameter (see `param`)."""


class AuthenticationError(APIStatusError):
    """401: missing, expired, or invalid API key."""


class PermissionDeniedError(APIStatusError):
    """403: the key's role lacks the permission."""


class NotFoundError(APIStatusError):
    """404: unknown id, or an id of another organization."""


class ConflictError(APIStatusError):
    """409: illegal state transition, or an Idempotency-Key reused with another body."""


class RateLimitError(APIStatusError):
    """429: rate limited.

    Attributes:
        retry_after: Seconds the server asked to wait, if it said.
    """

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        code: str | None = None,
        param: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, response=response, code=code, param=param)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """5xx: a transient server fault."""


class ArtifactTooLargeError(ZofError):
    """An artifact's content is larger than the `max_bytes` it was to be read with.

    Raised before the body is read when the size is known (the artifact's
    `size_bytes`, or the answer's `Content-Length`), else as soon as the
    bytes counted pass the limit: never after holding the whole body.

    Attributes:
        artifact_id: The artifact.
        max_bytes: The limit it was read with.
        size: Its size as declared, or `None` when the body declared none.
    """

    def __init__(self, artifact_id: str, *, max_bytes: int, size: int | None) -> None:
        if size is None:
            message = f"artifact {artifact_id}: more than {max_bytes} bytes (max_bytes)"
        else:
            message = f"artifact {artifact_id}: {size} bytes, over max_bytes={max_bytes}"
        super().__init__(message)
        self.artifact_id = artifact_id
        self.max_bytes = max_bytes
        self.size = size


class PaginationError(ZofError):
    """A listing handed back a cursor that does not advance."""


class WaitTimeoutError(ZofError, TimeoutError):
    """`wait_until_complete` reached its timeout before the run finished.

    Attributes:
        run: The last state of the run that was seen, if any.
    """

    def __init__(self, message: str, *, run: Run | None = None) -> None:
        super().__init__(message)
        self.run = run


class WebhookVerificationError(ZofError):
    """A webhook delivery failed verification or could not be parsed.

    Attributes:
        reason: Which check failed: `no_secret`, `invalid_secret`,
            `missing_header`, `invalid_timestamp`, `timestamp_too_old`,
            `timestamp_in_future`, `malformed_signature`, `signature_mismatch`,
            `invalid_payload` or `id_mismatch`.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def _rebuild(cls: type[ZofError], args: tuple[Any, ...], state: dict[str, Any]) -> ZofError:
    """An unpickled error: its class, its args and its fields, without calling `__init__`."""
    error = cls.__new__(cls, *args)
    error.args = args  # OSError's __new__ (WaitTimeoutError is a TimeoutError) drops them
    error.__dict__.update(state)
    return error


def _keyless(value: Any) -> Any:
    """A copy of a request or response for pickling, without the key it was sent with.

    A request loses its `Authorization` header; a response's request too. A
    key the server echoed in a response's body or headers was scrubbed when
    the client raised the error (`Redactor.exception`).
    """
    if isinstance(value, httpx.Request):
        request = copy.copy(value)  # without its stream and extensions, as httpx pickles
        request.headers = httpx.Headers(
            [(k, v) for k, v in value.headers.raw if k.lower() != b"authorization"]
        )
        return request
    if isinstance(value, httpx.Response):
        response = copy.copy(value)
        if value._request is not None:
            response.request = _keyless(value._request)
        return response
    return value


def describe(request: httpx.Request) -> str:
    """`METHOD /raw/path` of a request, ids still percent-encoded, no query."""
    return f"{request.method} {request.url.raw_path.split(b'?')[0].decode('ascii')}"


def transport_error(
    request: httpx.Request, exc: BaseException, *, in_body: bool = False
) -> APIConnectionError:
    """The error for a request that got no usable response, naming the host.

    Timeouts become `APITimeoutError`; everything else a transport raises
    (refused, reset, not HTTP, a cut or undecodable body) `APIConnectionError`.
    The caller chains `exc` as the cause.
    """
    where = f"{describe(request)} on {request.url.netloc.decode('ascii', 'replace')}"
    if in_body:
        where += ": the body was cut off"
    detail = str(exc) or "no detail"
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"{where}: {type(exc).__name__}: {detail}", request=request)
    return APIConnectionError(f"{where}: {type(exc).__name__}: {detail}", request=request)


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def status_error(response: httpx.Response, *, retry_after: float | None = None) -> APIStatusError:
    """Build the right `APIStatusError` subclass from a 4xx/5xx response.

    The body is read leniently: a non-JSON body, or JSON without `error`, still
    gives an error carrying the status and request id.
    """
    code: str | None = None
    param: str | None = None
    message = response.reason_phrase or "error"
    try:
        body: Any = response.json()
    except (ValueError, UnicodeDecodeError, httpx.ResponseNotRead):
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = error["code"] if isinstance(error.get("code"), str) else None
        message = error["message"] if isinstance(error.get("message"), str) else message
        param = error["param"] if isinstance(error.get("param"), str) else None
    status = response.status_code
    if status == 429:
        return RateLimitError(
            message, response=response, code=code, param=param, retry_after=retry_after
        )
    cls = _BY_STATUS.get(status, InternalServerError if status >= 500 else APIStatusError)
    return cls(message, response=response, code=code, param=param)
