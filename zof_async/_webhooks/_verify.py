"""Verifying and parsing webhook deliveries (Standard Webhooks signatures).

A delivery carries three headers: `webhook-id` (the event id),
`webhook-timestamp` (Unix seconds) and `webhook-signature`, a space-separated
list of `v1,<base64>` entries, each the HMAC-SHA256 of
`"{id}.{timestamp}.{raw body}"` keyed with the bytes a `whsec_<base64>` secret
decodes to. One entry per secret while a secret is being rotated.

`Webhooks.verify` checks, in this order: a secret is configured and well
formed, the three headers are present, the timestamp is an integer within
`tolerance` seconds of now (either side: stale deliveries are replays, future
ones are forged or a broken clock), and one `v1` signature matches, compared
in constant time. `unwrap` then parses the body into a typed event. Every
failure is a `WebhookVerificationError` whose `reason` names the check; no
message ever contains a secret, a signature or the expected MAC.

Where the specification leaves room, this agrees with the reference library
(`standardwebhooks`, the oracle of tests/webhooks/test_reference.py): entries
that are not `v1,<base64>` (other versions, no comma, not base64) are skipped,
so one cannot hide a valid signature beside it; a secret whose base64 `=`
padding was stripped is the same key (padding is the only leniency: other
characters are refused); the timestamp is signed as its integer value. Beyond
the references: a timestamp past 64 bits is `invalid_timestamp` (as in the Go
reference), and a body nested too deep to parse is `invalid_payload`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias, Union

from .. import _converter
from .._exceptions import WebhookVerificationError
from .._models import WebhookEvent

__all__ = ["DEFAULT_TOLERANCE", "Headers", "Secret", "Webhooks", "check_secret"]

DEFAULT_TOLERANCE = 300
MAX_TIMESTAMP = 2**63 - 1
SECRET_PREFIX = "whsec_"
ENV_SECRET = "ZOF_WEBHOOK_SECRET"

Headers: TypeAlias = Union[Mapping[str, str], Mapping[bytes, bytes], Iterable[tuple[Any, Any]]]  # noqa: UP007
Secret: TypeAlias = Union[str, Sequence[str]]  # noqa: UP007


class Webhooks:
    """Verify and parse webhook deliveries; `AsyncZof.webhooks` is one of these.

    A receiver needs no API key, so this also works on its own:
    `Webhooks(secret="whsec_...")`, or `Webhooks()` to read `ZOF_WEBHOOK_SECRET`
    at each call.

    Args:
        secret: The endpoint secret (`whsec_...`), or several (any may match,
            for a rotation on your side). `None`: `ZOF_WEBHOOK_SECRET`.
    """

    def __init__(self, *, secret: Secret | None = None) -> None:
        self._secret = secret

    def __repr__(self) -> str:
        return "Webhooks(secret=" + ("None" if self._secret is None else "'<redacted>'") + ")"

    def check_secret(self) -> None:
        """Raise now if the secret (or `ZOF_WEBHOOK_SECRET`'s) is missing or malformed.

        For a receiver that should fail when it starts, not on its first
        delivery (`zof webhooks listen` does).

        Raises:
            WebhookVerificationError: With `reason` `"no_secret"` or `"invalid_secret"`.
        """
        _keys(self._secret)

    def verify(
        self,
        payload: bytes | str,
        headers: Headers,
        *,
        secret: Secret | None = None,
        tolerance: float = DEFAULT_TOLERANCE,
        now: float | None = None,
    ) -> None:
        """Check that `payload` was signed by Zof; raise if not.

        Args:
            payload: The raw request body, exactly as received (bytes or text).
            headers: The request headers (any mapping or pairs; names are
                case-insensitive).
            secret: Overrides the secret given to the constructor.
            tolerance: Seconds the `webhook-timestamp` may differ from `now`.
            now: Unix seconds to judge the timestamp by (default: the wall clock).

        Raises:
            WebhookVerificationError: Naming the failed check in `reason`.
        """
        self._check(payload, _normalise(headers), secret, tolerance, now)

    def unwrap(
        self,
        payload: bytes | str,
        headers: Headers,
        *,
        secret: Secret | None = None,
        tolerance: float = DEFAULT_TOLERANCE,
        now: float | None = None,
    ) -> WebhookEvent:
        """Verify `payload` (see `verify`), then parse it into a typed event.

        Returns:
            A `RunCompletedEvent` for `run.completed`, an `UnknownWebhookEvent`
            for event types this version does not know.

        Raises:
            WebhookVerificationError: A failed check, a body that is not a JSON
                event, or an event id that differs from `webhook-id`.
        """
        found = _normalise(headers)  # once: `headers` may be a one-shot iterable
        msg_id = self._check(payload, found, secret, tolerance, now)
        event = parse(payload)
        if event.id != msg_id:
            raise WebhookVerificationError(
                f"the event id {event.id!r} differs from webhook-id {msg_id!r}",
                reason="id_mismatch",
            )
        return event

    def _check(
        self,
        payload: bytes | str,
        found: dict[str, str],
        secret: Secret | None,
        tolerance: float,
        now: float | None,
    ) -> str:
        """`verify` on normalised headers; return the verified `webhook-id`."""
        keys = _keys(secret if secret is not None else self._secret)
        body = (
            payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else bytes(payload)
        )
        msg_id = _header(found, "webhook-id")
        stamp = _header(found, "webhook-timestamp")
        signatures = _header(found, "webhook-signature")
        sent = _timestamp(stamp)
        current = time.time() if now is None else now
        if sent < current - tolerance:
            raise WebhookVerificationError(
                f"webhook-timestamp is {current - sent:.0f} s old, more than the "
                f"{tolerance:g} s tolerated (a replay, or a delivery held too long)",
                reason="timestamp_too_old",
            )
        if sent > current + tolerance:
            raise WebhookVerificationError(
                f"webhook-timestamp is {sent - current:.0f} s in the future, more than the "
                f"{tolerance:g} s tolerated (check the clocks)",
                reason="timestamp_in_future",
            )
        candidates = _v1_signatures(signatures)
        # The integer is signed, not the header's text: "0017..." is 17..., as the references do.
        signed = f"{msg_id}.{sent}.".encode("utf-8", "surrogatepass") + body
        for key in keys:
            expected = hmac.new(key, signed, hashlib.sha256).digest()
            if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
                return msg_id
        raise WebhookVerificationError(
            f"no signature matches (checked {len(candidates)} v1 signature(s) against "
            f"{len(keys)} secret(s)): a wrong secret, or a body changed after signing",
            reason="signature_mismatch",
        )


def parse(payload: bytes | str) -> WebhookEvent:
    """Parse a (verified) body into an event; raise `WebhookVerificationError` if it is none."""
    try:
        document = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise WebhookVerificationError("the body is not JSON", reason="invalid_payload") from None
    except RecursionError:  # a signed body may still nest deeper than the interpreter's stack
        raise WebhookVerificationError(
            "the body is not JSON this parser can read: nested too deep", reason="invalid_payload"
        ) from None
    try:
        event: WebhookEvent = _converter.converter.structure(document, WebhookEvent)
    except Exception as exc:
        raise WebhookVerificationError(
            f"the body is not a valid event: {_why(exc)}", reason="invalid_payload"
        ) from None
    return event


def check_secret(secret: Secret | None) -> None:
    """Raise `WebhookVerificationError` now if `secret` (or the environment's) is missing or malformed."""
    _keys(secret)


def _keys(secret: Secret | None) -> list[bytes]:
    if secret is None:
        secret = os.environ.get(ENV_SECRET) or None
    if secret is None:
        raise WebhookVerificationError(
            f"no webhook secret: pass secret=, webhook_secret= to the client, or set {ENV_SECRET}",
            reason="no_secret",
        )
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets:
        raise WebhookVerificationError("no webhook secret given", reason="no_secret")
    keys = []
    for text in secrets:
        encoded = text[len(SECRET_PREFIX) :] if text.startswith(SECRET_PREFIX) else text
        encoded += "=" * (-len(encoded) % 4)  # padding may have been stripped: restore it
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if not key:
            raise WebhookVerificationError(
                "the webhook secret is not 'whsec_' followed by base64", reason="invalid_secret"
            )
        keys.append(key)
    return keys


def _normalise(headers: Headers) -> dict[str, str]:
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    found: dict[str, str] = {}
    for name, value in pairs:
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        found[key.lower()] = text.strip()
    return found


def _header(found: dict[str, str], name: str) -> str:
    value = found.get(name)
    if not value:
        raise WebhookVerificationError(f"the {name} header is missing", reason="missing_header")
    return value


def _timestamp(stamp: str) -> int:
    """The `webhook-timestamp` as an integer; beyond 64 bits it is invalid, like the reference's."""
    if not stamp.isascii() or not stamp.isdigit():
        raise WebhookVerificationError(
            "webhook-timestamp is not an integer number of seconds", reason="invalid_timestamp"
        )
    digits = stamp.lstrip("0")
    # Checked before int(): no float overflow in the messages, no long parse of a long header.
    if len(digits) > len(str(MAX_TIMESTAMP)) or int(digits or "0") > MAX_TIMESTAMP:
        raise WebhookVerificationError(
            "webhook-timestamp is out of range (more than a 64-bit number of seconds)",
            reason="invalid_timestamp",
        )
    return int(digits or "0")


def _v1_signatures(header: str) -> list[bytes]:
    """The decoded `v1,<base64>` entries of `webhook-signature`.

    Any other entry (another version, no comma, a `v1` that is not base64) is
    skipped, as the reference libraries skip what does not match: it cannot
    hide a valid signature beside it. A header without one well-formed `v1`
    entry is malformed.
    """
    candidates = []
    for entry in header.split():
        version, _, encoded = entry.partition(",")
        if version != "v1" or not encoded:
            continue
        try:
            candidates.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    if not candidates:
        raise WebhookVerificationError(
            "webhook-signature has no well-formed v1 signature "
            "(a space-separated list of 'v1,<base64>')",
            reason="malformed_signature",
        )
    return candidates


def _why(exc: Exception) -> str:
    import cattrs

    if isinstance(exc, cattrs.ClassValidationError):
        return "; ".join(cattrs.transform_error(exc))
    return str(exc) or type(exc).__name__
