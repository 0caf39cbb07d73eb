"""`Webhooks.verify`/`unwrap` against an independent signer, and every bad input."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings, strategies as st

from tests.webhooks.vectors import NOW, OTHER_SECRET, SECRET, delivery, event_body, signature
from zof_async import (
    AsyncZof,
    RunCompletedEvent,
    RunStatus,
    UnknownWebhookEvent,
    Webhooks,
    WebhookVerificationError,
    ZofError,
)

hooks = Webhooks(secret=SECRET)


def check_fails(reason: str, body: bytes | str, headers: object, **kwargs: object) -> str:
    with pytest.raises(WebhookVerificationError) as info:
        hooks.unwrap(body, headers, now=NOW, **kwargs)  # type: ignore[arg-type]
    assert info.value.reason == reason
    message = str(info.value)
    secret_b64 = SECRET.removeprefix("whsec_")
    assert secret_b64 not in message and SECRET not in message
    sent = headers.get("webhook-signature", "") if isinstance(headers, dict) else ""
    assert len(sent) < 8 or sent not in message  # nor the signature it was sent
    return message


def test_an_independently_signed_run_completed_unwraps_into_a_typed_event() -> None:
    """A delivery signed by an independent signer unwraps into a typed RunCompletedEvent."""
    body, headers = delivery()
    event = hooks.unwrap(body, headers, now=NOW)
    assert isinstance(event, RunCompletedEvent)
    assert event.id == "evt_1" and event.type == "run.completed"
    assert event.created_at == datetime(2026, 11, 22, 10, 5, tzinfo=timezone.utc)
    assert event.run.id == "run_1" and event.run.status is RunStatus.PASSED
    assert event.run.summary.passed == 2 and event.run.is_terminal


def test_payload_as_str_and_headers_in_any_case_or_as_pairs() -> None:
    """A str body, headers in any case, and raw byte pairs all verify."""
    body, headers = delivery()
    upper = {k.upper(): v for k, v in headers.items()}
    assert hooks.unwrap(body.decode(), upper, now=NOW).id == "evt_1"
    raw = [(k.title().encode(), v.encode()) for k, v in headers.items()]
    assert hooks.unwrap(body, raw, now=NOW).id == "evt_1"
    hooks.verify(body, headers, now=NOW)  # verify alone returns None


def test_rotation_any_of_several_signatures_or_secrets_matches() -> None:
    """Any one matching v1 signature, or any one of several secrets, verifies."""
    body, headers = delivery()
    rotated = signature(OTHER_SECRET, "evt_1", NOW, body) + " " + headers["webhook-signature"]
    assert hooks.unwrap(body, {**headers, "webhook-signature": rotated}, now=NOW).id == "evt_1"
    # Unknown versions next to v1 are skipped, not an error.
    mixed = "v2,AAAA " + headers["webhook-signature"]
    hooks.verify(body, {**headers, "webhook-signature": mixed}, now=NOW)
    # A receiver rotating its own secret passes both.
    other_body, other_headers = delivery(secret=OTHER_SECRET)
    Webhooks(secret=[SECRET, OTHER_SECRET]).verify(other_body, other_headers, now=NOW)


def test_tampered_body_fails_the_signature_check() -> None:
    """A changed body fails with signature_mismatch."""
    body, headers = delivery()
    message = check_fails("signature_mismatch", body.replace(b"passed", b"failed"), headers)
    assert "no signature matches" in message


def test_wrong_secret_fails_and_is_not_echoed() -> None:
    """A delivery signed with another secret fails without echoing either secret."""
    body, headers = delivery(secret=OTHER_SECRET)
    check_fails("signature_mismatch", body, headers)


def test_signature_over_another_id_or_timestamp_fails() -> None:
    """A signature does not verify a different webhook-id or timestamp."""
    body, headers = delivery()
    check_fails("signature_mismatch", body, {**headers, "webhook-id": "evt_2"})
    check_fails("signature_mismatch", body, {**headers, "webhook-timestamp": str(NOW + 1)})


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header(missing: str) -> None:
    """Each missing Standard Webhooks header fails as missing_header naming it."""
    body, headers = delivery()
    del headers[missing]
    assert missing in check_fails("missing_header", body, headers)


def test_stale_and_future_timestamps_are_rejected_with_the_tolerance() -> None:
    """Timestamps beyond the 300 s tolerance either side fail; the tolerance is settable."""
    old_body, old = delivery(timestamp=NOW - 301)
    check_fails("timestamp_too_old", old_body, old)
    new_body, new = delivery(timestamp=NOW + 301)
    check_fails("timestamp_in_future", new_body, new)
    # Inside the window (either side) is fine, and the tolerance is configurable.
    hooks.verify(*delivery(timestamp=NOW - 299), now=NOW)
    hooks.verify(*delivery(timestamp=NOW + 299), now=NOW)
    hooks.verify(old_body, old, now=NOW, tolerance=600)


@pytest.mark.parametrize("stamp", ["", "abc", "1.5", "-5", "\uff11\uff12"])
def test_malformed_timestamp(stamp: str) -> None:
    """A non-integer timestamp is invalid_timestamp; an empty one is missing_header."""
    body, headers = delivery()
    if stamp:
        check_fails("invalid_timestamp", body, {**headers, "webhook-timestamp": stamp})
    else:
        check_fails("missing_header", body, {**headers, "webhook-timestamp": stamp})


@pytest.mark.parametrize(
    "value", ["garbage", "v1", ",abc", "v1,not*base64!", "v2,AAAA", "v1,AAAA,BBBB=="]
)
def test_malformed_signature_list(value: str) -> None:
    """A signature header with no well-formed v1 entry is malformed_signature."""
    body, headers = delivery()
    check_fails("malformed_signature", body, {**headers, "webhook-signature": value})


@pytest.mark.parametrize("digits", [20, 400, 5000])
def test_a_timestamp_of_many_digits_is_invalid_not_a_crash(digits: int) -> None:
    """A timestamp beyond 64 bits (hundreds of digits, no secret needed) is invalid_timestamp."""
    body, headers = delivery()
    message = check_fails("invalid_timestamp", body, {**headers, "webhook-timestamp": "9" * digits})
    assert "out of range" in message and len(message) < 200
    # The largest 64-bit value still parses: it is merely far in the future.
    check_fails("timestamp_in_future", body, {**headers, "webhook-timestamp": str(2**63 - 1)})


def test_leading_zeros_in_the_timestamp_are_its_integer_value_as_the_references_sign() -> None:
    """A zero-padded timestamp is signed as its integer, like the reference libraries do."""
    body, headers = delivery()
    hooks.verify(body, {**headers, "webhook-timestamp": "00" + str(NOW)}, now=NOW)


def test_headers_as_a_one_shot_iterable_of_pairs_are_read_once() -> None:
    """unwrap() takes headers as a generator of pairs: it reads them once, not twice."""
    body, headers = delivery()
    event = hooks.unwrap(body, iter(list(headers.items())), now=NOW)
    assert event.id == "evt_1"
    raw = ((k.encode(), v.encode()) for k, v in headers.items())
    assert hooks.unwrap(body, raw, now=NOW).id == "evt_1"


@pytest.mark.parametrize("depth", [10_000, 200_000])
def test_a_signed_body_nested_thousands_deep_is_an_invalid_payload(depth: int) -> None:
    """A correctly signed body nested thousands of levels deep is invalid_payload, no RecursionError."""
    for body in (
        b"[" * depth + b"]" * depth,
        b'{"id": "evt_1", "data": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}",
    ):
        _, headers = delivery(body)
        assert "not JSON" in check_fails("invalid_payload", body, headers)


def test_lone_surrogates_in_a_str_body_or_id_are_a_mismatch_not_a_crash() -> None:
    """Lone surrogates in a str body or id fail as signature_mismatch, not a crash."""
    body, headers = delivery()
    check_fails("signature_mismatch", body.decode() + "\ud800", headers)
    check_fails("signature_mismatch", body, {**headers, "webhook-id": "evt_\udc80"})


def test_a_well_formed_wrong_signature_is_a_mismatch() -> None:
    """A well-formed but wrong v1 signature is signature_mismatch."""
    body, headers = delivery()
    check_fails("signature_mismatch", body, {**headers, "webhook-signature": "v1,AAAA"})


def test_non_json_and_non_event_bodies_are_clear_errors_after_verification() -> None:
    """Signed bodies that are not JSON or not an event are invalid_payload saying which."""
    for body, reason_text in [
        (b"not json {", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a valid event"),
        (json.dumps({"id": "evt_1", "type": "run.completed"}).encode(), "not a valid event"),
        (event_body().replace(b'"status": "passed"', b'"status": 5'), "not a valid event"),
    ]:
        _, headers = delivery(body)
        assert reason_text in check_fails("invalid_payload", body, headers)


def test_event_id_must_match_webhook_id() -> None:
    """A body whose id differs from webhook-id is id_mismatch."""
    body = event_body(event_id="evt_other")
    _, headers = delivery(body, event_id="evt_1")
    check_fails("id_mismatch", body, headers)


def test_unknown_event_type_is_an_open_event_not_a_crash() -> None:
    """An unknown event type unwraps into an UnknownWebhookEvent keeping its data."""
    body = json.dumps(
        {"id": "evt_9", "object": "event", "type": "run.paused", "created_at": "2026-11-22T10:05:00Z",
         "data": {"object": {"id": "run_1", "reason": "maintenance"}}, "new_field": 1}
    ).encode()  # fmt: skip
    _, headers = delivery(body, event_id="evt_9")
    event = hooks.unwrap(body, headers, now=NOW)
    assert isinstance(event, UnknownWebhookEvent)
    assert event.type == "run.paused" and event.data["object"]["reason"] == "maintenance"


def test_secret_problems_are_errors_that_name_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """A malformed or missing secret is a WebhookVerificationError naming the check."""
    body, headers = delivery()
    for secret, reason in [("whsec_***", "invalid_secret"), ("whsec_", "invalid_secret")]:
        with pytest.raises(WebhookVerificationError) as info:
            Webhooks(secret=secret).verify(body, headers, now=NOW)
        assert info.value.reason == reason and "***" not in str(info.value)
    monkeypatch.delenv("ZOF_WEBHOOK_SECRET", raising=False)
    with pytest.raises(WebhookVerificationError) as info:
        Webhooks().verify(body, headers, now=NOW)
    assert info.value.reason == "no_secret" and "ZOF_WEBHOOK_SECRET" in str(info.value)
    assert issubclass(WebhookVerificationError, ZofError)


def test_secret_precedence_argument_then_client_then_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The call's secret wins over the client's, which wins over ZOF_WEBHOOK_SECRET."""
    body, headers = delivery()
    monkeypatch.setenv("ZOF_WEBHOOK_SECRET", SECRET)
    Webhooks().verify(body, headers, now=NOW)  # environment, read at call time
    with pytest.raises(WebhookVerificationError):
        Webhooks(secret=OTHER_SECRET).verify(body, headers, now=NOW)  # the client's wins
    Webhooks(secret=OTHER_SECRET).verify(body, headers, now=NOW, secret=SECRET)  # the call's wins
    zof = AsyncZof(api_key="zof_test", webhook_secret=OTHER_SECRET)
    with pytest.raises(WebhookVerificationError):
        zof.webhooks.verify(body, headers, now=NOW)
    assert AsyncZof(api_key="zof_test").webhooks.unwrap(body, headers, now=NOW).id == "evt_1"


