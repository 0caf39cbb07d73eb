"""The converter's cheap path keeps the contract: open enums, unknown fields, exact errors."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from zof_async import (
    APIResponseValidationError,
    Artifact,
    ArtifactKind,
    Result,
    ResultStatus,
    _rfc3339 as rfc3339,
)
from zof_async._converter import converter, decode, decode_page, loads
from zof_async._redact import Redactor

REDACTOR = Redactor(["zof_test_key"])

RESULT = {
    "id": "res_1",
    "run_id": "run_1",
    "test_case_id": "tc_1",
    "status": "passed",
    "created_at": "2026-11-22T10:00:00Z",
}


def response(body: bytes) -> httpx.Response:
    return httpx.Response(200, content=body, request=httpx.Request("GET", "https://api.test/v1/x"))


def test_unknown_enum_values_and_fields_survive_decoding() -> None:
    """An unknown status stays a pseudo-member and unknown fields are ignored."""
    body = {**RESULT, "status": "quarantined", "added_later": {"nested": [1]}}
    result = decode(response(json.dumps(body).encode()), Result, REDACTOR)
    assert isinstance(result.status, ResultStatus)
    assert result.status.value == "quarantined"
    assert not result.status.is_known


def test_a_page_keeps_open_enums_and_ignores_new_fields() -> None:
    """Every item of a page decodes with the same tolerance as a single object."""
    item = {"id": "art_1", "run_id": "run_1", "kind": "video", "name": "a.mp4",
            "content_type": "video/mp4", "size_bytes": 3, "download_url": "https://d/a",
            "created_at": "2026-11-22T10:00:00.123456Z", "shiny": True}  # fmt: skip
    body = {"data": [item, {**item, "kind": "log"}], "next_cursor": "c1", "has_more": True}
    page = decode_page(response(json.dumps(body).encode()), Artifact, REDACTOR)
    assert [a.kind.value for a in page.items] == ["video", "log"]
    assert page.items[1].kind is ArtifactKind.LOG
    assert page.next_cursor == "c1"
    assert page.items[0].created_at.microsecond == 123456


def test_a_bad_field_is_named_as_the_detailed_converter_names_it() -> None:
    """The error of the cheap path's failure is the detailed converter's, field by field."""
    body = {**RESULT, "duration_ms": "slow"}
    with pytest.raises(APIResponseValidationError) as caught:
        decode(response(json.dumps(body).encode()), Result, REDACTOR)
    assert str(caught.value) == (
        "the response is not a valid Result: invalid value for type, "
        "expected int | None @ $.duration_ms"
    )


def test_a_bad_item_in_a_page_is_named() -> None:
    """A page with one bad item fails naming the missing field."""
    body = {"data": [RESULT, {k: v for k, v in RESULT.items() if k != "run_id"}],
            "next_cursor": None}  # fmt: skip
    with pytest.raises(APIResponseValidationError) as caught:
        decode_page(response(json.dumps(body).encode()), Result, REDACTOR)
    assert "run_id" in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-22T10:00:00Z",
        "2026-11-22T10:00:00.000001Z",
        "2026-11-22t10:00:00z",
        "2026-11-22T10:00:00.1Z",
        "2026-11-22T10:00:00.123456789Z",
        "2026-11-22T10:00:00+05:30",
        "2016-12-31T23:59:60Z",
        "2024-02-29T00:00:00Z",
    ],
)
def test_timestamps_decode_as_rfc3339_parses_them(text: str) -> None:
    """The fast path for UTC timestamps gives exactly what the RFC 3339 parser gives."""
    result = converter.structure({**RESULT, "created_at": text}, Result)
    fast = decode(response(json.dumps({**RESULT, "created_at": text}).encode()), Result, REDACTOR)
    assert fast.created_at == result.created_at == rfc3339.parse(text)
    assert fast.created_at.utcoffset() == rfc3339.parse(text).utcoffset()


@pytest.mark.parametrize(
    "text", ["2026-02-30T10:00:00Z", "2026-11-22T10:00:00", "20261122T100000Z"]
)
def test_invalid_timestamps_are_refused(text: str) -> None:
    """Impossible days and non-RFC 3339 shapes fail validation, fast path or not."""
    with pytest.raises(APIResponseValidationError, match="created_at"):
        decode(response(json.dumps({**RESULT, "created_at": text}).encode()), Result, REDACTOR)


def test_utc_timestamps_are_aware_utc() -> None:
    """A `Z` timestamp is aware, in UTC."""
    parsed = decode(response(json.dumps(RESULT).encode()), Result, REDACTOR).created_at
    assert parsed == datetime(2026, 11, 22, 10, tzinfo=timezone.utc)
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"a": 1}', {"a": 1}),
        ('\ufeff{"a": 1}'.encode(), {"a": 1}),  # a UTF-8 BOM, which orjson refuses
        ('{"a": "é"}'.encode("utf-16"), {"a": "é"}),
    ],
)
def test_json_bodies_decode_as_the_standard_library_does(body: bytes, expected: object) -> None:
    """Whatever the JSON library, a body decodes as `json.loads` decodes it."""
    assert loads(body) == json.loads(body) == expected


def test_invalid_json_fails_with_the_standard_library_error() -> None:
    """A body that is not JSON raises json.JSONDecodeError, orjson installed or not."""
    with pytest.raises(json.JSONDecodeError):
        loads(b"<html>")


@pytest.mark.parametrize(
    ("field", "value"),
    [("logs_ref", 5), ("failure_summary", ["x"]), ("duration_ms", True), ("duration_ms", 1.5)],
)
def test_optional_fields_refuse_the_wrong_type(field: str, value: object) -> None:
    """`str | None` and `int | None` fields take null or their type, nothing else."""
    body = {**RESULT, field: value}
    with pytest.raises(APIResponseValidationError, match=field):
        decode(response(json.dumps(body).encode()), Result, REDACTOR)


def test_optional_fields_and_known_values_decode_as_before() -> None:
    """Nulls stay None, values keep their type, a known status is its member, times are UTC."""
    body = {**RESULT, "duration_ms": 7, "logs_ref": None, "failure_summary": "boom"}
    result = decode(response(json.dumps(body).encode()), Result, REDACTOR)
    assert (result.duration_ms, result.logs_ref, result.failure_summary) == (7, None, "boom")
    assert result.status is ResultStatus.PASSED
    assert result.created_at == datetime(2026, 11, 22, 10, tzinfo=timezone.utc)
    assert result.created_at.tzinfo is timezone.utc
