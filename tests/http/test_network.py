"""Proxies and TLS on every transport the client builds, against real servers.

A forward proxy on 127.0.0.1 (absolute-form for http, CONNECT for https) and
a TLS server whose certificate a private CA issued (trustme) for `zof.test`,
a name that only the proxy resolves.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import anyio
import httpx
import pytest
import trustme

from tests.helpers import KEY, run_json
from tests.sockets import ForwardProxy, RawServer, http_answer
from zof_async import APIConnectionError, AsyncZof, ConfigurationError

pytestmark = pytest.mark.anyio

Transport = Literal["aiohttp"] | None
TRANSPORTS = [pytest.param(None, id="default"), pytest.param("aiohttp", id="aiohttp")]


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "private-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[RawServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("zof.test", "127.0.0.1").configure_cert(context)
    with RawServer([http_answer(200, run_json())], tls=context).running() as server:
        yield server


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    with ForwardProxy().running() as running:
        yield running


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.mark.usefixtures("no_proxy_env")
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_https_proxy_from_the_environment_tunnels_with_connect(
    transport: Transport,
    tls_server: RawServer,
    proxy: ForwardProxy,
    ca_file: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HTTPS_PROXY: a CONNECT tunnel; the private CA verifies the server behind it."""
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    base_url = f"https://zof.test:{tls_server.port}/v1"
    async with AsyncZof(
        api_key=KEY, base_url=base_url, transport=transport, verify=ca_file, max_retries=0
    ) as zof:
        run = await zof.runs.get("run_1")
    assert run.id == "run_1"
    assert proxy.seen == [f"CONNECT zof.test:{tls_server.port} HTTP/1.1"]
    assert tls_server.received[0].request_line == "GET /v1/runs/run_1 HTTP/1.1"
    assert tls_server.received[0].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.usefixtures("no_proxy_env")
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_http_proxy_gets_the_absolute_form(
    transport: Transport, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY for an http:// base URL: the proxy sees the absolute URL."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    with RawServer([http_answer(200, run_json())]).running() as server:
        base_url = f"http://zof.test:{server.port}/v1"
        async with AsyncZof(
            api_key=KEY,
            base_url=base_url,
            transport=transport,
            allow_insecure_http=True,
            max_retries=0,
        ) as zof:
            await zof.runs.get("run_1")
    assert proxy.seen == [f"GET http://zof.test:{server.port}/v1/runs/run_1 HTTP/1.1"]
    assert server.received[0].request_line == "GET /v1/runs/run_1 HTTP/1.1"


@pytest.mark.usefixtures("no_proxy_env")
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_explicit_proxy_wins_and_no_proxy_or_trust_env_false_bypass(
    transport: Transport,
    tls_server: RawServer,
    proxy: ForwardProxy,
    ca_file: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """proxy= needs no environment; NO_PROXY and trust_env=False keep requests direct."""
    base_url = f"https://zof.test:{tls_server.port}/v1"
    options: dict[str, Any] = {"transport": transport, "verify": ca_file, "max_retries": 0}
    async with AsyncZof(api_key=KEY, base_url=base_url, proxy=proxy.url, **options) as zof:
        await zof.runs.get("run_1")
    assert len(proxy.seen) == 1

    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "example.org,.test")
    async with AsyncZof(api_key=KEY, base_url=base_url, **options) as zof:
        with pytest.raises(APIConnectionError, match=r"zof\.test"):
            await zof.runs.get("run_1")  # direct: nobody resolves zof.test
    monkeypatch.delenv("NO_PROXY")
    async with AsyncZof(api_key=KEY, base_url=base_url, trust_env=False, **options) as zof:
        with pytest.raises(APIConnectionError, match=r"zof\.test"):
            await zof.runs.get("run_1")
    assert len(proxy.seen) == 1


@pytest.mark.usefixtures("no_proxy_env")
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_loopback_is_never_proxied_from_the_environment(
    transport: Transport, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A corporate HTTP_PROXY does not swallow the local emulator."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    with RawServer([http_answer(200, run_json())]).running() as server:
        async with AsyncZof(api_key=KEY, base_url=server.base_url, transport=transport) as zof:
            await zof.runs.get("run_1")
    assert proxy.seen == []
    assert len(server.received) == 1


@pytest.mark.usefixtures("no_proxy_env")
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_private_ca_by_path_or_context_and_untrusted_without(
    transport: Transport, tls_server: RawServer, ca: trustme.CA, ca_file: str
) -> None:
    """verify= a CA bundle path or SSLContext trusts the server; the default, in any client, does not."""
    base_url = f"https://127.0.0.1:{tls_server.port}/v1"
    context = ssl.create_default_context()
    ca.configure_trust(context)
    for verify in (ca_file, context):
        async with AsyncZof(
            api_key=KEY, base_url=base_url, transport=transport, verify=verify
        ) as zof:
            assert (await zof.runs.get("run_1")).id == "run_1"
    for _ in range(2):  # the second client shares the first one's default context
        async with AsyncZof(
            api_key=KEY, base_url=base_url, transport=transport, max_retries=0
        ) as zof:
            with pytest.raises(APIConnectionError) as caught:
                await zof.runs.get("run_1")
        assert KEY not in str(caught.value)


@pytest.mark.usefixtures("no_proxy_env", "no_backoff")
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("scheme", ["https", "http"])
async def test_a_refusing_proxy_is_named_the_same_on_every_transport(
    transport: Transport, scheme: str
) -> None:
    """Nothing listens at the proxy: the error names it, not only the API host; retried."""
    with RawServer([http_answer(200, {})]).running() as gone:
        proxy = f"127.0.0.1:{gone.port}"  # closed again: connections are refused
    async with AsyncZof(
        api_key=KEY,
        base_url=f"{scheme}://zof.test:8443/v1",
        proxy=f"http://{proxy}",
        transport=transport,
        max_retries=1,
        allow_insecure_http=True,
    ) as zof:
        with pytest.raises(APIConnectionError) as caught:
            await zof.runs.get("run_1")
        assert zof.stats.retries == 1  # nothing reached the API: retried as a refused connection
    assert str(caught.value) == (
        "GET /v1/runs/run_1 on zof.test:8443: ProxyConnectError: "
        f"the proxy {proxy} refused or failed the connection to zof.test:8443"
    )


@pytest.mark.usefixtures("no_proxy_env")
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_proxy_refusing_connect_is_named_the_same_on_every_transport(
    transport: Transport,
) -> None:
    """The proxy answers CONNECT with 502: the same message, with its answer; not retried."""
    with RawServer([http_answer(502, {})]).running() as proxy:
        async with AsyncZof(
            api_key=KEY,
            base_url="https://zof.test:8443/v1",
            proxy=f"http://127.0.0.1:{proxy.port}",
            transport=transport,
            max_retries=1,
        ) as zof:
            with pytest.raises(APIConnectionError) as caught:
                await zof.runs.get("run_1")
    assert str(caught.value) == (
        "GET /v1/runs/run_1 on zof.test:8443: ProxyError: the proxy "
        f"127.0.0.1:{proxy.port} refused or failed the connection to zof.test:8443: "
        "it answered 502 X"
    )
    assert [r.request_line for r in proxy.received] == ["CONNECT zof.test:8443 HTTP/1.1"]


@pytest.mark.usefixtures("no_proxy_env")
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_untrusted_server_behind_a_working_proxy_is_not_the_proxys_fault(
    transport: Transport, tls_server: RawServer, proxy: ForwardProxy
) -> None:
    """Through a tunnel that works, a certificate that fails is reported as TLS."""
    async with AsyncZof(
        api_key=KEY,
        base_url=f"https://zof.test:{tls_server.port}/v1",
        proxy=proxy.url,
        transport=transport,
        max_retries=0,
    ) as zof:
        with pytest.raises(APIConnectionError) as caught:
            await zof.runs.get("run_1")
    assert "the proxy" not in str(caught.value)
    assert "certificate" in str(caught.value).lower()
    assert proxy.seen == [f"CONNECT zof.test:{tls_server.port} HTTP/1.1"]


@pytest.mark.usefixtures("no_proxy_env")
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_tls_failure_keeps_openssls_reason(
    transport: Transport, tls_server: RawServer, ca_file: str
) -> None:
    """An untrusted certificate or a name it does not cover: OpenSSL's reason, on both transports."""
    reasons: list[tuple[str, str | bool, str]] = [
        ("127.0.0.1", True, "certificate verify failed: unable to get local issuer certificate"),
        ("localhost", ca_file, "certificate verify failed: Hostname mismatch"),
    ]
    for host, verify, reason in reasons:
        base_url = f"https://{host}:{tls_server.port}/v1"
        async with AsyncZof(
            api_key=KEY, base_url=base_url, transport=transport, max_retries=0, verify=verify
        ) as zof:
            with pytest.raises(APIConnectionError) as caught:
                await zof.runs.get("run_1")
        assert reason in str(caught.value)
        assert KEY not in str(caught.value)


def test_proxy_and_verify_are_refused_with_a_transport_they_would_not_reach() -> None:
    """proxy=/verify= with your own transport or client: said at once, not ignored."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    with pytest.raises(ConfigurationError, match=r"proxy=, verify= and trust_env="):
        AsyncZof(api_key=KEY, transport=transport, proxy="http://127.0.0.1:1")
    with pytest.raises(ConfigurationError, match=r"proxy=, verify= and trust_env="):
        AsyncZof(api_key=KEY, http_client=httpx.AsyncClient(), verify=False)
    with pytest.raises(ConfigurationError, match="proxy must be"):
        AsyncZof(api_key=KEY, proxy="socks5://127.0.0.1:1080")
    with pytest.raises(ConfigurationError, match=r"proxy=, verify= and trust_env="):
        AsyncZof(api_key=KEY, transport=transport, trust_env=False)
    with pytest.raises(ConfigurationError, match="no CA bundle"):
        AsyncZof(api_key=KEY, verify="/nonexistent/ca.pem")
    with pytest.raises(ConfigurationError, match="CA bundle"):
        AsyncZof(api_key=KEY, transport="aiohttp", verify=__file__)  # not a certificate


async def test_a_ca_bundle_that_fails_to_load_costs_no_slot(tmp_path: Path) -> None:
    """A bad bundle found on first use: ConfigurationError, every time, slot given back."""
    bundle = tmp_path / "not-a-bundle.pem"
    bundle.write_text("no certificate here")
    async with AsyncZof(
        api_key=KEY, base_url="https://127.0.0.1:9/v1", verify=str(bundle), max_connections=1
    ) as zof:
        for _ in range(2):
            with anyio.fail_after(5), pytest.raises(ConfigurationError, match="CA bundle"):
                await zof.runs.get("run_1")
        assert zof.stats.in_flight == 0


@pytest.mark.usefixtures("no_proxy_env")
async def test_no_proxy_with_a_port(
    tls_server: RawServer, proxy: ForwardProxy, ca_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_PROXY=host:port bypasses as httpx does."""
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", f"zof.test:{tls_server.port}")
    base_url = f"https://zof.test:{tls_server.port}/v1"
    async with AsyncZof(api_key=KEY, base_url=base_url, verify=ca_file, max_retries=0) as zof:
        with pytest.raises(APIConnectionError):
            await zof.runs.get("run_1")  # direct, and nobody resolves zof.test
    assert proxy.seen == []


@pytest.fixture
def no_ca_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


@pytest.mark.usefixtures("no_ca_env")
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("SSL_CERT_FILE", "missing"),
        ("SSL_CERT_FILE", "a directory"),
        ("SSL_CERT_FILE", "no certificate"),
        ("SSL_CERT_DIR", "missing"),
        ("SSL_CERT_DIR", "a file"),
    ],
)
async def test_a_ca_location_from_the_environment_that_cannot_be_used_is_named(
    transport: Transport,
    name: str,
    kind: str,
    tmp_path: Path,
    ca_file: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SSL_CERT_FILE / SSL_CERT_DIR naming nothing usable: a ConfigurationError naming it."""
    path = {
        "missing": str(tmp_path / "missing.pem"),
        "a directory": str(tmp_path),
        "no certificate": str(tmp_path / "empty.pem"),
        "a file": ca_file,
    }[kind]
    (tmp_path / "empty.pem").write_text("no certificate here")
    monkeypatch.setenv(name, path)
    base_url = "https://127.0.0.1:9/v1"
    with pytest.raises(ConfigurationError) as caught:
        async with AsyncZof(api_key=KEY, base_url=base_url, transport=transport) as zof:
            await zof.runs.get("run_1")  # a bundle is loaded when first needed
    assert name in str(caught.value)
    assert path in str(caught.value)
    for ignored in ({"trust_env": False}, {"verify": ca_file}):  # the variable does not apply
        async with AsyncZof(
            api_key=KEY, base_url=base_url, transport=transport, max_retries=0, **ignored
        ) as zof:
            with pytest.raises(APIConnectionError):  # nothing listens on port 9
                await zof.runs.get("run_1")


@pytest.mark.usefixtures("no_ca_env", "no_proxy_env")
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_private_ca_from_ssl_cert_file_is_trusted(
    transport: Transport, tls_server: RawServer, ca_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SSL_CERT_FILE naming a private CA is what verifies the server."""
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    base_url = f"https://127.0.0.1:{tls_server.port}/v1"
    async with AsyncZof(api_key=KEY, base_url=base_url, transport=transport) as zof:
        assert (await zof.runs.get("run_1")).id == "run_1"
