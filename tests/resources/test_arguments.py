"""Arguments are checked when a method is called, before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import KEY
from zof_async import AsyncZof


@pytest.mark.parametrize(
    ("method", "kwargs", "error"),
    [
        ("export_rows", {"runid": "run_1"}, TypeError),  # a typo
        ("export", {"status": ["a,b"]}, ValueError),
        ("list", {"timeout": -1}, ValueError),
        ("list", {"max_retries": "3"}, TypeError),
        ("list", {"extra_headers": {"X-A": 1}}, TypeError),
        ("list", {"prefetch": -1}, ValueError),
    ],
)
def test_bad_keywords_are_refused_at_the_call(
    method: str, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    """A wrong or misspelt keyword raises at the call, even for a lazy iterator."""
    zof = AsyncZof(api_key=KEY)
    with pytest.raises(error):
        getattr(zof.results, method)(**kwargs)
