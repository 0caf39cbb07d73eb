"""Which forward proxy a client's requests go through.

The SDK calls its transports directly (see `_pool`), so it resolves the
proxy itself, once per client, the way httpx does for an `AsyncClient` with
`trust_env=True`: `HTTPS_PROXY` for https base URLs, `HTTP_PROXY` for http
ones, `ALL_PROXY` for both, and `NO_PROXY` (hosts, `.domain` suffixes, `*`)
to bypass them; lower-case names work too. Unlike httpx, loopback hosts
(`localhost`, `127.0.0.0/8`, `::1`) are never proxied from the environment:
a corporate `HTTPS_PROXY` must not swallow the local emulator. An explicit
`proxy=` wins over the environment and applies to every host.
"""

from __future__ import annotations

import ipaddress
import urllib.request
from collections.abc import Callable

import httpx

__all__ = ["ProxyConnectError", "is_loopback", "proxy_failed", "resolve_proxy"]

# Documented in the stdlib but missing from typeshed.
_bypass: Callable[[str, dict[str, str]], bool] = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]


def resolve_proxy(
    base_url: httpx.URL, *, proxy: str | httpx.URL | None, trust_env: bool
) -> httpx.URL | None:
    """The proxy URL for requests to `base_url`, or `None` to connect directly.

    Raises:
        ValueError: If the proxy URL is not `http://` or `https://`.
    """
    if proxy is not None:
        return _checked(httpx.URL(str(proxy)))
    if not trust_env:
        return None
    found = urllib.request.getproxies_environment()
    chosen = found.get(base_url.scheme) or found.get("all")
    if not chosen:
        return None
    host = base_url.host
    port = base_url.port
    if is_loopback(host) or _bypass(host, found) or (port and _bypass(f"{host}:{port}", found)):
        return None
    if "://" not in chosen:
        chosen = "http://" + chosen
    return _checked(httpx.URL(chosen))


def _checked(url: httpx.URL) -> httpx.URL:
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"proxy must be an http:// or https:// URL, got {url.scheme}://...")
    return url


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine (`localhost`, 127.0.0.0/8, ::1)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ProxyConnectError(httpx.ProxyError):
    """The connection to the proxy failed: nothing was sent, so it is retried as a `ConnectError`.

    A proxy that answered (`ProxyError`: a CONNECT refused with a status,
    407 or 502) is not retried, on either transport.
    """


def proxy_failed(
    proxy: httpx.URL, request: httpx.Request, *, answered: str | None = None
) -> httpx.ProxyError:
    """The error for a proxy that refused or failed a connection, the same on every transport.

    Names the proxy by host and port only (its URL may carry credentials)
    and the host the request was for. Through a proxy the client connects
    to nothing else, so a connection that fails is the proxy's.

    Args:
        answered: The proxy's status line when it refused a CONNECT (`502 Bad Gateway`).
    """
    url = request.url
    where = f"{url.host}:{url.port}" if url.port else url.host
    message = (
        f"the proxy {proxy.netloc.decode('ascii')} refused or failed the connection to {where}"
    )
    if answered:
        return httpx.ProxyError(f"{message}: it answered {answered}", request=request)
    return ProxyConnectError(message, request=request)
