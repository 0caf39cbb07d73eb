"""Opaque, tamper-evident pagination cursors.

A cursor carries the key of the last item of the page it ended, the listing it
belongs to (organization, endpoint, scope and filters) and an HMAC over all of
it. A cursor that was edited, truncated, made up, or taken from another
listing or organization is rejected with a 400, never followed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from ._index import Key

__all__ = ["CursorCodec", "InvalidCursor"]


class InvalidCursor(ValueError):
    """The cursor is not one this emulator issued for this listing."""


class CursorCodec:
    """Encodes and checks cursors with a per-emulator secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:16]

    def encode(self, listing: str, key: Key) -> str:
        """Return the cursor that resumes `listing` after `key`."""
        payload = json.dumps([listing, key[0], key[1]], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(self._mac(payload) + payload).decode().rstrip("=")

    def decode(self, listing: str, cursor: str) -> Key:
        """Return the key inside `cursor`, checking it belongs to `listing`.

        Raises:
            InvalidCursor: For anything but an untouched cursor of `listing`.
        """
        if not cursor or len(cursor) > 2048:
            raise InvalidCursor("cursor is malformed")
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raise InvalidCursor("cursor is malformed") from None
        mac, payload = raw[:16], raw[16:]
        if len(mac) != 16 or not hmac.compare_digest(mac, self._mac(payload)):
            raise InvalidCursor("cursor is malformed")
        found, micros, ident = json.loads(payload)
        if found != listing:
            raise InvalidCursor("cursor belongs to another listing or filter set")
        return (int(micros), str(ident))
