"""Request URLs built from the base URL parsed once, and the request around a bodiless one.

`httpx.URL(text)` validates every character of the URL in Python and parses
the host (an `ipaddress` parse for 127.0.0.1) on every request: ~10 µs, more
than the rest of building a request. The base URL never changes, so it is
parsed once, and a request's URL is that parse with the path and query
replaced, when they are text that httpx's parser would keep exactly as it is:
only characters of httpx's path (and query) safe sets, no `.`/`..` segment,
a leading `/`, and within httpx's length limit. Anything else (and an httpx
whose internals differ from what this was written against, which `UrlBuilder`
checks on creation) goes through `httpx.URL(text)` as before, so the URL, and
any error, is always exactly httpx's.

A bodiless request (a GET) is then made with `stream=`, which skips httpx's
body encoding and its second pass over the headers: the headers are given
complete, with `Host` first where httpx puts it. `bodiless_request` is the
same request `httpx.Request(method, url, headers=headers)` makes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

# httpx's `_urlparse.PATH_SAFE`: printable ASCII minus space " # < > ? ` { }.
_PATH = re.compile(r"/[!$-;=@-_a-z|~]*")
_MAX_URL_LENGTH = 65536  # httpx's `_urlparse.MAX_URL_LENGTH`
_EMPTY = httpx.ByteStream(b"")  # immutable: one for every bodiless request
# httpx's `_urlparse.ParseResult`, a named tuple `make` builds directly.
_FIELDS = ("scheme", "userinfo", "host", "port", "path", "query", "fragment")


class UrlBuilder:
    """Request URLs under one base URL (already without query or fragment).

    Args:
        base: The API's base URL; a trailing `/` is dropped, so paths
            (which start with `/`) are appended to it.
    """

    def __init__(self, base: httpx.URL) -> None:
        self.text = str(base).rstrip("/")
        parsed = httpx.URL(self.text)
        self.netloc: bytes = parsed.netloc
        self._make: Callable[[str, str | None], httpx.URL] | None = None
        reference: Any = getattr(parsed, "_uri_reference", None)
        if getattr(reference, "_fields", None) != _FIELDS or reference.query or reference.fragment:
            return
        base_path: str = reference.path
        # The base's scheme, userinfo, host and port; then path, query, fragment.
        # (A tuple made directly: `_replace` costs as much as the rest of `make`.)
        parse_result, head = type(reference), tuple(reference)[:4]

        def make(path: str, query: str | None) -> httpx.URL:
            url = httpx.URL.__new__(httpx.URL)
            url._uri_reference = tuple.__new__(parse_result, (*head, base_path + path, query, None))
            return url

        probe = "/results/res%2E_~%20x/artifacts", "limit=1000&cursor=a%2Bb+c"
        try:
            same = make(*probe) == httpx.URL(f"{self.text}{probe[0]}?{probe[1]}")
        except Exception:  # pragma: no cover - an httpx with other internals
            same = False
        if same and str(make(*probe)) == f"{self.text}{probe[0]}?{probe[1]}":
            self._make = make

    def url(self, path: str, query: str | None = None) -> tuple[httpx.URL, bool]:
        """The URL of `path` (encoded, from `/`) and `query` (`urlencode`d, or `None`).

        Returns:
            The URL, and whether it was built from the parsed base (then its
            host is the base's, and `bodiless_request` may be used with it).
        """
        make = self._make
        if (
            make is not None
            and _PATH.fullmatch(path)
            and "/." not in path
            and len(self.text) + len(path) + len(query or "") < _MAX_URL_LENGTH
        ):
            # `urlencode` leaves only unreserved characters, `%XX`, `+`, `=` and
            # `&`: all in httpx's query safe set, which it keeps as they are.
            return make(path, query), True
        text = self.text + path
        return httpx.URL(text if query is None else f"{text}?{query}"), False


def bodiless_request(method: str, url: httpx.URL, headers: httpx.Headers) -> httpx.Request:
    """`httpx.Request(method, url, headers=...)` for a request without a body.

    `headers` must already start with `Host` (and hold no other `Host`), as
    httpx would add it; no `Content-Length` is due without a body except for
    POST, PUT and PATCH, which must not come here.
    """
    request = httpx.Request(method, url, headers=headers, stream=_EMPTY)
    request._content = b""  # what `request.read()` stores, without its walk of the stream
    return request
