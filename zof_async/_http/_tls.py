"""TLS settings: one `ssl.SSLContext` from the `verify=` a user gives."""

from __future__ import annotations

import functools
import os
import ssl

from .._exceptions import ConfigurationError

__all__ = ["ssl_context"]


def ssl_context(verify: ssl.SSLContext | str | bool, *, trust_env: bool = True) -> ssl.SSLContext:
    """The context every connection of a client verifies servers with.

    Args:
        verify: `True` for the certifi bundle (or `SSL_CERT_FILE` /
            `SSL_CERT_DIR` when `trust_env`), a path to a CA bundle file or
            directory (a private CA), an `ssl.SSLContext` used as given, or
            `False` to skip verification (never in production).
        trust_env: Whether `SSL_CERT_FILE` / `SSL_CERT_DIR` apply.

    Raises:
        ConfigurationError: If `verify` is not a usable CA bundle (a missing
            path, a file that holds no certificate) or of the wrong type.
    """
    try:
        return _context(verify, trust_env=trust_env)
    except (OSError, ValueError, ssl.SSLError) as exc:
        raise ConfigurationError(f"verify: cannot load the CA bundle: {exc}") from None


def _context(verify: ssl.SSLContext | str | bool, *, trust_env: bool) -> ssl.SSLContext:
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if verify is True:
        # Like httpx: a variable naming nothing is ignored, not an error.
        if trust_env and os.path.isfile(os.environ.get("SSL_CERT_FILE", "")):
            verify = os.environ["SSL_CERT_FILE"]
        elif trust_env and os.path.isdir(os.environ.get("SSL_CERT_DIR", "")):
            verify = os.environ["SSL_CERT_DIR"]
        else:
            return _certifi_context()
    if not isinstance(verify, str):
        raise ValueError(f"verify must be a bool, a path or an ssl.SSLContext, not {verify!r}")
    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    if os.path.isfile(verify):
        return ssl.create_default_context(cafile=verify)
    raise ValueError(f"no CA bundle file or directory at {verify!r}")


@functools.cache
def _certifi_context() -> ssl.SSLContext:
    """The default context (the certifi bundle), made once per process.

    Loading the bundle takes ~15 ms, as long as thousands of requests; a
    client made per task or per worker would pay it every time. Sharing one
    context between clients is what `ssl` allows (it is only read once made)
    and what aiohttp does with its own default.
    """
    import certifi

    return ssl.create_default_context(cafile=certifi.where())
