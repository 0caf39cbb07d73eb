"""What a client sends with: its settings, and the per-call options over them.

Precedence, lowest first: the client's constructor, `with_options`, then
the options of one call (`timeout=`, `max_retries=`, `extra_headers=`,
`extra_query=`).
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs
import httpx

from .. import _numbers as numbers
from .._exceptions import ConfigurationError
from .._version import __version__
from ._hooks import Hooks
from ._retry import RetryPolicy
from ._traffic import Meter
from ._transport._proxies import is_loopback
from ._transport._transports import refuse_credentials

if TYPE_CHECKING:
    from ._raw_response import Capture

JSON = "application/json"
DEFAULT_BASE_URL = "https://api.zof.ai/v1"

USER_AGENT = f"zof-async/{__version__} httpx/{httpx.__version__} python/{platform.python_version()}"


@attrs.frozen(kw_only=True)
class Settings:
    """What a client (or a `with_options` copy) sends with, per call.

    The inputs as given, so `with_options` inherits exactly them; the key is
    left out of the repr. `hooks` accumulate: a `with_options` copy calls the
    client's hooks, then its own.
    """

    base_url: httpx.URL
    api_key: str = attrs.field(repr=False)
    default_headers: tuple[tuple[str, str], ...]
    allow_insecure_http: bool
    timeout: httpx.Timeout
    total_timeout: float | None
    retry: RetryPolicy
    hooks: Hooks = attrs.field(factory=Hooks, eq=False)

    def headers(self) -> httpx.Headers:
        """The headers of every request: identity, defaults, then `Accept` and the key.

        `Accept` is the SDK's, not a default: it says what the SDK can decode
        (`application/json`; `Pipeline.build` sets another for the endpoints
        that answer something else), and a negotiating server answers 406 to
        an `Accept` that excludes what the endpoint returns.
        """
        headers = httpx.Headers(
            [
                ("User-Agent", USER_AGENT),
                *self.default_headers,
                ("Authorization", f"Bearer {self.api_key}"),
            ]
        )
        headers["Accept"] = JSON
        return headers


@attrs.frozen(kw_only=True)
class Call:
    """The options of one call, over the client's settings.

    Attributes:
        total_timeout: Seconds for the whole call across its attempts
            (`None`: the client's `total_timeout`).
        max_retries: Retries of this call (`None`: the client's policy).
        meter: Where this call's attempts are counted too (a fan-out's).
        capture: Where the successful answer is recorded (`with_raw_response`).
        extra_headers: Headers added to the SDK's (never `Authorization`).
        extra_query: Query parameters added to (or replacing) the SDK's.
    """

    total_timeout: float | None = None
    max_retries: int | None = None
    meter: Meter | None = None
    capture: Capture | None = None
    extra_headers: Mapping[str, str] | None = None
    extra_query: Mapping[str, str] | None = None


DEFAULT_CALL = Call()


def build_settings(
    *,
    api_key: str | None,
    base_url: str | httpx.URL | None,
    timeout: float | httpx.Timeout,
    total_timeout: float | None,
    max_retries: int | None,
    retry: RetryPolicy,
    default_headers: dict[str, str] | None,
    allow_insecure_http: bool,
    hooks: Hooks,
) -> Settings:
    """The client's `Settings` from its constructor's (or `with_options`') arguments, checked.

    The key and base URL fall back to `ZOF_API_KEY` and `ZOF_BASE_URL`.

    Raises:
        ConfigurationError: A missing or unsendable key, a base URL that is
            not http(s), plain `http://` to a remote host, a credential
            header, or a total timeout that is not positive.
    """
    refuse_credentials(default_headers or {}, argument="default_headers")
    key = api_key if api_key is not None else os.environ.get("ZOF_API_KEY")
    if not key:
        raise ConfigurationError("no API key: pass api_key= or set ZOF_API_KEY")
    if not (key.isascii() and key.isprintable()) or " " in key:
        raise ConfigurationError(
            "the API key contains characters that cannot be sent (only printable ASCII "
            "without spaces); check ZOF_API_KEY or api_key="
        )
    url = httpx.URL(str(base_url or os.environ.get("ZOF_BASE_URL") or DEFAULT_BASE_URL))
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(f"base_url must be an http(s) URL, got {str(url)!r}")
    if url.scheme == "http" and not allow_insecure_http and not is_loopback(url.host):
        raise ConfigurationError(
            "refusing to send the API key over plain http:// to a non-loopback host; "
            "use https:// or pass allow_insecure_http=True"
        )
    if not (timeout is None or isinstance(timeout, httpx.Timeout)):
        numbers.seconds("timeout", timeout, error=ConfigurationError)
    if total_timeout is not None and not (
        numbers.seconds("total_timeout", total_timeout, error=ConfigurationError) > 0
    ):
        raise ConfigurationError("total_timeout must be positive or None")
    if max_retries is not None:
        numbers.integer("max_retries", max_retries, error=ConfigurationError)
        retry = attrs.evolve(retry, max_retries=max_retries)
    return Settings(
        base_url=url.copy_with(query=None, fragment=None),
        api_key=key,
        default_headers=tuple((default_headers or {}).items()),
        allow_insecure_http=allow_insecure_http,
        timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
        total_timeout=total_timeout,
        retry=retry,
        hooks=hooks,
    )
