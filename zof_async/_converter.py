"""The one cattrs converter that turns API JSON into models.

Unknown fields are ignored (the API adds fields over time), unknown enum
values become pseudo-members (see `_models`), and any mismatch surfaces as
`APIResponseValidationError` naming the response, never as a `KeyError`
from deep inside.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import cattrs
import httpx

from . import _rfc3339 as rfc3339
from ._exceptions import APIResponseValidationError
from ._http._redact import Redactor
from ._models import Page, Run, _OpenEnum
from ._webhooks._events import RunCompletedEvent, UnknownWebhookEvent, WebhookEvent

T = TypeVar("T")

converter = cattrs.Converter(forbid_extra_keys=False, detailed_validation=True)


def _structure_datetime(value: Any, _: type) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"expected an RFC 3339 string, got {type(value).__name__}")
    return rfc3339.parse(value)


def _structure_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _structure_int(value: Any, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _structure_enum(value: Any, cls: type[_OpenEnum]) -> _OpenEnum:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return cls(value)


converter.register_structure_hook(datetime, _structure_datetime)
# More specific than `str` for singledispatch, so the open enums (str
# subclasses) get their own hook and keep unknown values as pseudo-members.
converter.register_structure_hook(_OpenEnum, _structure_enum)
converter.register_structure_hook(str, _structure_str)
converter.register_structure_hook(int, _structure_int)


def _structure_event(value: Any, _: type) -> WebhookEvent:
    """Dispatch on `type`: known types get their model, others stay open."""
    if not isinstance(value, dict):
        raise TypeError(f"expected an event object, got {type(value).__name__}")
    kind = _structure_str(value.get("type"), str)
    event_id = _structure_str(value.get("id"), str)
    created_at = _structure_datetime(value.get("created_at"), datetime)
    data = value.get("data")
    if kind == "run.completed":
        if not isinstance(data, dict):
            raise TypeError("run.completed needs a 'data' object")
        run = converter.structure(data.get("object"), Run)
        return RunCompletedEvent(id=event_id, type=kind, created_at=created_at, run=run)
    return UnknownWebhookEvent(
        id=event_id, type=kind, created_at=created_at, data=data if isinstance(data, dict) else {}
    )


converter.register_structure_hook(WebhookEvent, _structure_event)


def decode(response: httpx.Response, model: type[T]) -> T:
    """Decode a JSON response body into `model`."""
    try:
        return converter.structure(response.json(), model)
    except Exception as exc:
        error = APIResponseValidationError(_describe(model, exc), response=response)
        error.__cause__ = exc
    raise Redactor.for_request(response._request).exception(error)


def decode_page(response: httpx.Response, model: type[T]) -> Page[T]:
    """Decode a `{"data": [...], "next_cursor": ..., "has_more": ...}` page."""
    try:
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise TypeError("expected an object with a 'data' array")
        cursor = body.get("next_cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise TypeError("next_cursor must be a string or null")
        items = tuple(converter.structure(item, model) for item in body["data"])
        return Page(items=items, next_cursor=cursor or None, has_more=bool(body.get("has_more")))
    except Exception as exc:
        error = APIResponseValidationError(_describe(model, exc, "page of "), response=response)
        error.__cause__ = exc
    raise Redactor.for_request(response._request).exception(error)


def _describe(model: type, exc: Exception, prefix: str = "") -> str:
    name = getattr(model, "__name__", str(model))
    if isinstance(exc, cattrs.ClassValidationError):
        reasons = "; ".join(cattrs.transform_error(exc))
    else:
        reasons = str(exc) or type(exc).__name__
    return f"the response is not a valid {prefix}{name}: {reasons}"
