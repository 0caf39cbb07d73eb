"""The one cattrs converter that turns API JSON into models.

Unknown fields are kept in the model's `extra` (the API adds fields over
time; see `_models`), unknown enum
values become pseudo-members (see `_models`), and any mismatch surfaces as
`APIResponseValidationError` naming the response, never as a `KeyError`
from deep inside.

Responses are decoded twice over only when they are wrong: first by a twin
converter without cattrs' detailed validation (its generated functions skip
the per-field bookkeeping, and are looked up once per model), and only if that
fails again by `converter`, whose errors name every bad field. JSON goes
through orjson when it is installed (the `fast` extra) and the standard
library otherwise, or when orjson refuses a body the standard library takes
(a BOM, a huge integer, NaN).
"""

from __future__ import annotations

import functools
import importlib
import json
import re
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import attrs
import httpx

from . import _rfc3339 as rfc3339
from ._exceptions import APIResponseValidationError
from ._models import (
    Page,
    Run,
    RunCompletedEvent,
    UnknownWebhookEvent,
    WebhookEvent,
    _FrozenObject,
    _JSONModel,
    _OpenEnum,
)
from ._redact import Redactor

T = TypeVar("T")

if TYPE_CHECKING:
    import cattrs

    converter: cattrs.Converter  # made on first use: see `__getattr__`

# The shape the API sends: UTC, whole or microsecond seconds. For it (checked
# whole), `fromisoformat` gives what `rfc3339.parse` does, in a fifth of the time.
_UTC_SECONDS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{6})?Z", re.ASCII)
_FROMISOFORMAT_TAKES_Z = sys.version_info >= (3, 11)  # and gives `timezone.utc` for it


def _structure_datetime(value: Any, _: type) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"expected an RFC 3339 string, got {type(value).__name__}")
    if _UTC_SECONDS.fullmatch(value):
        try:
            if _FROMISOFORMAT_TAKES_Z:  # the same datetime, UTC, without the slice and replace
                parsed = datetime.fromisoformat(value)
            else:
                parsed = datetime.fromisoformat(value[:-1]).replace(tzinfo=timezone.utc)
        except ValueError:
            pass  # a leap second or a day that does not exist: rfc3339 says which
        else:  # written with microseconds, it is written back as it came
            return parsed if len(value) == 27 else rfc3339.keep_text(parsed, value)
    # Written another way, the time remembers how, for `to_dict()`.
    return rfc3339.keep_text(rfc3339.parse(value), value)


def _structure_optional_str(value: Any, _: Any) -> str | None:
    """`str | None` in one call (cattrs would wrap `_structure_str` in its Optional hook)."""
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _structure_optional_int(value: Any, _: Any) -> int | None:
    """`int | None` in one call, as `_structure_optional_str`."""
    if value is None:
        return None
    return _structure_int(value, int)


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
    # A documented value: the member itself, as `cls(value)` would look it up.
    member = cls._value2member_map_.get(value)
    return cls(value) if member is None else member  # type: ignore[return-value]


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
        run = _converters()[0].structure(data.get("object"), Run)
        return RunCompletedEvent(id=event_id, type=kind, created_at=created_at, run=run)
    return UnknownWebhookEvent(
        id=event_id, type=kind, created_at=created_at, data=data if isinstance(data, dict) else {}
    )


@functools.cache
def _converters() -> tuple[cattrs.Converter, cattrs.Converter]:
    """`converter`, and its twin without detailed validation, made once on first use.

    cattrs takes longer to import than the rest of the SDK: a program that
    never decodes a response (a webhook receiver's cold start aside) never
    loads it.
    """
    import cattrs

    detailed = cattrs.Converter(forbid_extra_keys=False, detailed_validation=True)
    # Same hooks, no detailed validation: the first try of every response.
    fast = cattrs.Converter(forbid_extra_keys=False, detailed_validation=False)
    for each in (detailed, fast):
        each.register_structure_hook(datetime, _structure_datetime)
        # More specific than `str` for singledispatch, so the open enums (str
        # subclasses) get their own hook and keep unknown values as pseudo-members.
        each.register_structure_hook(_OpenEnum, _structure_enum)
        each.register_structure_hook(str, _structure_str)
        each.register_structure_hook(int, _structure_int)
        each.register_structure_hook_func(_is(str | None), _structure_optional_str)
        each.register_structure_hook_func(_is(int | None), _structure_optional_int)
        each.register_structure_hook(WebhookEvent, _structure_event)
        each.register_structure_hook_factory(_is_model, functools.partial(_model_hook, each))
    return detailed, fast


