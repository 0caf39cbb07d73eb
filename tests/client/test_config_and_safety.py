"""Construction, redaction of the key, path encoding, plain-http refusal."""

from __future__ import annotations

import logging

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings, strategies as st

import zof_async
from tests.helpers import KEY, client, run_json
from zof_async import AsyncZof, ConfigurationError, InternalServerError, NotFoundError


def test_public_names_are_importable_and_sorted() -> None:
    """`__all__` is sorted, names the documented classes, and each name is importable."""
    names = zof_async.__all__
    assert names == sorted(names)
    documented = {
        "AsyncZof", "ZofError", "APIConnectionError", "APITimeoutError", "APIStatusError",
        "BadRequestError", "AuthenticationError", "PermissionDeniedError", "NotFoundError",
        "ConflictError", "RateLimitError", "InternalServerError", "Run", "RunSummary",
        "Result", "Artifact", "RetryPolicy",
    }  # fmt: skip
    assert documented <= set(names)
    assert all(isinstance(getattr(zof_async, name), type) for name in documented)
    assert issubclass(zof_async.APITimeoutError, zof_async.APIConnectionError)
    assert issubclass(zof_async.RateLimitError, zof_async.APIStatusError)
    assert issubclass(zof_async.APIStatusError, zof_async.ZofError)


def test_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """No api_key and no ZOF_API_KEY: a ConfigurationError that names the variable."""
    monkeypatch.delenv("ZOF_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="ZOF_API_KEY"):
        AsyncZof()


@pytest.mark.anyio
async def test_key_and_base_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """ZOF_API_KEY and ZOF_BASE_URL are used when the constructor is given neither."""
    monkeypatch.setenv("ZOF_API_KEY", "zk_env")
    monkeypatch.setenv("ZOF_BASE_URL", "http://127.0.0.1:9/v2")
    router = respx.MockRouter(base_url="http://127.0.0.1:9/v2")
    route = router.get("/runs/r").mock(return_value=httpx.Response(200, json=run_json("r")))
    async with AsyncZof(transport=httpx.MockTransport(router.async_handler)) as zof:
        assert str(zof.base_url) == "http://127.0.0.1:9/v2"
        await zof.runs.get("r")
    assert route.calls[0].request.headers["Authorization"] == "Bearer zk_env"


@pytest.mark.parametrize(
    "url", ["http://api.zof.ai/v1", "http://10.0.0.8/v1", "ftp://x/v1", "not a url"]
)
def test_plain_http_to_remote_hosts_is_refused(url: str) -> None:
    """http:// to a non-loopback host, other schemes and non-URLs: ConfigurationError."""
    with pytest.raises(ConfigurationError):
        AsyncZof(api_key="k", base_url=url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8765/v1",
        "http://localhost/v1",
        "http://[::1]:80/v1",
        "https://api.zof.ai/v1",
    ],
)
def test_loopback_http_and_https_are_allowed(url: str) -> None:
    """http:// to 127.0.0.1, localhost or ::1, and any https://, are accepted as given."""
    assert AsyncZof(api_key="k", base_url=url).base_url == httpx.URL(url)


def test_insecure_http_can_be_allowed_explicitly() -> None:
    """allow_insecure_http=True accepts http:// to a remote host."""
    zof = AsyncZof(api_key="k", base_url="http://zof.internal/v1", allow_insecure_http=True)
    assert zof.base_url == httpx.URL("http://zof.internal/v1")


def test_with_options_keeps_the_http_rule() -> None:
    """A loopback http:// client does not license http:// to a remote host."""
    loopback = AsyncZof(api_key="k", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ConfigurationError):
        loopback.with_options(base_url="http://api.example.com/v1")
    insecure = loopback.with_options(base_url="http://api.example.com/v1", allow_insecure_http=True)
    assert insecure.base_url.host == "api.example.com"
    allowed = AsyncZof(api_key="k", base_url="http://zof.internal/v1", allow_insecure_http=True)
    assert (
        allowed.with_options(base_url="http://other.internal/v1").base_url.host == "other.internal"
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_connections": 0},
        {"total_timeout": 0},
        {"api_key": "bad\nkey"},
        {
            "transport": httpx.MockTransport(lambda r: httpx.Response(200)),
            "http_client": httpx.AsyncClient(),
        },
    ],
)
def test_invalid_settings(kwargs: dict[str, object]) -> None:
    """No connections, a zero total timeout, a key with a newline, transport and http_client."""
    kwargs.setdefault("api_key", "k")
    with pytest.raises(ConfigurationError):
        AsyncZof(**kwargs)  # type: ignore[arg-type]  # deliberately wrong arguments


@pytest.mark.anyio
async def test_headers_sent(router: respx.MockRouter) -> None:
    """A GET carries the bearer key, our User-Agent and default_headers; no Idempotency-Key."""
    route = router.get("/runs/run_1").mock(return_value=httpx.Response(200, json=run_json()))
    async with client(router, default_headers={"X-Team": "qa"}) as zof:
        await zof.runs.get("run_1")
    headers = route.calls[0].request.headers
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert headers["User-Agent"].startswith(f"zof-async/{zof_async.__version__} ")
    assert headers["X-Team"] == "qa"
    assert "Idempotency-Key" not in headers


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("run_id", "raw_path"),
    [
        ("../runs", b"/v1/runs/%2E%2E%2Fruns"),
        ("a/b?c#d", b"/v1/runs/a%2Fb%3Fc%23d"),
        ("%2e%2e", b"/v1/runs/%252e%252e"),
        ("..", b"/v1/runs/%2E%2E"),
        ("run 1\n", b"/v1/runs/run%201%0A"),
    ],
)
async def test_ids_are_one_encoded_segment(
    router: respx.MockRouter, run_id: str, raw_path: bytes
) -> None:
    """Slashes, dots, ?, #, % and control characters in an id: one percent-encoded segment."""
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path)
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "no such run"}})

    router.route().mock(side_effect=handler)
    async with client(router) as zof:
        with pytest.raises(NotFoundError):
            await zof.runs.get(run_id)
    assert seen == [raw_path]


