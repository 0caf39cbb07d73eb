"""Building a request once, from the client's settings: URL, headers, body, timeouts."""

from __future__ import annotations

import functools
import json as jsonlib
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx

from ._settings import DEFAULT_CALL, JSON, Call, Settings
from ._urls import UrlBuilder, bodiless_request

Params = Mapping[str, str | int | list[str] | None]
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})  # httpx adds `Content-Length: 0`


class RequestBuilder:
    """Builds the requests of one client (or `with_options` copy), prepared once."""

    def __init__(self, settings: Settings) -> None:
        self._urls = UrlBuilder(settings.base_url)
        self._headers = settings.headers()
        # What httpx sends for a bodiless request: `Host` first, then ours.
        self._host_headers = httpx.Headers([(b"Host", self._urls.netloc), *self._headers.raw])
        self.timeouts = settings.timeout.as_dict()
        """Every request's per-attempt timeouts (httpx's `timeout` extension)."""

    def build(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
        accept: str = JSON,
        call: Call = DEFAULT_CALL,
    ) -> httpx.Request:
        """Build the request once; retries resend this same object.

        `path` must already be encoded (see `_paths`); the URL is built from
        the base URL parsed once (see `_urls`). `accept` is what the
        endpoint's answer needs (zof-api.md, "Content negotiation"): JSON
        unless said otherwise. A POST always carries an `Idempotency-Key` (a
        uuid4 unless given), the same on every retry. `extra_headers` and
        `extra_query` (the call's) are added last: they override the SDK's (but
        `Authorization` stays the key's).
        """
        extra_headers, extra_query = call.extra_headers, call.extra_query
        query = {
            k: ",".join(v) if isinstance(v, list) else str(v)
            for k, v in (params or {}).items()
            if v is not None
        }
        if extra_query:  # as exact strs: `_encoded`'s cache tells keys apart by equality
            query.update({str(k): str(v) for k, v in extra_query.items()})
        url, from_base = self._urls.url(path, _encoded(tuple(query.items())) if query else None)
        bodiless = (
            from_base
            and json is None
            and method not in _BODY_METHODS
            and not (extra_headers and any(name.lower() == "host" for name in extra_headers))
        )
        headers = self._host_headers if bodiless else self._headers
        content = None
        if json is not None or method == "POST" or accept != JSON or extra_headers:
            headers = headers.copy()
            if accept != JSON:
                headers["Accept"] = accept
            if json is not None:
                content = jsonlib.dumps(json, separators=(",", ":")).encode()
                headers["Content-Type"] = "application/json"
            if method == "POST":
                headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
            for name, value in (extra_headers or {}).items():
                if name.lower() != "authorization":
                    headers[name] = value
        if bodiless:
            request = bodiless_request(method, url, headers)
        else:
            request = httpx.Request(method, url, headers=headers, content=content)
        request.extensions = {"timeout": self.timeouts}
        return request


@functools.lru_cache(maxsize=128)
def _encoded(query: tuple[tuple[str, str], ...]) -> str:
    """`urlencode(query)`, once per query: most repeat (`limit=1000` on every fan-out item)."""
    return urlencode(query)
