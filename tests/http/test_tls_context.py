"""A CA bundle named by path (`verify=` or `SSL_CERT_FILE`) is loaded once per version of it.

Loading a bundle takes milliseconds (a system bundle of ~150 CAs: 15 ms and
more); a client made per task would pay that each time. The context made
from a path is shared, as the certifi one is, until the file changes.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import pytest
import trustme

from zof_async._http._transport._tls import ssl_context


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    path = tmp_path / "private-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return path


def _subjects(context: ssl.SSLContext) -> list[object]:
    return [cert["subject"] for cert in context.get_ca_certs()]


def test_a_bundle_path_is_loaded_once(ca_file: Path) -> None:
    """Two clients given the same bundle path share one context."""
    assert ssl_context(str(ca_file)) is ssl_context(str(ca_file))


def test_ssl_cert_file_is_loaded_once(ca_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`SSL_CERT_FILE` (verify=True): one context for every client while the file is the same."""
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    first = ssl_context(True)
    assert first is ssl_context(True)
    assert len(first.get_ca_certs()) == 1


def test_a_changed_bundle_is_loaded_again(ca_file: Path, tmp_path: Path) -> None:
    """A bundle rewritten (a rotated CA) gives a new context holding the new CA."""
    first = ssl_context(str(ca_file))
    other = tmp_path / "other.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    os.replace(other, ca_file)
    stat = ca_file.stat()
    os.utime(ca_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = ssl_context(str(ca_file))
    assert second is not first
    assert _subjects(second) != _subjects(first)
