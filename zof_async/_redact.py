"""Keeping secrets out of everything a user can see: errors, their chains, logs.

One `Redactor` per client scrubs the client's API key, and any
`Bearer <token>` a server or a library echoes, from exception messages and
from the whole `__cause__`/`__context__` chain that `traceback` prints. A
link of the chain that is not ours (an httpx or aiohttp exception) and whose
text or repr holds a secret is replaced by a `RedactedError` carrying its
type name and scrubbed text, since a foreign exception's text cannot be
changed reliably.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

import httpx

from ._exceptions import APIResponseValidationError, APIStatusError, ZofError

__all__ = ["REDACTED", "RedactedError", "Redactor"]

REDACTED = "<redacted>"

# "Bearer" and a token: at least 8 characters, with a digit, `_`, `-`, `.`
# or `~` among them, so that prose ("Bearer token missing") stays readable.
_BEARER = re.compile(
    r"(?i)\b(bearer)(\s*[:=]?\s*[\"']?|%20|\+)"
    r"(?=[^\s\"',;&<>()\[\]{}]*[0-9_.~-])[^\s\"',;&<>()\[\]{}]{8,}"
)


class RedactedError(Exception):
    """Stands in a chain for a library exception whose text held a secret."""


class Redactor:
    """Scrubs a client's secrets from text and from exceptions.

    Args:
        secrets: The values never to show (empty ones are ignored).
    """

    __slots__ = ("_secrets",)

    def __init__(self, secrets: Iterable[str]) -> None:
        # A secret also as it shows in a URL: percent-encoded (an id or query value).
        forms = {form for s in secrets if s for form in (s, quote(s, safe=""), quote_plus(s))}
        self._secrets = tuple(sorted(forms, key=len, reverse=True))

    def holds_secret(self, text: str) -> bool:
        """Whether `text` shows a secret or a bearer token."""
        return any(secret in text for secret in self._secrets) or _BEARER.search(text) is not None

    def text(self, text: str) -> str:
        """`text` with every secret and bearer token replaced by `<redacted>`."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        if "earer" in text or "EARER" in text:
            text = _BEARER.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
        return text

    @classmethod
    def for_request(cls, request: httpx.Request | None) -> Redactor:
        """A redactor for the key a request was sent with (its `Authorization`).

        Made anew each time, so no key outlives its client in a cache: the
        hot path (a page's request id) uses the pipeline's own redactor.
        """
        if request is None:
            return cls(())
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return cls([token] if scheme.lower() == "bearer" else ())

    def exception(self, exc: BaseException) -> BaseException:
        """Scrub `exc` and its chain in place; return `exc` for `raise`.

        A foreign link is judged by everything `traceback` would print of it
        (its own chain, notes and, for an exception group, its members).
        """
        if isinstance(exc, ZofError):
            self._scrub_ours(exc)
        seen = {id(exc)}
        link = exc
        while True:
            following = link.__cause__
            as_cause = following is not None
            if following is None and not link.__suppress_context__:
                following = link.__context__
            if following is None or id(following) in seen:
                return exc
            seen.add(id(following))
            if isinstance(following, ZofError):
                self._scrub_ours(following)
            elif self.holds_secret(
                f"{following!r} " + "".join(traceback.format_exception(following))
            ):
                stand_in = RedactedError(
                    f"{type(following).__qualname__}: {self.text(str(following))}"
                )
                if as_cause:
                    link.__cause__ = stand_in
                else:
                    link.__context__ = stand_in
                return exc  # the rest of that chain is the foreign exception's own
            link = following

    def _scrub_ours(self, exc: ZofError) -> None:
        exc.args = tuple(self.text(a) if isinstance(a, str) else a for a in exc.args)
        response = getattr(exc, "response", None)
        if isinstance(response, httpx.Response):
            self._scrub_response(response)
        notes = getattr(exc, "__notes__", None)
        if isinstance(notes, list):
            notes[:] = [self.text(n) if isinstance(n, str) else n for n in notes]
        if isinstance(exc, APIResponseValidationError) and exc.request_id is not None:
            exc.request_id = self.text(exc.request_id)
        if isinstance(exc, APIStatusError):
            exc.message = self.text(exc.message)
            if exc.code is not None:
                exc.code = self.text(exc.code)
            if exc.param is not None:
                exc.param = self.text(exc.param)
            if exc.request_id is not None:
                exc.request_id = self.text(exc.request_id)

    def _scrub_response(self, response: httpx.Response) -> None:
        """Scrub a key the server echoed from a read response's body and headers, in place.

        An error's response is the attempt's own, never sent again; so the
        error (shown, logged or pickled) holds no key.
        """
        content: bytes | None = getattr(response, "_content", None)
        if content and self.holds_secret(text := content.decode("utf-8", "surrogateescape")):
            response._content = self.text(text).encode("utf-8", "surrogateescape")
        if any(self.holds_secret(v) for _, v in response.headers.multi_items()):
            response.headers = httpx.Headers(
                [(k, self.text(v)) for k, v in response.headers.multi_items()]
            )
