"""`zof.results`: per-case outcomes, their artifacts, exports."""

from __future__ import annotations

from ._converter import decode
from ._models import Result
from ._paths import path
from ._pipeline import Pipeline
from ._runs import _timeout


class Results:
    """Operations on results (`/results`)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    async def get(self, result_id: str, *, timeout: float | None = None) -> Result:
        """Fetch one result (`GET /results/{id}`)."""
        request = self._pipeline.build("GET", path("/results/{result_id}", result_id=result_id))
        return decode(await self._pipeline.send(request, total_timeout=_timeout(timeout)), Result)
