"""What every resource does per call: build one request, send it, decode the answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import httpx

from .._converter import decode
from .._http._exchange import Capture
from .._http._pipeline import Pipeline
from .._http._requests import Params
from ._options import Resolved, resolve

T = TypeVar("T")


class Resource:
    """Base of `Runs`, `Results` and `Artifacts`: they send through one pipeline.

    Attributes:
        _capture: Where a `with_raw_response` copy of the resource has each
            successful call's answer recorded (`None`: nowhere).
    """

    _capture: Capture | None = None

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    def _resolve(self, options: Mapping[str, Any], **kwargs: Any) -> Resolved:
        """The call's options checked (`resolve`), recorded where this copy captures."""
        return resolve(options, capture=self._capture, **kwargs)

    def _build(
        self,
        method: str,
        path: str,
        options: Resolved,
        *,
        params: Params | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
        accept: str = "application/json",
    ) -> httpx.Request:
        return self._pipeline.build(
            method,
            path,
            params=params,
            json=json,
            idempotency_key=idempotency_key,
            accept=accept,
            extra_headers=options.extra_headers,
            extra_query=options.extra_query,
        )

    async def _fetch(self, model: type[T], request: httpx.Request, options: Resolved) -> T:
        """Send `request` with the call's options; the answer as a `model`."""
        return decode(await self._pipeline.send(request, options.call), model)
