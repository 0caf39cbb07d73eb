"""TLS settings: one `ssl.SSLContext` from the `verify=` a user gives."""

from __future__ import annotations

import os
import ssl

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
        ValueError: If `verify` names a path that does not exist.
    """
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if verify is True:
        if trust_env and os.environ.get("SSL_CERT_FILE"):
            verify = os.environ["SSL_CERT_FILE"]
        elif trust_env and os.environ.get("SSL_CERT_DIR"):
            verify = os.environ["SSL_CERT_DIR"]
        else:
            import certifi

            return ssl.create_default_context(cafile=certifi.where())
    if not isinstance(verify, str):
        raise TypeError(f"verify must be a bool, a path or an ssl.SSLContext, not {verify!r}")
    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    if os.path.isfile(verify):
        return ssl.create_default_context(cafile=verify)
    raise ValueError(f"verify: no CA bundle file or directory at {verify!r}")
