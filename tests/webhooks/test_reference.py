"""The SDK and the emulator against `standardwebhooks`, the Standard Webhooks reference library.

Both directions: what the reference signs the SDK verifies, what the emulator
signs the reference verifies, and for any header the SDK accepts exactly when
the reference does. The reference judges timestamps by the wall clock, so these
deliveries are stamped within a few minutes of now.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Literal

import httpx
import pytest
import standardwebhooks
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.webhooks.vectors import signature
from zof_async import Webhooks, WebhookVerificationError
from zof_async.testing import Emulator, ManualClock, RunScript
from zof_async.testing._webhooks import sign_delivery

# What may stand beside the valid signature in a webhook-signature header.
NOISE = ["garbage", "v1", "v1,", ",AAAA", "v1,not*base64!", "v1,AAAA,BBBB==", "v2,AAAA", "v1a,AAAA"]
# Header ids as senders make them: no spaces, no full stops (the spec's advice).
IDS = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", min_size=1)


def reference_accepts(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        standardwebhooks.Webhook(secret).verify(body, headers, json_parse=False)
    except standardwebhooks.WebhookVerificationError:
        return False
    return True


def sdk_accepts(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhooks(secret=secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


def secret_text(key: bytes, *, padded: bool, prefixed: bool = True) -> str:
    encoded = base64.b64encode(key).decode()
    return ("whsec_" if prefixed else "") + (encoded if padded else encoded.rstrip("="))


def reference_delivery(secret: str, msg_id: str, body: bytes, skew: int) -> dict[str, str]:
    stamp = int(time.time()) + skew
    when = datetime.fromtimestamp(stamp, tz=timezone.utc)
    sent = standardwebhooks.Webhook(secret).sign(msg_id, when, body)
    return {"webhook-id": msg_id, "webhook-timestamp": str(stamp), "webhook-signature": sent}


KEY = b"reference-oracle-key-0123456789!"  # 32 bytes; base64 of it ends in "="


@pytest.mark.parametrize("noise", NOISE)
@pytest.mark.parametrize("valid_first", [True, False])
def test_a_malformed_entry_beside_a_valid_signature_is_skipped(
    noise: str, valid_first: bool
) -> None:
    """An entry with no comma, or a v1 entry that is not base64, beside a valid one verifies."""
    secret = secret_text(KEY, padded=True)
    body = b'{"id": "evt_1"}'
    headers = reference_delivery(secret, "evt_1", body, 0)
    entries = [headers["webhook-signature"], noise]
    headers["webhook-signature"] = " ".join(entries if valid_first else entries[::-1])
    assert reference_accepts(secret, body, headers)
    Webhooks(secret=secret).verify(body, headers)


@pytest.mark.parametrize("noise", NOISE)
def test_malformed_entries_alone_are_still_rejected(noise: str) -> None:
    """Without a valid signature the same entries are rejected by both, malformed first."""
    secret = secret_text(KEY, padded=True)
    body = b'{"id": "evt_1"}'
    headers = reference_delivery(secret, "evt_1", body, 0)
    headers["webhook-signature"] = noise + " v1,AAAA" if noise.startswith("v2") else noise
    assert not reference_accepts(secret, body, headers)
    with pytest.raises(WebhookVerificationError) as info:
        Webhooks(secret=secret).verify(body, headers)
    # No well-formed v1 entry at all is malformed; a well-formed wrong one is a mismatch.
    assert info.value.reason == (
        "signature_mismatch" if noise.startswith("v2") else "malformed_signature"
    )


@pytest.mark.parametrize("size", [24, 25, 31, 32, 64])
def test_a_secret_with_its_base64_padding_stripped_is_the_same_key(size: int) -> None:
    """`whsec_` + base64 without its `=` padding decodes to the same key (the reference agrees)."""
    key = bytes(range(size))
    padded, bare = secret_text(key, padded=True), secret_text(key, padded=False)
    body = b"{}"
    headers = reference_delivery(padded, "evt_1", body, 0)
    for secret in (padded, bare, bare.removeprefix("whsec_")):
        assert reference_accepts(secret, body, headers)
        Webhooks(secret=secret).verify(body, headers)


@pytest.mark.parametrize("secret", ["whsec_a", "whsec_abcde", "whsec_ab*d", "whsec_ab-_", "whsec_"])
def test_a_secret_that_is_not_base64_even_unpadded_is_refused(secret: str) -> None:
    """Padding is the only leniency: a length no base64 has, or a foreign character, is invalid."""
    with pytest.raises(WebhookVerificationError) as info:
        Webhooks(secret=secret).verify(b"{}", {"webhook-id": "a"})
    assert info.value.reason == "invalid_secret"


@settings(max_examples=200, deadline=None)
@given(
    key=st.binary(min_size=24, max_size=64),
    padded=st.booleans(),
    prefixed=st.booleans(),
    msg_id=IDS,
    body=st.binary(max_size=300),
    skew=st.integers(-240, 240),
    before=st.lists(st.sampled_from(NOISE), max_size=3),
    after=st.lists(st.sampled_from(NOISE), max_size=3),
    valid=st.booleans(),
    rotated=st.booleans(),
    case=st.sampled_from([str.lower, str.title, str.upper]),
)
def test_the_sdk_accepts_exactly_what_the_reference_accepts(
    key: bytes,
    padded: bool,
    prefixed: bool,
    msg_id: str,
    body: bytes,
    skew: int,
    before: list[str],
    after: list[str],
    valid: bool,
    rotated: bool,
    case: Callable[[str], str],
) -> None:
    """Reference-signed deliveries in any header shape verify in the SDK iff in the reference."""
    secret = secret_text(key, padded=padded, prefixed=prefixed)
    headers = reference_delivery(secret, msg_id, body, skew)
    entries = [headers["webhook-signature"]] if valid else []
    if rotated:  # a signature under another secret, as during a rotation
        other = reference_delivery(secret_text(key[::-1] + b"x", padded=True), msg_id, body, skew)
        entries.append(other["webhook-signature"])
    headers["webhook-signature"] = " ".join(before + entries + after)
    shaped = {case(name): value for name, value in headers.items()}
    if not headers["webhook-signature"]:
        return  # an empty header is "missing" to both; covered elsewhere
    expected = reference_accepts(secret, body, shaped)
    assert expected == valid
    assert sdk_accepts(secret, body, shaped) == expected


@settings(max_examples=200, deadline=None)
@given(
    key=st.binary(min_size=24, max_size=64),
    padded=st.booleans(),
    msg_id=IDS,
    body=st.binary(max_size=300),
    skew=st.integers(-240, 240),
)
def test_the_emulator_signer_is_verified_by_the_reference(
    key: bytes, padded: bool, msg_id: str, body: bytes, skew: int
) -> None:
    """The emulator's signature over any body, id and secret is what the reference verifies."""
    secret = secret_text(key, padded=padded)
    stamp = int(time.time()) + skew
    sent = sign_delivery(secret, msg_id, stamp, body)
    assert sent == signature(secret_text(key, padded=True), msg_id, stamp, body)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(stamp), "webhook-signature": sent}
    assert reference_accepts(secret, body, headers)


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.anyio
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    key=st.binary(min_size=24, max_size=64),
    padded=st.booleans(),
    rotations=st.integers(0, 2),
    outcome=st.sampled_from(["passed", "failed", "error"]),
)
async def test_emulator_deliveries_are_verified_by_the_reference(
    key: bytes, padded: bool, rotations: int, outcome: Literal["passed", "failed", "error"]
) -> None:
    """Events the emulator posts verify in the reference under every secret of the endpoint."""
    requests: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200)

    emulator = Emulator(data="minimal", clock=ManualClock(datetime.now(timezone.utc)))
    first = secret_text(key, padded=padded)
    url = "https://hooks.test/"
    emulator.add_webhook_endpoint(url, secret=first, transport=httpx.MockTransport(record))
    secrets = [first] + [emulator.rotate_webhook_secret(url) for _ in range(rotations)]
    cases = emulator.state.store.projects["proj_abc"].case_ids[:2]
    script = RunScript(queue_seconds=0, duration_seconds=10, outcome=outcome)
    emulator.add_run("proj_abc", cases=cases, script=script)
    emulator.advance(10)
    await emulator.deliver_webhooks()
    (request,) = requests
    assert len(request.headers["webhook-signature"].split()) == len(secrets)
    for secret in secrets:
        assert reference_accepts(secret, request.content, dict(request.headers))
    assert json.loads(request.content)["data"]["object"]["status"] == outcome
    assert not reference_accepts(
        secret_text(key[::-1] + b"x", padded=True), request.content, dict(request.headers)
    )
