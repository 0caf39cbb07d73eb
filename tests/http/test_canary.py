"""Secrets, paths and attempts on every transport, checked on a raw socket server.

Each test runs on the default transport, the aiohttp transport and a user's
`http_client=`, on asyncio and (where the transport supports it) trio, and
asserts on what the server received byte for byte and on every string a user
can see: the exception's text and repr, its printed traceback chain and every
log record.
"""

from __future__ import annotations

import gc
import logging
import traceback
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import httpx
import pytest

from tests.helpers import KEY, run_json
from tests.sockets import (
    Answer,
    RawServer,
    close_silently,
    cut_body,
    echo_headers,
    http_answer,
    raw_bytes,
    reset,
)
from zof_async import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncZof,
    ConfigurationError,
    NotFoundError,
    ZofError,
)

pytestmark = pytest.mark.anyio

COMBOS = [
    pytest.param("asyncio", "default", id="default-asyncio"),
    pytest.param("trio", "default", id="default-trio"),
    pytest.param("asyncio", "aiohttp", id="aiohttp-asyncio"),
    pytest.param("asyncio", "http_client", id="http_client-asyncio"),
    pytest.param("trio", "http_client", id="http_client-trio"),
]

NOT_FOUND = {"error": {"code": "not_found", "message": "no such run"}}
TLS_SERVER_HELLO = bytes.fromhex("160303003d020000390303") + bytes(32) + b"\x00\x13\x01\x00"


@asynccontextmanager
async def open_client(kind: str, base_url: str, **options: Any) -> AsyncIterator[AsyncZof]:
    """A client on `kind` of transport, closed (with any http_client) on exit."""
    options.setdefault("api_key", KEY)
    options.setdefault("timeout", 5)
    if kind == "http_client":
        async with (
            httpx.AsyncClient() as http,
            AsyncZof(base_url=base_url, http_client=http, **options) as zof,
        ):
            yield zof
        return
    transport: Literal["aiohttp"] | None = "aiohttp" if kind == "aiohttp" else None
    async with AsyncZof(base_url=base_url, transport=transport, **options) as zof:
        yield zof


def everything_shown(
    exc: BaseException, caplog: pytest.LogCaptureFixture, *, skip_logger: str = "-"
) -> str:
    """Every string a user could see of a failure: text, repr, traceback, logs."""
    shown = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    for record in caplog.records:
        if record.name.startswith(skip_logger):
            continue
        shown.append(record.getMessage())
        if record.exc_info:
            shown.append("".join(traceback.format_exception(*record.exc_info)))
    return "\n".join(shown)


NON_HTTP: dict[str, Answer] = {
    "ssh_banner": raw_bytes(b"SSH-2.0-OpenSSH_9.6\r\n"),
    "tls_handshake": raw_bytes(TLS_SERVER_HELLO),
    "bad_status_line": raw_bytes(b"HTTP/1.1 abc\r\nContent-Length: 0\r\n\r\n"),
    "reset": reset(),
    "cut_body": cut_body(),
    "gzip_garbage": http_answer(200, b"not gzip at all", headers={"Content-Encoding": "gzip"}),
}


