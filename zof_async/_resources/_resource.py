"""What every resource does per call: check its options, send one request, decode the answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import httpx

from .._converter import decode
from .._http._pipeline import Pipeline
from .._http._raw_response import Capture
from .._http._settings import Call
from ._options import resolve

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

    def _resolve(self, options: Mapping[str, Any], **kwargs: Any) -> Call:
        """The call's options checked (`resolve`), recorded where this copy captures."""
        return resolve(options, capture=self._capture, **kwargs)

    async def _fetch(self, model: type[T], request: httpx.Request, call: Call) -> T:
        """Send `request` with the call's options; the answer as a `model`."""
        return decode(await self._pipeline.send(request, call), model, self._pipeline.redactor)
