"""Every numeric argument of the public API refuses a wrong type in our words, before sending.

`wait_until_complete(run_id, timeout="30m")` used to fail inside the SDK with
`TypeError: '<=' not supported between instances of 'str' and 'int'`. Each
argument here is given a string (a unit typed in, as a CLI takes it) and a
`None` where `None` does not mean anything; the error names the argument and
what it must be.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from tests.helpers import KEY
from zof_async import AsyncZof, ConfigurationError, RetryPolicy, WaitPolicy

pytestmark = pytest.mark.anyio

Call = Callable[[AsyncZof, Any], Any]


async def _noop(item: object) -> object:
    return item


# (argument, what it must be, how to call it with `value`)
METHODS: list[tuple[str, str, Call]] = [
    ("timeout", "seconds", lambda zof, v: zof.runs.get("run_1", timeout=v)),
    ("max_retries", "integer", lambda zof, v: zof.runs.get("run_1", max_retries=v)),
    ("timeout", "seconds", lambda zof, v: zof.runs.create(project_id="p", environment="e", test_suite_id="s", timeout=v)),
    ("timeout", "seconds", lambda zof, v: zof.runs.wait_until_complete("run_1", timeout=v)),
    ("max_retries", "integer", lambda zof, v: zof.runs.wait_until_complete("run_1", max_retries=v)),
    ("timeout", "seconds", lambda zof, v: zof.runs.watch("run_1", timeout=v)),
    ("timeout", "seconds", lambda zof, v: zof.runs.logs("run_1", timeout=v)),
    ("timeout", "seconds", lambda zof, v: zof.runs.cancel("run_1", timeout=v)),
    ("page_size", "integer", lambda zof, v: zof.runs.list(page_size=v)),
    ("prefetch", "integer", lambda zof, v: zof.runs.list(prefetch=v)),
    ("timeout", "seconds", lambda zof, v: zof.results.list(timeout=v)),
    ("timeout", "seconds", lambda zof, v: zof.results.export_to("out.csv", timeout=v)),
    ("concurrency", "integer", lambda zof, v: zof.results.bulk_artifacts(["res_1"], concurrency=v)),
    ("concurrency", "integer", lambda zof, v: zof.map(_noop, [1], concurrency=v)),
    ("timeout", "seconds", lambda zof, v: zof.artifacts.download("art_1", "out.bin", timeout=v)),
]  # fmt: skip
SETTINGS: list[tuple[str, str, Call]] = [
    ("timeout", "seconds", lambda _, v: AsyncZof(api_key=KEY, timeout=v)),
    ("total_timeout", "seconds", lambda _, v: AsyncZof(api_key=KEY, total_timeout=v)),
    ("max_retries", "integer", lambda _, v: AsyncZof(api_key=KEY, max_retries=v)),
    ("max_connections", "integer", lambda _, v: AsyncZof(api_key=KEY, max_connections=v)),
    ("polls_per_second", "number", lambda _, v: AsyncZof(api_key=KEY, polls_per_second=v)),
    ("timeout", "seconds", lambda zof, v: zof.with_options(timeout=v)),
    ("total_timeout", "seconds", lambda zof, v: zof.with_options(total_timeout=v)),
    ("max_retries", "integer", lambda zof, v: zof.with_options(max_retries=v)),
]
WORDS = {"seconds": "a number of seconds", "integer": "an integer", "number": "a number"}


def _nothing_is_sent(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"sent {request.method} {request.url}")


async def _use(made: Any) -> None:
    """Await, enter or iterate what a method returned: its checks have run by then."""
    with anyio.fail_after(10):
        if hasattr(made, "__await__"):
            await made
        elif hasattr(made, "__aenter__"):
            async with made:
                pass
        elif hasattr(made, "__aiter__"):
            async for _ in made:
                break


def _ids(cases: list[tuple[str, str, Call]]) -> list[str]:
    return [f"{i}-{name}" for i, (name, _, _) in enumerate(cases)]


@pytest.mark.parametrize(("name", "kind", "call"), METHODS, ids=_ids(METHODS))
async def test_a_method_refuses_a_wrong_type_naming_the_argument(
    name: str, kind: str, call: Call, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A string for a number is a TypeError naming the argument, with nothing sent."""
    monkeypatch.chdir(tmp_path)
    async with AsyncZof(api_key=KEY, transport=httpx.MockTransport(_nothing_is_sent)) as zof:
        expected = f"{name} must be {WORDS[kind]}, not str"
        with pytest.raises(TypeError, match=f"^{re.escape(expected)}"):
            await _use(call(zof, "30m"))


@pytest.mark.parametrize(("name", "kind", "call"), SETTINGS, ids=_ids(SETTINGS))
async def test_a_setting_refuses_a_wrong_type_naming_the_argument(
    name: str, kind: str, call: Call
) -> None:
    """Client settings: a ConfigurationError (as for every bad setting) in the same words."""
    async with AsyncZof(api_key=KEY, transport=httpx.MockTransport(_nothing_is_sent)) as zof:
        with pytest.raises(ConfigurationError, match=f"^{re.escape(name)} must be {WORDS[kind]}"):
            call(zof, "30m")


@pytest.mark.parametrize("value", [True, float("nan"), 0, -1])
async def test_a_timeout_that_is_not_a_positive_number_is_refused(value: object) -> None:
    """`timeout=True` is not one second, NaN never passes, 0 and below are no time at all."""
    zof = AsyncZof(api_key=KEY, transport=httpx.MockTransport(_nothing_is_sent))
    with pytest.raises((TypeError, ValueError), match=r"^timeout must be"):
        await zof.runs.wait_until_complete("run_1", timeout=value)  # type: ignore[arg-type]
    await zof.aclose()


def test_the_policies_are_checked_too() -> None:
    """RetryPolicy's and WaitPolicy's numbers are arguments as well."""
    with pytest.raises(TypeError, match=r"^max_retries must be an integer, not str"):
        RetryPolicy(max_retries="3")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^backoff_cap must be a number, not str"):
        RetryPolicy(backoff_cap="8s")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^max_interval must be a number, not str"):
        WaitPolicy(max_interval="15s")  # type: ignore[arg-type]
