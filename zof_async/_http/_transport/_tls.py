"""TLS settings: one `ssl.SSLContext` from the `verify=` a user gives."""

from __future__ import annotations

import functools
import os
import ssl

from ..._exceptions import ConfigurationError

__all__ = ["ca_from_environment", "ssl_context"]


def ssl_context(verify: ssl.SSLContext | str | bool, *, trust_env: bool = True) -> ssl.SSLContext:
    """The context every connection of a client verifies servers with.

    Args:
        verify: `True` for the certifi bundle (or `SSL_CERT_FILE` /
            `SSL_CERT_DIR` when `trust_env`), a path to a CA bundle file or
            directory (a private CA), an `ssl.SSLContext` used as given, or
            `False` to skip verification (never in production).
        trust_env: Whether `SSL_CERT_FILE` / `SSL_CERT_DIR` apply (to
            `verify=True`; `SSL_CERT_FILE` wins when both are set).

    Raises:
        ConfigurationError: If `verify`, or the variable it reads, is not a
            usable CA bundle (a missing path, a file that holds no
            certificate, a file that cannot be read), naming which; or if
            `verify` is of the wrong type.
    """
    source = "verify"
    if verify is True and trust_env and (found := ca_from_environment()) is not None:
        source, verify = found
    try:
        return _context(verify)
    except (OSError, ValueError, ssl.SSLError) as exc:
        where = f"{source}={verify!r}" if isinstance(verify, str) else source
        raise ConfigurationError(f"{where}: cannot load the CA bundle: {exc}") from None


def ca_from_environment() -> tuple[str, str] | None:
    """`("SSL_CERT_FILE", path)` or `("SSL_CERT_DIR", path)` when set (the file wins); else `None`.

    Cheap (no bundle is loaded), so a client checks it when made.

    Raises:
        ConfigurationError: The variable names no file (`SSL_CERT_FILE`) or
            no directory (`SSL_CERT_DIR`). Silently verifying with certifi's
            bundle instead would fail later, against a private CA, with a
            certificate error that never mentions the variable.
    """
    for name, wanted, exists in (
        ("SSL_CERT_FILE", "file", os.path.isfile),
        ("SSL_CERT_DIR", "directory", os.path.isdir),
    ):
        path = os.environ.get(name)
        if path:
            if not exists(path):
                raise ConfigurationError(
                    f"{name}={path!r} names no CA bundle {wanted}: fix or unset it "
                    "(or pass trust_env=False to ignore the environment)"
                )
            return name, path
    return None


def _context(verify: ssl.SSLContext | str | bool) -> ssl.SSLContext:
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if verify is True:
        return _certifi_context()
    if not isinstance(verify, str):
        raise ValueError(f"verify must be a bool, a path or an ssl.SSLContext, not {verify!r}")
    try:
        found = os.stat(verify)
    except OSError:
        found = None
    if found is None or not (os.path.isdir(verify) or os.path.isfile(verify)):
        raise ValueError(f"no CA bundle file or directory at {verify!r}")
    return _bundle_context(verify, os.path.isdir(verify), found.st_mtime_ns, found.st_size)


@functools.lru_cache(maxsize=16)
def _bundle_context(path: str, is_dir: bool, mtime_ns: int, size: int) -> ssl.SSLContext:
    """The context of the CA bundle at `path`, made once per version of the file.

    Like `_certifi_context`: a bundle named by `verify=` or `SSL_CERT_FILE`
    (a system bundle: 15 ms and more to load) is loaded once, not once per
    client. The file's modification time and size are part of the key, so a
    rotated bundle is loaded again. A bundle that fails to load is not kept.
    """
    del mtime_ns, size  # only the key
    if is_dir:
        return ssl.create_default_context(capath=path)
    return ssl.create_default_context(cafile=path)


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