def _is_model(given: Any) -> bool:
    return isinstance(given, type) and issubclass(given, _JSONModel)


def _model_hook(converter: cattrs.Converter, model: type[_JSONModel]) -> Callable[[Any, Any], Any]:
    """cattrs' structure function for `model`, keeping the fields it does not know.

    The JSON's keys are checked against the model's fields in one set
    comparison; only when they differ (a field the API added, or one it left
    out) is `extra` built and set on the new, frozen, object.
    """
    from cattrs import override
    from cattrs.gen import make_dict_structure_fn

    structure = make_dict_structure_fn(model, converter, extra=override(omit=True))
    known = frozenset(field.name for field in attrs.fields(model) if field.name != "extra")
    tag = model.OBJECT  # `"object": tag` is implied by the model
    expected = known if tag is None else known | {"object"}
    left_out: dict[frozenset[str], _FrozenObject] = {}  # immutable: shared by every object

    def kept(value: Any, keys: Any) -> _FrozenObject:
        absent = expected.difference(keys)
        if keys <= expected and value.get("object", tag) == tag:  # fields left out, none added
            if (shared := left_out.get(absent)) is None:  # a listing's runs: one per shape
                shared = left_out[absent] = _FrozenObject({}, absent)
            return shared
        extra = {
            key: each
            for key, each in value.items()
            if key not in known and (key != "object" or each != tag)
        }
        return _FrozenObject(extra, absent)

    def structure_model(value: Any, _: Any) -> Any:
        made = structure(value, model)
        keys = value.keys()
        if keys != expected or (tag is not None and value["object"] != tag):
            # The object is new and not yet seen by anyone: setting it once is safe.
            object.__setattr__(made, "extra", kept(value, keys))
        return made

    return structure_model


def _is(wanted: Any) -> Callable[[Any], bool]:
    """A cattrs predicate: the type is `wanted` (`str | None` and `Optional[str]` alike)."""
    return lambda given: bool(given == wanted)


def __getattr__(name: str) -> Any:
    """`converter`, the one with detailed validation, made on first use."""
    if name == "converter":
        return _converters()[0]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


try:
    orjson: Any = importlib.import_module("orjson")
except ImportError:  # pragma: no cover - the `fast` extra is optional
    orjson = None


def loads(content: bytes) -> Any:
    """Parse a JSON body: orjson if installed, the standard library for what it refuses.

    One difference remains: orjson reads an integer beyond 64 bits as a float,
    which no field of the API holds (a model's `int` field then fails validation).
    """
    if orjson is not None:
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            pass  # the standard library decides, and words the error as httpx would
    return json.loads(content)


@functools.cache
def _structurer(model: Any) -> Callable[[Any, Any], Any]:
    """The structure function for `model`, generated once with the cheapest settings."""
    return _converters()[1].get_structure_hook(model)


def _structure(value: Any, model: Any) -> Any:
    """`value` as `model`; a failure is re-run by `converter` for its detailed error."""
    try:
        return _structurer(model)(value, model)
    except Exception:
        return _converters()[0].structure(value, model)


def decode(response: httpx.Response, model: type[T], redactor: Redactor) -> T:
    """Decode a JSON response body into `model`; `redactor` (the client's) scrubs an error."""
    try:
        structured: T = _structure(loads(response.content), cast(Any, model))
        return structured
    except Exception as exc:
        error = APIResponseValidationError(_describe(model, exc), response=response)
        error.__cause__ = exc
    raise redactor.exception(error)


def decode_page(response: httpx.Response, model: type[T], redactor: Redactor) -> Page[T]:
    """Decode a `{"data": [...], "next_cursor": ..., "has_more": ...}` page."""
    return parse_page(response, model, redactor).decode()


