"""What every resource does per call: check its options, send one request, decode the answer."""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar, cast

import attrs
import httpx

from .._converter import decode
from .._exceptions import ZofError
from .._http._pipeline import Pipeline
from .._http._raw_response import Capture, RawResponse
from .._http._settings import Call
from .._http._traffic import Meter
from .._streaming._background import Background
from .._streaming._fanout import Engine, FanOut, Outcome
from ._options import resolve

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741
R = TypeVar("R")
O = TypeVar("O")  # noqa: E741


class Resource:
    """Base of `Runs`, `Results` and `Artifacts`: they send through one pipeline.

    Attributes:
        _capture: Where a `with_raw_response` copy of the resource has each
            successful call's answer recorded (`None`: nowhere).
        _background: The client's task group, for listings and fan-outs.
    """

    _capture: Capture | None = None
    _background: Background

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    def _resolve(self, options: Mapping[str, Any], **kwargs: Any) -> Call:
        """The call's options checked (`resolve`), recorded where this copy captures."""
        return resolve(options, capture=self._capture, **kwargs)

    async def _fetch(self, model: type[T], request: httpx.Request, call: Call) -> T:
        """Send `request` with the call's options; the answer as a `model`."""
        return decode(await self._pipeline.send(request, call), model, self._pipeline.redactor)

    def _fan_out(
        self,
        fetcher: Callable[[Call], Callable[[I], Awaitable[R]]],
        inputs: Iterable[I] | AsyncIterable[I],
        *,
        call: Call,
        meter: Meter,
        concurrency: int | None,
        ordered: bool,
        outcome: Callable[[I, R | None, ZofError | None], O],
    ) -> FanOut[I, R, O]:
        """`fetcher(call)` over `inputs`, through the fan-out engine; `outcome` per input.

        On a `with_raw_response` copy, each input's calls name a capture of
        their own, and its outcome is an `Outcome` of `RawResponse` instead.
        """
        pipeline = self._pipeline
        fn: Callable[[I], Awaitable[Any]] = fetcher(call)
        made: Callable[[I, Any, ZofError | None], Any] = outcome
        if self._capture is not None:
            fn, made = _each_captured(fetcher, call), Outcome
        engine = Engine(
            fn, inputs,
            concurrency=pipeline.channel.pool.max_connections if concurrency is None else concurrency,
            ordered=ordered, outcome=made, meter=meter, pacer=pipeline.channel.pacer,
        )  # fmt: skip
        return cast("FanOut[I, R, O]", FanOut(engine, background=self._background))


def _each_captured(
    fetcher: Callable[[Call], Callable[[I], Awaitable[R]]], call: Call
) -> Callable[[I], Awaitable[RawResponse[R]]]:
    """`fetcher(call)`, each input's calls recorded on a capture of their own."""

    async def fetch(item: I) -> RawResponse[R]:
        holder = Capture()
        value = await fetcher(attrs.evolve(call, capture=holder))(item)
        return holder.result(value)

    return fetch
