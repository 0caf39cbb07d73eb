"""Choosing what a client sends through, from the options a user gave.

Three sources, each with its own rules, documented on `AsyncZof`:

- the default: single-connection httpcore transports (see `_pool`), or
  `transport="aiohttp"` (the one door to the aiohttp transport); the client
  builds these, so `proxy=`, `verify=` and `trust_env` apply to them;
- `transport=`: an httpx transport of the user's, used as it is;
- `http_client=`: an `httpx.AsyncClient` of the user's. What it contributes
  is its transport (pool, mounts, proxies, TLS), its event hooks and its
  headers, except the four every httpx client carries (`Accept`,
  `Accept-Encoding`, `Connection`, `User-Agent`), which the SDK sets. What
  the SDK decides regardless: the URL, `Authorization`, timeouts, no
  redirects. Settings
  that would otherwise be dropped silently (`base_url`, `params`, `auth`,
  cookies, an `Authorization` header) are refused with a `ConfigurationError`.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import httpx

from ..._exceptions import ConfigurationError
from ._pool import ClientTransport, ConnectionPool, sharded_factory
from ._proxies import resolve_proxy
from ._tls import ca_from_environment

__all__ = ["TransportChoice", "build_pool", "refuse_credentials", "user_client_headers"]

TransportChoice = httpx.AsyncBaseTransport | Literal["httpx", "aiohttp"] | None

#: Headers every httpx.AsyncClient has unless told otherwise; not the user's.
_HTTPX_DEFAULTS = frozenset({"accept", "accept-encoding", "connection", "user-agent"})


_CREDENTIALS = {
    "authorization": "the client's key is its only credential: pass api_key=",
    "proxy-authorization": (
        "through an HTTPS tunnel it would reach the API server, not the proxy: put the "
        "proxy's credentials in its URL (proxy='http://user:password@host:port')"
    ),
    "cookie": "the Zof API takes no cookies",
}


def refuse_credentials(headers: Mapping[Any, Any] | Iterable[Any], *, argument: str) -> None:
    """Refuse a credential header among `headers`, before anything is sent.

    `Authorization` is always the client's key, so no other credential is
    ever sent; `Proxy-Authorization` belongs in the proxy's URL; the API
    takes no cookies. Names are compared as HTTP compares them (any case,
    surrounding spaces ignored, `str` or `bytes`).

    Raises:
        ConfigurationError: Naming the header and `argument`; never its value.
    """
    names = headers.keys() if isinstance(headers, Mapping) else (pair[0] for pair in headers)
    for name in names:
        text = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        why = _CREDENTIALS.get(text.strip().lower())
        if why is not None:
            raise ConfigurationError(f"{argument}: the header {text.strip()!r} is refused; {why}")


def build_pool(
    *,
    base_url: httpx.URL,
    max_connections: int,
    transport: TransportChoice,
    http_client: httpx.AsyncClient | None,
    proxy: str | httpx.URL | None,
    verify: ssl.SSLContext | str | bool | None,
    trust_env: bool | None,
) -> ConnectionPool:
    """The connection pool of a new client.

    Raises:
        ConfigurationError: For a transport or client of the wrong type, both
            given, or `proxy=`/`verify=` with a transport the client does not
            build (configure those on your transport or client instead).
    """
    builds_own = transport is None or transport in ("httpx", "aiohttp")
    if not builds_own or http_client is not None:
        if transport is not None and http_client is not None:
            raise ConfigurationError("pass either transport or http_client, not both")
        if proxy is not None or verify is not None or trust_env is not None:
            raise ConfigurationError(
                "proxy=, verify= and trust_env= apply to the transports AsyncZof builds; "
                "configure them on the transport or http_client you pass instead"
            )
    if http_client is not None:
        if not isinstance(http_client, httpx.AsyncClient):
            raise ConfigurationError(
                f"http_client must be an httpx.AsyncClient, not {type(http_client).__name__}"
            )
        return ConnectionPool(
            max_connections=max_connections,
            transport=ClientTransport(http_client),
            owns_transport=False,
        )
    if isinstance(transport, httpx.AsyncBaseTransport):
        return ConnectionPool(max_connections=max_connections, transport=transport)
    if not builds_own:
        raise ConfigurationError(
            "transport must be an httpx.AsyncBaseTransport, 'httpx' or 'aiohttp', "
            f"not {transport!r}"
        )
    return _own_pool(
        base_url, max_connections, aiohttp=transport == "aiohttp", proxy=proxy, verify=verify,
        trust_env=True if trust_env is None else trust_env,
    )  # fmt: skip


def _own_pool(
    base_url: httpx.URL,
    max_connections: int,
    *,
    aiohttp: bool,
    proxy: str | httpx.URL | None,
    verify: ssl.SSLContext | str | bool | None,
    trust_env: bool,
) -> ConnectionPool:
    """The pool of the transports the client builds: `proxy=`, `verify=`, the environment."""
    try:
        proxy_url = resolve_proxy(base_url, proxy=proxy, trust_env=trust_env)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    if isinstance(verify, str) and not os.path.exists(verify):
        raise ConfigurationError(f"verify: no CA bundle file or directory at {verify!r}")
    if verify is not None and not isinstance(verify, str | bool | ssl.SSLContext):
        raise ConfigurationError(
            f"verify must be a bool, a path or an ssl.SSLContext, not {verify!r}"
        )
    if (verify is None or verify is True) and trust_env:
        ca_from_environment()  # a variable naming nothing: said now, not at the first request
    checked = True if verify is None else verify
    if aiohttp:
        from ._aiohttp import aiohttp_transport

        return ConnectionPool(
            max_connections=max_connections,
            transport=aiohttp_transport(proxy=proxy_url, verify=checked, trust_env=trust_env),
        )
    return ConnectionPool(
        max_connections=max_connections,
        factory=sharded_factory(verify=checked, trust_env=trust_env, proxy=proxy_url),
    )


def user_client_headers(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    """The headers an `http_client` adds to every request, after checking it.

    Raises:
        ConfigurationError: If the client sets what the SDK would have to drop
            or override: `base_url`, `params`, `auth` or `Authorization`.
    """
    refused = [
        name
        for name, is_set in (
            ("base_url", bool(str(client.base_url))),
            ("params", bool(client.params)),
            ("auth", client.auth is not None),
            ("cookies", bool(client.cookies)),
            ("an Authorization header", "authorization" in client.headers),
        )
        if is_set
    ]
    if refused:
        raise ConfigurationError(
            f"http_client sets {', '.join(refused)}, which AsyncZof would not use: pass "
            "base_url= and api_key= to AsyncZof (the key goes only in its Authorization "
            "header), and per-call options instead of params; the API takes no cookies"
        )
    refuse_credentials(client.headers.raw, argument="http_client")
    return [
        (name, value)
        for name, value in client.headers.multi_items()
        if name.lower() not in _HTTPX_DEFAULTS
    ]