@pytest.mark.parametrize(("anyio_backend", "kind"), COMBOS)
@pytest.mark.parametrize("answer", list(NON_HTTP))
async def test_a_non_http_answer_is_a_connection_error_without_the_key(
    kind: str, answer: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Garbage, TLS, bad status lines, resets and cut bodies: APIConnectionError, no key."""
    caplog.set_level(logging.DEBUG)
    with RawServer([NON_HTTP[answer]]).running() as server:
        async with open_client(kind, server.base_url, max_retries=0) as zof:
            with pytest.raises(APIConnectionError) as caught:
                await zof.runs.get("run_1")
    exc = caught.value
    assert not isinstance(exc, APITimeoutError)
    assert "127.0.0.1" in str(exc)
    assert len(server.received) == 1
    assert KEY not in everything_shown(exc, caplog)
    assert "authorization" not in str(exc).lower()


ECHOES: dict[str, Answer] = {
    "message": http_answer(
        401, {"error": {"code": "unauthorized", "message": f"invalid token: Bearer {KEY}"}}
    ),
    "all_headers": echo_headers(401),
    "request_id": http_answer(500, NOT_FOUND, headers={"X-Request-Id": f"req-{KEY}"}),
    "rate_limited_long": http_answer(
        429,
        {"error": {"code": "rate_limited", "message": f"slow down, Bearer {KEY}"}},
        headers={"Retry-After": "3600", "X-Request-Id": f"req-{KEY}"},
    ),
    "other_token": http_answer(
        403, {"error": {"code": "forbidden", "message": "token bearer zof_other_token used"}}
    ),
}


@pytest.mark.parametrize(("anyio_backend", "kind"), COMBOS)
@pytest.mark.parametrize("echo", list(ECHOES))
async def test_a_key_the_server_echoes_is_redacted(
    kind: str, echo: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A server repeating the key or any bearer token: scrubbed from errors and logs."""
    caplog.set_level(logging.DEBUG)
    with RawServer([ECHOES[echo]]).running() as server:
        async with open_client(kind, server.base_url, max_retries=0) as zof:
            with pytest.raises(APIStatusError) as caught:
                await zof.runs.get("run_1")
    # httpcore's DEBUG trace prints response headers as received: what a
    # hostile server sends back is its own, and not the SDK's to rewrite.
    shown = everything_shown(caught.value, caplog, skip_logger="httpcore")
    if echo == "rate_limited_long":  # a second call is held by the gate, never sent
        with pytest.raises(APIStatusError) as held:
            await zof.runs.get("run_1")
        shown += everything_shown(held.value, caplog, skip_logger="httpcore")
    assert KEY not in shown
    assert "zof_other_token" not in shown
    assert "<redacted>" in str(caught.value)
    assert caught.value.status_code in (401, 403, 429, 500)


# Each id and the one path segment it must arrive as (written out, not computed).
HOSTILE_IDS = {
    "..": "%2E%2E",
    ".": "%2E",
    "../cancel": "%2E%2E%2Fcancel",
    "a/b": "a%2Fb",
    "%2F": "%252F",
    "?limit=1": "%3Flimit%3D1",
    "#top": "%23top",
    "ü": "%C3%BC",
    "a b": "a%20b",
    "x\r\nX-Evil: 1": "x%0D%0AX-Evil%3A%201",
    "nul\x00": "nul%00",
}


@pytest.mark.parametrize(("anyio_backend", "kind"), COMBOS)
async def test_hostile_ids_stay_in_their_segment(kind: str) -> None:
    """`..`, `.`, `/`, `?`, `#`, unicode, CR/LF, NUL: one segment on the raw request line."""
    with RawServer([http_answer(404, NOT_FOUND)]).running() as server:
        async with open_client(kind, server.base_url, max_retries=0) as zof:
            for hostile in HOSTILE_IDS:
                with pytest.raises(NotFoundError):
                    await zof.runs.get(hostile)
                with pytest.raises(NotFoundError):
                    await zof.runs.cancel(hostile)
                with pytest.raises(NotFoundError):
                    await zof.artifacts.download(hostile, "never-written")
    lines = [r.request_line for r in server.received]
    expected = []
    for encoded in HOSTILE_IDS.values():
        expected += [
            f"GET /v1/runs/{encoded} HTTP/1.1",
            f"POST /v1/runs/{encoded}/cancel HTTP/1.1",
            f"GET /v1/artifacts/{encoded}/content HTTP/1.1",
        ]
    assert lines == expected


@pytest.mark.parametrize(("anyio_backend", "kind"), COMBOS)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_one_attempt_is_one_request_on_the_wire(kind: str, method: str) -> None:
    """max_retries=0 on a keep-alive connection the server drops: exactly one request."""
    answers = [http_answer(200, run_json()), close_silently()]
    with RawServer(answers).running() as server:
        async with open_client(kind, server.base_url, max_retries=0) as zof:
            await zof.runs.get("run_1")  # leaves a keep-alive connection behind
            call = zof.runs.get("run_1") if method == "GET" else zof.runs.cancel("run_1")
            with pytest.raises(APIConnectionError) as caught:
                await call
    assert not isinstance(caught.value, APITimeoutError)
    assert len(server.received) == 2
    assert zof.stats.requests_sent == 2


@pytest.mark.parametrize(("anyio_backend", "kind"), COMBOS)
async def test_errors_stay_in_the_tree_for_a_refused_port(kind: str) -> None:
    """Nothing listening: an APIConnectionError naming the host, not a library error."""
    with RawServer([http_answer(200, {})]).running() as server:
        base_url = server.base_url
    async with open_client(kind, base_url, max_retries=0) as zof:
        with pytest.raises(ZofError) as caught:
            await zof.runs.get("run_1")
    assert type(caught.value) is APIConnectionError
    assert "127.0.0.1" in str(caught.value)


CUT_STREAM = raw_bytes(
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n6\r\nline1\n\r\n100\r\npartial"
)


@pytest.mark.parametrize(("anyio_backend", "kind"), COMBOS)
async def test_a_streamed_body_cut_mid_way_is_a_connection_error_without_the_key(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Logs streamed line by line, the connection dropped mid-chunk: no half success."""
    caplog.set_level(logging.DEBUG)
    lines: list[str] = []

    async def read(zof: AsyncZof) -> None:
        async with zof.runs.logs("run_1") as stream:
            async for line in stream:
                lines.append(line)

    with RawServer([CUT_STREAM]).running() as server:
        async with open_client(kind, server.base_url, max_retries=0) as zof:
            with pytest.raises(APIConnectionError) as caught:
                await read(zof)
    assert "line1" not in lines[1:]
    assert "partial" not in "".join(lines)
    assert KEY not in everything_shown(caught.value, caplog)


@pytest.mark.parametrize(("anyio_backend", "kind"), COMBOS)
async def test_a_key_echoed_in_a_2xx_that_does_not_decode_is_redacted(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """APIResponseValidationError and the cattrs group behind it: no key."""
    body = run_json(created_at=f"invalid token: Bearer {KEY}")
    with RawServer([http_answer(200, body)]).running() as server:
        async with open_client(kind, server.base_url, max_retries=0) as zof:
            with pytest.raises(APIResponseValidationError) as caught:
                await zof.runs.get("run_1")
    assert KEY not in everything_shown(caught.value, caplog, skip_logger="httpcore")


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_an_http_client_from_a_finished_loop_is_a_configuration_error() -> None:
    """'Event loop is closed' from a user's client: ConfigurationError, in the tree."""
    import asyncio
    import threading

    with RawServer([http_answer(200, run_json())]).running() as server:
        http = httpx.AsyncClient()
        thread = threading.Thread(target=asyncio.run, args=(http.get(server.base_url),))
        thread.start()
        thread.join()
        async with AsyncZof(api_key=KEY, base_url=server.base_url, http_client=http) as zof:
            with pytest.raises(ZofError) as caught:
                await zof.runs.get("run_1")
    # The pooled connection belongs to the dead loop: nothing can close it any
    # more; collect it now, with its ResourceWarning silenced, not in a later test.
    error = caught.value
    del http, zof, caught
    link: BaseException | None = error
    while link is not None:  # tracebacks hold the frames that hold the connection
        link.__traceback__ = None
        link = link.__cause__ or link.__context__
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    assert isinstance(error, ConfigurationError), repr(error)
