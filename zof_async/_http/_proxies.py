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

__all__ = ["is_loopback", "resolve_proxy"]

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