class RawPage(Generic[T]):
    """A page parsed as far as its cursor; `decode()` builds its items' models, once.

    A listing sends the next page's request as soon as it has the cursor, and
    builds this page's models while that request is in flight.
    """

    __slots__ = ("_body", "_decoded", "_model", "_redactor", "_response", "next_cursor")

    def __init__(
        self,
        response: httpx.Response,
        model: type[T],
        body: dict[str, Any],
        cursor: str | None,
        redactor: Redactor,
    ) -> None:
        self._response = response
        self._redactor = redactor
        self._model = model
        self._body: dict[str, Any] | None = body
        self._decoded: Page[T] | BaseException | None = None
        self.next_cursor = cursor

    @property
    def decoded(self) -> bool:
        """Whether `decode()` has run (its page or its error is kept)."""
        return self._decoded is not None

    def decode(self) -> Page[T]:
        """The page with its items as models, built on the first call.

        Raises:
            APIResponseValidationError: An item is not a valid model (on
                every call).
        """
        if self._decoded is None:
            try:
                self._decoded = self._build()
            except Exception as exc:
                self._decoded = exc
            self._body = None  # the models (or the error) are all that is kept
        if isinstance(self._decoded, BaseException):
            raise self._decoded
        return self._decoded

    def invalid(self, exc: Exception) -> BaseException:
        """The `APIResponseValidationError` of this page, for `exc` found in its models.

        What a consumer of the page's models raises when they do not fit what
        it makes of them (an Arrow batch's schema): named, like a decoding
        error, after this page's response.
        """
        return _page_error(self._response, self._model, exc, self._redactor)

    def _build(self) -> Page[T]:
        model, response, body = self._model, self._response, self._body
        assert body is not None
        try:
            structure = _structurer(cast(Any, model))
            try:
                items = tuple([structure(item, model) for item in body["data"]])
            except Exception:  # again, item by item, for the error that names the bad field
                detailed = _converters()[0]
                items = tuple([detailed.structure(item, model) for item in body["data"]])
            request_id = _request_id(response.headers)
            if request_id is not None:
                request_id = self._redactor.text(request_id)
            return Page(
                items=items,
                next_cursor=self.next_cursor,
                has_more=bool(body.get("has_more")),
                request_id=request_id,
            )
        except Exception as exc:
            error = _page_error(response, model, exc, self._redactor)
        raise error


def parse_page(response: httpx.Response, model: type[T], redactor: Redactor) -> RawPage[T]:
    """Parse a page's JSON and read its cursor; its items are decoded later.

    `redactor` (the client's) scrubs the page's request id and any error.

    Raises:
        APIResponseValidationError: The body is not a page at all.
    """
    try:
        body = loads(response.content)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise TypeError("expected an object with a 'data' array")
        cursor = body.get("next_cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise TypeError("next_cursor must be a string or null")
        return RawPage(response, model, body, cursor or None, redactor)
    except Exception as exc:
        error = _page_error(response, model, exc, redactor)
    raise error


def _page_error(
    response: httpx.Response, model: type, exc: Exception, redactor: Redactor
) -> BaseException:
    error = APIResponseValidationError(_describe(model, exc, "page of "), response=response)
    error.__cause__ = exc
    return redactor.exception(error)


def _request_id(headers: httpx.Headers) -> str | None:
    """`headers.get("x-request-id")`, without judging every header's encoding first.

    httpx decodes a value in the encoding all of the headers fit (ASCII first);
    an ASCII value reads the same in any of them, so only another asks httpx.
    """
    found = [value for name, value in headers.raw if name.lower() == b"x-request-id"]
    if not found:
        return None
    joined = b", ".join(found)
    return joined.decode("ascii") if joined.isascii() else headers.get("x-request-id")


def _describe(model: type, exc: Exception, prefix: str = "") -> str:
    import cattrs

    name = getattr(model, "__name__", str(model))
    if isinstance(exc, cattrs.ClassValidationError):
        reasons = "; ".join(cattrs.transform_error(exc))
    else:
        reasons = str(exc) or type(exc).__name__
    return f"the response is not a valid {prefix}{name}: {reasons}"
