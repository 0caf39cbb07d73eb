"""The emulator's HTTP vocabulary: requests, responses and API errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

JSON = "application/json"


class ApiError(Exception):
    """An error answered in the documented shape `{"error": {...}}`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        param: str | None = None,
        *,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.headers = headers or []

    def response(self) -> Response:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.param is not None:
            error["param"] = self.param
        return Response.json(self.status, {"error": error}, headers=self.headers)


def not_acceptable(media_type: str) -> ApiError:
    return ApiError(
        406,
        "not_acceptable",
        f"this endpoint answers {media_type}, which the Accept header excludes",
    )


def acceptable(accept: str | None, media_type: str) -> bool:
    """Whether an `Accept` header admits `media_type` (RFC 9110 section 12.5.1).

    No header admits anything. Otherwise the most specific range that matches
    (`type/subtype` over `type/*` over `*/*`; parameters such as `charset` are
    not compared) decides: admitted unless its `q` is 0. A type no range
    matches is excluded.
    """
    if accept is None or not accept.strip():
        return True
    wanted = media_type.split(";", 1)[0].strip().lower()
    kind = wanted.split("/", 1)[0]
    best: tuple[int, float] | None = None  # (specificity, q)
    for item in accept.split(","):
        parts = [p.strip() for p in item.split(";")]
        media = parts[0].lower()
        if media == wanted:
            specificity = 2
        elif media == f"{kind}/*":
            specificity = 1
        elif media == "*/*":
            specificity = 0
        else:
            continue
        q = 1.0
        for param in parts[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if best is None or specificity > best[0]:
            best = (specificity, q)
    return best is not None and best[1] > 0


def bad_request(message: str, param: str | None = None) -> ApiError:
    return ApiError(400, "invalid_request", message, param)


def not_found(what: str, param: str | None = None) -> ApiError:
    return ApiError(404, "not_found", f"no such {what}", param)


@dataclass(slots=True)
class Request:
    """What a handler sees of one request."""

    method: str
    path: list[str]
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    base_url: str

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object, or a 400."""
        if not self.body.strip():
            raise bad_request("request body must be a JSON object")
        try:
            value = json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise bad_request("request body is not valid JSON") from None
        if not isinstance(value, dict):
            raise bad_request("request body must be a JSON object")
        return value


@dataclass(slots=True)
class Response:
    """A whole body (`bytes`) or a streamed one (an async iterator)."""

    status: int
    body: bytes | AsyncIterator[bytes]
    content_type: str = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    length: int | None = None

    @classmethod
    def json(
        cls, status: int, value: Any, *, headers: list[tuple[str, str]] | None = None
    ) -> Response:
        body = json.dumps(value, separators=(",", ":")).encode()
        return cls(status, body, JSON, headers or [])
