"""`zof.artifacts`: artifact content."""

from __future__ import annotations

from ._pipeline import Pipeline


class Artifacts:
    """Operations on artifacts (`/artifacts`)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline
