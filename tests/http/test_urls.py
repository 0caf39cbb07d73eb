"""Requests built from the base URL parsed once are exactly what httpx builds from text."""

from __future__ import annotations

import enum
import json
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest

from tests.helpers import run_json
from zof_async import AsyncZof, NotFoundError

pytestmark = pytest.mark.anyio

HOSTILE_IDS = [
    "res_1",
    "../runs",
    "a/b?c#d",
    ".",
    "..",
    "%41%zz",
    "a b+c",
    "ünïcødé",
    "~tilde_-.",
    "x\x7fy\tz",
    "{`}<>\"'|\\^[]",
    "r" * 3000,
]
HOSTILE_QUERIES = [
    None,
    {"q": "a b&c=d#e"},
    {"ü": "%", "x": "1+1", "empty": ""},
    {"path": "/../runs?x#y", "ctl": "\x00\r\n"},
]
BASES = [
    "http://127.0.0.1:8080/v1",
    "https://api.example.com/v1/",
    "http://[::1]:9000/base%20path/v1",
    "http://ExAmPle.COM",
    "http://bücher.example/v1",
    "https://api.example.com:443/v1",
]
ARTIFACTS: dict[str, Any] = {"data": [], "next_cursor": None, "has_more": False}


def _segment(value: str) -> str:
    """What the SDK documents for an id: one segment, everything encoded, dots too."""
    return quote(value, safe="").replace(".", "%2E")


def _capture(sent: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=ARTIFACTS)

    return httpx.MockTransport(handler)


def _as_httpx_builds_it(request: httpx.Request, text_url: str) -> httpx.Request:
    """The request httpx makes from the URL as text and the same headers, minus its own `Host`."""
    headers = request.headers.raw
    if headers[0] == (b"Host", request.url.netloc):  # the one httpx adds
        headers = headers[1:]
    return httpx.Request(request.method, text_url, headers=headers, content=request.content)


def _assert_same(request: httpx.Request, expected: httpx.Request) -> None:
    assert str(request.url) == str(expected.url)
    assert (request.url.raw_scheme, request.url.raw_host, request.url.port) == (
        expected.url.raw_scheme,
        expected.url.raw_host,
        expected.url.port,
    )
    assert request.url.raw_path == expected.url.raw_path
    assert request.url.netloc == expected.url.netloc
    assert request.url.params == expected.url.params
    assert request.headers.raw == expected.headers.raw
    assert request.content == expected.content
    assert request.read() == expected.read()


@pytest.mark.parametrize("base", BASES)
async def test_bulk_and_listing_urls_match_httpx_for_hostile_ids_and_queries(base: str) -> None:
    """Every id and extra query gives the URL, headers and body httpx builds from text."""
    sent: list[httpx.Request] = []
    async with AsyncZof(
        api_key="k", base_url=base, transport=_capture(sent), allow_insecure_http=True
    ) as zof:
        for extra_query in HOSTILE_QUERIES:
            options = {} if extra_query is None else {"extra_query": extra_query}
            sent.clear()
            async for batch in zof.results.bulk_artifacts(HOSTILE_IDS, **options):  # type: ignore[arg-type]
                assert batch.ok, batch.error
            assert len(sent) == len(HOSTILE_IDS)
            for request in sent:
                raw_path = request.url.raw_path.decode()
                result_id = next(i for i in HOSTILE_IDS if f"/{_segment(i)}/" in raw_path)
                query = [("limit", "1000"), *(extra_query or {}).items()]
                text = f"{base.rstrip('/')}/results/{_segment(result_id)}/artifacts"
                _assert_same(request, _as_httpx_builds_it(request, f"{text}?{urlencode(query)}"))
            assert sent[0].headers.raw[0][0] == b"Host"


async def test_headers_options_and_bodies_match_httpx() -> None:
    """Extra headers (a `Host` too), another `Accept` and a POST body: as httpx builds them."""
    sent: list[httpx.Request] = []
    base = "http://127.0.0.1:8080/v1"

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path.endswith("/logs"):
            return httpx.Response(200, text="", headers={"content-type": "text/plain"})
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "no"}})

    async with AsyncZof(
        api_key="k", base_url=base, transport=httpx.MockTransport(handler), max_retries=0
    ) as zof:
        for extra in ({"X-Trace": "t 1"}, {"host": "elsewhere.example"}, {"ACCEPT": "a/b"}):
            sent.clear()
            with pytest.raises(NotFoundError):
                await zof.results.get("res ü", extra_headers=extra)
            (request,) = sent
            _assert_same(request, _as_httpx_builds_it(request, f"{base}/results/res%20%C3%BC"))
            assert request.headers.get_list("host") == [extra.get("host", "127.0.0.1:8080")]
        sent.clear()
        with pytest.raises(NotFoundError):
            await zof.runs.create(project_id="p", environment="e", test_suite_id="s")
        (post,) = sent
        assert json.loads(post.content)["project_id"] == "p"
        _assert_same(post, _as_httpx_builds_it(post, f"{base}/runs"))
        assert post.headers["content-length"] == str(len(post.content))
        sent.clear()
        async with zof.runs.logs("run_1") as lines:
            assert [line async for line in lines] == []
        (logs,) = sent
        _assert_same(logs, _as_httpx_builds_it(logs, f"{base}/runs/run_1/logs"))
        assert logs.headers["accept"] != "application/json"


class Flavour(str, enum.Enum):
    """A str-mixin enum: equal to (and hashing as) its value, but str() is 'Flavour.PLAIN'."""

    PLAIN = "plain"


async def test_extra_query_values_are_sent_as_their_own_text() -> None:
    """An extra_query value is sent as str() of itself, whatever an equal value sent before."""
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.query.decode())
        return httpx.Response(200, json=run_json())

    transport = httpx.MockTransport(handler)
    async with AsyncZof(api_key="zof_test_q", base_url=BASES[0], transport=transport) as zof:
        await zof.runs.get("run_1", extra_query={"flavour": Flavour.PLAIN})
        await zof.runs.get("run_1", extra_query={"flavour": "plain"})
    assert sent == ["flavour=Flavour.PLAIN", "flavour=plain"]
