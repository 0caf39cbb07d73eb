"""One credential: the client's key in `Authorization`, and no other.

Headers enter from four doors: the constructor's `default_headers`, an
`http_client`'s headers, `with_options(default_headers=...)` and a call's
`extra_headers`. A credential header at any of them (any spelling of its
name) is refused before a request is built, with an error that names the
header and never holds its value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from tests.helpers import KEY, client, run_json
from zof_async import AsyncZof, ConfigurationError

FOREIGN = "Bearer f0re1gn_t0ken_value"

CREDENTIALS = [
    "Authorization",
    "authorization",
    "AUTHORIZATION",
    " Authorization ",
    "Proxy-Authorization",
    "proxy-authorization",
    "Cookie",
    "cookie",
]


def _holds_value(error: BaseException) -> bool:
    texts = [str(error), repr(error), *map(repr, error.args)]
    return any("f0re1gn" in text for text in texts)


@pytest.mark.parametrize("name", CREDENTIALS)
def test_default_headers_refuse_a_credential(name: str) -> None:
    """The constructor refuses it: a `ConfigurationError` naming the header, not its value."""
    with pytest.raises(ConfigurationError, match=name.strip()) as caught:
        AsyncZof(api_key=KEY, default_headers={"X-Team": "qa", name: FOREIGN})
    assert "default_headers" in str(caught.value)
    assert not _holds_value(caught.value)


@pytest.mark.anyio
@pytest.mark.parametrize("name", CREDENTIALS)
async def test_with_options_refuses_a_credential(name: str, router: respx.MockRouter) -> None:
    """`with_options(default_headers=...)` refuses it as the constructor does."""
    async with client(router) as zof:
        with pytest.raises(ConfigurationError, match=name.strip()) as caught:
            zof.with_options(default_headers={name: FOREIGN})
    assert not _holds_value(caught.value)


@pytest.mark.anyio
@pytest.mark.parametrize("name", CREDENTIALS)
async def test_extra_headers_refuse_a_credential(name: str, router: respx.MockRouter) -> None:
    """A call's `extra_headers` refuses it before anything is sent (it was dropped silently)."""
    route = router.get("/runs/run_1").mock(return_value=httpx.Response(200, json=run_json()))
    async with client(router) as zof:
        with pytest.raises(ConfigurationError, match=name.strip()) as caught:
            await zof.runs.get("run_1", extra_headers={name: FOREIGN})
    assert not route.called
    assert not _holds_value(caught.value)


@pytest.mark.parametrize("name", ["Proxy-Authorization", "Cookie"])
def test_an_http_client_with_a_credential_header_is_refused(name: str) -> None:
    """An `http_client` carrying a proxy credential or a cookie header is refused too."""
    user_client = httpx.AsyncClient(headers={name: FOREIGN})
    with pytest.raises(ConfigurationError, match=name) as caught:
        AsyncZof(api_key=KEY, http_client=user_client)
    assert not _holds_value(caught.value)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "make",
    [
        lambda router: client(router, default_headers={"X-Team": "qa"}),
        lambda router: client(router).with_options(default_headers={"X-Team": "qa"}),
    ],
    ids=["constructor", "with_options"],
)
async def test_exactly_one_authorization_goes_out(
    make: Callable[[respx.MockRouter], AsyncZof], router: respx.MockRouter
) -> None:
    """Every request carries one `Authorization` (the key) and no cookie or proxy credential."""
    route = router.get("/runs/run_1").mock(
        return_value=httpx.Response(200, json=run_json(), headers={"Set-Cookie": "s=1; Path=/"})
    )
    zof = make(router)
    await zof.runs.get("run_1")
    await zof.runs.get("run_1", extra_headers={"X-Trace": "t"})
    await zof.aclose()
    for call in route.calls:
        headers = call.request.headers
        assert headers.get_list("authorization") == [f"Bearer {KEY}"]
        assert "cookie" not in headers  # a Set-Cookie is never stored and sent back
        assert "proxy-authorization" not in headers
        assert headers["X-Team"] == "qa"


def test_bytes_header_names_are_checked_too() -> None:
    """A name given as bytes (httpx accepts them) is no way around the rule."""
    headers: Any = {b"Authorization": FOREIGN}
    with pytest.raises(ConfigurationError, match="Authorization"):
        AsyncZof(api_key=KEY, default_headers=headers)