def test_the_secret_is_in_no_repr() -> None:
    """The webhook secret appears in no repr of the client or its webhooks."""
    zof = AsyncZof(api_key="zof_test", webhook_secret=SECRET)
    secret_b64 = SECRET.removeprefix("whsec_")
    for text in (repr(zof), repr(zof.webhooks), repr(zof.with_options(max_retries=1).webhooks)):
        assert secret_b64 not in text
    assert zof.with_options(max_retries=1).webhooks is zof.webhooks


def test_the_wall_clock_is_the_default_now() -> None:
    """Without now=, the wall clock judges the timestamp, so a ten-year-old one fails."""
    with pytest.raises(WebhookVerificationError) as info:
        hooks.verify(*delivery(timestamp=NOW - 10 * 365 * 86400))
    assert info.value.reason == "timestamp_too_old"


@settings(max_examples=300, deadline=None)
@given(
    body=st.one_of(st.binary(max_size=200), st.text(max_size=200)),
    headers=st.dictionaries(
        st.sampled_from(["webhook-id", "Webhook-Timestamp", "WEBHOOK-SIGNATURE", "x-other"]),
        st.one_of(st.text(max_size=80), st.sampled_from(["v1,AAAA", str(NOW), "v1,=", "v1, ,"])),
    ),
)
def test_arbitrary_input_raises_only_the_verification_error(
    body: bytes | str, headers: dict[str, str]
) -> None:
    """Arbitrary bodies and headers raise nothing but WebhookVerificationError, secret-free."""
    message = ""
    try:
        hooks.unwrap(body, headers, now=NOW)
    except WebhookVerificationError as exc:
        message = str(exc)
    assert SECRET.removeprefix("whsec_") not in message


@settings(max_examples=200, deadline=None)
@given(
    document=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
        ),
        max_leaves=20,
    ),
    kind=st.sampled_from(["run.completed", "run.other", None]),
)
def test_any_signed_json_is_an_event_or_the_verification_error(
    document: object, kind: str | None
) -> None:
    """Any signed JSON is an event of the right class or invalid_payload / id_mismatch."""
    if isinstance(document, dict) and kind is not None:
        document = {**document, "id": "evt_1", "type": kind, "created_at": "2026-11-22T10:05:00Z"}
    body = json.dumps(document).encode()
    _, headers = delivery(body)
    reason = None
    try:
        event = hooks.unwrap(body, headers, now=NOW)
    except WebhookVerificationError as exc:
        reason = exc.reason
    if reason is not None:
        assert reason in ("invalid_payload", "id_mismatch")
    else:
        assert event.id == "evt_1"
        expected = RunCompletedEvent if kind == "run.completed" else UnknownWebhookEvent
        assert isinstance(event, expected)