@pytest.mark.slow
@pytest.mark.anyio
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(run_id=st.text(min_size=1, max_size=300))
async def test_any_id_stays_inside_its_template(run_id: str) -> None:
    """Any text as a run id: the request goes to /v1/runs/<one segment>/cancel on our host."""
    router = respx.MockRouter(base_url="https://api.zof.ai/v1", assert_all_called=False)
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json=run_json())

    router.route().mock(side_effect=handler)
    async with client(router) as zof:
        await zof.runs.cancel(run_id)
    (url,) = seen
    assert url.host == "api.zof.ai"
    assert not url.query
    segments = url.raw_path.split(b"/")
    assert segments[:3] == [b"", b"v1", b"runs"]
    assert segments[4:] == [b"cancel"]
    assert httpx.URL("https://x/" + segments[3].decode()).path[1:] == run_id or "%" in run_id


@pytest.mark.anyio
@pytest.mark.parametrize("run_id", ["", 7, None])
async def test_invalid_ids_fail_before_any_request(
    router: respx.MockRouter, run_id: object
) -> None:
    """An empty id, or one that is not a string: ValueError or TypeError, nothing sent."""
    async with client(router) as zof:
        with pytest.raises((ValueError, TypeError)):
            await zof.runs.get(run_id)  # type: ignore[arg-type]  # deliberately not a str
    assert not router.calls


@pytest.mark.anyio
@pytest.mark.parametrize(
    "kwargs",
    [
        {"project_id": "p", "environment": ""},
        {"project_id": "", "environment": "staging", "test_suite_id": "s"},
        {"project_id": "p", "environment": "staging"},
        {"project_id": "p", "environment": "staging", "test_suite_id": "s", "test_case_ids": ["c"]},
        {"project_id": "p", "environment": "staging", "test_case_ids": []},
        {"project_id": "p", "environment": "staging", "test_case_ids": "tc_1"},
        {
            "project_id": "p",
            "environment": "staging",
            "test_suite_id": "s",
            "idempotency_key": "x" * 256,
        },
        {"project_id": "p", "environment": "staging", "test_suite_id": "s", "timeout": -1},
    ],
)
async def test_invalid_create_arguments_fail_before_any_request(
    router: respx.MockRouter, kwargs: dict[str, object]
) -> None:
    """Empty ids, suite and cases both or neither, a long key, a negative timeout: ValueError."""
    async with client(router) as zof:
        with pytest.raises(ValueError, match=r"must|exactly one|timeout"):
            await zof.runs.create(**kwargs)  # type: ignore[arg-type]  # deliberately wrong
    assert not router.calls


@pytest.mark.anyio
async def test_the_key_never_leaks(
    router: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    """Through retries and failures, the key is in no repr, error text or DEBUG log record."""
    caplog.set_level(logging.DEBUG)
    router.get("/runs/run_1").mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.Response(503, json={"error": {"code": "internal_error", "message": "down"}}),
            httpx.Response(200, json=run_json()),
        ]
    )
    router.get("/runs/run_2").mock(return_value=httpx.Response(503, text="nope"))
    texts: list[str] = []
    async with client(router, max_retries=2) as zof:
        texts += [repr(zof), str(zof), repr(zof.with_options(max_retries=1))]
        await zof.runs.get("run_1")
        with pytest.raises(InternalServerError) as caught:
            await zof.runs.get("run_2")
    texts += [str(caught.value), repr(caught.value), caplog.text]
    texts += [str(r.__dict__) for r in caplog.records]
    assert caplog.records
    for text in texts:
        assert KEY not in text


@pytest.mark.anyio
async def test_redirects_are_not_followed(router: respx.MockRouter) -> None:
    """A 302 to another host is an APIStatusError; the key is never sent there."""
    route = router.get("/runs/run_1").mock(
        return_value=httpx.Response(302, headers={"Location": "https://evil.example/steal"})
    )
    router.get("https://evil.example/steal").mock(return_value=httpx.Response(200, json=run_json()))
    async with client(router) as zof:
        with pytest.raises(zof_async.APIStatusError) as caught:
            await zof.runs.get("run_1")
    assert caught.value.status_code == 302
    assert route.call_count == 1
    assert len(router.calls) == 1


@pytest.mark.anyio
async def test_with_options_shares_the_pool_and_counters(router: respx.MockRouter) -> None:
    """A copy has its own key and settings, shares pool and counters, and closes on its own."""
    router.get("/runs/run_1").mock(return_value=httpx.Response(200, json=run_json()))
    async with client(router, max_connections=7) as zof:
        quick = zof.with_options(total_timeout=5, max_retries=0, api_key="other_key")
        assert quick.max_connections == 7
        await quick.runs.get("run_1")
        await zof.runs.get("run_1")
        assert zof.stats.requests_sent == quick.stats.requests_sent == 2
        assert router.calls[0].request.headers["Authorization"] == "Bearer other_key"
        assert router.calls[1].request.headers["Authorization"] == f"Bearer {KEY}"
        await quick.aclose()
        assert not zof.is_closed
    assert quick.is_closed


@pytest.mark.anyio
async def test_a_closed_client_fails_fast(router: respx.MockRouter) -> None:
    """aclose() twice is fine; a call afterwards raises APIConnectionError saying closed."""
    zof = client(router)
    await zof.aclose()
    await zof.aclose()
    with pytest.raises(zof_async.APIConnectionError, match="closed"):
        await zof.runs.get("run_1")
